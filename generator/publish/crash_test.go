package publish

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rounds-health/rounds/generator/s3test"
)

// TestPublishChild is the publish TestPublishCrashRerun runs, and kills,
// in a child process. It does nothing in a normal test run.
func TestPublishChild(t *testing.T) {
	env := os.Getenv("ROUNDS_PUBLISH_CHILD")
	if env == "" {
		t.Skip("run by TestPublishCrashRerun")
	}
	endpoint, out, _ := strings.Cut(env, " ")
	c := (&s3test.Server{Endpoint: endpoint}).Client(s3test.AccessKey, s3test.SecretKey)
	o := opts(out, "site")
	o.Now, o.LockTTL, o.Workers, o.Confirm = time.Now, 300*time.Millisecond, 2, true
	if _, err := Publish(context.Background(), c, o, nil); err != nil {
		t.Fatal(err)
	}
}

// TestPublishCrashRerun kills publishes with SIGKILL at several points and
// checks that a rerun leaves the bucket exactly as the site.
func TestPublishCrashRerun(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	srv := s3test.New(t)
	c := srv.Bucket(t, "site")
	dir, out := newsletter(t, 60)
	if _, err := Publish(context.Background(), c, opts(out, "site"), nil); err != nil {
		t.Fatal(err)
	}
	// A new build that changes, adds and drops pages.
	for i := 1; i <= 8; i++ {
		os.Remove(filepath.Join(dir, "content", "notes", fmt.Sprintf("note-%05d.md", i)))
	}
	os.WriteFile(filepath.Join(dir, "content", "notes", "note-00030.md"), []byte("+++\ntitle = \"Changed\"\ndate = 2026-11-20T00:00:00Z\nsource = \"https://example.org/\"\n+++\n\nChanged.\n"), 0o644)
	out2 := rebuild(t, dir)
	killed := 0
	for _, delay := range []time.Duration{5, 20, 40, 80, 120, 200} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPublishChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "ROUNDS_PUBLISH_CHILD="+srv.Endpoint+" "+out2)
		var log strings.Builder
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		timer := time.AfterFunc(delay*time.Millisecond, func() { cmd.Process.Kill() })
		err := cmd.Wait()
		timer.Stop()
		if err != nil && !strings.Contains(err.Error(), "killed") {
			t.Fatalf("a publish failed on its own: %v\n%s", err, log.String())
		}
		if err != nil {
			killed++
		}
		time.Sleep(350 * time.Millisecond) // past the lock a killed publish left
	}
	if killed == 0 {
		t.Fatal("no publish was killed; the test proves nothing")
	}
	o := opts(out2, "site")
	o.Confirm, o.Now = true, time.Now
	if _, err := Publish(context.Background(), c, o, nil); err != nil {
		t.Fatal(err)
	}
	sameAsSite(t, c, "site", out2)
	t.Logf("%d of 6 publishes killed", killed)
}
