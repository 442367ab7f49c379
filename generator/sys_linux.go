package generator

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// writeFile creates the file at path with data. It calls the system
// directly: os.WriteFile also registers each file with the network
// poller, a wasted system call per file that shows in a 10,000-page build.
func writeFile(path string, data []byte) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return &pathError{Op: "open", Path: path, Err: err}
	}
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			unix.Close(fd)
			return &pathError{Op: "write", Path: path, Err: err}
		}
		data = data[n:]
	}
	if err := unix.Close(fd); err != nil {
		return &pathError{Op: "close", Path: path, Err: err}
	}
	return nil
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
