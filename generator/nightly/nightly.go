// Package nightly is what rounds' commands do once their flags are read,
// above all the stages rounds nightly runs, as CI runs it: fetch → bounces
// → check → links (once a week) → build → publish → send, in that order,
// stopping at the first that fails (but for bounces: when the bounce
// mailbox cannot be read, the run goes on and holds back only the send). Each stage is also a command
// of its own (rounds fetch, subscribers bounces, check, build, publish,
// send), and the pieces they share are here: the rule for the
// build's present (Now), the guard that keeps subscribers' addresses out
// of every output (Guard), the store private buckets share (Store),
// publishing with the configuration's choices (Publish) and sending a
// digest to a list (Send). The other commands (new, inbox, sources,
// digest) are here too, so that main.go holds only their flags.
//
// A command reads config.toml once, and the content once: in a nightly
// run the check stage parses it, and the build and send stages take what
// it parsed.
package nightly

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rounds-health/rounds/feeds"
	"github.com/rounds-health/rounds/generator"
	"github.com/rounds-health/rounds/generator/check"
	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/digest"
	"github.com/rounds-health/rounds/generator/publish"
	"github.com/rounds-health/rounds/generator/render"
	"github.com/rounds-health/rounds/generator/site"
	"github.com/rounds-health/rounds/generator/theme"
	"github.com/rounds-health/rounds/generator/wire"
)

// Stages are the stages of a nightly run, in order.
var Stages = []string{"fetch", "bounces", "check", "links", "build", "publish", "send"}

// Options say how a nightly run goes.
type Options struct {
	Now time.Time
	// DryRun plans the publish and the sends, and changes nothing remote.
	DryRun bool
	// Skip names stages not to run.
	Skip map[string]bool
}

// Run runs the stages for the newsletter cfg describes, printing a line
// for each on stdout, and returns the stage it stopped at, with its error,
// or "" and nil when every stage ran. A bounces stage that fails does not
// stop the run: the stages after it run, but for the send, since who is
// suppressed is not known; Run then returns "" and an error that says so.
func Run(ctx context.Context, cfg *config.Config, opts Options, stdout, stderr io.Writer) (string, error) {
	now := opts.Now
	var loaded *site.Site
	var th *theme.Theme
	var tmpl *digest.Templates
	// The content is read and scanned once, and the theme and the email
	// templates parsed once: the check stage loads them, the build and
	// send stages take what it loaded. The build writes the very site
	// the check stage assembled and the send stage reads.
	cache := new(site.ContentCache)
	guard, err := Guard(ctx, cfg)
	if err != nil {
		return "", err
	}
	// A dry run changes nothing, here or remote: it fetches nothing, and
	// builds into a temporary folder, which the publish stage plans from
	// (from public/ when the build is skipped).
	out := filepath.Join(cfg.Dir, "public")
	if opts.DryRun && !opts.Skip["build"] {
		tmp, err := os.MkdirTemp("", "rounds-nightly-")
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(tmp)
		out = filepath.Join(tmp, "public")
	}
	// bounced is the error of the bounces stage, which holds back the send.
	var bounced error
	stages := map[string]func() error{
		"fetch": func() error {
			if len(cfg.Sources) == 0 {
				fmt.Fprintln(stdout, "nightly: fetch: no sources")
				return nil
			}
			if opts.DryRun {
				fmt.Fprintf(stdout, "nightly: fetch: dry run: %s not fetched; the wire's cache is used as it is\n", config.Count(len(cfg.Sources), "source"))
				return nil
			}
			reports, err := wire.Fetch(ctx, cfg, wire.FetchOptions{})
			failed := 0
			for _, r := range reports {
				if r.Status == feeds.Failed || r.Status == feeds.BackingOff {
					failed++
					fmt.Fprintln(stdout, FetchLine(r))
				}
			}
			fmt.Fprintf(stdout, "nightly: fetch: %s, %d failing\n", config.Count(len(reports), "source"), failed)
			if failed > 0 {
				fmt.Fprintln(stdout, "nightly: fetch: "+failingKept(reports))
			}
			return err // only a cache that could not be written
		},
		"bounces": func() error {
			if err := bounceStage(ctx, cfg, now, opts.DryRun, stdout, stderr); err != nil {
				bounced = err
				fmt.Fprintf(stderr, "nightly: bounces: failed: %v\n", err)
				fmt.Fprintln(stdout, "nightly: bounces: failed; check, build and publish go on, and the send is held back")
			}
			return nil
		},
		"check": func() error {
			_, findings, err := check.Run(cfg, now, check.Options{Cache: cache})
			if err != nil {
				return err
			}
			if loaded, th, err = generator.Check(cfg, &site.Options{Now: now, Cache: cache}); err != nil {
				return err
			}
			if len(cfg.Lists) > 0 && cfg.Email.SMTP.Host != "" {
				if tmpl, err = digest.LoadTemplates(cfg); err != nil {
					return err
				}
			}
			var errs []error
			for _, f := range findings {
				if f.Severity == "error" {
					errs = append(errs, errors.New(f.String()))
				}
			}
			if len(errs) > 0 {
				return errors.Join(errs...)
			}
			fmt.Fprintf(stdout, "nightly: check: %s, %s\n", config.Count(len(loaded.Notes), "note"), config.Count(len(loaded.Editions), "edition"))
			return nil
		},
		"links": func() error {
			// The links to other sites, about once a week: as often as
			// the cache of their results grows old. Broken ones are
			// warnings; nothing waits for them.
			age := check.LinksAge(check.LoadLinks(check.LinksFile(cfg.Dir)), time.Now())
			switch {
			case opts.DryRun:
				fmt.Fprintln(stdout, "nightly: links: dry run: the links to other sites are not checked")
				return nil
			case age < check.LinksEvery:
				fmt.Fprintf(stdout, "nightly: links: checked %s ago; again when a week has passed\n", age.Round(time.Hour))
				return nil
			}
			if loaded == nil {
				var err error
				if loaded, _, err = generator.Check(cfg, &site.Options{Now: now, Cache: cache}); err != nil {
					return err
				}
			}
			lf, err := checkLinks(ctx, cfg, loaded, stdout)
			for _, f := range lf {
				if f.Severity == "warning" {
					fmt.Fprintf(stderr, "nightly: links: %s\n", f)
				}
			}
			return err
		},
		"build": func() error {
			// The site the check stage loaded is the one to write; a
			// run that skipped the check loads it here.
			progress := newProgress(stdout)
			bo := &generator.Options{Options: site.Options{Now: now, Cache: cache, Reading: progress.counter("reading")}, Out: out, Guard: guard, Theme: th, Writing: progress.counter("writing")}
			var res *render.Result
			var err error
			if loaded != nil {
				res, err = render.Write(loaded, th, bo.Render())
			} else {
				res, err = generator.Build(cfg, bo)
			}
			progress.clear()
			if err == nil {
				fmt.Fprintf(stdout, "nightly: build: %s into %s\n", config.Count(res.Files, "file"), res.Out)
				WarnPHI(stderr, "nightly", res)
			}
			return err
		},
		"publish": func() error {
			if cfg.Publish.Bucket == "" {
				fmt.Fprintln(stdout, "nightly: publish: no [publish] bucket; skipped")
				return nil
			}
			return Publish(ctx, cfg, guard, out, publish.Options{DryRun: opts.DryRun}, stdout)
		},
		"send": func() error {
			if len(cfg.Lists) == 0 || cfg.Email.SMTP.Host == "" {
				fmt.Fprintln(stdout, "nightly: send: no [[list]] or no [email.smtp] host; skipped")
				return nil
			}
			if bounced != nil {
				fmt.Fprintln(stdout, "nightly: send: held back: the bounces could not be recorded, so who is suppressed is not known")
				return fmt.Errorf("%w because the bounces failed: %w", errHeldBack, bounced)
			}
			if loaded == nil {
				var err error
				if loaded, _, err = generator.Check(cfg, &site.Options{Now: now, Cache: cache}); err != nil {
					return err
				}
			}
			if tmpl == nil {
				var err error
				if tmpl, err = digest.LoadTemplates(cfg); err != nil {
					return err
				}
			}
			// Editions dated within the send window, oldest first; the
			// ledgers make sending one again a no-op.
			due := 0
			for i := len(loaded.Editions) - 1; i >= 0; i-- {
				ed := loaded.Editions[i]
				if now.Sub(ed.Published) > cfg.Email.SendWindow() {
					continue
				}
				due++
				for _, l := range cfg.Lists {
					if err := Send(ctx, loaded, tmpl, ed, l, SendOptions{DryRun: opts.DryRun}, stdout, stderr); err != nil {
						return fmt.Errorf("%s to %s: %w", ed.Slug, l.ID, err)
					}
				}
			}
			if due == 0 {
				fmt.Fprintf(stdout, "nightly: send: no edition dated within the last %s (send_within); nothing to send\n", cfg.Email.SendWindow())
			}
			return nil
		},
	}
	for _, name := range Stages {
		if opts.Skip[name] {
			fmt.Fprintf(stdout, "nightly: %s: skipped (--skip)\n", name)
			continue
		}
		if err := stages[name](); errors.Is(err, errHeldBack) {
			return "", err
		} else if err != nil {
			if bounced != nil {
				err = errors.Join(err, fmt.Errorf("bounces: %w", bounced))
			}
			return name, err
		}
	}
	if bounced != nil {
		return "", fmt.Errorf("bounces: %w", bounced)
	}
	return "", nil
}
