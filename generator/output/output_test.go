package output

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConcurrentWriteRefused holds the lock a build of the folder takes:
// a second build is refused, and the folder keeps the first's files.
func TestConcurrentWriteRefused(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "public")
	page := func(text string) []File {
		return []File{{Path: "index.html", Render: func(buf *bytes.Buffer) error { buf.WriteString(text); return nil }}}
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
