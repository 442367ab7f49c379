//go:build unix && !linux

package s3lock

import (
	"errors"
	"syscall"
)

// process reports whether a process with the PID exists: unless kill(pid,
// 0) says there is no such process (ESRCH; EPERM is another user's). Its
// start time is unknown (0).
func process(pid int) (start uint64, exists bool) {
	return 0, !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// pidNamespace is unknown here.
func pidNamespace() string { return "" }
