package s3lock

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// process reports whether a process with the PID exists, and when it
// started (field 22 of /proc/PID/stat, in clock ticks since boot; 0 if
// unknown). A zombie, dead but not yet reaped, does not exist. Where /proc
// does not show the process (not mounted, or hidepid hides another
// user's), it exists unless kill(pid, 0) says there is no such process.
func process(pid int) (start uint64, exists bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err == nil {
		state, start, err := parseStat(data)
		if err == nil {
			return start, state != 'Z' && state != 'X'
		}
	}
	return 0, !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// parseStat returns the state (field 3) and the start time (field 22) of
// the contents of /proc/PID/stat. The command name (field 2) is in
// parentheses and may hold spaces and parentheses itself, so the fields
// are counted from the last ')'.
func parseStat(data []byte) (state byte, start uint64, err error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, errors.New("no command name")
	}
	fields := bytes.Fields(data[i+1:])
	if len(fields) < 20 || len(fields[0]) != 1 {
		return 0, 0, fmt.Errorf("%d fields", len(fields)+2)
	}
	start, err = strconv.ParseUint(string(fields[19]), 10, 64)
	return fields[0][0], start, err
}

// pidNamespace names this process's PID namespace, as "pid:[4026531836]";
// "" if unknown.
func pidNamespace() string {
	ns, _ := os.Readlink("/proc/self/ns/pid")
	return ns
}
