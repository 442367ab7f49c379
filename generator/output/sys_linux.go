package output

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"golang.org/x/sys/unix"
)

// A build makes some 20,000 files and folders. These helpers call the
// system through golang.org/x/sys/unix rather than the os package, which
// registers every file it opens with the network poller: five system
// calls a file for nothing on a regular file.

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

// maxIovecs is how many slices one writev takes (IOV_MAX).
const maxIovecs = 1024

// writeFile creates the file at the slash path rel with the bytes of
// chunks, in order: with one write for a file of one chunk, and one
// writev for up to maxIovecs chunks.
func (o *outFolder) writeFile(rel string, chunks [][]byte) error {
	fd, err := unix.Openat(o.fd, rel, unix.O_WRONLY|unix.O_CREAT|unix.O_TRUNC|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return o.err("open", rel, err)
	}
	if len(chunks) > 1 {
		chunks = slices.Clone(chunks) // skip shortens it, and its first slice
	}
	for len(chunks) > 0 {
		var n int
		if len(chunks) == 1 {
			n, err = unix.Write(fd, chunks[0])
		} else {
			n, err = unix.Writev(fd, chunks[:min(len(chunks), maxIovecs)])
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			unix.Close(fd)
			return o.err("write", rel, err)
		}
		chunks = skip(chunks, n)
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
