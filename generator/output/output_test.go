package output

import (
	"fmt"
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

// TestProgress checks that a build tells of each file as it is written,
// or found unchanged, counting up to every file, those made later
// included once they are known.
func TestProgress(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "public")
	var files []File
	for i := range 40 {
		p := fmt.Sprintf("notes/n%02d/index.html", i)
		files = append(files, File{Path: p, Render: contents(p)})
	}
	later := &Later{Dir: "search/", Files: func() ([]File, error) {
		return []File{{Path: "search/a.json", Render: contents("a")}, {Path: "search/index.html", Render: contents("b")}}, nil
	}}
	for _, build := range []string{"first", "unchanged"} {
		var seen [][2]int // one goroutine at a time: no lock needed
		opts := Options{Later: later, Progress: func(done, total int) { seen = append(seen, [2]int{done, total}) }}
		if _, err := Write(out, slices.Clone(files), opts); err != nil {
			t.Fatal(err)
		}
		if len(seen) != 42 {
			t.Fatalf("%s build: told of %d files, want 42: %v", build, len(seen), seen)
		}
		for i, s := range seen {
			if s[0] != i+1 || s[1] < s[0] || (i > 0 && s[1] < seen[i-1][1]) {
				t.Fatalf("%s build: told %v after %v", build, s, seen[:i])
			}
		}
		if last := seen[len(seen)-1]; last != [2]int{42, 42} {
			t.Errorf("%s build: last told %v, want 42 of 42", build, last)
		}
	}
}

// contents makes a file of s.
func contents(s string) func(*Buffer) error {
	return func(buf *Buffer) error { _, err := buf.WriteString(s); return err }
}
