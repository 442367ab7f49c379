package s3lock

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rounds-health/rounds/generator/s3test"
)

func TestLock(t *testing.T) {
	t.Parallel()
	srv := s3test.New(t)
	c := srv.Bucket(t, "private")
	ctx := context.Background()
	a, err := Acquire(ctx, c, "private", "jobs/lock", "job A", 300*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	// A renews its lease: the lock's expiry moves on. Once it has, B,
	// looking past A's first lease, still finds A holding it. (Waiting
	// for the renewal rather than for a time keeps this true on a busy
	// machine.)
	first := expiry(t, c)
	renewed := first
	for deadline := time.Now().Add(30 * time.Second); !renewed.After(first); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the lease was never renewed")
		}
		renewed = expiry(t, c)
	}
	pastFirst := func() time.Time { return first.Add(time.Millisecond) }
	if _, err := Acquire(ctx, c, "private", "jobs/lock", "job B", time.Second, pastFirst); !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), "job A") {
		t.Fatalf("a second holder: %v", err)
	}
	a.Release()
	b, err := Acquire(ctx, c, "private", "jobs/lock", "job B", time.Second, nil)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	b.Release()

	// A holder that died: its lock expires and is taken over.
	expired := `{"job":"dead","host":"ci","pid":7,"started":"2026-11-28T00:00:00Z","expires":"2026-11-28T00:01:00Z"}`
	c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("private"), Key: aws.String("jobs/lock"), Body: strings.NewReader(expired)})
	l, err := Acquire(ctx, c, "private", "jobs/lock", "job C", time.Second, nil)
	if err != nil {
		t.Fatalf("an expired lock: %v", err)
	}
	l.Release()
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("private"), Key: aws.String("jobs/lock")}); err == nil {
		t.Error("Release left the lock")
	}
}

// expiry reads when the lock at private/jobs/lock expires.
func expiry(t *testing.T, c *s3.Client) time.Time {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("private"), Key: aws.String("jobs/lock")})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	var h Info
	if err := json.NewDecoder(out.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h.Expires
}
