//go:build !linux

package generator

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// An outFolder is a folder the build writes into.
type outFolder struct{ path string }

// openOut opens the folder at path for writing into.
func openOut(path string) (*outFolder, error) { return &outFolder{path}, nil }

// close closes the folder.
func (o *outFolder) close() {}

// writeFile creates the file at the slash path rel with data.
func (o *outFolder) writeFile(rel string, data []byte) error {
	return os.WriteFile(filepath.Join(o.path, filepath.FromSlash(rel)), data, 0o644)
}

// mkdir creates the folder at the slash path rel.
func (o *outFolder) mkdir(rel string) error {
	return os.Mkdir(filepath.Join(o.path, filepath.FromSlash(rel)), 0o755)
}

// readFile returns the contents of the regular file at path, at most max
// bytes of it (0: any size), and its modification time. It refuses a
// path that is a symbolic link (errLink), and anything but a regular
// file.
func readFile(path string, max int64) ([]byte, time.Time, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, time.Time{}, err
	}
	switch {
	case st.Mode()&fs.ModeSymlink != 0:
		return nil, time.Time{}, errLink
	case !st.Mode().IsRegular():
		return nil, time.Time{}, notRegular(st.Mode())
	case max > 0 && st.Size() > max:
		return nil, time.Time{}, tooLarge(st.Size(), max)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer f.Close()
	limit := int64(-1) >> 1
	if max > 0 {
		limit = max + 1
	}
	data, err := io.ReadAll(io.LimitReader(f, limit))
	if max > 0 && int64(len(data)) > max {
		return nil, time.Time{}, tooLarge(int64(len(data)), max)
	}
	return data, st.ModTime(), err
}

// exchange swaps the folders at a and b.
func exchange(a, b string) error { return exchangeByRename(a, b) }

// lock is a no-op where flock is not available.
func lock(path string) (func(), error) { return func() {}, nil }
