package generator

import "golang.org/x/sys/unix"

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
