package site

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/output"
	"github.com/rounds-health/rounds/generator/phi"
	"github.com/rounds-health/rounds/generator/wire"
)

// Options say what a site shows and how its content loads.
type Options struct {
	// Now is the build's notion of the present: notes scheduled after it are
	// held back and notes expired before it are taken down. It is never
	// written into the output.
	Now time.Time
	// Drafts, Future and Expired include drafts, scheduled and expired
	// content.
	Drafts, Future, Expired bool
	// Workers bounds the parallel work; 0 means one per CPU.
	Workers int
	// Cache, if set, holds content parsed by an earlier load (rounds
	// nightly's check): only files changed since are read again.
	Cache *ContentCache
	// Reading, if set, is told how many of the content files to read
	// are read as each is, from several goroutines at once.
	Reading func(done, total int)
	// DeferBodies loads the notes without rendering their bodies, for a
	// command that shows few of them (rounds digest, rounds send): a
	// note's body is rendered from its file when it is asked for
	// (Site.Body). A site whose notes' texts are checked for retracted
	// papers (check.retractions) renders them as it loads whatever this
	// says.
	DeferBodies bool
}

// Preview reports whether the options show what the published site
// does not: drafts, scheduled or expired content.
func (o *Options) Preview() bool { return o.Drafts || o.Future || o.Expired }

// hides says why an item that is a draft or not, published and expiring
// at the times given, does not show at the build's now, or "".
func (o *Options) hides(draft bool, published, expires time.Time) string {
	switch {
	case draft && !o.Drafts:
		return "a draft"
	case published.After(o.Now) && !o.Future:
		return "scheduled for " + published.Format(time.RFC3339)
	case !expires.IsZero() && !o.Now.Before(expires) && !o.Expired:
		return "expired on " + expires.Format(time.RFC3339)
	}
	return ""
}

// Held counts the notes and editions a site leaves out.
type Held struct{ Drafts, Scheduled, Expired int }

// count counts one item held back for why (as Options.hides says it).
func (h *Held) count(why string) { h.add(why, 1) }

// plus returns the counts of h and o together.
func (h Held) plus(o Held) Held {
	return Held{h.Drafts + o.Drafts, h.Scheduled + o.Scheduled, h.Expired + o.Expired}
}

// add adds d to the count of the items held back for why.
func (h *Held) add(why string, d int) {
	switch {
	case why == "a draft":
		h.Drafts += d
	case strings.HasPrefix(why, "scheduled"):
		h.Scheduled += d
	case strings.HasPrefix(why, "expired"):
		h.Expired += d
	}
}

// A Site is the newsletter's content, loaded, checked and linked: what
// every page, feed and email is made from.
type Site struct {
	Config *config.Config
	// Notes are the published notes, newest first.
	Notes []*content.Note
	// Editions are the published editions, newest first.
	Editions []*content.Edition
	// Pages are the standalone pages, by weight then title.
	Pages []*content.Page
	// Topics are the topics the notes use, by slug.
	Topics []*content.Topic
	// Audiences are the audiences that have notes, in the order of Audiences.
	Audiences []*content.Topic
	// Now is the build's present.
	Now time.Time
	// Preview is set when the site shows drafts, scheduled or expired
	// content (Options.Preview).
	Preview bool
	// Held are the notes and editions the site leaves out at its present,
	// by why: drafts, scheduled, expired.
	Held Held
	// Wire is what the sources published, read from the wire's cache.
	Wire *wire.Wire
	// PHI are the findings in every content file, drafts included, that
	// may identify a patient: what rounds check reports and publishing
	// refuses.
	PHI []content.Finding

	notes map[string]*content.Note
	// files are the content files the site was made from, in order.
	files []*contentFile
	// still bounds the times between which nothing the site holds comes
	// out, goes or expires: an edit made within them may be patched in.
	still *[2]time.Time
	// linked is what relink needs of the notes and editions.
	linked *linked
	// was holds, once relink has handed notes on to a new site, what
	// notes held of the moved notes' slugs.
	was map[string]*content.Note
	// deferred are the files of the notes loaded without their bodies
	// (Options.DeferBodies), by note.
	deferred map[*content.Note]*contentFile
}

// Release lets go of what only an edit to the site needs (the files it
// was made from, and how they are linked), for a build that is done with
// the site once it has written it: a site of 100,000 notes holds tens of
// megabytes of it, which would otherwise count twice towards the peak of
// the heap while its pages render. Neither Checked nor an update
// (ContentCache.Update) may follow.
func (s *Site) Release() { s.files, s.linked, s.still, s.was = nil, nil, nil, nil }

// Checked returns the verdict of the patient-identifier scan: a digest
// of the content files it covered and how many findings it made.
func (s *Site) Checked() output.Verdict {
	digest := sha256.New()
	for _, f := range s.files {
		digest.Write([]byte(f.path))
		digest.Write([]byte{0})
		digest.Write(f.sum[:])
	}
	return output.Verdict{Content: "sha256:" + hex.EncodeToString(digest.Sum(nil)), Rules: phi.Rules, PHI: len(s.PHI)}
}

// NewTopic returns the topic or audience of kind with the slug and title.
func NewTopic(cfg *config.Config, kind, slug, title string) *content.Topic {
	t := &content.Topic{Kind: kind, Slug: slug, Title: title}
	t.URL = cfg.RelURL(t.Path())
	return t
}

// Body returns the HTML of note n's body: its Content, or for a note
// loaded without its body (Options.DeferBodies), its Markdown rendered
// from its file, which must hold what it held when the site was loaded:
// the text that was scanned for patient identifiers.
func (s *Site) Body(n *content.Note) (template.HTML, error) {
	f := s.deferred[n]
	if f == nil {
		return n.Content, nil
	}
	data, _, err := s.Config.ReadSource(f.abs, s.Config.Build.MaxNoteBytes)
	if err != nil {
		return "", config.Problem(f.path, err)
	}
	if sha256.Sum256(data) != f.sum {
		return "", config.Errorf(f.path, 0, "", "run the command again once the edit is saved", "changed since the site was loaded")
	}
	return content.Body(s.Config, f.path, data)
}

// Deferred reports whether note n was loaded without its body
// (Options.DeferBodies): Body makes it.
func (s *Site) Deferred(n *content.Note) bool { return s.deferred[n] != nil }

// Note returns the published note with the slug, or nil.
func (s *Site) Note(slug string) *content.Note {
	if n, moved := s.was[slug]; moved {
		return n
	}
	return s.notes[slug]
}

// LatestEdition returns the newest published edition, or nil.
func (s *Site) LatestEdition() *content.Edition {
	if len(s.Editions) == 0 {
		return nil
	}
	return s.Editions[0]
}

// MenuPages returns the pages marked menu = true.
func (s *Site) MenuPages() []*content.Page {
	var out []*content.Page
	for _, p := range s.Pages {
		if p.Menu {
			out = append(out, p)
		}
	}
	return out
}

// contentFile is one file under content/ and what it became.
type contentFile struct {
	kind string // "notes", "editions" or "pages"
	path string // relative to the project folder
	abs  string
	// serial numbers the file for as long as the cache lives (Note.Serial).
	serial int
	note   *content.Note
	ed     *content.Edition
	page   *content.Page
	errs   config.ErrorList
	// stamp is the file's size and modification time when it was read.
	stamp fileStamp
	// phi are the file's findings that may identify a patient, and sum
	// the SHA-256 of the bytes they were found in.
	phi []content.Finding
	sum [sha256.Size]byte
	// slugLine is the line of the file's slug key; 0 when its name gives
	// its slug.
	slugLine int
	// id is the feed ID of the file's note or edition, made once a parse
	// (NoteID, EditionID): every load checks that no two are the same.
	id string
	// deferred is set when the file's note was loaded without its body
	// (Options.DeferBodies).
	deferred bool
}

// Load reads the content of the site configured by cfg.
// With opts.Cache set, only the files changed since its last load are
// parsed.
func Load(cfg *config.Config, opts *Options) (*Site, error) {
	cache := opts.Cache
	if cache == nil {
		cache = new(ContentCache)
	}
	site, _, err := cache.Load(cfg, opts)
	return site, err
}

// A ContentCache keeps the parsed content files of a site between loads,
// so that a load after an edit parses only the files that changed. It is
// what rounds serve rebuilds from.
type ContentCache struct {
	files map[string]*contentFile // by absolute path
	order []string                // the paths of files, as a scan finds them; nil when stale
	// serials numbers every file the cache has seen, by absolute path,
	// from 1.
	serials map[string]int
	// last is the site the last load assembled, and lastOpts its
	// options: Update edits it in place when it can.
	last     *Site
	lastOpts Options
}

// serial returns the number of the file at abs.
func (c *ContentCache) serial(abs string) int {
	if c.serials == nil {
		c.serials = map[string]int{}
	}
	n, ok := c.serials[abs]
	if !ok {
		n = len(c.serials) + 1
		c.serials[abs] = n
	}
	return n
}

type fileStamp struct {
	size int64
	mod  time.Time
}

// Load reads the site's content, parsing only the files that are new or
// changed since the last Load, and returns the site and the project paths
// of the files that changed, were added or were removed.
func (c *ContentCache) Load(cfg *config.Config, opts *Options) (*Site, []string, error) {
	return c.load(cfg, opts, nil, false)
}

// Update is Load when the caller knows which paths may have changed (from
// a file watcher): only those are looked at. A path that is not a content
// file, such as a folder, makes it look at everything.
//
// When every change is an edit to a note of the last site Update
// returned that leaves the note placed as it was (SameShape: the same
// dates, topics, audiences, edition and source, and nothing the site
// holds against it, such as a finding or an error), Update edits that
// note of the site in place and returns the same site, without linking
// every note again: an edit to a note's text costs the note, not the
// archive. The caller must not read the site meanwhile.
func (c *ContentCache) Update(cfg *config.Config, opts *Options, paths []string) (*Site, []string, error) {
	return c.load(cfg, opts, paths, true)
}

var contentKinds = []string{"notes", "editions", "pages"}

func (c *ContentCache) load(cfg *config.Config, opts *Options, hint []string, patch bool) (*Site, []string, error) {
	if opts.Now.IsZero() {
		return nil, nil, errors.New("build: no present time set")
	}
	if c.files == nil {
		c.files = map[string]*contentFile{}
		hint = nil
	}
	last := c.last
	c.last = nil
	var parse []*contentFile
	var changed []string
	// edits are the files parsed again, each with what it was before.
	type edit struct{ old, new *contentFile }
	var edits []edit
	var removed []*contentFile
	// visit looks at one content file, at abs, that exists with info.
	// A file parsed before is parsed again only if info differs from
	// what it was when it was read; info may be nil for a new file.
	visit := func(kind, abs string, info fs.FileInfo) {
		old, known := c.files[abs]
		if known && info != nil && old.stamp == (fileStamp{info.Size(), info.ModTime()}) && !old.stamp.mod.IsZero() {
			return
		}
		f := &contentFile{kind: kind, path: filepath.ToSlash(filepath.Join("content", kind, filepath.Base(abs))), abs: abs, serial: c.serial(abs)}
		c.files[abs] = f
		if !known && c.order != nil {
			// A new file takes its place in the order.
			i, _ := slices.BinarySearchFunc(c.order, f, func(abs string, f *contentFile) int { return fileOrder(c.files[abs], f) })
			c.order = slices.Insert(c.order, i, abs)
		}
		parse = append(parse, f)
		changed = append(changed, f.path)
		edits = append(edits, edit{old, f})
	}
	forget := func(abs string) {
		if f, ok := c.files[abs]; ok {
			removed = append(removed, f)
			changed = append(changed, f.path)
			if c.order != nil {
				c.order = slices.DeleteFunc(c.order, func(a string) bool { return a == abs })
			}
			delete(c.files, abs)
		}
	}
	hinted := hint != nil
	// A watcher names a file once an event: a save is often two.
	hint = slices.Compact(slices.Sorted(slices.Values(hint)))
	for _, p := range hint {
		kind, ok := contentKind(cfg, p)
		if !ok {
			hinted = false
			break
		}
		if kind == "" {
			continue // a file that is not content, such as an editor's swap file
		}
		info, err := os.Stat(p)
		switch {
		case err == nil && info.IsDir():
			hinted = false
		case err == nil:
			// A file the watcher names is read again whatever its size
			// and time: a save of the same size within the clock's tick
			// of the last read (a save during a rebuild) leaves both as
			// they were, and would be missed. The same bytes are no
			// change (a touch, an editor's second write of one save).
			if old, ok := c.files[p]; ok && old.sum != ([sha256.Size]byte{}) {
				if data, _, err := cfg.ReadSource(p, cfg.Build.MaxNoteBytes); err == nil && sha256.Sum256(data) == old.sum {
					continue
				}
			}
			visit(kind, p, nil)
		default:
			forget(p)
		}
	}
	if !hinted {
		// A first load has nothing to forget.
		var seen map[string]bool
		if len(c.files) > 0 {
			seen = map[string]bool{}
		}
		var scanned []string
		for _, kind := range contentKinds {
			dir := filepath.Join(cfg.Dir, "content", kind)
			entries, err := os.ReadDir(dir)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err == nil {
				_, err = cfg.RealPath(dir) // a folder linked out of the project
			}
			if err != nil {
				return nil, nil, config.ErrorList{config.Problem("content/"+kind, err)}
			}
			for _, e := range entries {
				if filepath.Ext(e.Name()) != ".md" || strings.HasPrefix(e.Name(), ".") {
					continue // a folder named x.md is read, and refused, as a file is
				}
				abs := filepath.Join(dir, e.Name())
				if seen != nil {
					seen[abs] = true
				}
				scanned = append(scanned, abs)
				// A new file's size and time come from reading it, on
				// the workers: a first load makes no stat calls.
				var info fs.FileInfo
				if _, known := c.files[abs]; known {
					info, _ = os.Stat(abs) // as reading it sees it, through a link
				}
				visit(kind, abs, info)
			}
		}
		if seen != nil {
			for abs := range c.files {
				if !seen[abs] {
					forget(abs)
				}
			}
		}
		c.order = scanned
	}
	// The files in the order a scan of the folders finds them: by kind,
	// then by name (os.ReadDir sorts them).
	if c.order == nil {
		c.order = make([]string, 0, len(c.files))
		for abs := range c.files {
			c.order = append(c.order, abs)
		}
		slices.SortFunc(c.order, func(a, b string) int { return fileOrder(c.files[a], c.files[b]) })
	}
	slices.Sort(changed)
	changed = slices.Compact(changed)
	var read atomic.Int64
	deferBodies := opts.DeferBodies && cfg.Check.Retractions == ""
	output.Parallel(len(parse), opts.Workers, func(i int) {
		parse[i].load(cfg, deferBodies)
		if opts.Reading != nil {
			opts.Reading(int(read.Add(1)), len(parse))
		}
	})
	if patch && last != nil && len(edits)+len(removed) > 0 && c.lastOpts.Drafts == opts.Drafts && c.lastOpts.Future == opts.Future && c.lastOpts.Expired == opts.Expired {
		pairs := make([][2]*contentFile, len(edits), len(edits)+len(removed))
		for i, e := range edits {
			pairs[i] = [2]*contentFile{e.old, e.new}
		}
		if len(removed) == 0 && last.patch(cfg, opts, pairs) {
			c.last, c.lastOpts = last, *opts
			return last, changed, nil
		}
		for _, f := range removed {
			pairs = append(pairs, [2]*contentFile{f, nil})
		}
		if next := last.relink(cfg, opts, pairs); next != nil {
			c.last, c.lastOpts = next, *opts
			return next, changed, nil
		}
	}
	files := make([]*contentFile, len(c.order))
	for i, abs := range c.order {
		files[i] = c.files[abs]
	}
	site, err := assemble(cfg, files, opts)
	if err == nil {
		c.last, c.lastOpts = site, *opts
	}
	return site, changed, err
}

// patch edits s, which files were assembled into, for the notes of
// edits parsed again (each: what it was, what it is), when each stays
// placed as it was and nothing else of the site changes with it, and
// reports whether it did.
func (s *Site) patch(cfg *config.Config, opts *Options, edits [][2]*contentFile) bool {
	if cfg.Check.Retractions != "" {
		return false // a note's text may cite a retracted paper
	}
	if len(s.deferred) > 0 {
		return false // its notes' files are looked up by note
	}
	for _, e := range edits {
		old, f := e[0], e[1]
		if old == nil || f.note == nil || old.note == nil || len(f.errs) > 0 || len(old.errs) > 0 || len(f.phi) > 0 || len(old.phi) > 0 {
			return false
		}
		n, next := old.note, f.note
		if s.notes[n.Slug] != n || !SameShape(n, next) || !sameSource(n.Source, next.Source) ||
			!n.LastReviewed.Equal(next.LastReviewed) || next.LastReviewed.After(opts.Now) || f.id != old.id || f.slugLine != old.slugLine {
			return false
		}
	}
	// Nothing may come out, go or expire between the two present times:
	// what the site shows would change with it.
	if !s.stillAt(opts.Now) {
		return false
	}
	for i, f := range s.files {
		for _, e := range edits {
			if f == e[0] {
				s.files[i] = e[1]
			}
		}
	}
	for _, e := range edits {
		old, f := e[0], e[1]
		n, linked := old.note, *old.note
		*n = *f.note
		n.Editions, n.TopicPages, n.Story, n.Retraction, n.CitedNotices, n.Scheduled = linked.Editions, linked.TopicPages, linked.Story, linked.Retraction, linked.CitedNotices, linked.Scheduled
		f.note = n
	}
	s.Now = opts.Now
	return true
}

// stillAt reports whether nothing the site holds comes out, goes or
// expires, and no wire story leaves the wire's pages, between the site's
// present and now.
func (s *Site) stillAt(now time.Time) bool {
	if s.still == nil {
		// A wire story leaves the wire's pages the instant after it is
		// [wire] days old.
		var leave []time.Time
		if s.Wire != nil {
			for _, st := range s.Wire.Stories {
				leave = append(leave, st.Date().AddDate(0, 0, s.Config.Wire.Days).Add(time.Nanosecond))
			}
		}
		s.still = stillBetween(s.Now, s.files, leave)
	}
	return !now.Before(s.still[0]) && now.Before(s.still[1])
}

// narrow narrows w, the times around now between which nothing changes,
// by t, when something changes from then on: the zero time, nothing.
func narrow(w *[2]time.Time, now, t time.Time) {
	switch {
	case t.IsZero():
	case !t.After(now) && t.After(w[0]):
		w[0] = t
	case t.After(now) && t.Before(w[1]):
		w[1] = t
	}
}

// stillBetween returns the times around now between which none of files
// comes out, goes or expires, and nothing else changes at a time of more:
// the latest such time at or before now, and the first after it (the
// zero time and the end of time when there is none). Each changes what
// shows from the instant it names.
func stillBetween(now time.Time, files []*contentFile, more []time.Time) *[2]time.Time {
	w := [2]time.Time{{}, time.Unix(1<<62, 0)}
	at := func(t time.Time) { narrow(&w, now, t) }
	for _, f := range files {
		switch {
		case f.note != nil:
			at(f.note.Published)
			at(f.note.Expires)
		case f.ed != nil:
			at(f.ed.Published)
			at(f.ed.Expires)
		}
	}
	for _, t := range more {
		at(t)
	}
	return &w
}

// SameShape reports whether two versions of a note place it the same way
// in the site: the same visibility, date, order, topics, audiences,
// editions and source.
func SameShape(a, b *content.Note) bool {
	return a.Slug == b.Slug && a.ID == b.ID && a.Draft == b.Draft &&
		a.Date.Equal(b.Date) && a.Published.Equal(b.Published) && a.PublishAt.Equal(b.PublishAt) && a.Expires.Equal(b.Expires) &&
		slices.Equal(a.Topics, b.Topics) && slices.Equal(a.Audience, b.Audience) && a.Edition == b.Edition &&
		a.Source.URL == b.Source.URL && a.Source.DOI == b.Source.DOI && a.Source.PMID == b.Source.PMID
}

// sameSource reports whether two sources are the same in every field:
// the wire matches a note to its story by them.
func sameSource(a, b content.Source) bool {
	pa, pb := a.Published, b.Published
	a.Published, b.Published = time.Time{}, time.Time{}
	return a == b && pa.Equal(pb)
}

// contentKind returns the kind of content the file at abs is ("notes",
// "editions", "pages"), "" for a file in the content folders that is not
// content, and false for a path elsewhere or a folder of content itself.
func contentKind(cfg *config.Config, abs string) (string, bool) {
	rel, err := filepath.Rel(filepath.Join(cfg.Dir, "content"), abs)
	if err != nil {
		return "", false
	}
	kind, name, ok := strings.Cut(filepath.ToSlash(rel), "/")
	if !ok || !slices.Contains(contentKinds, kind) || strings.Contains(name, "/") {
		return "", false
	}
	if filepath.Ext(name) != ".md" || strings.HasPrefix(name, ".") {
		return "", true
	}
	return kind, true
}

// assemble links parsed content files into a site. It sets every derived
// field afresh, so files parsed for an earlier load can be assembled again.
func assemble(cfg *config.Config, files []*contentFile, opts *Options) (*Site, error) {
	for _, f := range files {
		if f.note != nil {
			f.note.Story, f.note.Retraction = nil, nil
			f.note.Editions = f.note.Editions[:0]     // keep the room, as for TopicPages
			f.note.TopicPages = f.note.TopicPages[:0] // the same topics, mostly: keep the room
		}
		if f.ed != nil {
			f.ed.Notes, f.ed.Number = nil, 0
		}
	}
	// The maps are made to size: a site has thousands of notes, and a
	// rebuild under rounds serve makes them again for every edit.
	s := &Site{Config: cfg, Now: opts.Now, Preview: opts.Preview(), notes: make(map[string]*content.Note, len(files))}
	var errs config.ErrorList
	var editions []*content.Edition
	var identified []*contentFile // the notes' and editions' files
	// A note's slug is checked against the other notes' in a map of
	// their own, by slug alone; the editions' and pages' in another.
	// Everything assemble needs of a note is read in this one pass: at a
	// hundred thousand notes, each pass over them waits on memory.
	notes := make(map[string]*contentFile, len(files))
	type kindSlug struct{ kind, slug string }
	seen := map[kindSlug]*contentFile{}
	for _, f := range files {
		errs = append(errs, f.errs...)
		if f.deferred && f.note != nil {
			if s.deferred == nil {
				s.deferred = map[*content.Note]*contentFile{}
			}
			s.deferred[f.note] = f
		}
		if n := f.note; n != nil && n.LastReviewed.After(opts.Now) && !opts.Now.IsZero() {
			errs = append(errs, config.Errorf(f.path, n.LastReviewedLine(), "last_reviewed", "set the day the review was done", "%s is after today (%s)", n.LastReviewed.Format("2006-01-02"), opts.Now.Format("2006-01-02")))
		}
		s.PHI = append(s.PHI, f.phi...)
		slug := ""
		switch {
		case f.note != nil:
			slug = f.note.Slug
		case f.ed != nil:
			slug = f.ed.Slug
		case f.page != nil:
			slug = f.page.Slug
		default:
			continue
		}
		var other *contentFile
		if f.note != nil {
			other = notes[slug]
		} else {
			other = seen[kindSlug{f.kind, slug}]
		}
		if other != nil {
			at, by := f, other
			if at.slugLine == 0 && other.slugLine > 0 {
				at, by = other, f // the error is where the slug is written
			}
			why := "slug %q is also used by %s"
			if at.slugLine == 0 {
				why = "its file name makes the slug %q, which %s also has"
			}
			errs = append(errs, config.Errorf(at.path, at.slugLine, "slug", "rename one of the files or set a different slug in its front matter", why, slug, by.path))
			continue
		}
		switch {
		case f.note != nil:
			notes[slug] = f
			identified = append(identified, f)
			n := f.note
			n.Scheduled = opts.Now.Before(n.Published)
			why := opts.hides(n.Draft, n.Published, n.Expires)
			s.Held.count(why)
			if why == "" {
				s.Notes = append(s.Notes, n)
				s.notes[slug] = n
			}
		case f.ed != nil:
			seen[kindSlug{f.kind, slug}] = f
			editions = append(editions, f.ed)
			identified = append(identified, f)
		case f.page != nil:
			seen[kindSlug{f.kind, slug}] = f
			if reserved[f.page.Slug] {
				errs = append(errs, config.Errorf(f.path, 0, "slug", "rename the page", "%q is reserved for the site's own pages", f.page.Slug))
				continue
			}
			if f.page.Draft && !opts.Drafts {
				continue
			}
			s.Pages = append(s.Pages, f.page)
		}
	}

	slices.SortStableFunc(s.PHI, content.Finding.Compare)
	s.files = files

	// The feed IDs are checked while the notes are sorted and grouped:
	// checkIDs reads only what parsing set.
	idErrs := make(chan config.ErrorList, 1)
	var ids map[string]idOwner
	go func() {
		var errs config.ErrorList
		ids, errs = checkIDs(identified)
		idErrs <- errs
	}()
	// The notes held back are counted apart from the editions, for
	// relink, which counts the notes again.
	held := s.Held
	s.Held = Held{}
	sortNewestFirst(s.Notes)
	slices.SortFunc(s.Pages, func(a, b *content.Page) int {
		return cmp.Or(cmp.Compare(a.Weight, b.Weight), cmp.Compare(a.Title, b.Title), cmp.Compare(a.Slug, b.Slug))
	})
	linkErrs, windows := s.linkEditions(editions, notes, opts)
	s.group()
	errs = append(errs, <-idErrs...)
	errs = append(errs, linkErrs...)
	s.linked = &linked{notes: notes, editions: editions, held: held, edHeld: s.Held, ids: ids, windows: windows}
	s.Held = held.plus(s.Held)
	if cfg.Check.Retractions != "" {
		notices, err := loadRetractions(cfg.Abs(cfg.Check.Retractions))
		if err != nil {
			errs = append(errs, config.Errorf(cfg.Rel(cfg.File), cfg.Line("retractions"), "check.retractions", "", "%v", err))
		}
		for _, f := range identified {
			n := f.note
			if n == nil {
				continue // an edition
			}
			n.Retraction = retractionOf(n, notices)
			n.CitedNotices = nil
			for _, id := range content.CitedIDs(n.Content) {
				if r := notices[id]; r != nil && r != n.Retraction && !slices.ContainsFunc(n.CitedNotices, func(c content.CitedNotice) bool { return c.ID == id }) {
					n.CitedNotices = append(n.CitedNotices, content.CitedNotice{ID: id, Retraction: r})
				}
			}
			if r := n.Retraction; r != nil && r.Retracted() && n.RetractionReviewed.IsZero() && !n.Draft {
				errs = append(errs, config.Errorf(n.File, 0, "source", "read the notice, say so in the note's text, then add retraction_reviewed = YYYY-MM-DD (the note stays labelled as retracted), or take the note down",
					"the paper was retracted on %s (notice %s)", r.Date, cmp.Or(r.Notice, "without a DOI")))
			}
		}
	}
	s.Wire = wire.Load(cfg)
	s.Wire.Cover(s.Notes)
	for _, n := range s.Notes {
		if st := s.Wire.StoryFor(n); st != nil {
			n.Story = s.Wire.View(st)
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// An idOwner is the note or edition that has a feed ID: its file, the
// line of its id key, and whether the key pinned it.
type idOwner struct {
	file   string
	line   int
	pinned bool
}

// checkIDs checks that no two notes or editions, drafts included, have the
// same feed ID, pinned or by default: a reader's feed reader would take
// the second for the first. files are the notes' and editions' files.
func checkIDs(files []*contentFile) (map[string]idOwner, config.ErrorList) {
	var errs config.ErrorList
	seen := make(map[string]idOwner, len(files))
	for _, f := range files {
		var o idOwner
		if n := f.note; n != nil {
			o = idOwner{n.File, n.IDLine(), n.ID != ""}
		} else {
			o = idOwner{f.ed.File, f.ed.IDLine(), f.ed.ID != ""}
		}
		prev, dup := seen[f.id]
		if !dup {
			seen[f.id] = o
			continue
		}
		if prev.pinned && !o.pinned {
			prev, o = o, prev // the error is where the id is written
		}
		errs = append(errs, config.Errorf(o.file, o.line, "id", "give one of them another id, or remove the key for the default", "%q is also the id of %s", f.id, prev.file))
	}
	return seen, errs
}

// A window is the days of the notes an edition carries: those published
// after from, up to to (no end when zero).
type window struct{ from, to time.Time }

// holds reports whether the window holds a note published at t.
func (w window) holds(t time.Time) bool {
	return t.After(w.from) && (w.to.IsZero() || !t.After(w.to))
}

// reserved are the site paths Rounds writes itself.
var reserved = map[string]bool{
	"notes": true, "editions": true, "topics": true, "audiences": true, "archive": true,
	"css": true, "js": true, "fonts": true, "images": true, "404": true, "page": true,
	"wire": true, "sources": true,
}

// sortNewestFirst sorts notes newest first, and those published at the
// same instant by slug. It sorts keys in one slice: comparing the notes
// themselves reads each from wherever it is in memory, again and again,
// and rounds serve sorts every note on most rebuilds.
func sortNewestFirst(notes []*content.Note) {
	type key struct {
		sec  int64
		nsec int
		slug string
		n    *content.Note
	}
	keys := make([]key, len(notes))
	for i, n := range notes {
		keys[i] = key{n.Published.Unix(), n.Published.Nanosecond(), n.Slug, n}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(b.sec, a.sec), cmp.Compare(b.nsec, a.nsec), cmp.Compare(a.slug, b.slug))
	})
	for i, k := range keys {
		notes[i] = k.n
	}
}

// load reads and parses one content file.
func (f *contentFile) load(cfg *config.Config, deferBody bool) {
	data, mod, err := cfg.ReadSource(f.abs, cfg.Build.MaxNoteBytes)
	f.stamp = fileStamp{int64(len(data)), mod}
	if err != nil {
		f.errs = append(f.errs, config.Problem(f.path, err))
		return
	}
	if !utf8.Valid(data) {
		f.errs = append(f.errs, config.Errorf(f.path, 0, "", "save the file as UTF-8", "not valid UTF-8 text"))
		return
	}
	f.phi, f.sum = scanPHIFile(f.path, string(data)), sha256.Sum256(data)
	doc, errs := content.Parse(cfg, f.kind, f.path, data, deferBody)
	f.errs = append(f.errs, errs...)
	if doc == nil {
		return
	}
	f.note, f.ed, f.page, f.slugLine = doc.Note, doc.Edition, doc.Page, doc.SlugLine
	if f.note != nil {
		f.note.Serial = f.serial
		f.id = noteID(cfg, f.note)
		f.deferred = deferBody
	}
	if f.ed != nil {
		f.id = editionID(cfg, f.ed)
	}
	if len(f.errs) > 0 {
		f.note, f.ed, f.page = nil, nil, nil
	}
}

// linkEditions resolves each published edition's notes and numbers them.
// It returns the days of the notes each published edition without a list
// of notes carries.
func (s *Site) linkEditions(editions []*content.Edition, notes map[string]*contentFile, opts *Options) (config.ErrorList, map[*content.Edition]window) {
	var errs config.ErrorList
	windows := map[*content.Edition]window{}
	slices.SortFunc(editions, func(a, b *content.Edition) int {
		return cmp.Or(a.Published.Compare(b.Published), cmp.Compare(a.Slug, b.Slug))
	})
	var prev time.Time
	for _, e := range editions {
		for _, slug := range e.NoteSlugs {
			f, ok := notes[slug]
			if !ok {
				errs = append(errs, config.Errorf(e.File, e.NotesLine(), "notes", fmt.Sprintf("create content/notes/%s.md or remove %q from the list", slug, slug), "no note %q", slug))
				continue
			}
			n := f.note
			if why := opts.hides(n.Draft, n.Published, n.Expires); why != "" && opts.hides(e.Draft, e.Published, e.Expires) == "" {
				errs = append(errs, config.Errorf(e.File, e.NotesLine(), "notes", "publish the note first or take it out of the edition", "note %q is %s", slug, why))
			}
		}
		if why := opts.hides(e.Draft, e.Published, e.Expires); why != "" {
			s.Held.count(why)
			continue
		}
		if len(e.NoteSlugs) > 0 {
			for _, slug := range e.NoteSlugs {
				if n := s.notes[slug]; n != nil {
					e.Notes = append(e.Notes, n)
				}
			}
		} else {
			w := window{e.From, e.To}
			if w.from.IsZero() && w.to.IsZero() {
				w = window{prev, e.Date}
			}
			windows[e] = w
			// s.Notes is newest first: the window is one run of it.
			i := 0
			if !w.to.IsZero() {
				i = sort.Search(len(s.Notes), func(k int) bool { return !s.Notes[k].Published.After(w.to) })
			}
			for ; i < len(s.Notes) && w.holds(s.Notes[i].Published); i++ {
				e.Notes = append(e.Notes, s.Notes[i])
			}
		}
		prev = e.Date
		s.Editions = append(s.Editions, e)
		e.Number = len(s.Editions)
		e.URL = s.Config.RelURL(e.Path())
		for _, n := range e.Notes {
			n.Editions = append(n.Editions, e)
		}
	}
	slices.Reverse(s.Editions)
	return errs, windows
}

// group fills the site's topics and audiences.
func (s *Site) group() {
	topics := map[string]*content.Topic{}
	audiences := map[string]*content.Topic{}
	for _, n := range s.Notes {
		for _, t := range n.Topics {
			tp := topics[t]
			if tp == nil {
				tp = NewTopic(s.Config, "topics", t, s.Config.TopicTitle(t))
				topics[t] = tp
			}
			tp.Notes = append(tp.Notes, n)
			if n.TopicPages == nil {
				n.TopicPages = make([]*content.Topic, 0, len(n.Topics))
			}
			n.TopicPages = append(n.TopicPages, tp)
		}
		for _, a := range n.Audience {
			tp := audiences[a]
			if tp == nil {
				tp = NewTopic(s.Config, "audiences", a, config.TitleCase(a))
				audiences[a] = tp
			}
			tp.Notes = append(tp.Notes, n)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(topics)) {
		s.Topics = append(s.Topics, topics[k])
	}
	for _, a := range config.Audiences {
		if tp := audiences[a]; tp != nil {
			s.Audiences = append(s.Audiences, tp)
		}
	}
}

// Absolute makes the root-relative links and images of HTML h absolute,
// for feeds and email, which are read away from the site; and, when page
// is set (the absolute URL of the page h is from), its links within the
// page too (a footnote's "#fn:1"), which would otherwise lead nowhere.
func (s *Site) Absolute(h, page string) string {
	if page != "" && strings.Contains(h, ` href="#`) {
		h = strings.ReplaceAll(h, ` href="#`, ` href="`+page+"#")
	}
	if !strings.Contains(h, `="/`) {
		return h
	}
	b := s.Config.Base()
	root := (&url.URL{Scheme: b.Scheme, Host: b.Host}).String()
	h = strings.ReplaceAll(h, ` href="/`, ` href="`+root+"/")
	return strings.ReplaceAll(h, ` src="/`, ` src="`+root+"/")
}

// Inbox returns the wire stories dated at or after since that no note
// covers, drafts and scheduled notes included, newest first; with topic,
// only the stories of that topic's sources.
func Inbox(cfg *config.Config, now, since time.Time, topic string) ([]*content.WireStory, error) {
	site, err := Load(cfg, &Options{Now: now, Drafts: true, Future: true, Expired: true})
	if err != nil {
		return nil, err
	}
	var out []*content.WireStory
	for _, s := range site.Wire.Since(since, topic) {
		if site.Wire.CoveredBy(s) == nil {
			out = append(out, site.Wire.View(s))
		}
	}
	return out, nil
}

// scanPHIFile looks for patient identifiers in a content file, as
// findings.
func scanPHIFile(rel, text string) []content.Finding {
	var out []content.Finding
	for _, h := range phi.ScanFile(text) {
		out = append(out, content.Finding{File: rel, Line: h.Line, Column: h.Column, Kind: "phi", Severity: "error",
			Message: fmt.Sprintf("%s %q may identify a person; remove it, or if it does not, add the comment %q on the line", phi.Name(h.Kind), h.Text, "<!-- "+phi.Marker+" -->")})
	}
	return out
}

// NoteID returns a note's stable feed ID: its front matter id if set, else
// a tag URI from the site's host, the note's date and its slug, none of
// which change from one build to the next.
func (s *Site) NoteID(n *content.Note) string { return noteID(s.Config, n) }

// EditionID returns an edition's stable feed ID, made as NoteID makes a
// note's.
func (s *Site) EditionID(e *content.Edition) string { return editionID(s.Config, e) }

func noteID(cfg *config.Config, n *content.Note) string {
	if n.ID != "" {
		return n.ID
	}
	return tagURI(cfg, n.Date, n.Path())
}

func editionID(cfg *config.Config, e *content.Edition) string {
	if e.ID != "" {
		return e.ID
	}
	return tagURI(cfg, e.Date, e.Path())
}

// tagURI returns a tag URI (RFC 4151) of the site's host, the day of date
// and a path.
func tagURI(cfg *config.Config, date time.Time, path string) string {
	return fmt.Sprintf("tag:%s,%s:%s", cfg.Base().Hostname(), date.In(cfg.Location()).Format("2006-01-02"), cfg.RelURL(path))
}
