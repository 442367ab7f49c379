//go:build !linux

package generator

import "os"

// writeFile creates the file at path with data.
func writeFile(path string, data []byte) error { return os.WriteFile(path, data, 0o644) }
