package nightly

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rounds-health/rounds/feeds"
	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/digest"
	"github.com/rounds-health/rounds/generator/leak"
	"github.com/rounds-health/rounds/generator/publish"
	"github.com/rounds-health/rounds/generator/render"
	"github.com/rounds-health/rounds/generator/site"
)

// Now returns the present a command works at: the flag's value if set,
// else $ROUNDS_NOW, else $SOURCE_DATE_EPOCH, else the clock. What a build
// shows depends on it, so the same inputs build the same site.
func Now(flagValue string) (time.Time, error) {
	v, from := flagValue, "--now"
	if v == "" {
		v, from = os.Getenv("ROUNDS_NOW"), "ROUNDS_NOW"
	}
	if v != "" {
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
			if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
				return t, nil
			}
		}
		return time.Time{}, fmt.Errorf("%s: cannot read %q as a time; use RFC 3339 (2026-11-02T09:00:00Z) or a date (2026-11-02)", from, v)
	}
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH: %q is not a number of seconds", s)
		}
		return time.Unix(sec, 0).UTC(), nil
	}
	return time.Now(), nil
}

// Guard returns the guard that keeps the subscribers' addresses out of
// the site and its bucket: the address of everyone in the subscribers
// file or object, whatever their status. No subscribers file is no
// subscribers; one that cannot be read stops the command, since nothing
// could then be checked.
func Guard(ctx context.Context, cfg *config.Config) (*leak.Guard, error) {
	a, err := loadAudience(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w; the subscribers are read to check that no address of theirs is published", err)
	}
	return leak.New(a.addresses()), nil
}

// Store is the S3-compatible store [publish] describes, which private
// buckets (subscribers, ledgers) share.
func Store(cfg *config.Config) publish.Store {
	p := cfg.Publish
	return publish.Store{Endpoint: p.Endpoint, Region: p.Region, PathStyle: p.PathStyle, Checksums: p.Checksums}
}

// FetchLine is the one-line summary of a source's fetch.
func FetchLine(r feeds.Report) string {
	took := r.Took.Round(time.Millisecond)
	switch r.Status {
	case feeds.Updated:
		return fmt.Sprintf("ok    %-24s %s, %d new (%s)", r.Source.ID, config.Count(r.Items, "item"), r.New, took)
	case feeds.NotModified:
		return fmt.Sprintf("same  %-24s %s, not modified (%s)", r.Source.ID, config.Count(r.Items, "item"), took)
	case feeds.BackingOff:
		return fmt.Sprintf("wait  %-24s %s kept; %s in a row, next try after %s (--force to try now): %v",
			r.Source.ID, config.Count(r.Items, "item"), config.Count(r.Failures, "failure"), r.RetryAfter.Format(time.RFC3339), r.Err)
	}
	line := fmt.Sprintf("FAIL  %-24s %v; %s kept, %s in a row, retry after %s",
		r.Source.ID, r.Err, config.Count(r.Items, "item"), config.Count(r.Failures, "failure"), r.RetryAfter.Format(time.RFC3339))
	if r.MovedTo != "" {
		line += "; moved permanently to " + r.MovedTo + ", update its url in config.toml"
	}
	return line
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// WarnPHI says that a build holds what may identify a patient, which
// publishing will refuse.
func WarnPHI(stderr io.Writer, cmd string, res *render.Result) {
	if n := len(res.PHI); n > 0 {
		fmt.Fprintf(stderr, "rounds %s: warning: %d %s that may identify a patient (rounds check lists them); rounds publish refuses this build until they are fixed\n",
			cmd, n, plural(n, "finding", "findings"))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Publish publishes the build in dir where cfg's [publish] says, with
// the run's choices in run (DryRun, Confirm, ForceUnlock). The guard
// checks every file about to be uploaded for subscribers' addresses.
// Publishing refuses a build whose manifest records findings that may
// identify a patient, or no verdict at all.
func Publish(ctx context.Context, cfg *config.Config, guard *leak.Guard, dir string, run publish.Options, stdout io.Writer) error {
	p := cfg.Publish
	client, err := publish.NewClient(ctx, Store(cfg))
	if err != nil {
		return err
	}
	opts := run
	opts.Dir, opts.Bucket, opts.Prefix, opts.Types, opts.Gzip = dir, p.Bucket, p.Prefix, map[string]string{}, p.Gzip
	opts.MaxDeletes, opts.Exclude, opts.Workers = p.MaxDeletes, p.Exclude, p.Workers
	if guard.Len() > 0 {
		opts.Check = guard.Check
	}
	for ext, t := range p.Types {
		opts.Types["."+ext] = t
	}
	if len(p.Cache) > 0 {
		for _, r := range p.Cache {
			opts.Rules = append(opts.Rules, publish.Rule{Pattern: r.Pattern, CacheControl: r.CacheControl})
		}
		opts.Rules = append(opts.Rules, publish.DefaultRules...)
	}
	if p.CloudFront != "" {
		if opts.Invalidator, err = publish.NewCloudFront(ctx, p.CloudFront); err != nil {
			return err
		}
	}
	progress := newProgress(stdout)
	opts.Progress = progress.counter("uploading")
	start := time.Now()
	plan, err := publish.Publish(ctx, client, opts, stdout)
	progress.clear()
	if err != nil {
		return err
	}
	if !run.DryRun {
		fmt.Fprintf(stdout, "rounds publish: s3://%s/%s up to date: %d uploaded, %d headers updated, %d deleted in %s\n",
			p.Bucket, p.Prefix, len(plan.Uploads), len(plan.Updates), len(plan.Deletes), time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// BreakLedgerLock removes the lock a send of the edition to the list left
// on its ledger in a bucket, and says whose it was. A ledger in a folder
// is locked with flock, which the system releases when a send dies.
func BreakLedgerLock(ctx context.Context, cfg *config.Config, ed *content.Edition, l *config.ListConfig, stdout io.Writer) error {
	loc := cfg.LedgerDir()
	if !strings.HasPrefix(loc, "s3://") {
		fmt.Fprintf(stdout, "rounds send: the ledger in %s is locked with flock, which the system releases when a send dies; no lock to break\n", loc)
		return nil
	}
	client, err := bucketClient(ctx, cfg)
	if err != nil {
		return err
	}
	info, err := digest.BreakLedgerLock(ctx, client, loc, ed.Slug, l.ID)
	if err != nil {
		return err
	}
	if info == nil {
		fmt.Fprintf(stdout, "rounds send: %s to %s: no lock to break\n", ed.Slug, l.ID)
		return nil
	}
	fmt.Fprintf(stdout, "rounds send: %s to %s: broke the lock of %s on %s, pid %d, since %s (it would have expired at %s)\n",
		ed.Slug, l.ID, info.Job, info.Host, info.PID, info.Started.Format(time.RFC3339), info.Expires.Format(time.RFC3339))
	return nil
}

// SendOptions say how Send sends.
type SendOptions struct {
	// DryRun prints who would get what, and sends and records nothing.
	DryRun bool
	// ResendUnknown sends again, with the same Message-ID, to those whose
	// delivery a crash left unknown.
	ResendUnknown bool
}

// Send renders the edition for the list and sends it to the list's
// subscribers still due, or with opts.DryRun prints who they are.
func Send(ctx context.Context, s *site.Site, tmpl *digest.Templates, ed *content.Edition, l *config.ListConfig, opts SendOptions, stdout, stderr io.Writer) error {
	dryRun, resendUnknown := opts.DryRun, opts.ResendUnknown
	cfg := s.Config
	d, err := digest.Render(tmpl, s, ed, l)
	if err != nil {
		return err
	}
	if d == nil {
		fmt.Fprintf(stdout, "rounds send: none of %s's notes are for list %s; nothing to send\n", ed.Slug, l.ID)
		return nil
	}
	for _, w := range d.Warnings {
		fmt.Fprintf(stderr, "rounds send: warning: %s\n", w)
	}
	composer, err := digest.NewComposer(cfg, !dryRun)
	if err != nil {
		return err
	}
	aud, err := loadAudience(ctx, cfg)
	if err != nil {
		return err
	}
	if aud.missing {
		fmt.Fprintf(stdout, "rounds send: no subscribers yet (neither %s nor the subscribers' log exists): nothing to send to list %s\n", cfg.Rel(cfg.SubscribersPath()), l.ID)
		return nil
	}
	subs, unchecked := aud.recipients(l.ID)
	if unchecked {
		fmt.Fprintf(stderr, "rounds send: %s's rows are not matched to the subscribers' log (its bounces and departures) without $ROUNDS_UNSUBSCRIBE_SECRET\n", cfg.Rel(cfg.SubscribersPath()))
	}
	store := func() (*s3.Client, error) { return bucketClient(ctx, cfg) }
	ledger, err := digest.OpenLedger(ctx, store, cfg.LedgerDir(), ed.Slug, l.ID, 10*time.Minute)
	if err != nil {
		return err
	}
	defer ledger.Close()
	plan, err := digest.PlanSend(ledger, l.ID, subs, digest.PlanOptions{Record: !dryRun, ResendUnknown: resendUnknown})
	if err != nil {
		return err
	}
	todo := plan.Todo()
	if dryRun {
		for _, s := range plan.Send {
			fmt.Fprintf(stdout, "would send  %s  %q\n", leak.Mask(s.Email), d.Subject)
		}
	}
	// What a crash left unknown is said on every run, until it is resent.
	for _, r := range plan.Unknown {
		switch {
		case resendUnknown && dryRun:
			fmt.Fprintf(stdout, "would resend  %s  %q (unknown since %s: %s)\n", r.Masked, d.Subject, r.Time.Format(time.RFC3339), r.Reason)
		case !resendUnknown:
			fmt.Fprintf(stdout, "unknown   %s since %s: %s\n", r.Masked, r.Time.Format(time.RFC3339), r.Reason)
		}
	}
	if dryRun {
		rep := plan.Report(digest.SendReport{})
		fmt.Fprintf(stdout, "rounds send: dry run: %d to send, %d to resend, %d unknown, %d already handled (edition %s, list %s, %d notes)\n",
			len(plan.Send), len(plan.Resend), rep.Unknown, rep.Skipped, ed.Slug, l.ID, len(d.Notes))
		return nil
	}
	sender := digest.NewSender(cfg.Email.SMTP, composer, ledger)
	progress := newProgress(stdout)
	var mu sync.Mutex
	done := 0
	// A 5xx reply is a hard bounce (but 552, a full mailbox, which may
	// empty): the log suppresses the address for every list.
	emails := make(map[string]string, len(todo)) // by ledger key
	for _, s := range todo {
		emails[digest.Key(s.Email)] = s.Email
	}
	bounced := map[string]string{}
	sender.Done = func(to string, r digest.Record) {
		mu.Lock()
		defer mu.Unlock()
		done++
		if r.State == digest.Failed && r.Code >= 500 && r.Code < 600 && r.Code != 552 {
			bounced[emails[r.Key]] = fmt.Sprintf("%d %s", r.Code, r.Reason)
		}
		switch {
		case progress != nil:
			progress.show("sending", done, len(todo), "")
		case r.State != digest.Sent:
			fmt.Fprintf(stdout, "%-9s %s %d %s\n", r.State, to, r.Code, r.Reason)
		}
	}
	sent, err := sender.Send(ctx, d, todo)
	progress.clear()
	rep := plan.Report(sent)
	fmt.Fprintf(stdout, "rounds send: %s to %s: %d sent, %d failed, %d deferred (retried next run), %d unknown, %d already handled\n",
		ed.Slug, l.ID, rep.Sent, rep.Failed, rep.Deferred, rep.Unknown, rep.Skipped)
	delete(bounced, "")
	berr := aud.bounce(ctx, cfg, s.Now, bounced)
	if berr != nil {
		berr = fmt.Errorf("%w; the ledger keeps the bounced addresses from this edition only", berr)
	} else if len(bounced) > 0 {
		fmt.Fprintf(stdout, "rounds send: %s bounced for good: no list mails them again\n", config.Count(len(bounced), "address"))
	}
	if rep.Unknown > 0 && err == nil {
		fmt.Fprintf(stdout, "rounds send: the server may have the unknown ones; once you have decided, rounds send %s --list %s --resend-unknown sends them again, with the same Message-ID\n", ed.Slug, l.ID)
	}
	if err != nil {
		return fmt.Errorf("%w; run the same command again to send to the rest", err)
	}
	return berr
}

// bucketClient returns a client of the private bucket where subscribers
// and ledgers may be kept, its credentials found (or
// publish.ErrNoCredentials, which says where they were looked for).
func bucketClient(ctx context.Context, cfg *config.Config) (*s3.Client, error) {
	c, err := publish.NewClient(ctx, Store(cfg))
	if err == nil {
		err = publish.CheckCredentials(ctx, c)
	}
	return c, err
}
