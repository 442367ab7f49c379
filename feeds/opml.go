package feeds

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"
)

// A Subscription is a feed listed in an OPML file.
type Subscription struct {
	Title   string
	FeedURL string
	SiteURL string
	// Categories are the outline's categories and the titles of the
	// folders it is in, outermost first.
	Categories []string
	// Kind is Rounds' own attribute: journal, agency, regulator...
	Kind string
	// ID is the source's id in Rounds, kept in Rounds' own attribute
	// roundsId so that an export read back keeps each source's cache and
	// its items' IDs; "" in other tools' files.
	ID string
}

type opmlDoc struct {
	XMLName xml.Name `xml:"opml"`
	Version string   `xml:"version,attr"`
	Head    struct {
		Title string `xml:"title"`
	} `xml:"head"`
	Body struct {
		Outlines []opmlOutline `xml:"outline"`
	} `xml:"body"`
}

type opmlOutline struct {
	Text     string        `xml:"text,attr"`
	Title    string        `xml:"title,attr,omitempty"`
	Type     string        `xml:"type,attr,omitempty"`
	XMLURL   string        `xml:"xmlUrl,attr,omitempty"`
	HTMLURL  string        `xml:"htmlUrl,attr,omitempty"`
	Category string        `xml:"category,attr,omitempty"`
	Kind     string        `xml:"kind,attr,omitempty"`
	ID       string        `xml:"roundsId,attr,omitempty"`
	Outlines []opmlOutline `xml:"outline"`
}

// ReadOPML reads the feeds of an OPML 1.0 or 2.0 file, folders included,
// in the file's order.
func ReadOPML(r io.Reader) ([]Subscription, error) {
	data, err := io.ReadAll(io.LimitReader(r, 16<<20))
	if err != nil {
		return nil, err
	}
	utf, _, err := toUTF8("", data)
	if err != nil {
		return nil, err
	}
	var doc opmlDoc
	dec := xml.NewDecoder(bytes.NewReader(repairXML(utf)))
	if err := dec.Decode(&doc); err != nil {
		line, _ := dec.InputPos()
		return nil, fmt.Errorf("line %d: not an OPML file: %w", line, err)
	}
	var subs []Subscription
	var walk func([]opmlOutline, []string)
	walk = func(outlines []opmlOutline, folders []string) {
		for _, o := range outlines {
			title := Plain(o.Title)
			if title == "" {
				title = Plain(o.Text)
			}
			if o.XMLURL == "" {
				walk(o.Outlines, append(folders[:len(folders):len(folders)], title))
				continue
			}
			s := Subscription{Title: title, FeedURL: strings.TrimSpace(o.XMLURL), SiteURL: strings.TrimSpace(o.HTMLURL), Kind: Plain(o.Kind), ID: strings.TrimSpace(o.ID)}
			s.Categories = append(s.Categories, folders...)
			for _, c := range strings.Split(o.Category, ",") {
				for _, part := range strings.Split(c, "/") {
					if part = Plain(part); part != "" && !slices.Contains(s.Categories, part) {
						s.Categories = append(s.Categories, part)
					}
				}
			}
			subs = append(subs, s)
		}
	}
	walk(doc.Body.Outlines, nil)
	return subs, nil
}

// WriteOPML writes subscriptions as an OPML 2.0 file titled title. Its
// bytes depend only on its input.
func WriteOPML(w io.Writer, title string, subs []Subscription) error {
	doc := opmlDoc{Version: "2.0"}
	doc.Head.Title = title
	for _, s := range subs {
		doc.Body.Outlines = append(doc.Body.Outlines, opmlOutline{
			Text: s.Title, Title: s.Title, Type: "rss",
			XMLURL: s.FeedURL, HTMLURL: s.SiteURL,
			Category: strings.Join(s.Categories, ","), Kind: s.Kind, ID: s.ID,
		})
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
