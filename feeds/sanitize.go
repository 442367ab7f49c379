package feeds

import (
	"html"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// policy is what survives of a feed's HTML: text structure, links and
// images over http(s), tables. No scripts, event handlers, styles,
// classes, ids, frames, objects, forms or base/meta/link elements; links
// carry rel="nofollow noopener noreferrer" and open nothing by themselves.
var policy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowStandardURLs() // http, https, mailto; parseable; relative refused below
	p.AllowURLSchemes("http", "https")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	p.RequireNoFollowOnLinks(true)
	p.RequireNoReferrerOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	p.AllowAttrs("href", "title").OnElements("a")
	p.AllowAttrs("src", "alt", "title", "width", "height").OnElements("img")
	p.AllowElements("p", "br", "hr", "div", "span", "blockquote", "pre", "code",
		"em", "strong", "b", "i", "u", "s", "sub", "sup", "small", "mark", "abbr", "cite", "q",
		"ul", "ol", "li", "dl", "dt", "dd", "h2", "h3", "h4", "h5", "h6",
		"figure", "figcaption", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption")
	p.AllowAttrs("colspan", "rowspan", "scope").OnElements("th", "td")
	p.AllowAttrs("title").OnElements("abbr")
	// A feed's h1 would compete with the page's own title.
	p.AllowElements("h1")
	p.SkipElementsContent("script", "style", "noscript", "template", "iframe", "object", "svg", "math", "head", "title", "textarea", "select")
	return p
}()

// Sanitize makes untrusted HTML from a feed safe to put in a page, a feed
// or an email. The HTML is parsed as a browser would parse it, its
// relative links and images are resolved against base, and then only what
// the policy allows is kept: whatever cannot be made an absolute http(s)
// URL is dropped, and so are control characters but for tabs and line
// breaks, written out or as references such as "&#27;".
func Sanitize(base *url.URL, s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return strings.TrimSpace(stripControls(policy.Sanitize(normalize(base, s))))
}

// normalize parses HTML s the way a browser would, resolves its href and
// src attributes against base, and writes it back out balanced: what the
// sanitizer then sees is what a browser would build, so mis-nested and
// unclosed markup can neither hide a payload from it nor make it drop the
// content that follows. Its output is still untrusted.
func normalize(base *url.URL, s string) string {
	body := &xhtml.Node{Type: xhtml.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := xhtml.ParseFragment(strings.NewReader(s), body)
	if err != nil {
		return ""
	}
	var b strings.Builder
	b.Grow(len(s) + 64)
	for _, n := range nodes {
		resolveAttrs(base, n)
		if err := xhtml.Render(&b, n); err != nil {
			return ""
		}
	}
	return b.String()
}

// resolveAttrs makes the href and src attributes under n absolute.
func resolveAttrs(base *url.URL, n *xhtml.Node) {
	if n.Type == xhtml.ElementNode && base != nil {
		for i, a := range n.Attr {
			if a.Namespace == "" && (a.Key == "href" || a.Key == "src") {
				if u := resolve(base, a.Val); u != nil {
					n.Attr[i].Val = u.String()
				}
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		resolveAttrs(base, c)
	}
}

// Plain turns a feed's title or other short text, which may hold markup
// and entities, into plain text on one line, printable (see Printable).
func Plain(s string) string {
	if strings.ContainsAny(s, "<&") {
		s = html.UnescapeString(stripTags(s))
	}
	return Printable(s)
}

// Printable returns s, text that came from outside Rounds (a feed, a
// server's answer), as one line fit to print on a terminal or to write
// into a configuration file: without C0 control characters, DEL or C1
// control characters (U+0080 to U+009F), which a terminal takes for
// commands and TOML refuses, with every run of white space (tabs and
// line breaks included) one space, trimmed, and with any byte that is
// not UTF-8 replaced by U+FFFD. Print what came from outside through it.
func Printable(s string) string {
	if printable(s) {
		return s
	}
	return strings.Join(strings.Fields(stripControls(s)), " ")
}

// printable reports whether Printable would return s as it is.
func printable(s string) bool {
	prevSpace := true // no leading space
	for _, r := range s {
		space := r == ' '
		if space && prevSpace || isControl(r) || r == utf8.RuneError || r != ' ' && unicode.IsSpace(r) {
			return false
		}
		prevSpace = space
	}
	return !prevSpace || s == ""
}

// isControl reports whether r is a C0 control character, DEL or a C1
// control character.
func isControl(r rune) bool {
	return r < 0x20 || r >= 0x7f && r <= 0x9f
}

// stripControls drops the control characters of s but for tab, line feed
// and carriage return, which are white space in HTML and on several lines,
// and replaces any byte that is not UTF-8 with U+FFFD.
func stripControls(s string) string {
	return strings.Map(func(r rune) rune {
		if isControl(r) && r != '\t' && r != '\n' && r != '\r' {
			return -1
		}
		return r
	}, s)
}

// stripTags removes tags from s, keeping their text and dropping the text
// of elements that are never text (scripts, styles).
func stripTags(s string) string {
	z := xhtml.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			return b.String()
		case xhtml.TextToken:
			if skip == 0 {
				b.Write(z.Raw())
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken, xhtml.EndTagToken:
			name, _ := z.TagName()
			tag := string(name)
			switch {
			case isOpaque(tag) && tt == xhtml.StartTagToken:
				skip++
			case isOpaque(tag) && skip > 0:
				skip--
			case isBlock(tag):
				// Blocks are separate words: "<p>a</p><p>b</p>" is "a b".
				b.WriteByte(' ')
			}
		}
	}
}

func isBlock(tag string) bool {
	switch tag {
	case "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td", "th", "blockquote", "pre", "hr", "dt", "dd", "figure", "figcaption", "section", "article", "table":
		return true
	}
	return false
}

func isOpaque(tag string) bool {
	switch tag {
	case "script", "style", "template", "noscript", "iframe", "object", "svg", "math", "textarea", "title":
		return true
	}
	return false
}

// Excerpt returns the first n words of HTML s as plain text, with an
// ellipsis if it was cut.
func Excerpt(s string, n int) string {
	return firstWords(Plain(s), n)
}
