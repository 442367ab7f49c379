package s3lock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rounds-health/rounds/generator/s3test"
)

// newBucket starts a store with the bucket "private" for the test.
func newBucket(t *testing.T) *s3.Client {
	t.Helper()
	return s3test.New(t).Bucket(t, "private")
}

// putLock writes a lock object as a holder would have left it.
func putLock(t *testing.T, c *s3.Client, key string, info Info) {
	t.Helper()
	data, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("private"), Key: aws.String(key), Body: strings.NewReader(string(data))}); err != nil {
		t.Fatal(err)
	}
}

// heldBy returns the lock object at key, failing the test without one.
func heldBy(t *testing.T, c *s3.Client, key string) *Info {
	t.Helper()
	info, _, err := read(context.Background(), c, "private", key)
	if err != nil || info == nil {
		t.Fatalf("reading the lock: %v, %v", info, err)
	}
	return info
}

// exitedPID returns the PID of a process that has exited and been reaped.
func exitedPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// sleepingPID returns the PID of a child that lives until the test ends.
func sleepingPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd.Process.Pid
}

func hostname(t *testing.T) string {
	t.Helper()
	host, err := os.Hostname()
	if err != nil || host == "" {
		t.Skipf("no host name: %v", err)
	}
	return host
}

// TestTakeOver: a live lock whose holder's process is gone on this host
// is taken over at once; so is one whose PID now names another process.
func TestTakeOver(t *testing.T) {
	t.Parallel()
	c, host, start := newBucket(t), hostname(t), self().ProcStart
	if start == 0 && runtime.GOOS == "linux" {
		t.Fatal("no start time of this process in /proc/self/stat")
	}
	for name, holder := range map[string]Info{
		"crashed":   {Host: host, PID: exitedPID(t)},
		"pid reuse": {Host: host, PID: os.Getpid(), ProcStart: start + 1},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if name == "pid reuse" && start == 0 {
				t.Skip("no process start times on this system")
			}
			takenOver(t, c, "jobs/"+strings.ReplaceAll(name, " ", "-"), holder)
		})
	}
}

// takenOver leaves a live lock of holder at key and checks that Acquire
// takes it over.
func takenOver(t *testing.T, c *s3.Client, key string, holder Info) {
	t.Helper()
	holder.Job = "crashed publish"
	holder.Started = time.Now().Add(-time.Minute).UTC()
	holder.Expires = time.Now().Add(10 * time.Minute).UTC()
	putLock(t, c, key, holder)
	l, err := Acquire(context.Background(), c, "private", key, "rerun", time.Minute, nil)
	if err != nil {
		t.Fatalf("a lock of a dead holder on this host: %v", err)
	}
	defer l.Release()
	if got := heldBy(t, c, key); got.Job != "rerun" || got.PID != os.Getpid() || got.ProcStart != self().ProcStart {
		t.Errorf("the lock after the takeover: %+v", got)
	}
}

// TestLiveHolderKept: a live lock is refused, naming its holder, when its
// process is alive on this host, or when it is on another host or in
// another PID namespace of this one, however dead its PID is here.
func TestLiveHolderKept(t *testing.T) {
	t.Parallel()
	c, host, start := newBucket(t), hostname(t), self().ProcStart
	sleeping, dead := sleepingPID(t), exitedPID(t)
	for name, holder := range map[string]Info{
		"this process":          {Host: host, PID: os.Getpid(), ProcStart: start},
		"this process, no time": {Host: host, PID: os.Getpid()},
		"a sleeping child":      {Host: host, PID: sleeping},
		"another host":          {Host: "ci-runner-7", PID: dead},
		"another namespace":     {Host: host, PID: dead, PIDNamespace: "pid:[1]"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			key := "jobs/" + strings.ReplaceAll(name, " ", "-")
			holder.Job = "rounds publish"
			holder.Started = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
			holder.Expires = time.Now().Add(10 * time.Minute).UTC()
			putLock(t, c, key, holder)
			_, err := Acquire(context.Background(), c, "private", key, "second", time.Minute, nil)
			want := fmt.Sprintf("rounds publish on %s, pid %d, since 2026-11-28T12:00:00Z", holder.Host, holder.PID)
			if !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), want) {
				t.Fatalf("Acquire over a live holder: %v\nwant ErrHeld naming %q", err, want)
			}
			if got := heldBy(t, c, key); got.Job != "rounds publish" || got.PID != holder.PID {
				t.Errorf("the holder lost its lock: %+v", got)
			}
		})
	}
}

// TestBreak: Break removes a live lock and says whose it was; with no lock
// it says so; an unreadable lock object goes too.
func TestBreak(t *testing.T) {
	t.Parallel()
	c, ctx := newBucket(t), context.Background()
	l, err := Acquire(ctx, c, "private", "jobs/lock", "job A", time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	info, err := Break(ctx, c, "private", "jobs/lock")
	if err != nil || info == nil || info.Job != "job A" || info.PID != os.Getpid() || info.Host != self().Host {
		t.Fatalf("Break of a live lock = %+v, %v", info, err)
	}
	b, err := Acquire(ctx, c, "private", "jobs/lock", "job B", time.Minute, nil)
	if err != nil {
		t.Fatalf("Acquire after Break: %v", err)
	}
	b.Release()
	if info, err := Break(ctx, c, "private", "jobs/lock"); info != nil || err != nil {
		t.Errorf("Break with no lock = %+v, %v", info, err)
	}
	c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("private"), Key: aws.String("jobs/lock"), Body: strings.NewReader("{not json")})
	if _, err := Acquire(ctx, c, "private", "jobs/lock", "job C", time.Minute, nil); !errors.Is(err, ErrUnreadable) {
		t.Fatalf("Acquire over an unreadable lock: %v", err)
	}
	if info, err := Break(ctx, c, "private", "jobs/lock"); info != nil || !errors.Is(err, ErrUnreadable) {
		t.Errorf("Break of an unreadable lock = %+v, %v", info, err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("private"), Key: aws.String("jobs/lock")}); err == nil {
		t.Error("Break left the unreadable lock")
	}
}
