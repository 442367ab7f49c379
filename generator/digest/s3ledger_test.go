package digest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"rounds/generator/s3lock"
	"rounds/generator/s3test"
	"rounds/generator/smtptest"
)

// TestS3Ledger sends with the subscribers and the ledger in a private
// bucket of a real S3-compatible server, as a stateless nightly job does.
func TestS3Ledger(t *testing.T) {
	t.Parallel()
	srv := s3test.New(t)
	c := srv.Bucket(t, "private")
	ts := smtptest.New(t, false)
	d, comp, _ := setup(t)
	ctx := context.Background()
	c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("private"), Key: aws.String("lists/subscribers.csv"), Body: strings.NewReader(smtptest.Subscribers(12, "clinicians"))})
	client := func() (*s3.Client, error) { return c, nil }
	subs, err := ReadSubscribersFrom(ctx, client, "s3://private/lists/subscribers.csv")
	if err != nil || len(subs) != 12 {
		t.Fatalf("subscribers from S3: %d, %v", len(subs), err)
	}
	for run := 1; run <= 2; run++ {
		l, err := OpenLedger(ctx, client, "s3://private/ledgers", d.Edition.Slug, "clinicians", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if run == 1 {
			// A second send of the same edition and list cannot start.
			if _, err := OpenLedger(ctx, client, "s3://private/ledgers", d.Edition.Slug, "clinicians", time.Minute); !errors.Is(err, s3lock.ErrHeld) {
				t.Errorf("a concurrent send: %v", err)
			}
		}
		todo, rep, err := Pending(l, "clinicians", subs, testNow, true)
		if err != nil {
			t.Fatal(err)
		}
		if run == 2 && (len(todo) != 0 || rep.Skipped != 12) {
			t.Errorf("the second run would send to %d", len(todo))
		}
		if _, err := sender(t, ts, comp, l).Send(ctx, d, todo); err != nil {
			t.Fatal(err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := ts.Messages(); len(got) != 12 {
		t.Errorf("%d recipients got mail, want 12", len(got))
	}
	out, _ := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("private"), Prefix: aws.String("ledgers/" + d.Edition.Slug + "/clinicians/")})
	if len(out.Contents) != 1 || !strings.HasSuffix(aws.ToString(out.Contents[0].Key), "-folded.jsonl") {
		var keys []string
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		t.Errorf("after Close the ledger is %v, want one folded object and no lock", keys)
	}
}
