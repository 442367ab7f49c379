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

// writeFile creates the file at the slash path rel with data.
func (o *outFolder) writeFile(rel string, data []byte) error {
	return os.WriteFile(filepath.Join(o.path, filepath.FromSlash(rel)), data, 0o644)
}

// mkdir creates the folder at the slash path rel.
func (o *outFolder) mkdir(rel string) error {
	return os.Mkdir(filepath.Join(o.path, filepath.FromSlash(rel)), 0o755)
}

// exchange swaps the folders at a and b.
func exchange(a, b string) error { return exchangeByRename(a, b) }

// lock is a no-op where flock is not available.
func lock(path string) (func(), error) { return func() {}, nil }
