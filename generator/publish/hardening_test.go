package publish

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rounds-health/rounds/generator/output"
	"github.com/rounds-health/rounds/generator/s3lock"
	"github.com/rounds-health/rounds/generator/s3test"
)

// newSite builds a site of n notes and starts a store with the bucket
// "site" for the test.
func newSite(t *testing.T, n int) (c *s3.Client, dir, out string) {
	t.Helper()
	c = s3test.New(t).Bucket(t, "site")
	dir, out = newsletter(t, n)
	return c, dir, out
}

// putLock leaves a publish lock in the bucket as its holder would have.
func putLock(t *testing.T, c *s3.Client, bucket string, info s3lock.Info) {
	t.Helper()
	data, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(lockKey), Body: strings.NewReader(string(data))}); err != nil {
		t.Fatal(err)
	}
}

// dropNotes removes notes 1 to n from the project and rebuilds it.
func dropNotes(t *testing.T, dir string, n int) string {
	t.Helper()
	for i := 1; i <= n; i++ {
		if err := os.Remove(filepath.Join(dir, "content", "notes", fmt.Sprintf("note-%05d.md", i))); err != nil {
			t.Fatal(err)
		}
	}
	return rebuild(t, dir)
}

// TestPublishUploadFails: when an upload fails part-way, nothing stale is
// deleted yet (deletes come last), and a rerun once the cause is fixed
// leaves the bucket exactly as the site.
func TestPublishUploadFails(t *testing.T) {
	t.Parallel()
	c, dir, out := newSite(t, 30)
	ctx := context.Background()
	if _, err := Publish(ctx, c, opts(out, "site"), nil); err != nil {
		t.Fatal(err)
	}
	before := listing(t, c, "site")
	out = dropNotes(t, dir, 6)
	plan, err := Publish(ctx, c, Options{Dir: out, Bucket: "site", DryRun: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Deletes) == 0 || len(plan.Uploads) < 2 {
		t.Fatalf("the new build should upload and delete: %d uploads, %d deletes", len(plan.Uploads), len(plan.Deletes))
	}
	// The home page, uploaded with the pages after the assets, is gone
	// from the build folder.
	home := filepath.Join(out, "index.html")
	data, err := os.ReadFile(home)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(home)
	o := opts(out, "site")
	o.Confirm = true
	if _, err := Publish(ctx, c, o, nil); err == nil || !strings.Contains(err.Error(), "index.html") {
		t.Fatalf("a publish with a file missing: %v", err)
	}
	after := listing(t, c, "site")
	for _, k := range plan.Deletes {
		if after[k] != before[k] {
			t.Errorf("%s, stale, was deleted or changed by a publish whose uploads failed", k)
		}
	}
	if err := os.WriteFile(home, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(ctx, c, o, nil); err != nil {
		t.Fatal(err)
	}
	sameAsSite(t, c, "site", out)
}

// TestPublishChangedFile: a file whose bytes changed since the build,
// size and all, is refused by the store, which checks them against the
// manifest's SHA-256.
func TestPublishChangedFile(t *testing.T) {
	t.Parallel()
	c, _, out := newSite(t, 3)
	home := filepath.Join(out, "index.html")
	data, err := os.ReadFile(home)
	if err != nil {
		t.Fatal(err)
	}
	changed := []byte(strings.Replace(string(data), "<", ">", 1))
	if err := os.WriteFile(home, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(context.Background(), c, opts(out, "site"), nil); err == nil || !strings.Contains(err.Error(), "changed since the build") {
		t.Fatalf("a file changed since the build: %v", err)
	}
	if state := bucketState(t, c, "site"); state["index.html"] != nil {
		t.Error("the changed home page was published")
	}
}

// TestPublishLocks: a lock left on this host by a process that is gone is
// taken over; one held elsewhere stops the publish, saying how to break
// it; ForceUnlock breaks it and says whose it was, and a dry run leaves
// it.
func TestPublishLocks(t *testing.T) {
	t.Parallel()
	c, _, out := newSite(t, 3)
	ctx := context.Background()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	crashed := exec.Command("true")
	if err := crashed.Run(); err != nil {
		t.Fatal(err)
	}
	started := time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC)
	expires := time.Now().Add(10 * time.Minute)
	putLock(t, c, "site", s3lock.Info{Job: "rounds publish", Host: host, PID: crashed.Process.Pid, Started: started, Expires: expires})
	if _, err := Publish(ctx, c, opts(out, "site"), nil); err != nil {
		t.Fatalf("over the lock of a crashed publish on this host: %v", err)
	}

	putLock(t, c, "site", s3lock.Info{Job: "rounds publish", Host: "ci-runner-7", PID: 4242, Started: started, Expires: expires})
	if _, err := Publish(ctx, c, opts(out, "site"), nil); !errors.Is(err, s3lock.ErrHeld) || !strings.Contains(err.Error(), "--force-unlock") {
		t.Fatalf("over a live lock of another host: %v", err)
	}
	force := opts(out, "site")
	force.ForceUnlock, force.DryRun = true, true
	var log strings.Builder
	if _, err := Publish(ctx, c, force, &log); err != nil || strings.Contains(log.String(), "lock") {
		t.Fatalf("a dry run with ForceUnlock: %v\n%s", err, log.String())
	}
	if _, ok := listing(t, c, "site")[lockKey]; !ok {
		t.Fatal("a dry run broke the lock")
	}
	force.DryRun = false
	log.Reset()
	if _, err := Publish(ctx, c, force, &log); err != nil {
		t.Fatalf("ForceUnlock: %v", err)
	}
	line, _, _ := strings.Cut(log.String(), "\n")
	if want := "broke the lock of rounds publish on ci-runner-7, pid 4242, since 2026-11-28T11:00:00Z"; line != want {
		t.Errorf("ForceUnlock printed %q first, want %q", log.String(), want)
	}
	log.Reset()
	if _, err := Publish(ctx, c, force, &log); err != nil || !strings.HasPrefix(log.String(), "no lock to break\n") {
		t.Errorf("ForceUnlock with no lock: %v\n%s", err, log.String())
	}
	if _, ok := listing(t, c, "site")[lockKey]; ok {
		t.Error("the lock was left after the publish")
	}
}

// checker records what Check is given, and fails on the paths in fail.
type checker struct {
	mu   sync.Mutex
	seen map[string][]byte
	fail map[string]bool
}

func (ch *checker) check(path string, data []byte) error {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if _, dup := ch.seen[path]; dup {
		return fmt.Errorf("checked twice")
	}
	ch.seen[path] = data
	if ch.fail[path] {
		return errors.New("has a subscriber's e-mail address")
	}
	return nil
}

// TestPublishCheck: a check that fails on any file to upload stops the
// publish, in a dry run too, before anything changes, and names every
// such file; one that passes sees exactly the uploads' bytes and changes
// nothing about the publish.
func TestPublishCheck(t *testing.T) {
	t.Parallel()
	c, dir, out := newSite(t, 12)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("unchecked")}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Passing, on the first publish: every file is checked, once, with
	// its bytes as built, and those are the bytes uploaded even if the
	// file changes after the check.
	ch := &checker{seen: map[string][]byte{}}
	o := opts(out, "site")
	o.Check = func(path string, data []byte) error {
		if path == "index.html" {
			os.WriteFile(filepath.Join(out, path), []byte(strings.Repeat("x", len(data))), 0o644)
		}
		return ch.check(path, data)
	}
	home, _ := os.ReadFile(filepath.Join(out, "index.html"))
	plan, err := Publish(ctx, c, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(out, "index.html"), home, 0o644)
	m, _ := output.ReadManifest(out)
	public := 0
	for _, f := range m.Files {
		if !private(f.Path) {
			public++
		}
	}
	var uploaded []string
	for _, u := range plan.Uploads {
		uploaded = append(uploaded, u.Path)
		if want, _ := os.ReadFile(filepath.Join(out, u.Path)); string(ch.seen[u.Path]) != string(want) {
			t.Errorf("Check was given other bytes than %s's", u.Path)
		}
	}
	if got := slices.Sorted(maps.Keys(ch.seen)); len(uploaded) != public || !slices.Equal(got, slices.Sorted(slices.Values(uploaded))) {
		t.Errorf("checked %d files, uploaded %d of the site's %d public files", len(got), len(uploaded), public)
	}
	sameAsSite(t, c, "site", out)
	if _, err := Publish(ctx, c, opts(out, "unchecked"), nil); err != nil {
		t.Fatal(err)
	}
	if checked, unchecked := bucketState(t, c, "site"), bucketState(t, c, "unchecked"); !maps.EqualFunc(checked, unchecked, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Error("a passing check changed what was published")
	}

	// Failing, on a publish that would upload, update and delete.
	out = dropNotes(t, dir, 3)
	before := listing(t, c, "site")
	ch = &checker{seen: map[string][]byte{}, fail: map[string]bool{"index.html": true, "feed.xml": true}}
	for _, dry := range []bool{true, false} {
		clear(ch.seen)
		o := opts(out, "site")
		o.Check, o.DryRun, o.Confirm = ch.check, dry, true
		o.Rules = append([]Rule{{Pattern: "**/*.css", CacheControl: "no-cache"}}, DefaultRules...)
		plan, err := Publish(ctx, c, o, nil)
		if len(plan.Uploads) == 0 || len(plan.Updates) == 0 || len(plan.Deletes) == 0 {
			t.Fatalf("the plan should upload, update and delete: %d, %d, %d", len(plan.Uploads), len(plan.Updates), len(plan.Deletes))
		}
		if err == nil {
			t.Fatalf("dry run %v: a failing check published", dry)
		}
		msg := err.Error()
		for _, want := range []string{"index.html: has a subscriber's e-mail address", "feed.xml: has a subscriber's e-mail address"} {
			if !strings.Contains(msg, want) {
				t.Errorf("dry run %v: the error does not say %q:\n%s", dry, want, msg)
			}
		}
		if !strings.HasSuffix(msg, "nothing was published") || strings.Count(msg, "\n") != 2 {
			t.Errorf("dry run %v: the error should list the two files, then say nothing was published:\n%s", dry, msg)
		}
		if len(ch.seen) != len(plan.Uploads) {
			t.Errorf("dry run %v: checked %d of %d uploads", dry, len(ch.seen), len(plan.Uploads))
		}
		if after := listing(t, c, "site"); !maps.Equal(before, after) {
			t.Errorf("dry run %v: a failing check changed the bucket", dry)
		}
	}
}
