package config

import (
	"io/fs"
	"time"

	"golang.org/x/sys/unix"
)

// Content files are read through golang.org/x/sys/unix rather than the os
// package, which registers every file it opens with the network poller:
// five system calls a file for nothing on a regular file.

// ReadFile returns the contents of the regular file at path, at most max
// bytes of it (0: any size), and its modification time. It refuses a
// path that is a symbolic link (errLink), and anything but a regular
// file, without waiting: a named pipe is opened without blocking, and
// refused.
func ReadFile(path string, max int64) ([]byte, time.Time, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == unix.ELOOP {
		return nil, time.Time{}, errLink
	}
	if err != nil {
		return nil, time.Time{}, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, time.Time{}, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, time.Time{}, notRegular(fileType(st.Mode))
	}
	if max > 0 && st.Size > max {
		return nil, time.Time{}, tooLarge(st.Size, max)
	}
	mod := time.Unix(st.Mtim.Unix())
	data := make([]byte, 0, st.Size+1)
	for {
		n, err := unix.Read(fd, data[len(data):cap(data)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, time.Time{}, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return data, mod, nil
		}
		data = data[:len(data)+n]
		if max > 0 && int64(len(data)) > max {
			return nil, time.Time{}, tooLarge(int64(len(data)), max) // it grew while read
		}
		if int64(len(data)) == st.Size {
			// The whole file as its stat found it, read into room for
			// a byte more: a file that grew since would have filled
			// it. A build reads thousands, and is spared for each a
			// last read that returns nothing.
			return data, mod, nil
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
}

// fileType is the type of a file as fs.FileMode has it, from a stat's mode.
func fileType(mode uint32) fs.FileMode {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return fs.ModeDir
	case unix.S_IFIFO:
		return fs.ModeNamedPipe
	case unix.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		return fs.ModeDevice
	case unix.S_IFSOCK:
		return fs.ModeSocket
	case unix.S_IFLNK:
		return fs.ModeSymlink
	}
	return fs.ModeIrregular
}
