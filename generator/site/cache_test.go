package site_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/internal/testproject"
	"github.com/rounds-health/rounds/generator/site"
)

// TestUpdateRereadsNamedFiles saves a note with the same size and the
// same modification time as the cache read it with, as a save within the
// clock's tick of a rebuild's read leaves them: Update, told the file
// changed, reads it again and sees the save; Load, told nothing, may not.
func TestUpdateRereadsNamedFiles(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, map[string]string{
		"content/notes/a.md": testproject.Note("A", "2026-11-01T08:00:00Z", `source = "https://example.org/"`),
		"content/notes/b.md": testproject.Note("B", "2026-11-02T08:00:00Z", `source = "https://example.org/"`),
	})
	cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	opts := &site.Options{Now: testproject.Now}
	var cache site.ContentCache
	if _, _, err := cache.Load(cfg, opts); err != nil {
		t.Fatal(err)
	}
	note := filepath.Join(dir, "content", "notes", "a.md")
	info, err := os.Stat(note)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(note)
	saved := bytes.Replace(data, []byte("Body of"), []byte("Bodie o"), 1)
	if len(saved) != len(data) || bytes.Equal(saved, data) {
		t.Fatal("the save must change the note and keep its size")
	}
	if err := os.WriteFile(note, saved, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(note, info.ModTime(), info.ModTime()); err != nil {
		t.Fatal(err)
	}
	s, changed, err := cache.Update(cfg, opts, []string{note})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(changed, []string{"content/notes/a.md"}) {
		t.Errorf("changed: %v, want the note named", changed)
	}
	if n := s.Note("a"); n == nil {
		t.Error("the note is gone")
	} else if !strings.Contains(string(n.Content), "Bodie o") {
		t.Errorf("the save is missed: the note reads %q", n.Content)
	}
	// The same bytes again, with a new time: no change.
	later := info.ModTime().Add(time.Minute)
	if err := os.Chtimes(note, later, later); err != nil {
		t.Fatal(err)
	}
	if _, changed, err := cache.Update(cfg, opts, []string{note}); err != nil || len(changed) != 0 {
		t.Errorf("a touch: changed %v, %v; want nothing", changed, err)
	}
}

// TestUpdateInPlaceKeepsTime checks that an edit patched into the site in
// place is refused when the present has moved past a time that changes
// what the site shows: a scheduled note coming out. Then the site is
// linked again, and shows the note.
func TestUpdateInPlaceKeepsTime(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, map[string]string{
		"content/notes/a.md":     testproject.Note("A", "2026-11-01T08:00:00Z", `source = "https://example.org/"`),
		"content/notes/later.md": testproject.Note("Later", "2026-11-01T08:00:00Z", `publish_at = 2026-11-28T13:00:00Z`, `source = "https://example.org/"`),
	})
	cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var cache site.ContentCache
	first, _, err := cache.Update(cfg, &site.Options{Now: testproject.Now}, nil) // 12:00, an hour before
	if err != nil {
		t.Fatal(err)
	}
	if first.Note("later") != nil {
		t.Fatal("the scheduled note shows before its time")
	}
	note := filepath.Join(dir, "content", "notes", "a.md")
	edit := func(now time.Time, text string) *site.Site {
		data, _ := os.ReadFile(note)
		os.WriteFile(note, bytes.Replace(data, []byte("Body of"), []byte(text+" Body of"), 1), 0o644)
		s, _, err := cache.Update(cfg, &site.Options{Now: now}, []string{note})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(s.Note("a").Content), text) {
			t.Fatalf("the edit %q is missed", text)
		}
		return s
	}
	if s := edit(testproject.Now.Add(30*time.Minute), "Before."); s != first {
		t.Error("an edit to the text within the hour linked the site again")
	}
	s := edit(testproject.Now.Add(2*time.Hour), "After.")
	if s == first {
		t.Error("an edit after the scheduled note's time was patched into the site made before it")
	}
	if s.Note("later") == nil {
		t.Error("the scheduled note does not show after its time")
	}
}

// TestReading checks that a load tells of each content file it reads, as
// the workers read them, up to all of them; and that a load from a cache
// tells only of the files read again.
func TestReading(t *testing.T) {
	t.Parallel()
	files := map[string]string{"content/editions/e.md": "+++\ntitle = \"E\"\ndate = 2026-11-20T08:00:00Z\n+++\nIntro.\n"}
	for _, s := range []string{"a", "b", "c", "d", "e", "f"} {
		files["content/notes/"+s+".md"] = testproject.Note(strings.ToUpper(s), "2026-11-01T08:00:00Z")
	}
	dir := testproject.New(t, files)
	cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var told [][2]int
	opts := &site.Options{Now: testproject.Now, Workers: 3, Reading: func(done, total int) {
		mu.Lock()
		told = append(told, [2]int{done, total})
		mu.Unlock()
	}}
	var cache site.ContentCache
	if _, _, err := cache.Load(cfg, opts); err != nil {
		t.Fatal(err)
	}
	// The workers count in turn, but may tell out of turn.
	slices.SortFunc(told, func(a, b [2]int) int { return a[0] - b[0] })
	if len(told) != 7 {
		t.Fatalf("told of %d files, want 7: %v", len(told), told)
	}
	for i, tl := range told {
		if tl != [2]int{i + 1, 7} {
			t.Fatalf("told %v", told)
		}
	}
	told = nil
	if err := os.WriteFile(filepath.Join(dir, "content", "notes", "b.md"), []byte(testproject.Note("B", "2026-11-02T08:00:00Z")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cache.Update(cfg, opts, []string{filepath.Join(dir, "content", "notes", "b.md")}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(told, [][2]int{{1, 1}}) {
		t.Errorf("after an edit, told %v, want one file of one", told)
	}
}

// TestDeferBodies loads a site without its notes' bodies, as rounds
// digest does: Body makes each, the same as a load that renders them,
// from the file as it was read, and refuses a file changed since.
func TestDeferBodies(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"content/editions/e.md": "+++\ntitle = \"E\"\ndate = 2026-11-20T08:00:00Z\n+++\nThe *intro*.\n",
		"content/notes/a.md":    testproject.Note("A", "2026-11-01T08:00:00Z") + "\n## Why\n\nSee doi:10.1000/xyz and [the about page](/about/).\n",
		"content/notes/b.md":    testproject.Note("B", "2026-11-02T08:00:00Z"),
	}
	dir := testproject.New(t, files)
	cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := site.Load(cfg, &site.Options{Now: testproject.Now})
	if err != nil {
		t.Fatal(err)
	}
	deferred, err := site.Load(cfg, &site.Options{Now: testproject.Now, DeferBodies: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(deferred.Notes) != 2 || deferred.Editions[0].Content != whole.Editions[0].Content {
		t.Fatalf("deferred: %d notes, edition intro %q", len(deferred.Notes), deferred.Editions[0].Content)
	}
	for i, n := range deferred.Notes {
		want := whole.Notes[i].Content
		if n.Content != "" || !deferred.Deferred(n) || whole.Deferred(whole.Notes[i]) || want == "" {
			t.Fatalf("%s: Content %q, deferred %v; loaded whole, deferred %v", n.Slug, n.Content, deferred.Deferred(n), whole.Deferred(whole.Notes[i]))
		}
		if got, err := deferred.Body(n); err != nil || got != want {
			t.Errorf("%s: Body %q, %v; want %q", n.Slug, got, err, want)
		}
		if got, err := whole.Body(whole.Notes[i]); err != nil || got != want {
			t.Errorf("%s loaded whole: Body %q, %v; want its Content", n.Slug, got, err)
		}
	}
	b := deferred.Note("b")
	if err := os.WriteFile(filepath.Join(dir, "content", "notes", "b.md"), []byte(testproject.Note("B", "2026-11-02T08:00:00Z")+"\nA patient's name, added since.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if h, err := deferred.Body(b); err == nil || !strings.Contains(err.Error(), "content/notes/b.md") || !strings.Contains(err.Error(), "changed since") {
		t.Errorf("Body of a note changed since the load: %q, %v; want an error naming the file", h, err)
	}
}

// TestDeferBodiesUpdate edits a note of a site loaded without its bodies
// through a content cache, as rounds serve would: the site the update
// gives renders the note's new body.
func TestDeferBodiesUpdate(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, map[string]string{
		"content/notes/a.md": testproject.Note("A", "2026-11-01T08:00:00Z"),
		"content/notes/b.md": testproject.Note("B", "2026-11-02T08:00:00Z"),
	})
	cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	opts := &site.Options{Now: testproject.Now, DeferBodies: true}
	var cache site.ContentCache
	if _, _, err := cache.Load(cfg, opts); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "content", "notes", "a.md")
	if err := os.WriteFile(path, []byte(testproject.Note("A", "2026-11-01T08:00:00Z")+"\nA second paragraph.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, _, err := cache.Update(cfg, opts, []string{path})
	if err != nil {
		t.Fatal(err)
	}
	if h, err := s.Body(s.Note("a")); err != nil || !strings.Contains(string(h), "<p>A second paragraph.</p>") {
		t.Errorf("after the edit, Body %q, %v; want the new text", h, err)
	}
}
