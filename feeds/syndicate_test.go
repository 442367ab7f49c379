package feeds

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

func channel() *Channel {
	d1 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	d2 := time.Date(2026, 11, 9, 9, 0, 0, 0, time.UTC)
	return &Channel{
		Title:       "Rounds & co",
		Description: "Evidence, <curated>",
		Language:    "en",
		Link:        "https://example.org/",
		ID:          "https://example.org/",
		Author:      Person{Name: "Editors", Email: "editors@example.org"},
		Updated:     d2,
		Entries: []*Entry{
			{ID: "tag:example.org,2026-11-09:/notes/b/", Title: "B <trial> & \"results\"", Link: "https://example.org/notes/b/",
				Summary: "Summary B", ContentHTML: "<p>Body ]]> B</p>", Published: d2, Updated: d2, Categories: []string{"Vaccines"},
				Extension: map[string]any{"evidence": map[string]any{"level": "1b"}}},
			{ID: "tag:example.org,2026-11-02:/notes/a/", Title: "A", Link: "https://example.org/notes/a/",
				ExternalURL: "https://doi.org/10.1/x", Summary: "Summary A", Published: d1, Updated: d1},
		},
	}
}

func TestRSS(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteRSS(&buf, channel()); err != nil {
		t.Fatal(err)
	}
	var rss struct {
		Version string `xml:"version,attr"`
		Channel struct {
			Title         string `xml:"title"`
			Link          string `xml:"link"`
			Language      string `xml:"language"`
			LastBuildDate string `xml:"lastBuildDate"`
			Items         []struct {
				Title    string `xml:"title"`
				PubDate  string `xml:"pubDate"`
				Category string `xml:"category"`
				GUID     struct {
					ID          string `xml:",chardata"`
					IsPermaLink string `xml:"isPermaLink,attr"`
				} `xml:"guid"`
				Encoded string `xml:"http://purl.org/rss/1.0/modules/content/ encoded"`
			} `xml:"item"`
		} `xml:"channel"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &rss); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	c := rss.Channel
	if rss.Version != "2.0" || c.Title != "Rounds & co" || c.Language != "en" || c.LastBuildDate != "Mon, 09 Nov 2026 09:00:00 +0000" {
		t.Errorf("channel: %+v", c)
	}
	if len(c.Items) != 2 {
		t.Fatalf("%d items", len(c.Items))
	}
	b := c.Items[0]
	if b.Title != `B <trial> & "results"` || b.GUID.ID != "tag:example.org,2026-11-09:/notes/b/" || b.GUID.IsPermaLink != "false" ||
		b.PubDate != "Mon, 09 Nov 2026 09:00:00 +0000" || b.Category != "Vaccines" || b.Encoded != "<p>Body ]]> B</p>" {
		t.Errorf("item: %+v", b)
	}
}

func TestAtom(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteAtom(&buf, channel()); err != nil {
		t.Fatal(err)
	}
	var feed struct {
		ID      string `xml:"id"`
		Updated string `xml:"updated"`
		Author  struct {
			Name string `xml:"name"`
		} `xml:"author"`
		Entries []struct {
			Published string `xml:"published"`
			Link      struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
			Content    string `xml:"content"`
			Categories []struct {
				Term string `xml:"term,attr"`
				Text string `xml:",chardata"`
			} `xml:"category"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &feed); err != nil {
		t.Fatal(err)
	}
	if feed.ID != "https://example.org/" || feed.Updated != "2026-11-09T09:00:00Z" || feed.Author.Name != "Editors" {
		t.Errorf("feed: %+v", feed)
	}
	if len(feed.Entries) != 2 || feed.Entries[1].Published != "2026-11-02T09:00:00Z" || feed.Entries[1].Link.Href != "https://example.org/notes/a/" {
		t.Errorf("entries: %+v", feed.Entries)
	}
	if !strings.HasPrefix(buf.String(), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Error("no XML declaration")
	}
	// Categories as Atom has them: a term attribute, as RSS items have.
	if c := feed.Entries[0].Categories; len(c) != 1 || c[0].Term != "Vaccines" || c[0].Text != "" || len(feed.Entries[1].Categories) != 0 {
		t.Errorf("categories: %+v", feed.Entries)
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := WriteJSON(&buf, channel(), "https://example.org/feed.json"); err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(buf.Bytes(), &f); err != nil {
		t.Fatal(err)
	}
	if f["version"] != "https://jsonfeed.org/version/1.1" || f["feed_url"] != "https://example.org/feed.json" || f["home_page_url"] != "https://example.org/" || f["language"] != "en" {
		t.Errorf("feed: %v", f)
	}
	items := f["items"].([]any)
	b, a := items[0].(map[string]any), items[1].(map[string]any)
	if b["_rounds"].(map[string]any)["evidence"].(map[string]any)["level"] != "1b" || b["content_html"] != "<p>Body ]]> B</p>" {
		t.Errorf("item b: %v", b)
	}
	if _, ok := a["_rounds"]; ok || a["external_url"] != "https://doi.org/10.1/x" || a["content_text"] != "Summary A" || a["date_published"] != "2026-11-02T09:00:00Z" {
		t.Errorf("item a: %v", a)
	}
	if strings.Contains(buf.String(), `\u003c`) {
		t.Error("JSON escapes HTML needlessly")
	}
}

// TestDeterministic writes each format twice and compares the bytes.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	for name, write := range map[string]func(*bytes.Buffer) error{
		"rss":  func(b *bytes.Buffer) error { return WriteRSS(b, channel()) },
		"atom": func(b *bytes.Buffer) error { return WriteAtom(b, channel()) },
		"json": func(b *bytes.Buffer) error { return WriteJSON(b, channel(), "https://example.org/feed.json") },
	} {
		var a, b bytes.Buffer
		if err := write(&a); err != nil {
			t.Fatal(err)
		}
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) || a.Len() == 0 {
			t.Errorf("%s: output differs between two writes", name)
		}
	}
}

// TestJSONInParts checks that the feed written an item at a time is, byte
// for byte, the feed encoded whole, with no items, one, and several
// holding what JSON escapes (quotes, control characters, U+2028) and
// HTML's characters, which it leaves.
func TestJSONInParts(t *testing.T) {
	t.Parallel()
	tricky := channel()
	tricky.Entries[1].ContentHTML = "<p>\"Quoted\", tab\there, line\u2028separator & <b>bold</b></p>"
	tricky.Entries = append(tricky.Entries, tricky.Entries[0], tricky.Entries[1])
	for name, c := range map[string]*Channel{
		"none":    {Title: "Empty", Link: "https://example.org/", ID: "https://example.org/"},
		"one":     {Title: "One", Link: "https://example.org/", ID: "https://example.org/", Entries: channel().Entries[:1]},
		"several": tricky,
	} {
		var parts, whole bytes.Buffer
		if err := WriteJSON(&parts, c, "https://example.org/feed.json"); err != nil {
			t.Fatal(err)
		}
		enc := json.NewEncoder(&whole)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(newJSONFeed(c, "https://example.org/feed.json")); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(parts.Bytes(), whole.Bytes()) {
			t.Errorf("%s: written in parts:\n%s\nencoded whole:\n%s", name, parts.Bytes(), whole.Bytes())
		}
	}
}
