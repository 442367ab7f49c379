package feeds

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
)

// An Item is one entry of a source's feed, normalized and sanitized: its
// title is plain text, its HTML is safe to show, its links are absolute
// and free of tracking parameters.
type Item struct {
	// ID is stable for the life of the item: a hash of its source and its
	// GUID (or link, or title), never of its content.
	ID     string `json:"id"`
	Source string `json:"source"` // the Source's ID
	GUID   string `json:"guid,omitempty"`
	Title  string `json:"title"`
	URL    string `json:"url,omitempty"`
	// Summary and Content are sanitized HTML.
	Summary    string      `json:"summary,omitempty"`
	Content    string      `json:"content,omitempty"`
	Authors    []string    `json:"authors,omitempty"`
	Categories []string    `json:"categories,omitempty"`
	Enclosures []Enclosure `json:"enclosures,omitempty"`
	Identifiers
	// Published is the item's date; an item without one is dated when
	// Rounds first saw it, and keeps that date.
	Published time.Time `json:"published"`
	Updated   time.Time `json:"updated,omitzero"`
	// Undated says Published is the time of first sight.
	Undated   bool      `json:"undated,omitempty"`
	FirstSeen time.Time `json:"first_seen"`
}

// An Enclosure is a file attached to an item: a podcast's audio, an image.
type Enclosure struct {
	URL    string `json:"url"`
	Type   string `json:"type,omitempty"`
	Length int64  `json:"length,omitempty"`
}

// The most of an entry's text that is kept, in bytes. The feed's own
// text is cut, on a character's boundary, before it is sanitized, so
// HTML cut in the middle of an element is still parsed and balanced
// (see Sanitize); MaxBytes caps the whole feed.
const (
	MaxTitleBytes   = 1 << 10   // of the title, markup included
	MaxSummaryBytes = 64 << 10  // of the summary's HTML
	MaxContentBytes = 256 << 10 // of the content's HTML
)

// ErrEmpty is returned for a document that parsed but held no feed.
var ErrEmpty = errors.New("the feed has no items and no title")

// Parse reads the feed in body: RSS 0.9x/2.0, RSS 1.0 (RDF), Atom 1.0 or
// JSON Feed 1.0/1.1, in whatever encoding it is really in. feedURL is
// where it was fetched from (after redirects); relative links resolve
// against the feed's site link, else against feedURL. Items without a date
// are dated now. The items come in the feed's order, each GUID once,
// their text cut to MaxTitleBytes, MaxSummaryBytes and MaxContentBytes and
// free of control characters (see Printable).
func Parse(sourceID, feedURL, contentType string, body []byte, now time.Time) ([]*Item, error) {
	if looksLikeHTML(contentType, body) {
		return nil, ErrNotFeed
	}
	trimmed := bytes.TrimSpace(bomless(body))
	if !bytes.HasPrefix(trimmed, []byte("{")) {
		utf, _, err := toUTF8(contentType, body)
		if err != nil {
			return nil, err
		}
		trimmed = repairXML(bytes.TrimSpace(utf))
	}
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(trimmed))
	if err != nil {
		if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
			return nil, errors.New("not a feed: neither RSS, Atom, RDF nor JSON Feed")
		}
		return nil, fmt.Errorf("malformed feed: %w", err)
	}
	if len(feed.Items) == 0 && strings.TrimSpace(feed.Title) == "" {
		return nil, ErrEmpty
	}
	docBase, _ := url.Parse(feedURL)
	base := docBase
	if site := resolve(docBase, feed.Link); site != nil {
		base = site
	}
	items := make([]*Item, 0, len(feed.Items))
	seen := make(map[string]int, len(feed.Items))
	for _, fi := range feed.Items {
		it := convert(sourceID, base, fi, now)
		if it == nil {
			continue
		}
		// A GUID listed twice is one item republished: the newer copy
		// (or, dated alike, the later one) replaces the older in place.
		if i, dup := seen[it.ID]; dup {
			if !it.Published.Before(items[i].Published) {
				items[i] = it
			}
			continue
		}
		seen[it.ID] = len(items)
		items = append(items, it)
	}
	return items, nil
}

// convert makes an Item of a parsed feed item, or returns nil for an item
// with neither a title nor a link.
func convert(sourceID string, base *url.URL, fi *gofeed.Item, now time.Time) *Item {
	summary, content := clip(fi.Description, MaxSummaryBytes), clip(fi.Content, MaxContentBytes)
	it := &Item{
		Source:  sourceID,
		GUID:    Printable(fi.GUID),
		Title:   Plain(clip(fi.Title, MaxTitleBytes)),
		URL:     CleanURL(base, fi.Link),
		Summary: Sanitize(base, summary),
		Content: Sanitize(base, content),
	}
	if it.URL == "" {
		for _, l := range fi.Links {
			if it.URL = CleanURL(base, l); it.URL != "" {
				break
			}
		}
	}
	if it.URL == "" && strings.HasPrefix(it.GUID, "http") {
		it.URL = CleanURL(base, it.GUID)
	}
	if it.Summary == it.Content {
		it.Content = ""
	}
	if it.Title == "" {
		it.Title = firstWords(Plain(it.Summary), 12)
	}
	if it.Title == "" && it.URL == "" {
		return nil
	}
	for _, a := range fi.Authors {
		if a != nil {
			if name := Plain(a.Name); name != "" && !slices.Contains(it.Authors, name) {
				it.Authors = append(it.Authors, name)
			}
		}
	}
	for _, c := range fi.Categories {
		if c = Plain(c); c != "" && !slices.Contains(it.Categories, c) {
			it.Categories = append(it.Categories, c)
		}
	}
	for _, e := range fi.Enclosures {
		if e == nil {
			continue
		}
		if u := CleanURL(base, e.URL); u != "" {
			n, _ := strconv.ParseInt(strings.TrimSpace(e.Length), 10, 64)
			it.Enclosures = append(it.Enclosures, Enclosure{URL: u, Type: Plain(e.Type), Length: max(n, 0)})
		}
	}
	var meta []string
	if dc := fi.DublinCoreExt; dc != nil {
		meta = append(meta, dc.Identifier...)
		meta = append(meta, dc.Source...)
		for _, c := range dc.Creator {
			if name := Plain(c); name != "" && !slices.Contains(it.Authors, name) {
				it.Authors = append(it.Authors, name)
			}
		}
	}
	for _, ns := range []string{"prism", "dc"} {
		for name, values := range fi.Extensions[ns] {
			if name == "doi" || name == "identifier" || name == "url" {
				for _, v := range values {
					meta = append(meta, v.Value)
				}
			}
		}
	}
	sort.Strings(meta)
	meta = append(append(meta, it.URL, it.GUID, fi.Link), fi.Links...)
	it.identify(append(meta, it.Title, summary, content)...)
	it.Published, it.Undated = itemDate(fi, now)
	if fi.UpdatedParsed != nil && !fi.UpdatedParsed.Equal(it.Published) {
		it.Updated = fi.UpdatedParsed.UTC()
	}
	it.FirstSeen = now.UTC()
	if it.Title == "" {
		// Neither a title nor any text: the link's host and the day.
		if u, err := url.Parse(it.URL); err == nil && u.Host != "" {
			it.Title = strings.TrimPrefix(u.Hostname(), "www.") + ", " + it.Published.Format("2 January 2006")
		}
	}
	key := it.GUID
	if key == "" {
		key = it.URL
	}
	if key == "" {
		key = it.Title
	}
	it.ID = ItemID(sourceID, key)
	return it
}

// ItemID is the stable ID of the item keyed key (its GUID, link or title)
// in source: 12 hex digits, short enough to type after --from.
func ItemID(source, key string) string {
	sum := sha256.Sum256([]byte(source + "\x00" + key))
	return hex.EncodeToString(sum[:6])
}

// dateLayouts are the formats real feeds write that gofeed's own date
// parser does not read.
var dateLayouts = []string{
	"02/01/2006 15:04", "02/01/2006", "2006-01-02 15:04", "2006-01-02",
	"January 2, 2006", "Jan 2, 2006", "2 January 2006", "2 Jan 2006",
	"Mon, 2 Jan 2006 15:04 -0700", "Mon, 2 Jan 2006 15:04 MST",
}

// itemDate returns the item's publication date, else its update date,
// else now (and true: the item is undated).
func itemDate(fi *gofeed.Item, now time.Time) (time.Time, bool) {
	if fi.PublishedParsed != nil && !fi.PublishedParsed.IsZero() {
		return fi.PublishedParsed.UTC(), false
	}
	if fi.UpdatedParsed != nil && !fi.UpdatedParsed.IsZero() {
		return fi.UpdatedParsed.UTC(), false
	}
	raw := strings.TrimSpace(fi.Published)
	if raw == "" {
		raw = strings.TrimSpace(fi.Updated)
	}
	if raw == "" && fi.DublinCoreExt != nil && len(fi.DublinCoreExt.Date) > 0 {
		raw = strings.TrimSpace(fi.DublinCoreExt.Date[0])
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, raw); err == nil {
			return t.UTC(), false
		}
	}
	return now.UTC(), true
}

// clip returns at most the first n bytes of s, cut where a character
// starts.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// firstWords returns the first n words of s, with an ellipsis if cut.
func firstWords(s string, n int) string {
	w := strings.Fields(s)
	if len(w) <= n {
		return strings.Join(w, " ")
	}
	return strings.Join(w[:n], " ") + "…"
}
