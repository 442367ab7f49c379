package digest

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rounds-health/rounds/generator/leak"
	"github.com/rounds-health/rounds/generator/s3lock"
	"github.com/rounds-health/rounds/generator/s3test"
	"github.com/rounds-health/rounds/generator/smtptest"
)

// setupS3 starts an S3 server with a private bucket and an SMTP server,
// and renders the clinicians digest.
func setupS3(t *testing.T) (*s3.Client, *smtptest.Server, *Digest, *Composer) {
	t.Helper()
	c := s3test.New(t).Bucket(t, "private")
	d, comp, _ := setup(t)
	return c, smtptest.New(t, false), d, comp
}

// TestS3Ledger sends with the subscribers and the ledger in a private
// bucket of a real S3-compatible server, as a stateless nightly job does.
func TestS3Ledger(t *testing.T) {
	t.Parallel()
	c, ts, d, comp := setupS3(t)
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
		p := plan(t, l, subs, PlanOptions{Record: true})
		todo := p.Todo()
		if run == 2 && (len(todo) != 0 || p.Handled != 12) {
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

// TestS3LedgerUnknown runs on an S3 ledger that a crash left with a
// delivery committing: a dry run lists it unknown and writes no object, a
// real run records it unknown and sends it nothing, and a run told to
// resend it sends it once, with the Message-ID composed for it.
func TestS3LedgerUnknown(t *testing.T) {
	t.Parallel()
	c, ts, d, comp := setupS3(t)
	ctx := context.Background()
	const base = "s3://private/ledgers"
	open := func() (Ledger, error) { return OpenS3Ledger(ctx, c, base, d.Edition.Slug, "clinicians", time.Minute) }
	subs, _ := ReadSubscribers("s.csv", strings.NewReader(smtptest.Subscribers(3, "clinicians")))
	const to = "reader1@example.net"

	// The crash, an hour before: reader0 was sent to, reader1's message
	// was committing, the record objects were not folded, and the lock
	// has since expired.
	crashed := testNow.Add(-time.Hour)
	l, err := OpenS3Ledger(ctx, c, base, d.Edition.Slug, "clinicians", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Record{{Key: Key("reader0@example.net"), Masked: leak.Mask("reader0@example.net"), State: Sent, Time: testNow},
		{Key: Key(to), Masked: leak.Mask(to), State: Committing, Time: crashed}} {
		if err := l.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	l.lock.Release()
	objects := func() []string { return s3test.Keys(t, c, "private", "ledgers/") }

	before := objects()
	p, rep := runPlan(t, open, ts, comp, d, subs, PlanOptions{})
	checkUnknown(t, p, to)
	if len(p.Todo()) != 1 || rep != (SendReport{Unknown: 1, Skipped: 1}) {
		t.Errorf("dry run: %d to send, report %+v; want reader2, 1 unknown, 1 handled", len(p.Todo()), rep)
	}
	if after := objects(); !slices.Equal(after, before) {
		t.Errorf("a dry run changed the ledger from %v to %v", before, after)
	}

	p, rep = runPlan(t, open, ts, comp, d, subs, PlanOptions{Record: true})
	checkUnknown(t, p, to)
	if !p.Unknown[0].Time.Equal(crashed) {
		t.Errorf("the delivery cut off at %s is unknown since %s", crashed, p.Unknown[0].Time)
	}
	if rep != (SendReport{Sent: 1, Unknown: 1, Skipped: 1}) || len(ts.Messages()[to]) != 0 {
		t.Errorf("run: report %+v, %d messages for %s; want reader2 sent, 1 unknown, 1 handled, none", rep, len(ts.Messages()[to]), leak.Mask(to))
	}
	p, rep = runPlan(t, open, ts, comp, d, subs, PlanOptions{Record: true})
	checkUnknown(t, p, to)
	if rep != (SendReport{Unknown: 1, Skipped: 2}) {
		t.Errorf("second run: report %+v, want 1 unknown, 2 handled", rep)
	}

	_, rep = runPlan(t, open, ts, comp, d, subs, PlanOptions{Record: true, ResendUnknown: true})
	got := ts.Messages()[to]
	if rep != (SendReport{Sent: 1, Skipped: 2}) || len(got) != 1 {
		t.Fatalf("resending: report %+v, %d messages for %s; want 1 sent, 0 unknown, 2 handled, one message", rep, len(got), leak.Mask(to))
	}
	if id := messageID(t, got[0]); id != "<"+comp.MessageID(d, to)+">" {
		t.Errorf("resent with Message-ID %s, composed first as <%s>", id, comp.MessageID(d, to))
	}
	p, rep = runPlan(t, open, ts, comp, d, subs, PlanOptions{Record: true, ResendUnknown: true})
	if len(p.Todo()) != 0 || rep != (SendReport{Skipped: 3}) || len(ts.Messages()[to]) != 1 {
		t.Errorf("after resending: %d to send, report %+v, %d messages; want nothing more", len(p.Todo()), rep, len(ts.Messages()[to]))
	}
}

// TestBreakLedgerLock breaks the lock of an S3 ledger that a send holds,
// as for one that died with its lease still running: the next send of
// the edition to the list can then open the ledger, and another's is
// left alone.
func TestBreakLedgerLock(t *testing.T) {
	t.Parallel()
	srv := s3test.New(t)
	c := srv.Bucket(t, "private")
	ctx := context.Background()
	const base, edition = "s3://private/ledgers/", "no-3"
	if info, err := BreakLedgerLock(ctx, c, base, edition, "clinicians"); info != nil || err != nil {
		t.Errorf("breaking a lock nobody holds: %+v, %v", info, err)
	}
	held, err := OpenS3Ledger(ctx, c, base, edition, "clinicians", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(held.lock.Release)
	other, err := OpenS3Ledger(ctx, c, base, edition, "patients", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := OpenS3Ledger(ctx, c, base, edition, "clinicians", time.Minute); !errors.Is(err, s3lock.ErrHeld) {
		t.Fatalf("a second send while the lock is held: %v", err)
	}
	info, err := BreakLedgerLock(ctx, c, base, edition, "clinicians")
	if err != nil || info == nil || info.Job != "rounds send no-3 to clinicians" || info.PID != os.Getpid() {
		t.Fatalf("breaking the lock: %+v, %v; want this process's send of no-3 to clinicians", info, err)
	}
	l, err := OpenS3Ledger(ctx, c, base, edition, "clinicians", time.Minute)
	if err != nil {
		t.Fatalf("after breaking the lock: %v", err)
	}
	l.Close()
	if _, err := OpenS3Ledger(ctx, c, base, edition, "patients", time.Minute); !errors.Is(err, s3lock.ErrHeld) {
		t.Errorf("breaking one list's lock released another's: %v", err)
	}
	if _, err := BreakLedgerLock(ctx, c, "private/ledgers", edition, "clinicians"); err == nil {
		t.Error("a location that is not s3:// was taken")
	}
}
