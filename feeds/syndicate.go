package feeds

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"time"

	gf "github.com/gorilla/feeds"
)

// A Channel is one outbound feed: its metadata and its entries, newest first.
type Channel struct {
	Title       string
	Description string
	Language    string // BCP 47, such as "en"
	Copyright   string
	Link        string // absolute URL of the page the feed belongs to
	ID          string // stable ID of the feed (Atom id)
	Author      Person
	// Updated is the newest entry's date; the channel never uses the
	// time of the build, so the same content writes the same bytes.
	Updated time.Time
	Entries []*Entry
}

// A Person is a feed's or an entry's author.
type Person struct {
	Name  string
	Email string
	URL   string
}

// An Entry is one item of a Channel.
type Entry struct {
	ID          string // stable: never derived from the build
	Title       string // plain text
	Link        string // absolute URL
	ExternalURL string // the source the entry is about, if any
	Summary     string // plain text
	ContentHTML string // HTML; absolute URLs only
	Published   time.Time
	Updated     time.Time
	Categories  []string
	// Extension is carried into the JSON Feed as the item's "_rounds"
	// object; RSS and Atom readers would not understand it.
	Extension map[string]any
}

func (c *Channel) generic() *gf.Feed {
	f := &gf.Feed{
		Title:       c.Title,
		Link:        &gf.Link{Href: c.Link},
		Description: c.Description,
		Updated:     c.Updated,
		Copyright:   c.Copyright,
		Id:          c.ID,
	}
	if c.Author.Name != "" || c.Author.Email != "" {
		f.Author = &gf.Author{Name: c.Author.Name, Email: c.Author.Email}
	}
	for _, e := range c.Entries {
		f.Items = append(f.Items, &gf.Item{
			Id:          e.ID,
			Title:       e.Title,
			Link:        &gf.Link{Href: e.Link},
			Description: e.Summary,
			Content:     e.ContentHTML,
			Created:     e.Published,
			Updated:     e.Updated,
		})
	}
	return f
}

// WriteRSS writes c as RSS 2.0.
func WriteRSS(w io.Writer, c *Channel) error {
	rss := (&gf.Rss{Feed: c.generic()}).RssFeed()
	rss.Language = c.Language
	rss.Generator = "Rounds"
	rss.ManagingEditor = ""
	if c.Author.Email != "" {
		rss.ManagingEditor = fmt.Sprintf("%s (%s)", c.Author.Email, c.Author.Name)
	}
	for i, e := range c.Entries {
		item := rss.Items[i]
		item.Guid = &gf.RssGuid{Id: e.ID, IsPermaLink: "false"}
		if len(e.Categories) > 0 {
			item.Category = e.Categories[0]
		}
		item.PubDate = e.Published.Format(time.RFC1123Z)
	}
	return gf.WriteXML(rss, w)
}

// WriteAtom writes c as Atom 1.0.
func WriteAtom(w io.Writer, c *Channel) error {
	atom := (&gf.Atom{Feed: c.generic()}).AtomFeed()
	atom.Id = c.ID
	if atom.Author == nil {
		atom.Author = &gf.AtomAuthor{AtomPerson: gf.AtomPerson{Name: c.Title}}
	}
	atom.Author.Uri = c.Author.URL
	out := &atomFeed{AtomFeed: atom, Entries: make([]atomEntry, len(atom.Entries))}
	for i, e := range c.Entries {
		atom.Entries[i].Published = e.Published.Format(time.RFC3339)
		out.Entries[i].AtomEntry = atom.Entries[i]
		for _, cat := range e.Categories {
			out.Entries[i].Categories = append(out.Entries[i].Categories, atomCategory{Term: cat})
		}
	}
	atom.Entries = nil
	if _, err := io.WriteString(w, xml.Header[:len(xml.Header)-1]); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	return enc.Encode(out)
}

// atomFeed and atomEntry are gorilla/feeds' Atom with each entry's
// categories as Atom writes them, <category term="…"/>, as many as it has.
type atomFeed struct {
	*gf.AtomFeed
	Entries []atomEntry `xml:"entry"`
}

type atomEntry struct {
	*gf.AtomEntry
	Categories []atomCategory
}

type atomCategory struct {
	XMLName xml.Name `xml:"category"`
	Term    string   `xml:"term,attr"`
}

// jsonItem is a JSON Feed item with the Rounds extension.
type jsonItem struct {
	*gf.JSONItem
	Rounds map[string]any `json:"_rounds,omitempty"`
}

type jsonFeed struct {
	*gf.JSONFeed
	Items []jsonItem `json:"items"`
}

// WriteJSON writes c as JSON Feed 1.1; feedURL is where it will be served.
func WriteJSON(w io.Writer, c *Channel, feedURL string) error {
	return writeJSON(w, newJSONFeed(c, feedURL))
}

// newJSONFeed returns c as a JSON Feed, served at feedURL.
func newJSONFeed(c *Channel, feedURL string) jsonFeed {
	f := (&gf.JSON{Feed: c.generic()}).JSONFeed()
	f.FeedUrl = feedURL
	f.Language = c.Language
	items := make([]jsonItem, len(c.Entries))
	for i, e := range c.Entries {
		it := f.Items[i]
		it.ExternalUrl = e.ExternalURL
		it.Tags = e.Categories
		if it.ContentHTML == "" {
			it.ContentText = e.Summary
		}
		items[i] = jsonItem{JSONItem: it, Rounds: e.Extension}
	}
	f.Items = nil
	return jsonFeed{JSONFeed: f, Items: items}
}

// writeJSON writes feed compactly, without escaping HTML's characters.
func writeJSON(w io.Writer, feed jsonFeed) error {
	// Compact: feeds are read by programs, and indenting full-content
	// feeds costs more than writing them. The feed is encoded an item at
	// a time, into a buffer the size of the largest item rather than of
	// the feed: a large archive's editions feed runs to tens of
	// megabytes. Compact JSON is the same written in parts: the items
	// come last, and each encodes as it would inside the whole.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	items := feed.Items
	feed.Items = []jsonItem{}
	if err := enc.Encode(feed); err != nil {
		return err
	}
	head, ok := bytes.CutSuffix(buf.Bytes(), []byte(`"items":[]}`+"\n"))
	if !ok {
		return fmt.Errorf("JSON feed: items are not its last member")
	}
	if _, err := io.WriteString(w, string(head)+`"items":[`); err != nil {
		return err
	}
	for i := range items {
		buf.Reset()
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(&items[i]); err != nil {
			return err
		}
		if _, err := w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "]}\n")
	return err
}
