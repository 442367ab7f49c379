package output

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestConcurrentWriteRefused holds the lock a build of the folder takes:
// a second build is refused, and the folder keeps the first's files.
func TestConcurrentWriteRefused(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "public")
	page := func(text string) []File {
		return []File{{Path: "index.html", Render: func(buf *Buffer) error { buf.WriteString(text); return nil }}}
	}
	if _, err := Write(out, page("first"), Options{Workers: 2}); err != nil {
		t.Fatal(err)
	}
	unlock, err := lock(filepath.Join(filepath.Dir(out), ".public.work.lock"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Write(out, page("second"), Options{Workers: 2})
	unlock()
	if err == nil || !strings.Contains(err.Error(), "another build is writing this site") {
		t.Fatalf("want a refusal, got %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(out, "index.html")); string(data) != "first" {
		t.Errorf("index.html holds %q after the refused build, want the first build's", data)
	}
	if _, err := Write(out, page("second"), Options{Workers: 2}); err != nil {
		t.Fatalf("after the lock was released: %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(out, "index.html")); string(data) != "second" {
		t.Errorf("index.html holds %q, want the second build's", data)
	}
}

// TestFirst checks that the files First picks render before the others,
// and that the manifest still lists every file by path.
func TestFirst(t *testing.T) {
	t.Parallel()
	var order []string
	var files []File
	for _, p := range []string{"b/index.html", "notes/x/index.html", "a.xml", "notes/y/index.html", "c.html"} {
		files = append(files, File{Path: p, Render: func(buf *Buffer) error {
			order = append(order, p) // one worker: no lock needed
			buf.WriteString(p)
			return nil
		}})
	}
	first := func(p string) bool { return strings.HasPrefix(p, "notes/") }
	m, err := Write(filepath.Join(t.TempDir(), "public"), files, Options{Workers: 1, First: first})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"notes/x/index.html", "notes/y/index.html", "a.xml", "b/index.html", "c.html"}; !slices.Equal(order, want) {
		t.Errorf("rendered %v, want %v", order, want)
	}
	var listed []string
	for _, f := range m.Files {
		listed = append(listed, f.Path)
	}
	if want := []string{"a.xml", "b/index.html", "c.html", "notes/x/index.html", "notes/y/index.html"}; !slices.Equal(listed, want) {
		t.Errorf("manifest lists %v, want %v", listed, want)
	}
}
