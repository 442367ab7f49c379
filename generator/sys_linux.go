package generator

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// The build creates some 20,000 files and folders and reads as many
// content files. These helpers call the system through
// golang.org/x/sys/unix rather than the os package, which registers every
// file it opens with the network poller: five system calls a file for
// nothing on a regular file.

// An outFolder is a folder the build writes into, open so that files and
// folders are made in it by their path relative to it: the system then
// looks up two or three names rather than every name of a long path.
type outFolder struct {
	path string
	fd   int
}

// openOut opens the folder at path for writing into.
func openOut(path string) (*outFolder, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &pathError{Op: "open", Path: path, Err: err}
	}
	return &outFolder{path: path, fd: fd}, nil
}

// close closes the folder.
func (o *outFolder) close() { unix.Close(o.fd) }

// writeFile creates the file at the slash path rel with data.
func (o *outFolder) writeFile(rel string, data []byte) error {
	fd, err := unix.Openat(o.fd, rel, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return o.err("open", rel, err)
	}
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			unix.Close(fd)
			return o.err("write", rel, err)
		}
		data = data[n:]
	}
	if err := unix.Close(fd); err != nil {
		return o.err("close", rel, err)
	}
	return nil
}

// mkdir creates the folder at the slash path rel.
func (o *outFolder) mkdir(rel string) error {
	if err := unix.Mkdirat(o.fd, rel, 0o755); err != nil {
		return o.err("mkdir", rel, err)
	}
	return nil
}

func (o *outFolder) err(op, rel string, err error) error {
	return &pathError{Op: op, Path: filepath.Join(o.path, filepath.FromSlash(rel)), Err: err}
}

// readFile returns the contents of the regular file at path, at most max
// bytes of it (0: any size), and its modification time. It refuses a
// path that is a symbolic link (errLink), and anything but a regular
// file, without waiting: a named pipe is opened without blocking, and
// refused.
func readFile(path string, max int64) ([]byte, time.Time, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == unix.ELOOP {
		return nil, time.Time{}, errLink
	}
	if err != nil {
		return nil, time.Time{}, &pathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, time.Time{}, &pathError{Op: "stat", Path: path, Err: err}
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
			return nil, time.Time{}, &pathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return data, mod, nil
		}
		data = data[:len(data)+n]
		if max > 0 && int64(len(data)) > max {
			return nil, time.Time{}, tooLarge(int64(len(data)), max) // it grew while read
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

// exchange swaps the folders at a and b atomically.
func exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) {
		return exchangeByRename(a, b)
	}
	return err
}

// lock takes an exclusive lock on the file at path, creating it, and
// returns the function that releases it. The system releases it too when
// the process dies, so a crashed build never leaves it held.
func lock(path string) (func(), error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, &pathError{Op: "open", Path: path, Err: err}
	}
	if err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: another build is writing this site; wait for it to finish", path)
		}
		return nil, &pathError{Op: "lock", Path: path, Err: err}
	}
	return func() { unix.Close(fd) }, nil
}
