package s3lock

import (
	"context"
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
	// Past its first lease, A still holds the lock: it renews it.
	time.Sleep(700 * time.Millisecond)
	if _, err := Acquire(ctx, c, "private", "jobs/lock", "job B", time.Second, nil); !errors.Is(err, ErrHeld) || !strings.Contains(err.Error(), "job A") {
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
