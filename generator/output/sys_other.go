//go:build !linux

package output

import (
	"os"
	"path/filepath"
)

// An outFolder is a folder the build writes into.
type outFolder struct{ path string }

// openOut opens the folder at path for writing into.
func openOut(path string) (*outFolder, error) { return &outFolder{path}, nil }

// close closes the folder.
func (o *outFolder) close() {}

// writeFile creates the file at the slash path rel with the bytes of
// chunks, in order.
func (o *outFolder) writeFile(rel string, chunks [][]byte) error {
	f, err := os.OpenFile(filepath.Join(o.path, filepath.FromSlash(rel)), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	for _, c := range chunks {
		if _, err := f.Write(c); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// mkdir creates the folder at the slash path rel.
func (o *outFolder) mkdir(rel string) error {
	return os.Mkdir(filepath.Join(o.path, filepath.FromSlash(rel)), 0o755)
}

// exchange swaps the folders at a and b.
func exchange(a, b string) error { return exchangeByRename(a, b) }

// lock is a no-op where flock is not available.
func lock(path string) (func(), error) { return func() {}, nil }
