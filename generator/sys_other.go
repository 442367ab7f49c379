//go:build !linux

package generator

import "os"

// writeFile creates the file at path with data.
func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }

// makeDir creates the folder at path.
func makeDir(path string) error { return os.Mkdir(path, 0o755) }

// readFile returns the contents of the file at path.
func readFile(path string) ([]byte, error) { return os.ReadFile(path) }

// exchange swaps the folders at a and b.
func exchange(a, b string) error { return exchangeByRename(a, b) }

// lock is a no-op where flock is not available.
func lock(path string) (func(), error) { return func() {}, nil }
