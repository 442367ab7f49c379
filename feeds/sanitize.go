package feeds

import (
	"html"
	"net/url"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	xhtml "golang.org/x/net/html"
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
	p.SkipElementsContent("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math", "head", "title", "textarea", "select")
	return p
}()

// Sanitize makes untrusted HTML from a feed safe to put in a page, a feed
// or an email. Relative links and images are first resolved against base;
// whatever cannot be made an absolute http(s) URL is dropped.
func Sanitize(base *url.URL, s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	s = absolutize(base, s)
	return strings.TrimSpace(policy.Sanitize(s))
}

// absolutize rewrites the href and src attributes of HTML s to absolute
// URLs against base. It runs before sanitizing, so its output is still
// untrusted; it only keeps relative links from being dropped.
func absolutize(base *url.URL, s string) string {
	if base == nil || !strings.ContainsAny(s, "<") {
		return s
	}
	z := xhtml.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	b.Grow(len(s) + 64)
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return b.String()
		}
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			b.Write(z.Raw())
			continue
		}
		t := z.Token()
		changed := false
		for i, a := range t.Attr {
			if a.Key != "href" && a.Key != "src" {
				continue
			}
			if u := resolve(base, a.Val); u != nil {
				t.Attr[i].Val = u.String()
				changed = true
			}
		}
		if changed {
			b.WriteString(t.String())
		} else {
			b.Write(z.Raw())
		}
	}
}

// Plain turns a feed's title or other short text, which may hold markup
// and entities, into plain text on one line.
func Plain(s string) string {
	if strings.ContainsAny(s, "<&") {
		s = html.UnescapeString(stripTags(s))
	}
	return strings.Join(strings.Fields(s), " ")
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
