package render

import (
	"bytes"
	"fmt"
	"html"
	"strings"
	"sync"
	"time"

	"github.com/rounds-health/rounds/feeds"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/output"
	"github.com/rounds-health/rounds/generator/site"
)

// feedFormats are the formats every feed is written in, by file name.
var feedFormats = []struct{ file, mime, name string }{
	{"feed.xml", "application/rss+xml", "RSS"},
	{"atom.xml", "application/atom+xml", "Atom"},
	{"feed.json", "application/feed+json", "JSON Feed"},
}

// feedLinks returns the autodiscovery links for the feeds at base,
// followed by those of more.
func feedLinks(title, base string, more *FeedSet) *FeedSet {
	fs := &FeedSet{}
	for _, f := range feedFormats {
		fs.Links = append(fs.Links, FeedLink{Title: title + " (" + f.name + ")", Type: f.mime, Path: base + f.file})
	}
	if more != nil {
		fs.Links = append(fs.Links, more.Links...)
	}
	return fs
}

// noteEntry turns a note into a feed entry.
func (w *writer) noteEntry(n *content.Note) *feeds.Entry {
	s := w.site
	e := &feeds.Entry{
		ID:          s.NoteID(n),
		Title:       n.Title,
		Link:        s.Config.AbsURL(n.Path()),
		ExternalURL: n.Source.URL,
		Summary:     n.Summary,
		Published:   n.Published,
		Updated:     n.Published,
		Categories:  topicTitles(s, n.Topics),
		Extension:   noteExtension(n),
	}
	if n.LastReviewed.After(e.Updated) {
		e.Updated = n.LastReviewed
	}
	if n.Sponsored {
		e.Title = "Sponsored: " + e.Title
	}
	if n.Retraction != nil && n.Retraction.Retracted() {
		e.Title = "Retracted: " + e.Title
	}
	if s.Config.Feeds.Content == "full" {
		e.ContentHTML = s.Absolute(string(n.Content), s.Config.AbsURL(n.Path())) + noteFooter(n)
	}
	return e
}

// noteFooter is the attribution a note carries into feeds: its source,
// evidence and disclosure, so that no reader sees a note without them.
func noteFooter(n *content.Note) string {
	var b strings.Builder
	src := n.Source
	if src.URL != "" {
		title := src.Title
		if title == "" {
			title = src.URL
		}
		fmt.Fprintf(&b, `<p>Source: <a href="%s">%s</a>`, html.EscapeString(src.URL), html.EscapeString(title))
		if src.Publisher != "" {
			fmt.Fprintf(&b, ", %s", html.EscapeString(src.Publisher))
		}
		if !src.Published.IsZero() {
			fmt.Fprintf(&b, ", %s", src.Published.Format("2 January 2006"))
		}
		if src.DOI != "" {
			fmt.Fprintf(&b, `. doi:<a href="https://doi.org/%s">%s</a>`, html.EscapeString(src.DOI), html.EscapeString(src.DOI))
		}
		b.WriteString(".</p>")
	}
	if n.Evidence.Label != "" {
		fmt.Fprintf(&b, "<p>%s: %s</p>", html.EscapeString(n.Evidence.Label), html.EscapeString(n.Evidence.Explanation))
	}
	if n.Sponsored {
		fmt.Fprintf(&b, "<p><strong>Sponsored.</strong> %s</p>", html.EscapeString(n.Disclosure))
	}
	return b.String()
}

// noteExtension is the note's "_rounds" JSON Feed extension.
func noteExtension(n *content.Note) map[string]any {
	x := map[string]any{}
	if n.Evidence.Scale != "" {
		x["evidence"] = map[string]any{"scale": n.Evidence.Scale, "level": n.Evidence.Level, "label": n.Evidence.Label,
			"explanation": n.Evidence.Explanation, "strength": n.Evidence.Strength()}
	}
	if n.Design != "" {
		x["design"] = n.Design
	}
	if len(n.Audience) > 0 {
		x["audience"] = n.Audience
	}
	if n.ReviewedBy != "" {
		x["reviewed_by"] = n.ReviewedBy
	}
	for k, t := range map[string]time.Time{"last_reviewed": n.LastReviewed, "review_by": n.ReviewBy} {
		if !t.IsZero() {
			x[k] = t.Format("2006-01-02")
		}
	}
	if r := n.Retraction; r != nil {
		x["retraction"] = map[string]any{"nature": r.Nature, "date": r.Date, "notice": r.Notice}
	}
	if n.Sponsored {
		x["sponsored"] = true
		x["disclosure"] = n.Disclosure
	}
	src := map[string]any{}
	for k, v := range map[string]string{"url": n.Source.URL, "title": n.Source.Title, "publisher": n.Source.Publisher, "doi": n.Source.DOI, "pmid": n.Source.PMID, "nct": n.Source.NCT, "pmcid": n.Source.PMCID} {
		if v != "" {
			src[k] = v
		}
	}
	if len(src) > 0 {
		x["source"] = src
	}
	if len(x) == 0 {
		return nil
	}
	return x
}

func topicTitles(s *site.Site, slugs []string) []string {
	out := make([]string, len(slugs))
	for i, t := range slugs {
		out[i] = s.Config.TopicTitle(t)
	}
	return out
}

// writeNoteFeeds schedules the feeds of notes for the page at path. A
// build that lets the notes' bodies go keeps those the feeds carry whole.
func (w *writer) writeNoteFeeds(title, description, path string, notes []*content.Note) {
	if w.keep != nil && w.site.Config.Feeds.Content == "full" {
		for _, n := range w.fed(notes) {
			w.keep[n] = true
		}
	}
	writeFeeds(w, path, func() *feeds.Channel { return w.noteChannel(title, description, path, notes) })
}

// fed returns the notes a feed of notes carries: the newest, up to the
// limit.
func (w *writer) fed(notes []*content.Note) []*content.Note {
	return notes[:min(len(notes), w.site.Config.Feeds.Limit)]
}

// noteChannel builds a feed of notes for the page at path.
func (w *writer) noteChannel(title, description, path string, notes []*content.Note) *feeds.Channel {
	c := w.channel(title, description, path)
	notes = w.fed(notes)
	for _, n := range notes {
		c.Entries = append(c.Entries, w.noteEntry(n))
	}
	if len(notes) > 0 {
		c.Updated = notes[0].Published
		for _, e := range c.Entries {
			if e.Updated.After(c.Updated) {
				c.Updated = e.Updated
			}
		}
	}
	return c
}

// editionChannel builds the feed of editions.
func (w *writer) editionChannel() *feeds.Channel {
	s := w.site
	c := w.channel(s.Config.Title+": editions", "Every edition of "+s.Config.Title, "archive/")
	c.ID = s.Config.AbsURL("editions/")
	for _, e := range s.Editions[:min(len(s.Editions), s.Config.Feeds.Limit)] {
		var b bytes.Buffer
		b.WriteString(s.Absolute(string(e.Content), s.Config.AbsURL(e.Path())))
		b.WriteString("<ul>")
		for _, n := range e.Notes {
			fmt.Fprintf(&b, `<li><a href="%s">%s</a>`, html.EscapeString(s.Config.AbsURL(n.Path())), html.EscapeString(n.Title))
			if n.Summary != "" {
				fmt.Fprintf(&b, " — %s", html.EscapeString(n.Summary))
			}
			b.WriteString("</li>")
		}
		b.WriteString("</ul>")
		c.Entries = append(c.Entries, &feeds.Entry{
			ID:          s.EditionID(e),
			Title:       e.Title,
			Link:        s.Config.AbsURL(e.Path()),
			Summary:     e.Summary,
			ContentHTML: b.String(),
			Published:   e.Published,
			Updated:     e.Published,
		})
	}
	if len(c.Entries) > 0 {
		c.Updated = c.Entries[0].Published
	}
	return c
}

func (w *writer) channel(title, description, path string) *feeds.Channel {
	s := w.site
	cfg := s.Config
	if description == "" {
		description = cfg.Description
	}
	return &feeds.Channel{
		Title:       title,
		Description: description,
		Language:    cfg.Language,
		Copyright:   cfg.Copyright,
		Link:        cfg.AbsURL(path),
		ID:          cfg.AbsURL(path),
		Author:      feeds.Person{Name: cfg.Author.Name, Email: cfg.Author.Email, URL: cfg.Author.URL},
	}
}

// writeFeeds renders c in every format into files under base.
func writeFeeds(w *writer, base string, channel func() *feeds.Channel) {
	// The channel is made when a feed is rendered, once for its three
	// formats: a preview that shows none pays nothing.
	shared := &sharedChannel{make: channel, left: len(feedFormats)}
	w.channels = append(w.channels, shared)
	for _, f := range feedFormats {
		p := base + f.file
		w.add(output.File{Path: p, Render: func(buf *output.Buffer) error {
			c := shared.take()
			switch f.file {
			case "feed.xml":
				return feeds.WriteRSS(buf, c)
			case "atom.xml":
				return feeds.WriteAtom(buf, c)
			default:
				return feeds.WriteJSON(buf, c, w.site.Config.AbsURL(p))
			}
		}}, p)
	}
}

// A sharedChannel is a feed's channel, made for the first of its formats
// that renders and let go once the last has: the editions' feed of a
// large archive is tens of megabytes.
type sharedChannel struct {
	mu   sync.Mutex
	make func() *feeds.Channel
	c    *feeds.Channel
	left int // formats still to render
}

// reset lets the channel go, to be made again for the next format.
func (sc *sharedChannel) reset() {
	sc.mu.Lock()
	sc.c, sc.left = nil, len(feedFormats)
	sc.mu.Unlock()
}

// take returns the channel, made if need be.
func (sc *sharedChannel) take() *feeds.Channel {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	c := sc.c
	if c == nil {
		c = sc.make()
	}
	if sc.left--; sc.left > 0 {
		sc.c = c
	} else {
		sc.c = nil
	}
	return c
}
