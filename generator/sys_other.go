//go:build !linux

package generator

import (
	"io"
	"os"
	"time"
)

// writeFile creates the file at path with data.
func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }

// makeDir creates the folder at path.
func makeDir(path string) error { return os.Mkdir(path, 0o755) }

// readFile returns the contents of the file at path and its modification
// time.
func readFile(path string) ([]byte, time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, time.Time{}, err
	}
	data, err := io.ReadAll(f)
	return data, st.ModTime(), err
}

// exchange swaps the folders at a and b.
func exchange(a, b string) error { return exchangeByRename(a, b) }

// lock is a no-op where flock is not available.
func lock(path string) (func(), error) { return func() {}, nil }
