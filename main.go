// Command rounds builds curated health newsletters: a web archive, feeds
// and email digests from Markdown curation notes.
//
// Usage:
//
//	rounds <command> [flags]
//
// Run "rounds help" for the commands.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"rounds/feeds"
	"rounds/generator"
	project "rounds/generator/config"
	"rounds/generator/content"
	"rounds/generator/digest"
	"rounds/generator/nightly"
	"rounds/generator/publish"
	"rounds/generator/serve"
	"rounds/generator/wire"
)

// version is set at link time with -ldflags "-X main.version=…".
var version = ""

const usage = `Rounds builds curated health newsletters from Markdown curation notes.

Usage:

	rounds <command> [flags]

Commands:

	build      build the site into public/
	digest     render an edition as email, for review
	send       send an edition's digest to a list's subscribers
	publish    upload the built site to S3: only what changed
	nightly    fetch, check, build, publish and send, as CI runs it
	serve      preview the site, with drafts, rebuilt and reloaded on save
	check      look for patient identifiers, overdue reviews, missing pages
	fetch      fetch the sources' feeds into the wire's cache
	inbox      list the wire items no note covers yet
	new        create a note or an edition from a template
	sources    list the sources, or import and export them as OPML
	version    print the version

Run "rounds <command> --help" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// run executes the command in args and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "build":
		return runBuild(args, stdout, stderr)
	case "new":
		return runNew(args, stdout, stderr)
	case "fetch":
		return runFetch(args, stdout, stderr)
	case "digest":
		return runDigest(args, stdout, stderr)
	case "send":
		return runSend(args, stdout, stderr)
	case "publish":
		return runPublish(args, stdout, stderr)
	case "nightly":
		return runNightly(args, stdout, stderr)
	case "serve":
		return runServe(args, stdout, stderr)
	case "check":
		return runCheck(args, stdout, stderr)
	case "inbox":
		return runInbox(args, stdout, stderr)
	case "sources":
		return runSources(args, stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "rounds %s\n", buildVersion())
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "rounds: unknown command %q\n\n%s", cmd, usage)
	return exitUsage
}

// newFlags returns a flag set for a command that prints its usage on
// --help and reports misuse with exit code 2.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: rounds %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args; it returns an exit code and false when the command
// should stop (after --help, or on a usage error).
func parse(fs *flag.FlagSet, args []string, stdout io.Writer) (int, bool) {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		fs.Usage()
		return exitOK, false
	}
	if err != nil {
		return exitUsage, false
	}
	return exitOK, true
}

func runBuild(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("build", "build [--config F] [--out DIR] [--now T] [--drafts]", stderr)
	config := fs.String("config", "config.toml", "the newsletter's configuration `file`")
	out := fs.String("out", "", "write the site into `dir` (default: public/ beside the config)")
	nowFlag := fs.String("now", "", "build as of `time` (RFC 3339 or YYYY-MM-DD; default $ROUNDS_NOW, $SOURCE_DATE_EPOCH or the clock)")
	drafts := fs.Bool("drafts", false, "include draft notes and editions")
	strict := fs.Bool("strict", false, "fail on what rounds check finds that may identify a patient")
	future := fs.Bool("future", false, "include notes and editions scheduled after now")
	if code, ok := parse(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rounds build: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitUsage
	}
	now, err := nightly.Now(*nowFlag)
	if err != nil {
		fmt.Fprintf(stderr, "rounds build: %v\n", err)
		return exitUsage
	}
	cfg, err := project.LoadConfig(*config)
	if err != nil {
		return fail(stderr, "build", err)
	}
	guard, err := nightly.Guard(context.Background(), cfg)
	if err != nil {
		return fail(stderr, "build", err)
	}
	start := time.Now()
	res, err := generator.Build(cfg, &generator.Options{
		Out: *out, Now: now, Drafts: *drafts, Future: *future, Strict: *strict, Guard: guard,
	})
	if err != nil {
		return fail(stderr, "build", err)
	}
	fmt.Fprintf(stdout, "rounds: built %d notes, %d editions, %d files into %s in %s\n",
		res.Notes, res.Editions, res.Files, res.Out, time.Since(start).Round(time.Millisecond))
	nightly.WarnPHI(stderr, "build", res)
	return exitOK
}

func runNew(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("new", `new note "Title" | new note --from ID | new edition ["Title"] [--config F]`, stderr)
	config := fs.String("config", "config.toml", "the newsletter's configuration `file`")
	nowFlag := fs.String("now", "", "date the new file as of `time` (default: the clock)")
	from := fs.String("from", "", "fill the new note in from the wire item `id` (as rounds inbox prints it)")
	kind, rest, code, ok := parseInterspersed(fs, args, stdout)
	if !ok {
		return code
	}
	wantTitle := 1
	if *from != "" {
		wantTitle = 0
	}
	if (kind != "note" && kind != "edition") || (kind == "note" && len(rest) != wantTitle) || len(rest) > 1 || (kind == "edition" && *from != "") {
		fmt.Fprintln(stderr, `rounds new: want "note" and a quoted title, "note --from ID", or "edition" and an optional title`)
		fs.Usage()
		return exitUsage
	}
	now, err := nightly.Now(*nowFlag)
	if err != nil {
		fmt.Fprintf(stderr, "rounds new: %v\n", err)
		return exitUsage
	}
	cfg, err := project.LoadConfig(*config)
	if err != nil {
		return fail(stderr, "new", err)
	}
	title := strings.Join(rest, " ")
	var path string
	switch {
	case *from != "":
		path, err = wire.NewNoteFrom(cfg, *from, now)
	case kind == "note":
		path, err = content.NewNote(cfg, title, now)
	default:
		path, err = content.NewEdition(cfg, title, now)
	}
	if err != nil {
		return fail(stderr, "new", err)
	}
	fmt.Fprintln(stdout, path)
	return exitOK
}

// parseInterspersed parses args with flags before, between and after the
// positional arguments, and returns the first positional argument and
// the others.
func parseInterspersed(fs *flag.FlagSet, args []string, stdout io.Writer) (string, []string, int, bool) {
	var pos []string
	for {
		if code, ok := parse(fs, args, stdout); !ok {
			return "", nil, code, false
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) == 0 {
		return "", nil, exitOK, true
	}
	return pos[0], pos[1:], exitOK, true
}

func runFetch(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("fetch", "fetch [--config F] [--force] [SOURCE-ID...]", stderr)
	config := fs.String("config", "config.toml", "the newsletter's configuration `file`")
	force := fs.Bool("force", false, "also fetch the sources that are backing off after failures")
	first, rest, code, ok := parseInterspersed(fs, args, stdout)
	if !ok {
		return code
	}
	var only []string
	if first != "" {
		only = append([]string{first}, rest...)
	}
	cfg, err := project.LoadConfig(*config)
	if err != nil {
		return fail(stderr, "fetch", err)
	}
	if len(cfg.Sources) == 0 {
		fmt.Fprintf(stderr, "rounds fetch: %s has no [[source]] tables; add one, or import an OPML file with rounds sources import\n", cfg.File)
		return exitFail
	}
	tty := nightly.IsTerminal(stdout)
	var mu sync.Mutex
	done, total := 0, 0
	for _, s := range cfg.Sources {
		if s.On() && (len(only) == 0 || slices.Contains(only, s.ID)) {
			total++
		}
	}
	opts := wire.FetchOptions{Force: *force, Only: only}
	if tty {
		opts.Done = func(r feeds.Report) {
			mu.Lock()
			defer mu.Unlock()
			done++
			fmt.Fprintf(stdout, "\r\x1b[Kfetching %d/%d: %s", done, total, r.Source.ID)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	reports, err := wire.Fetch(ctx, cfg, opts)
	if tty {
		fmt.Fprint(stdout, "\r\x1b[K")
	}
	counts := map[feeds.Status]int{}
	for _, r := range reports {
		counts[r.Status]++
		fmt.Fprintln(stdout, nightly.FetchLine(r))
	}
	fmt.Fprintf(stdout, "rounds fetch: %d sources: %d updated, %d not modified, %d failed, %d backing off\n",
		len(reports), counts[feeds.Updated], counts[feeds.NotModified], counts[feeds.Failed], counts[feeds.BackingOff])
	if err != nil {
		fmt.Fprintf(stderr, "rounds fetch: %v\n", err)
		return exitFail
	}
	if counts[feeds.Failed]+counts[feeds.BackingOff] > 0 {
		fmt.Fprintln(stderr, "rounds fetch: failing sources kept their last good items; the build uses them")
	}
	return exitOK
}

func runInbox(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("inbox", "inbox [--config F] [--since DATE] [--topic T] [--json]", stderr)
	config := fs.String("config", "config.toml", "the newsletter's configuration `file`")
	sinceFlag := fs.String("since", "", "list items dated on or after `date` (default: the wire's days back from now)")
	topic := fs.String("topic", "", "list only items from the sources of `topic`")
	asJSON := fs.Bool("json", false, "print JSON, one object per item")
	nowFlag := fs.String("now", "", "as of `time` (default $ROUNDS_NOW, $SOURCE_DATE_EPOCH or the clock)")
	if code, ok := parse(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rounds inbox: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitUsage
	}
	now, err := nightly.Now(*nowFlag)
	if err != nil {
		fmt.Fprintf(stderr, "rounds inbox: %v\n", err)
		return exitUsage
	}
	cfg, err := project.LoadConfig(*config)
	if err != nil {
		return fail(stderr, "inbox", err)
	}
	since := now.AddDate(0, 0, -cfg.Wire.Days)
	if *sinceFlag != "" {
		if since, err = nightly.Now(*sinceFlag); err != nil {
			fmt.Fprintf(stderr, "rounds inbox: --since: %v\n", err)
			return exitUsage
		}
	}
	stories, err := generator.Inbox(cfg, now, since, *topic)
	if err != nil {
		return fail(stderr, "inbox", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, s := range stories {
			p := s.Primary()
			var sources []string
			for _, it := range s.Items {
				sources = append(sources, it.Source.ID)
			}
			enc.Encode(map[string]any{"id": p.ID, "date": p.Published, "title": p.Title, "url": p.URL,
				"source": p.Source.ID, "kind": p.Source.Kind, "sources": sources, "ids": s.Identifiers()})
		}
		return exitOK
	}
	for _, s := range stories {
		p := s.Primary()
		also := ""
		if len(s.Items) > 1 {
			also = fmt.Sprintf(" (+%d)", len(s.Items)-1)
		}
		// Titles and links come from feeds: never a control character
		// to the terminal.
		fmt.Fprintf(stdout, "%s  %s  %s%s: %s\n", p.ID, p.Published.In(cfg.Location()).Format("2006-01-02"), feeds.Printable(p.Source.Name), also, feeds.Printable(p.Title))
		if p.URL != "" {
			fmt.Fprintf(stdout, "%14s%s\n", "", feeds.Printable(p.URL))
		}
	}
	if nightly.IsTerminal(stdout) {
		fmt.Fprintf(stdout, "%d items not covered by a note. Start one with: rounds new note --from ID\n", len(stories))
	}
	return exitOK
}

func runSources(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("sources", "sources [list | import FILE.opml | export] [--config F]", stderr)
	config := fs.String("config", "config.toml", "the newsletter's configuration `file`")
	sub, rest, code, ok := parseInterspersed(fs, args, stdout)
	if !ok {
		return code
	}
	if sub == "" {
		sub = "list"
	}
	if (sub == "import") != (len(rest) == 1) || len(rest) > 1 || (sub != "list" && sub != "import" && sub != "export") {
		fmt.Fprintln(stderr, "rounds sources: want list, import FILE.opml or export")
		fs.Usage()
		return exitUsage
	}
	cfg, err := project.LoadConfig(*config)
	if err != nil {
		return fail(stderr, "sources", err)
	}
	switch sub {
	case "export":
		if err := feeds.WriteOPML(stdout, cfg.Title+": sources", wire.Subscriptions(cfg)); err != nil {
			return fail(stderr, "sources", err)
		}
	case "import":
		f, err := os.Open(rest[0])
		if err != nil {
			return fail(stderr, "sources", err)
		}
		defer f.Close()
		res, err := wire.ImportOPML(cfg, f)
		if err != nil {
			return fail(stderr, "sources", fmt.Errorf("%s: %w", rest[0], err))
		}
		for _, s := range res.Added {
			fmt.Fprintf(stdout, "added    %-24s %s\n", s.ID, s.URL)
		}
		for _, s := range res.Skipped {
			fmt.Fprintf(stdout, "skipped  %-24s %s (already followed, or not an http(s) URL)\n", "", s.FeedURL)
		}
		fmt.Fprintf(stdout, "rounds sources: %d added to %s, %d skipped\n", len(res.Added), cfg.File, len(res.Skipped))
	default:
		w := wire.Load(cfg)
		for _, s := range w.Sources {
			status := "ok"
			switch {
			case s.State.LastError != "":
				status = fmt.Sprintf("failing (%d in a row): %s", s.State.Failures, s.State.LastError)
			case s.State.LastSuccess.IsZero():
				status = "never fetched"
			}
			fmt.Fprintf(stdout, "%-24s %-10s %4d items  %s  %s\n", s.ID, s.Kind, s.State.Items, s.URL, feeds.Printable(status))
		}
	}
	return exitOK
}

// loadSite loads the configuration and the published content as of now.
func loadSite(config string, now time.Time) (*generator.Site, error) {
	cfg, err := project.LoadConfig(config)
	if err != nil {
		return nil, err
	}
	return generator.LoadContent(cfg, &generator.Options{Now: now})
}

func runDigest(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("digest", "digest [EDITION] [--list L] [--out DIR] [--config F]", stderr)
	config := fs.String("config", "config.toml", "the newsletter's configuration `file`")
	list := fs.String("list", "", "render only the list `id` (default: every list)")
	out := fs.String("out", "", "write the files into `dir` (default: [email] out, .cache/digest/EDITION)")
	nowFlag := fs.String("now", "", "as of `time` (default $ROUNDS_NOW, $SOURCE_DATE_EPOCH or the clock)")
	slug, rest, code, ok := parseInterspersed(fs, args, stdout)
	if !ok {
		return code
	}
	if len(rest) > 0 {
		fmt.Fprintf(stderr, "rounds digest: unexpected argument %q\n", rest[0])
		fs.Usage()
		return exitUsage
	}
	now, err := nightly.Now(*nowFlag)
	if err != nil {
		fmt.Fprintf(stderr, "rounds digest: %v\n", err)
		return exitUsage
	}
	site, err := loadSite(*config, now)
	if err != nil {
		return fail(stderr, "digest", err)
	}
	cfg := site.Config
	ed, err := digest.Edition(site, slug)
	if err != nil {
		return fail(stderr, "digest", err)
	}
	lists := digest.Lists(cfg)
	if *list != "" {
		l := cfg.List(*list)
		if l == nil {
			return fail(stderr, "digest", fmt.Errorf("no list %q in %s", *list, cfg.File))
		}
		lists = []*project.ListConfig{l}
	}
	tmpl, err := digest.LoadTemplates(cfg)
	if err != nil {
		return fail(stderr, "digest", err)
	}
	composer, err := digest.NewComposer(cfg, false)
	if err != nil {
		return fail(stderr, "digest", err)
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join(cfg.Dir, cfg.Email.Out, ed.Slug)
	}
	for _, l := range lists {
		d, err := digest.Render(tmpl, site, ed, l)
		if err != nil {
			return fail(stderr, "digest", fmt.Errorf("list %s: %w", l.ID, err))
		}
		if d == nil {
			fmt.Fprintf(stdout, "%-16s none of the edition's notes are for this list; nothing to send\n", l.ID)
			continue
		}
		for _, w := range d.Warnings {
			fmt.Fprintf(stderr, "rounds digest: warning: %s\n", w)
		}
		paths, err := digest.WriteReview(composer, d, dir)
		if err != nil {
			return fail(stderr, "digest", err)
		}
		fmt.Fprintf(stdout, "%-16s %d notes, %d KB HTML: %s\n", l.ID, len(d.Notes), (len(d.HTML)+1023)>>10, strings.Join(paths, " "))
	}
	return exitOK
}

func runSend(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("send", "send [EDITION] --list L [--dry-run] [--resend-unknown] [--force-unlock] [--config F]", stderr)
	config := fs.String("config", "config.toml", "the newsletter's configuration `file`")
	list := fs.String("list", "", "send to the subscribers of the list `id` (required)")
	dryRun := fs.Bool("dry-run", false, "print what would be sent, and send nothing")
	resendUnknown := fs.Bool("resend-unknown", false, "send again, with the same Message-ID, to the subscribers whose delivery is unknown (a send cut off after the final dot)")
	forceUnlock := fs.Bool("force-unlock", false, "first break the lock of the send of this edition to this list (in a bucket), saying whose it was")
	nowFlag := fs.String("now", "", "as of `time` (default $ROUNDS_NOW, $SOURCE_DATE_EPOCH or the clock)")
	slug, rest, code, ok := parseInterspersed(fs, args, stdout)
	if !ok {
		return code
	}
	if len(rest) > 0 || *list == "" {
		fmt.Fprintln(stderr, "rounds send: want an optional edition and --list ID")
		fs.Usage()
		return exitUsage
	}
	now, err := nightly.Now(*nowFlag)
	if err != nil {
		fmt.Fprintf(stderr, "rounds send: %v\n", err)
		return exitUsage
	}
	site, err := loadSite(*config, now)
	if err != nil {
		return fail(stderr, "send", err)
	}
	l := site.Config.List(*list)
	if l == nil {
		return fail(stderr, "send", fmt.Errorf("no list %q in %s; add a [[list]] table", *list, site.Config.File))
	}
	ed, err := digest.Edition(site, slug)
	if err != nil {
		return fail(stderr, "send", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *forceUnlock {
		if err := nightly.BreakLedgerLock(ctx, site.Config, ed, l, stdout); err != nil {
			return fail(stderr, "send", err)
		}
	}
	tmpl, err := digest.LoadTemplates(site.Config)
	if err != nil {
		return fail(stderr, "send", err)
	}
	if err := nightly.Send(ctx, site, tmpl, ed, l, nightly.SendOptions{DryRun: *dryRun, ResendUnknown: *resendUnknown}, stdout, stderr); err != nil {
		return fail(stderr, "send", err)
	}
	return exitOK
}

func runPublish(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("publish", "publish [--bucket B] [--prefix P] [--endpoint URL] [--path-style] [--dry-run] [--confirm] [--force-unlock] [--config F] [--dir DIR]", stderr)
	config := fs.String("config", "config.toml", "the newsletter's configuration `file`")
	dir := fs.String("dir", "", "publish the build in `dir` (default: public/ beside the config)")
	bucket := fs.String("bucket", "", "the `bucket` (default: [publish] bucket)")
	prefix := fs.String("prefix", "", "the folder of the bucket, such as `site/` (default: [publish] prefix)")
	endpoint := fs.String("endpoint", "", "an S3-compatible store's `URL` (default: [publish] endpoint or the SDK's)")
	pathStyle := fs.Bool("path-style", false, "address the bucket in the path, as most S3-compatible stores need")
	dryRun := fs.Bool("dry-run", false, "print the plan and change nothing")
	confirm := fs.Bool("confirm", false, "delete even more objects than max_deletes")
	forceUnlock := fs.Bool("force-unlock", false, "first break the bucket's publish lock, whoever holds it, saying whose it was (for a publish that died on another machine)")
	if code, ok := parse(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rounds publish: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitUsage
	}
	cfg, err := project.LoadConfig(*config)
	if err != nil {
		return fail(stderr, "publish", err)
	}
	p := &cfg.Publish
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "bucket":
			p.Bucket = *bucket
		case "prefix":
			p.Prefix = *prefix
		case "endpoint":
			p.Endpoint = *endpoint
		case "path-style":
			p.PathStyle = *pathStyle
		}
	})
	if p.Bucket == "" {
		fmt.Fprintf(stderr, "rounds publish: no bucket: set [publish] bucket in %s or pass --bucket\n", cfg.File)
		return exitUsage
	}
	if *dir == "" {
		*dir = filepath.Join(cfg.Dir, "public")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	guard, err := nightly.Guard(ctx, cfg)
	if err != nil {
		return fail(stderr, "publish", err)
	}
	if err := nightly.Publish(ctx, cfg, guard, *dir, publish.Options{DryRun: *dryRun, Confirm: *confirm, ForceUnlock: *forceUnlock}, stdout); err != nil {
		return fail(stderr, "publish", err)
	}
	return exitOK
}

func runNightly(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("nightly", "nightly [--config F] [--now T] [--dry-run] [--skip STAGES]", stderr)
	config := fs.String("config", "config.toml", "the newsletter's configuration `file`")
	nowFlag := fs.String("now", "", "as of `time` (default $ROUNDS_NOW, $SOURCE_DATE_EPOCH or the clock)")
	dryRun := fs.Bool("dry-run", false, "plan the publish and the sends, and change nothing remote")
	skip := fs.String("skip", "", "comma-separated `stages` to skip: fetch, check, build, publish, send")
	if code, ok := parse(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rounds nightly: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitUsage
	}
	skipped := map[string]bool{}
	for _, st := range strings.Split(*skip, ",") {
		if st = strings.TrimSpace(st); st != "" {
			if !slices.Contains(nightly.Stages, st) {
				fmt.Fprintf(stderr, "rounds nightly: --skip: unknown stage %q\n", st)
				return exitUsage
			}
			skipped[st] = true
		}
	}
	now, err := nightly.Now(*nowFlag)
	if err != nil {
		fmt.Fprintf(stderr, "rounds nightly: %v\n", err)
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg, err := project.LoadConfig(*config)
	if err != nil {
		return fail(stderr, "nightly", err)
	}
	stage, err := nightly.Run(ctx, cfg, nightly.Options{Now: now, DryRun: *dryRun, Skip: skipped}, stdout, stderr)
	if err != nil {
		fail(stderr, "nightly", err)
		if stage != "" {
			fmt.Fprintf(stderr, "rounds nightly: stopped at %s; the later stages did not run\n", stage)
		}
		return exitFail
	}
	fmt.Fprintln(stdout, "rounds nightly: done")
	return exitOK
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("serve", "serve [--config F] [--bind ADDR] [--port N]", stderr)
	config := fs.String("config", "config.toml", "the newsletter's configuration `file`")
	bind := fs.String("bind", "127.0.0.1", "listen on `address` (0.0.0.0 opens the preview to the network)")
	port := fs.Int("port", 1313, "listen on `port`")
	if code, ok := parse(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rounds serve: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitUsage
	}
	srv := &serve.Server{Config: *config}
	srv.Rebuilt = func(took time.Duration, incremental bool, err error) {
		kind := "full"
		if incremental {
			kind = "incremental"
		}
		if err != nil {
			fmt.Fprintf(stderr, "rounds serve: rebuild failed (the last good site is served):\n%v\n", err)
			return
		}
		fmt.Fprintf(stdout, "rounds serve: rebuilt (%s) in %s\n", kind, took.Round(time.Millisecond))
	}
	if err := srv.Build(); err != nil {
		return fail(stderr, "serve", err)
	}
	addr := net.JoinHostPort(*bind, strconv.Itoa(*port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fail(stderr, "serve", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		if err := srv.Watch(ctx); err != nil {
			fmt.Fprintf(stderr, "rounds serve: watching: %v\n", err)
			stop()
		}
	}()
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		hs.Close()
	}()
	fmt.Fprintf(stdout, "rounds serve: http://%s%s (drafts and scheduled notes shown; Ctrl-C to stop)\n", addr, srv.Base())
	if err := hs.Serve(ln); err != nil && err != http.ErrServerClosed {
		return fail(stderr, "serve", err)
	}
	return exitOK
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", "check [--config F] [--format text|json] [--now T]", stderr)
	config := fs.String("config", "config.toml", "the newsletter's configuration `file`")
	format := fs.String("format", "text", "print findings as `text` or json (one object a line)")
	nowFlag := fs.String("now", "", "as of `time` (default $ROUNDS_NOW, $SOURCE_DATE_EPOCH or the clock)")
	grade := fs.Float64("grade", 0, "the highest reading `grade` for a note for patients (default: [check] reading_grade, 8)")
	if code, ok := parse(fs, args, stdout); !ok {
		return code
	}
	if fs.NArg() > 0 || (*format != "text" && *format != "json") {
		fmt.Fprintln(stderr, "rounds check: want --format text or json, and no arguments")
		fs.Usage()
		return exitUsage
	}
	now, err := nightly.Now(*nowFlag)
	if err != nil {
		fmt.Fprintf(stderr, "rounds check: %v\n", err)
		return exitUsage
	}
	cfg, err := project.LoadConfig(*config)
	if err != nil {
		return fail(stderr, "check", err)
	}
	cache := new(generator.ContentCache)
	findings, err := generator.CheckSite(cfg, now, generator.CheckOptions{ReadingGrade: *grade, Cache: cache})
	if err != nil {
		return fail(stderr, "check", err)
	}
	counts := map[string]int{}
	enc := json.NewEncoder(stdout)
	file := ""
	for _, f := range findings {
		counts[f.Severity]++
		if *format == "json" {
			enc.Encode(f)
			continue
		}
		if f.File != file {
			file = f.File
			fmt.Fprintf(stdout, "%s\n", file)
		}
		pos := ""
		if f.Line > 0 {
			pos = fmt.Sprintf("%d:%d: ", f.Line, f.Column)
		}
		fmt.Fprintf(stdout, "  %s%s: %s: %s\n", pos, f.Severity, f.Kind, f.Message)
	}
	if *format == "text" {
		if site, err := generator.LoadContent(cfg, &generator.Options{Now: now, Drafts: true, Future: true, Cache: cache}); err == nil {
			if queue := generator.ReviewQueue(site, now, 30*24*time.Hour); len(queue) > 0 {
				fmt.Fprintln(stdout, "Review next:")
				for _, n := range queue {
					fmt.Fprintf(stdout, "  %s  %s  %s (%s)\n", n.ReviewBy.Format("2006-01-02"), n.File, n.Title, strings.Join(n.Audience, ", "))
				}
			}
		}
		fmt.Fprintf(stdout, "rounds check: %d errors, %d warnings, %d notes due for review soon\n", counts["error"], counts["warning"], counts["info"])
	}
	if counts["error"] > 0 {
		return exitFail
	}
	return exitOK
}

// fail prints every problem in err, one a line, and returns exit code 1.
func fail(stderr io.Writer, cmd string, err error) int {
	list := project.AsList(err)
	if len(list) == 1 && list[0].File == "" {
		fmt.Fprintf(stderr, "rounds %s: %v\n", cmd, err)
		return exitFail
	}
	for _, e := range list {
		fmt.Fprintf(stderr, "%s\n", e)
	}
	noun := "errors"
	if len(list) == 1 {
		noun = "error"
	}
	fmt.Fprintf(stderr, "rounds %s: %d %s\n", cmd, len(list), noun)
	return exitFail
}

// buildVersion returns the version set at link time or recorded by go build.
func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		if v := info.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return "dev-" + s.Value[:min(12, len(s.Value))]
			}
		}
	}
	return "dev"
}
