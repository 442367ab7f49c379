package site_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
