package content

import (
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
	"unique"

	"github.com/rounds-health/rounds/generator/config"
)

// Dated is what notes and editions share: who they are, their title,
// and the dates that decide when they show.
type Dated struct {
	Slug    string
	File    string // path relative to the project folder
	Title   string
	Summary string
	Date    time.Time
	// PublishAt, when set, holds the item back until then; Expires takes
	// it down from then on.
	PublishAt time.Time
	Expires   time.Time
	// Published is when the item goes live: PublishAt if set, else Date.
	Published time.Time
	Draft     bool
	// ID is the item's stable feed ID; set it in front matter to pin it.
	ID     string
	idLine int // the file line of the id key, for errors
	// Params holds the front matter keys Rounds does not know, for themes.
	Params map[string]any
	// Content is the body rendered to HTML; Body is its Markdown, for
	// plain-text email.
	Content template.HTML
	Body    string
}

// parseDated reads the keys every dated item has.
func parseDated(f *fields) Dated {
	d := Dated{
		File:      f.doc.file,
		Slug:      slugOf(f),
		Title:     f.str("title"),
		Summary:   f.str("summary"),
		Date:      f.time("date"),
		PublishAt: f.time("publish_at"),
		Expires:   f.time("expires"),
		Draft:     f.boolean("draft"),
		ID:        f.str("id"),
		idLine:    f.line("id"),
	}
	if d.ID != "" {
		if err := checkIRI(d.ID); err != nil {
			f.bad("id", `use a tag: URI such as id = "tag:example.org,2026-11-02:notes/slug/", or remove the key for the default`, "%q %v", d.ID, err)
		}
	}
	d.Published = firstSet(d.PublishAt, d.Date)
	if d.Title == "" {
		f.bad("title", `add title = "…" to the front matter`, "missing")
	}
	if d.Date.IsZero() {
		if _, set := f.m["date"]; !set {
			f.bad("date", "add date = 2026-11-02T09:00:00Z to the front matter", "missing")
		}
	}
	return d
}

// A Note is one curation note: content/notes/SLUG.md.
//
// Its first fields are Dated's, written out rather than embedded: a theme
// reads them on every page that shows the note, and html/template finds
// a promoted field by a search that allocates, about half a microsecond
// more each time: some 6 µs of the 100 µs that rendering takes a note.
type Note struct {
	Slug string
	File string
	// Links are the note's links to the site's own pages.
	Links     []SiteLink
	Title     string
	Summary   string
	Date      time.Time
	PublishAt time.Time
	Expires   time.Time
	Published time.Time
	Draft     bool
	ID        string
	idLine    int
	Params    map[string]any
	Content   template.HTML
	Body      string

	Topics   []string // topic slugs
	Audience []string // "clinicians", "patients", "public"
	Source   Source
	Evidence Evidence
	Design   string // study design
	// ReviewedBy, LastReviewed and ReviewBy record clinical review.
	ReviewedBy   string
	LastReviewed time.Time
	reviewedLine int
	ReviewBy     time.Time
	Sponsored    bool
	Disclosure   string
	Edition      string // slug of the edition the note was written for
	// Editions are the published editions that carry the note, oldest first.
	Editions []*Edition
	// TopicPages are the site's pages of the note's topics, in its order.
	TopicPages []*Topic
	// Story is the wire story the note curates: the feed items about its
	// source, if the wire has any.
	Story *WireStory
	// Retraction is the notice about the paper the note cites, if the
	// Retraction Watch data has one.
	Retraction *Retraction
	// RetractionReviewed is the day the curator read the retraction of
	// the note's source (retraction_reviewed), after which a retracted
	// source is no longer an error; the note stays labelled.
	RetractionReviewed time.Time
	// CitedNotices are the notices about papers the note cites in its
	// text, by their DOI or PMID.
	CitedNotices []CitedNotice
	// Scheduled is true for a note whose publication time is still to
	// come, which only a preview shows.
	Scheduled bool
	// URL is the root-relative URL of the note's page, for links.
	URL string

	// path is Path, made once when the note is parsed: a build asks for
	// it many times a note.
	path string
	// Serial numbers the file the note was read from, the same number
	// for as long as the content cache that read it lives, edits and all;
	// 0 for a note not read from a file. The theme keeps what it rendered
	// of a note by this number.
	Serial int
}

// Source is the publication a note curates.
type Source struct {
	URL       string
	Title     string
	Publisher string
	Published time.Time
	DOI       string
	PMID      string
	NCT       string
	PMCID     string
}

// An Edition is one issue of the newsletter: content/editions/SLUG.md.
// Its Content is the intro.
type Edition struct {
	Dated
	// Links are the intro's links to the site's own pages.
	Links []SiteLink
	// NoteSlugs lists the notes the edition carries, in order. When empty,
	// the edition carries the notes dated in (From, To].
	NoteSlugs []string
	From, To  time.Time
	Notes     []*Note // resolved, in order
	Number    int     // 1 for the first published edition
	URL       string  // the root-relative URL of its page, for links

	notesLine int // the file line of the notes key, for errors
}

// A Page is a standalone page such as about or disclaimer: content/pages/SLUG.md.
type Page struct {
	Slug string
	File string
	// Links are the page's links to the site's own pages.
	Links   []SiteLink
	Title   string
	Summary string
	Menu    bool // listed in the site's navigation
	Weight  int  // navigation order
	Draft   bool
	Params  map[string]any
	Content template.HTML
}

// Path returns the note's site path, "notes/SLUG/".
func (n *Note) Path() string {
	if n.path != "" {
		return n.path
	}
	return "notes/" + n.Slug + "/"
}

// Path returns the edition's site path, "editions/SLUG/".
func (e *Edition) Path() string { return "editions/" + e.Slug + "/" }

// Path returns the page's site path, "SLUG/".
func (p *Page) Path() string { return p.Slug + "/" }

// Is reports whether the note is for audience a.
func (n *Note) Is(a string) bool { return slices.Contains(n.Audience, a) }

func firstSet(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// slugOf returns the slug a content file gets from its name, or from f's
// slug key when set.
func slugOf(f *fields) string {
	if s := f.str("slug"); s != "" {
		if !slugRE.MatchString(s) {
			f.bad("slug", "use lowercase letters, digits, - and _", "bad slug %q", s)
		}
		return s
	}
	name := strings.TrimSuffix(filepath.Base(f.doc.file), filepath.Ext(f.doc.file))
	return config.Slugify(name)
}

// parseNote reads a note's front matter.
func parseNote(f *fields) *Note {
	d := parseDated(f)
	n := &Note{
		Slug: d.Slug, File: d.File, Title: d.Title, Summary: d.Summary,
		Date: d.Date, PublishAt: d.PublishAt, Expires: d.Expires, Published: d.Published,
		Draft: d.Draft, ID: d.ID, idLine: d.idLine, Params: d.Params, Content: d.Content, Body: d.Body,
		Topics:             f.strs("topics"),
		Audience:           f.strs("audience"),
		Design:             f.str("design"),
		ReviewedBy:         f.str("reviewed_by"),
		LastReviewed:       f.time("last_reviewed"),
		ReviewBy:           f.time("review_by"),
		RetractionReviewed: f.time("retraction_reviewed"),
		Sponsored:          f.boolean("sponsored"),
		Disclosure:         f.str("disclosure"),
		Edition:            f.str("edition"),
	}
	for i, t := range n.Topics {
		s := config.Slugify(t)
		if s == "" {
			f.bad("topics", "use names such as \"vaccines\"", "empty topic")
		}
		// One copy of each slug, shared by every note that has it: a
		// site's lists group its notes by them, and at 100,000 notes,
		// reading a copy of its own from each note waits on memory.
		n.Topics[i] = unique.Make(s).Value()
	}
	n.Topics = dedupe(n.Topics)
	for i, a := range n.Audience {
		k := slices.Index(config.Audiences, a)
		if k < 0 {
			f.bad("audience", `use any of "clinicians", "patients", "public"`, "unknown audience %q", a)
			continue
		}
		n.Audience[i] = config.Audiences[k] // one copy, as for topics
	}
	n.Audience = dedupe(n.Audience)
	if slices.Contains(n.Audience, "patients") && !n.Draft {
		// What patients read is reviewed by a clinician, and says when.
		at := f.line("audience")
		if n.ReviewedBy == "" {
			*f.errs = append(*f.errs, config.Errorf(f.doc.file, at, "reviewed_by", `add reviewed_by = "Name, credentials" under the audience: a clinician reviews every note for patients`, "missing: the note is for patients"))
		}
		if n.LastReviewed.IsZero() {
			*f.errs = append(*f.errs, config.Errorf(f.doc.file, at, "last_reviewed", "add last_reviewed = YYYY-MM-DD, the day of the review", "missing: the note is for patients"))
		}
	}
	n.reviewedLine = f.line("last_reviewed")
	if ev := f.str("evidence"); ev != "" {
		e, err := ParseEvidence(ev)
		if err != nil {
			f.bad("evidence", EvidenceFix, "%v", err)
		}
		n.Evidence = e
	}
	if n.Sponsored && n.Disclosure == "" {
		f.bad("sponsored", `add disclosure = "…" saying who paid and what control they had`, "a sponsored note needs a disclosure")
	}
	n.Source = parseSource(f)
	n.Params = f.rest()
	n.path = n.Path()
	return n
}

// parseSource reads source = "URL" or a [source] table.
func parseSource(f *fields) Source {
	v, ok := f.get("source")
	if !ok {
		return Source{}
	}
	switch v := v.(type) {
	case string:
		return Source{URL: f.url("source", v)}
	case map[string]any:
		var s Source
		for _, k := range slices.Sorted(maps.Keys(v)) {
			val := v[k]
			str := func() string {
				x, ok := val.(string)
				if !ok {
					f.bad(k, fmt.Sprintf(`quote it: %s = "…"`, k), "source %s: want text, got %s", k, config.Describe(val))
				}
				return strings.TrimSpace(x)
			}
			switch k {
			case "url":
				s.URL = f.url("url", val)
			case "title":
				s.Title = str()
			case "publisher":
				s.Publisher = str()
			case "published":
				t, err := toTime(val, f.loc)
				if err != nil {
					f.bad("published", dateFix, "source published: %v", err)
				}
				s.Published = t
			case "doi", "pmid", "pmcid", "nct":
				id, err := NormalizeID(k, str())
				if err != nil {
					f.bad(k, "correct the identifier, or remove the key", "source %s: %v", k, err)
				}
				switch k {
				case "doi":
					s.DOI = id
				case "pmid":
					s.PMID = id
				case "pmcid":
					s.PMCID = id
				case "nct":
					s.NCT = id
				}
			default:
				f.bad(k, "the source table takes url, title, publisher, published, doi, pmid, pmcid and nct", "unknown source key %q", k)
			}
		}
		return s
	}
	f.bad("source", `write source = "https://…" or a [source] table with url, title, publisher, published, doi, pmid, nct`, "want a URL or a table, got %s", config.Describe(v))
	return Source{}
}

// parseEdition reads an edition's front matter.
func parseEdition(f *fields) *Edition {
	e := &Edition{
		Dated:     parseDated(f),
		NoteSlugs: f.strs("notes"),
		From:      f.time("from"),
		To:        f.time("to"),
		notesLine: f.line("notes"),
	}
	if len(e.NoteSlugs) > 0 && (!e.From.IsZero() || !e.To.IsZero()) {
		f.bad("notes", "list the notes or give a from/to window, not both", "both a notes list and a date window")
	}
	e.Params = f.rest()
	return e
}

// parsePage reads a page's front matter.
func parsePage(f *fields) *Page {
	p := &Page{
		File:    f.doc.file,
		Slug:    slugOf(f),
		Title:   f.str("title"),
		Summary: f.str("summary"),
		Menu:    f.boolean("menu"),
		Weight:  f.integer("weight"),
		Draft:   f.boolean("draft"),
	}
	if p.Title == "" {
		f.bad("title", `add title = "…" to the front matter`, "missing")
	}
	p.Params = f.rest()
	return p
}

// checkIRI checks that id can name a feed entry: an absolute IRI (RFC
// 3987), with a scheme, and nothing a feed would have to escape.
func checkIRI(id string) error {
	if i := strings.IndexFunc(id, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r >= 0x80 && r <= 0x9f || strings.ContainsRune("<>\"{}|\\^`", r)
	}); i >= 0 {
		r, _ := utf8.DecodeRuneInString(id[i:])
		return fmt.Errorf("holds %q, which an IRI cannot", string(r))
	}
	u, err := url.Parse(id)
	switch {
	case err != nil:
		return errors.New("is not an IRI")
	case u.Scheme == "":
		return errors.New("is not an absolute IRI: it has no scheme, such as tag or https")
	case u.Opaque == "" && u.Host == "" && u.Path == "":
		return errors.New("has a scheme and nothing else")
	case (u.Scheme == "http" || u.Scheme == "https") && u.Host == "":
		return errors.New("is an http(s) URL without a host")
	}
	return nil
}

// dedupe removes repeats from s, keeping the first of each.
func dedupe(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if !slices.Contains(s[:i], v) {
			out = append(out, v)
		}
	}
	return out
}

// Carries reports whether the list's digest carries the note.
func Carries(l *config.ListConfig, n *Note) bool {
	aud := len(l.Audience) == 0 || slices.ContainsFunc(n.Audience, func(a string) bool { return slices.Contains(l.Audience, a) })
	top := len(l.Topics) == 0 || slices.ContainsFunc(n.Topics, func(t string) bool { return slices.Contains(l.Topics, t) })
	return aud && top
}

// IDLine is the file line of the item's id key, 0 when it is not set.
func (d *Dated) IDLine() int { return d.idLine }

// IDLine is the file line of the note's id key, 0 when it is not set.
func (n *Note) IDLine() int { return n.idLine }

// NotesLine is the file line of the edition's notes key, 0 when it is
// not set.
func (e *Edition) NotesLine() int { return e.notesLine }

// LastReviewedLine is the line of the front matter that sets
// last_reviewed.
func (n *Note) LastReviewedLine() int { return n.reviewedLine }
