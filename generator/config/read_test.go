package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestReadFile reads files of every size around the reads' edges whole,
// refuses one larger than the bound, and a link.
func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, size := range []int{0, 1, 2, 511, 4096, 4097, 65536, 100_001} {
		want := bytes.Repeat([]byte("abcdefg\n"), size/8+1)[:size]
		p := filepath.Join(dir, "f.md")
		if err := os.WriteFile(p, want, 0o644); err != nil {
			t.Fatal(err)
		}
		got, mod, err := ReadFile(p, 0)
		if err != nil || !bytes.Equal(got, want) || mod.IsZero() {
			t.Fatalf("%d bytes: read %d bytes, %v, %v", size, len(got), mod, err)
		}
		if size > 1 { // a bound of 0 is none
			if _, _, err := ReadFile(p, int64(size-1)); err == nil {
				t.Errorf("%d bytes: read with a bound of %d", size, size-1)
			}
		}
	}
	link := filepath.Join(dir, "link.md")
	if err := os.Symlink(filepath.Join(dir, "f.md"), link); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadFile(link, 0); !errors.Is(err, errLink) {
		t.Errorf("a link: %v, want errLink", err)
	}
}
