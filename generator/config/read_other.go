//go:build !linux

package config

import (
	"io"
	"io/fs"
	"os"
	"time"
)

// ReadFile returns the contents of the regular file at path, at most max
// bytes of it (0: any size), and its modification time. It refuses a
// path that is a symbolic link (errLink), and anything but a regular
// file.
func ReadFile(path string, max int64) ([]byte, time.Time, error) {
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
