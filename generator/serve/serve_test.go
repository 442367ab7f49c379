package serve

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rounds-health/rounds/generator"
	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/corpus"
	"github.com/rounds-health/rounds/generator/site"
)

var testNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// project writes a synthetic newsletter of n notes with the repository's
// default theme copied in (so tests can edit it) and returns its folder.
func project(t testing.TB, n int) string {
	t.Helper()
	dir := t.TempDir()
	theme := filepath.Join(t.TempDir(), "theme")
	if err := os.CopyFS(theme, os.DirFS(filepath.Join("..", "..", "themes", "default"))); err != nil {
		t.Fatal(err)
	}
	if err := corpus.Write(dir, n, theme); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fullBuild builds the project cleanly, as serve does (drafts and
// scheduled notes included), and returns its files.
func fullBuild(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "public")
	buildInto(t, dir, out)
	files := map[string][]byte{}
	for _, rel := range built(out) {
		files[rel], _ = os.ReadFile(filepath.Join(out, filepath.FromSlash(rel)))
	}
	return files
}

// built returns the paths of the files of the build in out, slash-
// separated, but for the build's own record (.rounds/).
func built(out string) []string {
	var paths []string
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(out, p)
			if rel = filepath.ToSlash(rel); !strings.HasPrefix(rel, ".rounds") {
				paths = append(paths, rel)
			}
		}
		return nil
	})
	return paths
}

// buildInto builds the project in dir cleanly into out, as serve does
// (drafts and scheduled notes included), replacing the build there.
func buildInto(t testing.TB, dir, out string) {
	t.Helper()
	cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := generator.Build(cfg, &generator.Options{Options: site.Options{Now: testNow, Drafts: true, Future: true}, Out: out}); err != nil {
		t.Fatal(err)
	}
}

// sameAsBuild checks that the site s serves is the clean build in out,
// making and comparing one file at a time: a site of 100,000 notes is
// not held twice.
func sameAsBuild(t *testing.T, step string, s *Server, out string) {
	t.Helper()
	s.mu.RLock()
	plan := s.pages.plan
	s.mu.RUnlock()
	paths, err := plan.Paths()
	if err != nil {
		t.Fatal(err)
	}
	var diff []string
	served := map[string]bool{}
	for _, p := range paths {
		served[p] = true
		got, _, err := plan.Make(p)
		if err != nil {
			t.Fatal(err)
		}
		if want, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(p))); err != nil {
			diff = append(diff, "extra "+p)
		} else if !bytes.Equal(got, want) {
			diff = append(diff, "differs "+p)
		}
	}
	for _, rel := range built(out) {
		if !served[rel] {
			diff = append(diff, "missing "+rel)
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Fatalf("%s: the served site is not a clean build's: %d files, e.g. %v", step, len(diff), diff[:min(5, len(diff))])
	}
}

func sameFiles(t *testing.T, step string, got, want map[string][]byte) {
	t.Helper()
	var diff []string
	for p, w := range want {
		if g, ok := got[p]; !ok {
			diff = append(diff, "missing "+p)
		} else if !bytes.Equal(g, w) {
			diff = append(diff, "differs "+p)
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			diff = append(diff, "extra "+p)
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Fatalf("%s: the served site is not a clean build's: %d files, e.g. %v", step, len(diff), diff[:min(5, len(diff))])
	}
}

// envInt returns the number in the environment variable name, or def
// when it is not set.
func envInt(t testing.TB, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// served makes every file of the site s serves.
func served(t testing.TB, s *Server) map[string][]byte {
	t.Helper()
	files, err := s.Files()
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func newServer(t testing.TB, dir string) *Server {
	t.Helper()
	s := &Server{Config: filepath.Join(dir, "config.toml"), Now: func() time.Time { return testNow }}
	if err := s.Build(); err != nil {
		t.Fatal(err)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestIncrementalEqualsFull makes random edits, the kinds curators make,
// and checks after each rebuild that the served site equals a clean
// build of the same files.
//
// $ROUNDS_SERVE_TEST_NOTES and $ROUNDS_SERVE_TEST_STEPS run it on a
// larger project (30 notes and 40 steps by default), by hand: at 10,000
// notes a step takes seconds.
func TestIncrementalEqualsFull(t *testing.T) {
	t.Parallel()
	n, steps := envInt(t, "ROUNDS_SERVE_TEST_NOTES", 30), envInt(t, "ROUNDS_SERVE_TEST_STEPS", 40)
	dir := project(t, n)
	s := newServer(t, dir)
	out := filepath.Join(t.TempDir(), "public")
	buildInto(t, dir, out)
	sameAsBuild(t, "first build", s, out)
	rng := rand.New(rand.NewPCG(3, 4))
	notes := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, "content", "notes", "*.md"))
		sort.Strings(m)
		return m
	}
	edit := func(p, old, new string) {
		data, _ := os.ReadFile(p)
		os.WriteFile(p, bytes.Replace(data, []byte(old), []byte(new), 1), 0o644)
	}
	incremental, patched := 0, 0
	s.Rebuilt = func(_ time.Duration, inc bool, err error) {
		if inc {
			incremental++
		}
	}
	ops := []string{"body", "body", "body", "title", "summary", "evidence", "date", "topics", "add", "delete", "draft", "future", "edition", "theme"}
	for step := range steps {
		op := ops[rng.IntN(len(ops))]
		all := notes()
		p := all[rng.IntN(len(all))]
		full := false
		saved := p // the file the step writes, as a watcher names it
		switch op {
		case "body":
			edit(p, "## Why it matters\n", fmt.Sprintf("## Why it matters\n\nEdit %d to the body.\n", step))
		case "title":
			edit(p, `title = "`, fmt.Sprintf(`title = "Retitled %d: `, step))
		case "summary":
			edit(p, `summary = "`, fmt.Sprintf(`summary = "Step %d. `, step))
		case "evidence":
			edit(p, `evidence = "`, `evidence = "GRADE:low" # was "`)
		case "date":
			edit(p, "date = 20", "date = 2019-01-01T00:00:00Z\n# was 20")
		case "topics":
			edit(p, "topics = [", `topics = ["new-topic", `)
		case "add":
			saved = filepath.Join(dir, "content", "notes", fmt.Sprintf("added-%d.md", step))
			os.WriteFile(saved,
				[]byte(fmt.Sprintf("+++\ntitle = \"Added %d\"\ndate = 2026-11-%02dT08:00:00Z\ntopics = [\"cardiology\"]\nsource = \"https://example.org/%d\"\n+++\n\nNew.\n", step, 1+step%27, step)), 0o644)
		case "delete":
			os.Remove(p)
		case "draft":
			edit(p, "+++\ntitle", "+++\ndraft = true\ntitle")
		case "future":
			edit(p, "+++\ntitle", "+++\npublish_at = 2027-01-01T00:00:00Z\ntitle")
		case "edition":
			eds, _ := filepath.Glob(filepath.Join(dir, "content", "editions", "*.md"))
			sort.Strings(eds)
			data, _ := os.ReadFile(eds[rng.IntN(len(eds))])
			saved = eds[rng.IntN(len(eds))]
			os.WriteFile(saved, append(data, fmt.Sprintf("\nA line from step %d.\n", step)...), 0o644)
		case "theme":
			edit(filepath.Join(dir, "themes", "default", "layouts", "partials", "footer.html"), "</footer>", fmt.Sprintf("<!-- step %d --></footer>", step))
			full = true
		}
		// Every other step names the file, as the watcher does; the
		// others make the rebuild look at every file.
		var paths []string
		if step%2 == 1 && !full {
			paths = []string{saved, saved}
		}
		before := s.site
		s.rebuild(full, paths)
		if err := s.Err(); err != nil {
			t.Fatalf("step %d (%s): %v", step, op, err)
		}
		if s.site == before {
			patched++
		}
		buildInto(t, dir, out)
		sameAsBuild(t, fmt.Sprintf("step %d (%s %s)", step, op, filepath.Base(p)), s, out)
	}
	if incremental == 0 || patched == 0 {
		t.Errorf("%d rebuilds were incremental and %d patched the site in place: the test proves nothing about the fast paths", incremental, patched)
	}
	t.Logf("%d of %d rebuilds incremental, %d patched in place", incremental, steps, patched)
}

// sse reads Server-Sent Events from url and sends their names and data.
func sse(t testing.TB, url string) (<-chan [2]string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan [2]string, 16)
	r := bufio.NewReader(resp.Body)
	// Wait for the stream to open before anything is edited.
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(line, ": connected") {
			break
		}
	}
	go func() {
		defer resp.Body.Close()
		var name, data string
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				close(ch)
				return
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data += strings.TrimPrefix(line, "data: ")
			case line == "" && name == "hello":
				name, data = "", "" // the state on connecting
			case line == "" && name != "":
				ch <- [2]string{name, data}
				name, data = "", ""
			}
		}
	}()
	return ch, cancel
}

// waitFailed waits for a failed rebuild and returns its message, past
// the reloads of rebuilds that an earlier step's save began (a save that
// is not atomic may make two).
func waitFailed(t testing.TB, ch <-chan [2]string) string {
	t.Helper()
	for {
		select {
		case ev := <-ch:
			if ev[0] == "failed" {
				return ev[1]
			}
			if ev[0] != "reload" {
				t.Fatalf("event %q (%s), want a failure", ev[0], ev[1])
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no failed event")
		}
	}
}

// waitReload waits for a reload, past the failures of rebuilds that
// caught a file half-written (a save that is not atomic).
func waitReload(t testing.TB, ch <-chan [2]string) {
	t.Helper()
	for {
		select {
		case ev := <-ch:
			if ev[0] == "reload" {
				return
			}
			if ev[0] != "failed" {
				t.Fatalf("event %q (%s), want a reload", ev[0], ev[1])
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no reload event")
		}
	}
}

func get(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestWatchAndReload edits real files while the watcher runs: an
// editor's atomic save, vim's backup dance, a folder made after the
// start, a broken note and its fix.
func TestWatchAndReload(t *testing.T) {
	t.Parallel()
	dir := project(t, 10)
	s := newServer(t, dir)
	// The hook is set before the watcher starts, which calls it: it counts
	// rebuilds and, once armed, holds the watcher in a rebuild until the
	// test lets it go.
	var rebuilds atomic.Int32
	var hold atomic.Pointer[chan struct{}]
	held := make(chan struct{})
	s.Rebuilt = func(time.Duration, bool, error) {
		rebuilds.Add(1)
		if gate := hold.Swap(nil); gate != nil {
			held <- struct{}{}
			<-*gate
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	watching := make(chan error, 1)
	go func() { watching <- s.Watch(ctx) }()
	time.Sleep(100 * time.Millisecond) // the watches are in place
	hs := httptest.NewServer(s)
	defer hs.Close()
	events, stop := sse(t, hs.URL+"/_rounds/events")
	defer stop()
	base := hs.URL + s.Base()
	note := filepath.Join(dir, "content", "notes", "note-00003.md")
	page := base + "notes/note-00003/"
	if got := get(t, page); !strings.Contains(got, `<script src="/_rounds/live.js"></script></body>`) {
		t.Fatal("the page lacks the live-reload script")
	}
	if strings.Contains(string(served(t, s)["notes/note-00003/index.html"]), "live.js") {
		t.Error("the live-reload script is in the built file, not only in what serve sends")
	}

	// An atomic save: write a temporary file, rename it over the note.
	data, _ := os.ReadFile(note)
	tmp := filepath.Join(dir, "content", "notes", ".note-00003.md.swp")
	os.WriteFile(tmp, bytes.Replace(data, []byte("## Why it matters\n"), []byte("## Why it matters\n\nSaved atomically.\n"), 1), 0o644)
	os.Rename(tmp, note)
	waitReload(t, events)
	if !strings.Contains(get(t, page), "Saved atomically.") {
		t.Error("the page does not show the atomic save")
	}

	// Vim: move the file to a backup, write it anew, remove the backup.
	data, _ = os.ReadFile(note)
	os.Rename(note, note+"~")
	os.WriteFile(note, bytes.Replace(data, []byte("Saved atomically."), []byte("Saved by vim."), 1), 0o644)
	os.Remove(note + "~")
	// Three steps, each of which may make its own rebuild (the first with
	// the note gone): each reload is a chance, and the save must show.
	for !strings.Contains(get(t, page), "Saved by vim.") {
		waitReload(t, events)
	}

	// A folder made after the start: content/pages/.
	os.MkdirAll(filepath.Join(dir, "content", "pages"), 0o755)
	time.Sleep(50 * time.Millisecond)
	os.WriteFile(filepath.Join(dir, "content", "pages", "colophon.md"), []byte("+++\ntitle = \"Colophon\"\n+++\n\nMade with Rounds.\n"), 0o644)
	for !strings.Contains(get(t, base+"colophon/"), "Made with Rounds.") {
		waitReload(t, events)
	}

	// Drafts and scheduled notes are shown, and marked.
	os.WriteFile(filepath.Join(dir, "content", "notes", "later.md"), []byte("+++\ntitle = \"Later\"\ndate = 2026-11-01T00:00:00Z\npublish_at = 2027-02-01T00:00:00Z\ndraft = true\nsource = \"https://example.org/\"\n+++\n\nNot yet.\n"), 0o644)
	for !strings.Contains(get(t, base+"notes/later/"), "Not yet.") {
		waitReload(t, events)
	}
	if later := get(t, base+"notes/later/"); !strings.Contains(later, "Draft: not published") || !strings.Contains(later, "Scheduled: not published until 1 February 2027") {
		t.Error("a draft scheduled note is not marked as such")
	}

	// A broken note: the error is shown and the last good site stays. (A
	// save that is not atomic may first show the half-written file.)
	os.WriteFile(filepath.Join(dir, "content", "notes", "broken.md"), []byte("+++\ntitle = \"Broken\"\ndate = \"someday\"\n+++\n"), 0o644)
	for msg := waitFailed(t, events); !strings.Contains(msg, "content/notes/broken.md:3: date"); msg = waitFailed(t, events) {
		if !strings.Contains(msg, "content/notes/broken.md:1:") {
			t.Fatalf("the error event %q does not name file, line and field", msg)
		}
	}
	got := get(t, page)
	if !strings.Contains(got, "Saved by vim.") || !strings.Contains(got, "window.__roundsError") {
		t.Error("a failed rebuild does not keep the last good page with its error")
	}
	os.Remove(filepath.Join(dir, "content", "notes", "broken.md"))
	waitReload(t, events)
	if strings.Contains(get(t, page), "window.__roundsError") {
		t.Error("the error stays after the fix")
	}

	// A burst of changes (a git checkout) makes few rebuilds and misses
	// none: the burst is written while the watcher is in a rebuild (the
	// hook holds it there), as a checkout outruns a rebuild, so that
	// every file is saved during a rebuild that cannot have read it, and
	// each must be served by the rebuilds that follow.
	gate := make(chan struct{})
	hold.Store(&gate)
	burst := func(i int) {
		p := filepath.Join(dir, "content", "notes", fmt.Sprintf("burst-%03d.md", i))
		os.WriteFile(p, []byte(fmt.Sprintf("+++\ntitle = \"Burst %d\"\ndate = 2026-11-02T00:00:00Z\nsource = \"https://example.org/\"\n+++\n\nBurst.\n", i)), 0o644)
	}
	burst(0)
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("no rebuild after the burst's first file")
	}
	rebuilds.Store(0)
	for i := 1; i < 200; i++ {
		burst(i)
	}
	close(gate)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(get(t, base+"notes/burst-199/"), "Burst 199") {
		if time.Now().After(deadline) {
			t.Fatal("the last file of the burst is not served")
		}
		time.Sleep(20 * time.Millisecond)
	}
	files := served(t, s)
	for i := range 200 {
		if !bytes.Contains(files[fmt.Sprintf("notes/burst-%03d/index.html", i)], []byte(fmt.Sprintf("Burst %d", i))) {
			t.Errorf("burst-%03d is not served", i)
		}
	}
	if n := rebuilds.Load(); n > 50 {
		t.Errorf("a burst of 200 files made %d rebuilds", n)
	}
	cancel()
	if err := <-watching; err != nil {
		t.Error(err)
	}
}

// TestPagesMadeWhenAsked checks that a rebuild plans the site and makes
// no page: a theme that fails on topic pages alone rebuilds without an
// error, serves note pages, and shows its error on a topic page when one
// is asked for; the server keeps only the pages asked for.
func TestPagesMadeWhenAsked(t *testing.T) {
	t.Parallel()
	dir := project(t, 10)
	s := newServer(t, dir)
	hs := httptest.NewServer(s)
	defer hs.Close()
	base := hs.URL + s.Base()
	layout := filepath.Join(dir, "themes", "default", "layouts", "topic.html")
	data, err := os.ReadFile(layout)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(layout, bytes.Replace(data, []byte(`{{define "main"}}`), []byte(`{{define "main"}}{{index .Notes 9999}}`), 1), 0o644)
	s.rebuild(true, nil)
	if err := s.Err(); err != nil {
		t.Fatalf("the rebuild made a page: %v", err)
	}
	if got := get(t, base+"notes/note-00003/"); !strings.Contains(got, "<h1>") || strings.Contains(got, "__roundsError") {
		t.Errorf("a note page is not served whole after the topic layout broke:\n%.300s", got)
	}
	resp, err := http.Get(base + "topics/cardiology/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), "window.__roundsError") || !strings.Contains(string(body), "layouts/topic.html") {
		t.Errorf("a topic page the theme cannot make: status %d, body %.300s; want 500 with the error, naming the layout", resp.StatusCode, body)
	}
	s.mu.RLock()
	kept := slices.Sorted(maps.Keys(s.pages.made))
	s.mu.RUnlock()
	if want := []string{"notes/note-00003/index.html"}; !slices.Equal(kept, want) {
		t.Errorf("the server keeps %v, want only the page asked for, %v", kept, want)
	}
	if _, err := s.Files(); err == nil || !strings.Contains(err.Error(), "layouts/topic.html") {
		t.Errorf("making every file: %v, want the topic layout's error", err)
	}
}

// TestEditInPlace checks that an edit to a note's text or title edits the
// loaded site in place, rather than linking every note again, and that
// the site served after it is a clean build's; and that an edit that
// moves the note (its date) links the site again.
func TestEditInPlace(t *testing.T) {
	t.Parallel()
	dir := project(t, 20)
	s := newServer(t, dir)
	note := filepath.Join(dir, "content", "notes", "note-00007.md")
	edit := func(old, new string) {
		data, _ := os.ReadFile(note)
		if !bytes.Contains(data, []byte(old)) {
			t.Fatalf("the note has no %q", old)
		}
		os.WriteFile(note, bytes.Replace(data, []byte(old), []byte(new), 1), 0o644)
		s.rebuild(false, []string{note})
		if err := s.Err(); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range [][2]string{{"## Why it matters\n", "## Why it matters\n\nEdited in place.\n"}, {`title = "`, `title = "Retitled: `}, {`summary = "`, `summary = "Summed up again. `}} {
		// One format of the site's feed, as a feed reader asks for it:
		// the feed's entries are kept for the other two.
		s.mu.RLock()
		plan := s.pages.plan
		s.mu.RUnlock()
		if _, ok, err := plan.Make("feed.xml"); !ok || err != nil {
			t.Fatalf("feed.xml: %v, %v", ok, err)
		}
		before := s.site
		edit(e[0], e[1])
		if s.site != before {
			t.Errorf("an edit of %q linked the site again", e[0])
		}
		sameFiles(t, "after an edit of "+e[0], served(t, s), fullBuild(t, dir))
	}
	before := s.site
	edit("date = 20", "date = 2019-01-01T00:00:00Z\n# was 20")
	if s.site == before {
		t.Error("an edit of the date did not link the site again")
	}
	sameFiles(t, "after an edit of the date", served(t, s), fullBuild(t, dir))
}
