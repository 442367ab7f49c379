package s3lock

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// zombiePID returns the PID of a child that has exited but is not reaped
// until the test ends.
func zombiePID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Wait() })
	stat := fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid)
	for range 2000 {
		data, err := os.ReadFile(stat)
		if err != nil {
			t.Fatal(err)
		}
		if state, _, err := parseStat(data); err == nil && state == 'Z' {
			return cmd.Process.Pid
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the child did not exit")
	return 0
}

// TestTakeOverZombie: a holder that exited but was not reaped is gone.
func TestTakeOverZombie(t *testing.T) {
	t.Parallel()
	takenOver(t, newBucket(t), "jobs/zombie", Info{Host: hostname(t), PID: zombiePID(t)})
}

func TestParseStat(t *testing.T) {
	t.Parallel()
	line := "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 312 0 0 0 1 2 0 0 20 0 1 0 987654 1234567 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	state, start, err := parseStat([]byte(line))
	if err != nil || state != 'S' || start != 987654 {
		t.Errorf("parseStat = %c, %d, %v; want S, 987654", state, start, err)
	}
	if _, _, err := parseStat([]byte("4242 (cut) S 1 2")); err == nil {
		t.Error("parseStat of a cut line: no error")
	}
}
