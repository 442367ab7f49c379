package nightly

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rounds-health/rounds/feeds"
	"github.com/rounds-health/rounds/generator"
	"github.com/rounds-health/rounds/generator/check"
	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/digest"
	"github.com/rounds-health/rounds/generator/publish"
	"github.com/rounds-health/rounds/generator/site"
	"github.com/rounds-health/rounds/generator/wire"
)

// What the commands of rounds do once their flags are read. Each prints
// its report on the Output's Out, warnings on Err, and returns what
// failed; a UsageError is the command line's fault.

// An Output is where a command reports.
type Output struct {
	Out, Err io.Writer
}

// A UsageError is a command line that cannot be run as it is: the command
// exits with status 2.
type UsageError struct{ Msg string }

// Error returns what is wrong with the command line.
func (e *UsageError) Error() string { return e.Msg }

// BuildOptions are rounds build's choices.
type BuildOptions struct {
	Out            string
	Now            time.Time
	Drafts, Future bool
}

// Build builds the site and says what it wrote.
func Build(ctx context.Context, cfg *config.Config, o BuildOptions, out Output) error {
	guard, err := Guard(ctx, cfg)
	if err != nil {
		return err
	}
	start := time.Now()
	progress := newProgress(out.Out)
	res, err := generator.Build(cfg, &generator.Options{
		Options: site.Options{Now: o.Now, Drafts: o.Drafts, Future: o.Future, Reading: progress.counter("reading")},
		Out:     o.Out,
		Guard:   guard,
		Writing: progress.counter("writing"),
	})
	progress.clear()
	if err != nil {
		return err
	}
	fmt.Fprintf(out.Out, "rounds: built %s, %s, %s into %s in %s\n",
		config.Count(res.Notes, "note"), config.Count(res.Editions, "edition"), config.Count(res.Files, "file"), res.Out, time.Since(start).Round(time.Millisecond))
	if line := heldLine(res.Held); line != "" {
		fmt.Fprintln(out.Out, "rounds: "+line)
	}
	WarnPHI(out.Err, "build", res)
	return nil
}

// New writes a new draft note ("note", with a title or from the wire item
// from) or edition ("edition") and prints its path.
func New(cfg *config.Config, kind, title, from string, now time.Time, out Output) error {
	var path string
	var err error
	switch {
	case from != "":
		path, err = wire.NewNoteFrom(cfg, from, now)
	case kind == "note":
		path, err = content.NewNote(cfg, title, now)
	default:
		path, err = content.NewEdition(cfg, title, now)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(out.Out, path)
	return nil
}

// Fetch fetches the sources (those in only, if any) into the wire's cache,
// with progress at a terminal and a line a source otherwise.
func Fetch(ctx context.Context, cfg *config.Config, only []string, force bool, out Output) error {
	if len(cfg.Sources) == 0 {
		return fmt.Errorf("%s has no [[source]] tables; add one, or import an OPML file with rounds sources import", cfg.File)
	}
	total := 0
	for _, s := range cfg.Sources {
		if s.On() && (len(only) == 0 || slices.Contains(only, s.ID)) {
			total++
		}
	}
	opts := wire.FetchOptions{Force: force, Only: only}
	progress := newProgress(out.Out)
	if progress != nil {
		var done atomic.Int64
		opts.Done = func(r feeds.Report) { progress.show("fetching", int(done.Add(1)), total, r.Source.ID) }
	}
	reports, err := wire.Fetch(ctx, cfg, opts)
	progress.clear()
	counts := map[feeds.Status]int{}
	for _, r := range reports {
		counts[r.Status]++
		fmt.Fprintln(out.Out, FetchLine(r))
	}
	fmt.Fprintf(out.Out, "rounds fetch: %s: %d updated, %d not modified, %d failed, %d backing off\n",
		config.Count(len(reports), "source"), counts[feeds.Updated], counts[feeds.NotModified], counts[feeds.Failed], counts[feeds.BackingOff])
	if err != nil {
		return err
	}
	if counts[feeds.Failed]+counts[feeds.BackingOff] > 0 {
		fmt.Fprintln(out.Err, "rounds fetch: "+failingKept(reports))
	}
	return nil
}

// failingKept says what the failing sources among reports kept from
// their last good fetch, for the build to use.
func failingKept(reports []feeds.Report) string {
	failing, kept, empty := 0, 0, 0
	for _, r := range reports {
		if r.Status != feeds.Failed && r.Status != feeds.BackingOff {
			continue
		}
		failing++
		kept += r.Items
		if r.Items == 0 {
			empty++
		}
	}
	switch {
	case kept == 0:
		return fmt.Sprintf("%s failing, with no items kept from an earlier fetch: the wire has nothing from them", config.Count(failing, "source"))
	case empty > 0:
		return fmt.Sprintf("%s failing: they kept %s from their last good fetch, which the build uses; %d kept none", config.Count(failing, "source"), config.Count(kept, "item"), empty)
	}
	return fmt.Sprintf("%s failing: they kept %s from their last good fetch, which the build uses", config.Count(failing, "source"), config.Count(kept, "item"))
}

// InboxOptions are rounds inbox's choices.
type InboxOptions struct {
	Now, Since time.Time // Since zero: the wire's days back from Now
	Topic      string
	JSON       bool
}

// Inbox lists the wire items no note covers yet.
func Inbox(cfg *config.Config, o InboxOptions, out Output) error {
	since := o.Since
	if since.IsZero() {
		since = o.Now.AddDate(0, 0, -cfg.Wire.Days)
	}
	stories, err := site.Inbox(cfg, o.Now, since, o.Topic)
	if err != nil {
		return err
	}
	if o.JSON {
		// JSON lines, one a story: none when the inbox is empty.
		enc := json.NewEncoder(out.Out)
		for _, s := range stories {
			p := s.Primary()
			var sources []string
			for _, it := range s.Items {
				sources = append(sources, it.Source.ID)
			}
			enc.Encode(map[string]any{"id": p.ID, "date": p.Published, "title": p.Title, "url": p.URL,
				"source": p.Source.ID, "kind": p.Source.Kind, "sources": sources, "ids": s.Identifiers()})
		}
		return nil
	}
	for _, s := range stories {
		p := s.Primary()
		also := ""
		if len(s.Items) > 1 {
			also = fmt.Sprintf(" (+%d)", len(s.Items)-1)
		}
		// Titles and links come from feeds: never a control character
		// to the terminal.
		fmt.Fprintf(out.Out, "%s  %s  %s%s: %s\n", p.ID, p.Published.In(cfg.Location()).Format("2006-01-02"), feeds.Printable(p.Source.Name), also, feeds.Printable(p.Title))
		if p.URL != "" {
			fmt.Fprintf(out.Out, "%14s%s\n", "", feeds.Printable(p.URL))
		}
	}
	switch {
	case len(stories) == 0:
		// On stderr, so that a script reading the list finds it empty.
		fmt.Fprintf(out.Err, "rounds inbox: nothing to curate: no wire items dated from %s%s that no note covers (%s; rounds fetch brings new ones)\n",
			since.In(cfg.Location()).Format("2006-01-02"), topicWords(o.Topic), config.Count(len(cfg.Sources), "source"))
	case IsTerminal(out.Out):
		fmt.Fprintf(out.Out, "%s not covered by a note. Start one with: rounds new note --from ID\n", config.Count(len(stories), "item"))
	}
	return nil
}

// Sources lists the sources ("list"), writes them as OPML ("export"), or
// adds those of the OPML file at file to config.toml ("import").
func Sources(cfg *config.Config, sub, file string, out Output) error {
	switch sub {
	case "export":
		return feeds.WriteOPML(out.Out, cfg.Title+": sources", wire.Subscriptions(cfg))
	case "import":
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		res, err := wire.ImportOPML(cfg, f)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		for _, s := range res.Added {
			fmt.Fprintf(out.Out, "added    %-24s %s\n", s.ID, s.URL)
		}
		for _, s := range res.Skipped {
			fmt.Fprintf(out.Out, "skipped  %-24s %s (already followed, or not an http(s) URL)\n", "", s.FeedURL)
		}
		fmt.Fprintf(out.Out, "rounds sources: %d added to %s, %d skipped\n", len(res.Added), cfg.File, len(res.Skipped))
		return nil
	}
	w := wire.Load(cfg)
	for _, s := range w.Sources {
		status := "ok"
		switch {
		case s.State.LastError != "":
			status = fmt.Sprintf("failing (%d in a row): %s", s.State.Failures, s.State.LastError)
		case s.State.LastSuccess.IsZero():
			status = "never fetched"
		}
		fmt.Fprintf(out.Out, "%-24s %-10s %4d items  %s  %s\n", s.ID, s.Kind, s.State.Items, s.URL, feeds.Printable(status))
	}
	return nil
}

// Digest renders the edition slug (the latest when empty) for each list,
// or the list with the id, into dir for review (default: [email] out).
func Digest(cfg *config.Config, now time.Time, slug, list, dir string, out Output) error {
	// A digest shows a few notes: their bodies are made when it does.
	s, err := site.Load(cfg, &site.Options{Now: now, DeferBodies: true})
	if err != nil {
		return err
	}
	ed, err := digest.Edition(s, slug)
	if err != nil {
		return err
	}
	lists := digest.Lists(cfg)
	if list != "" {
		l := cfg.List(list)
		if l == nil {
			return fmt.Errorf("no list %q in %s", list, cfg.File)
		}
		lists = []*config.ListConfig{l}
	}
	tmpl, err := digest.LoadTemplates(cfg)
	if err != nil {
		return err
	}
	composer, err := digest.NewComposer(cfg, false)
	if err != nil {
		return err
	}
	if composer.Preview() {
		fmt.Fprintf(out.Err, "rounds digest: for review: the unsubscribe links carry %s ($ROUNDS_UNSUBSCRIBE_SECRET is not set; sending needs it)\n", digest.PreviewToken)
	}
	if dir == "" {
		dir = filepath.Join(cfg.Dir, cfg.Email.Out, ed.Slug)
	}
	for _, l := range lists {
		d, err := digest.Render(tmpl, s, ed, l)
		if err != nil {
			return fmt.Errorf("list %s: %w", l.ID, err)
		}
		if d == nil {
			fmt.Fprintf(out.Out, "%-16s none of the edition's notes are for this list; nothing to send\n", l.ID)
			continue
		}
		for _, w := range d.Warnings {
			fmt.Fprintf(out.Err, "rounds digest: warning: %s\n", w)
		}
		paths, err := digest.WriteReview(composer, d, dir)
		if err != nil {
			return err
		}
		fmt.Fprintf(out.Out, "%-16s %d notes, %d KB HTML: %s\n", l.ID, len(d.Notes), (len(d.HTML)+1023)>>10, strings.Join(paths, " "))
	}
	return nil
}

// SendEdition sends the edition slug (the latest when empty) to the list
// with the id, first breaking a dead send's lock when forceUnlock is set.
func SendEdition(ctx context.Context, cfg *config.Config, now time.Time, slug, list string, forceUnlock bool, opts SendOptions, out Output) error {
	s, err := site.Load(cfg, &site.Options{Now: now, DeferBodies: true})
	if err != nil {
		return err
	}
	l := cfg.List(list)
	if l == nil {
		return fmt.Errorf("no list %q in %s; add a [[list]] table", list, cfg.File)
	}
	ed, err := digest.Edition(s, slug)
	if err != nil {
		return err
	}
	if forceUnlock {
		if err := BreakLedgerLock(ctx, cfg, ed, l, out.Out); err != nil {
			return err
		}
	}
	tmpl, err := digest.LoadTemplates(cfg)
	if err != nil {
		return err
	}
	return Send(ctx, s, tmpl, ed, l, opts, out.Out, out.Err)
}

// PublishSite publishes the build in dir (default: public/ beside the
// configuration) where cfg's [publish] says.
func PublishSite(ctx context.Context, cfg *config.Config, dir string, run publish.Options, out Output) error {
	if cfg.Publish.Bucket == "" {
		return &UsageError{fmt.Sprintf("no bucket: set [publish] bucket in %s or pass --bucket", cfg.File)}
	}
	if dir == "" {
		dir = filepath.Join(cfg.Dir, "public")
	}
	guard, err := Guard(ctx, cfg)
	if err != nil {
		return err
	}
	return Publish(ctx, cfg, guard, dir, run, out.Out)
}

// CheckOptions are rounds check's choices.
type CheckOptions struct {
	Now   time.Time
	JSON  bool    // one finding a line, as JSON
	Grade float64 // the highest reading grade for patients; 0: [check]
	// Links checks the links to other sites too (see checkLinks).
	Links bool
}

// ErrFindings is Check's error when it found errors.
var ErrFindings = errors.New("rounds check found errors")

// Check prints what rounds check finds, by file, and the notes due for
// review; it returns ErrFindings if any finding is an error.
func Check(ctx context.Context, cfg *config.Config, o CheckOptions, out Output) error {
	s, findings, err := check.Run(cfg, o.Now, check.Options{ReadingGrade: o.Grade})
	if err != nil {
		return err
	}
	if o.Links {
		lf, err := checkLinks(ctx, cfg, s, out.Err)
		if err != nil {
			return err
		}
		findings = append(findings, lf...)
		slices.SortStableFunc(findings, content.Finding.Compare)
	}
	counts := map[string]int{}
	enc := json.NewEncoder(out.Out)
	file := ""
	var grades []float64
	for _, f := range findings {
		if f.Kind == "readability" {
			grades = append(grades, f.Grade)
		}
		if o.JSON {
			counts[f.Severity]++
			enc.Encode(f)
			continue
		}
		if f.Kind == "readability" && f.Severity == "info" {
			continue // counted in the summary; --format json lists each
		}
		counts[f.Severity]++
		if f.File != file {
			file = f.File
			fmt.Fprintf(out.Out, "%s\n", file)
		}
		pos := ""
		if f.Line > 0 {
			pos = fmt.Sprintf("%d:%d: ", f.Line, f.Column)
		}
		fmt.Fprintf(out.Out, "  %s%s: %s: %s\n", pos, f.Severity, f.Kind, f.Message)
	}
	if !o.JSON {
		if queue := check.ReviewQueue(s, o.Now, 30*24*time.Hour); len(queue) > 0 {
			fmt.Fprintln(out.Out, "Review next:")
			for _, n := range queue {
				fmt.Fprintf(out.Out, "  %s  %s  %s (%s)\n", n.ReviewBy.Format("2006-01-02"), n.File, n.Title, strings.Join(n.Audience, ", "))
			}
		}
		if len(grades) > 0 {
			slices.Sort(grades)
			fmt.Fprintf(out.Out, "Readability: %s for patients or the public graded, median Flesch-Kincaid grade %.1f (--format json gives each)\n", config.Count(len(grades), "note"), grades[len(grades)/2])
		}
		fmt.Fprintf(out.Out, "rounds check: %s, %s, %s due for review soon\n", config.Count(counts["error"], "error"), config.Count(counts["warning"], "warning"), config.Count(counts["info"], "note"))
	}
	if counts["error"] > 0 {
		return ErrFindings
	}
	return nil
}

// topicWords is " on the topic" for a topic, or "".
func topicWords(topic string) string {
	if topic == "" {
		return ""
	}
	return " on " + topic
}

// heldLine says what a build left out, and how to show it, or "".
func heldLine(h site.Held) string {
	var parts, flags []string
	if h.Drafts > 0 {
		parts, flags = append(parts, config.Count(h.Drafts, "draft")), append(flags, "--drafts")
	}
	if h.Scheduled > 0 {
		parts, flags = append(parts, fmt.Sprintf("%d scheduled for later", h.Scheduled)), append(flags, "--future")
	}
	if h.Expired > 0 {
		parts = append(parts, fmt.Sprintf("%d expired", h.Expired))
	}
	if len(parts) == 0 {
		return ""
	}
	line := "left out " + strings.Join(parts, ", ") + " (notes and editions)"
	if len(flags) > 0 {
		line += "; " + strings.Join(flags, " and ") + " to preview them, or set draft = false to publish"
	}
	return line
}

// checkLinks checks the site's links to other sites whose cached result
// is a week old or missing, and returns the findings of them all; it
// says on w how many it checked.
func checkLinks(ctx context.Context, cfg *config.Config, s *site.Site, w io.Writer) ([]content.Finding, error) {
	path := check.LinksFile(cfg.Dir)
	cache := check.LoadLinks(path)
	links := check.ExternalLinks(s)
	before := len(cache)
	lc := &check.LinkChecker{UserAgent: "Rounds/1 (link checker of " + cfg.BaseURL + ")"}
	results := lc.Check(ctx, links, cache)
	if err := check.SaveLinks(path, cache); err != nil {
		return nil, fmt.Errorf("the links' cache: %w", err)
	}
	counts := map[string]int{}
	for _, r := range results {
		counts[r.Verdict]++
	}
	fmt.Fprintf(w, "rounds check: links: %s to other sites (%d checked now, the rest from %s): %d broken, %d moved, %d unknown\n",
		config.Count(len(results), "link"), max(0, len(cache)-before), cfg.Rel(path), counts[check.LinkBroken], counts[check.LinkMoved], counts[check.LinkUnknown])
	return check.LinkFindings(results), nil
}
