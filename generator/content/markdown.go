package content

import (
	"bufio"
	"bytes"
	"html/template"
	"regexp"
	"strings"
	"sync"

	"github.com/rounds-health/rounds/generator/config"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

// markdown converts curators' Markdown: GitHub Flavored Markdown, footnotes,
// typographic quotes and dashes, and ids on headings. Raw HTML is left out.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.GFM, extension.Footnote, extension.Typographer),
	goldmark.WithParserOptions(parser.WithAutoHeadingID()),
)

// unlinked is markdown without the autolinking of bare URLs and addresses,
// for documents that have none: it renders them identically, and the
// autolinker, which looks for a link at every space, is a third of the
// parser's time.
var unlinked = goldmark.New(
	goldmark.WithExtensions(extension.Table, extension.Strikethrough, extension.TaskList, extension.Footnote, extension.Typographer),
	goldmark.WithParserOptions(parser.WithAutoHeadingID()),
)

// mayAutolink reports whether GFM's autolinker could find anything in src.
// It links only text with "://", "www." or "@"; the destination of a
// Markdown link, "[text](https://…)", and an autolink, "<https://…>", are
// not text, so they are left out of the check.
func mayAutolink(src []byte) bool {
	for len(src) > 0 {
		i := bytes.IndexAny(src, "](<")
		text := src
		if i >= 0 {
			text = src[:i]
		}
		if bytes.Contains(text, []byte("://")) || bytes.Contains(text, []byte("www.")) || bytes.IndexByte(text, '@') >= 0 {
			return true
		}
		if i < 0 {
			return false
		}
		src = src[i:]
		// Skip a destination: "](…)" or "<…>" without spaces.
		open, close := 1, byte(')')
		switch {
		case src[0] == '<':
			close = '>'
		case bytes.HasPrefix(src, []byte("](")):
			open = 2
		default:
			src = src[1:]
			continue
		}
		end := bytes.IndexAny(src[open:], string(close)+" \n")
		if end < 0 || src[open+end] != close {
			// Not a destination after all: check it as text.
			src = src[1:]
			continue
		}
		src = src[open+end+1:]
	}
	return false
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writerPool holds buffered writers for goldmark, which otherwise makes a
// new 4 KiB one for every document it renders.
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}

// rootLink matches a link or image whose URL starts with one slash.
var rootLink = regexp.MustCompile(`( (?:href|src)=")/([^/])`)

// Markdown converts a curator's Markdown to HTML. A link or image whose
// URL starts with "/" is taken from the site's root, so "/disclaimer/"
// works under any base_url, with or without a sub-path.
func Markdown(c *config.Config, src []byte) (template.HTML, error) {
	h, err := renderMarkdown(src)
	if err != nil {
		return h, err
	}
	// Identifiers mentioned in the text (doi:…, PMID …, PMC…, NCT…)
	// become links to where they resolve.
	h = template.HTML(linkIdentifiers(string(h)))
	base := c.Base().Path
	if base == "/" || !strings.Contains(string(h), `="/`) {
		return h, nil
	}
	return template.HTML(rootLink.ReplaceAllString(string(h), "${1}"+base+"${2}")), nil
}

// renderMarkdown converts src to HTML.
func renderMarkdown(src []byte) (template.HTML, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	w := writerPool.Get().(*bufio.Writer)
	defer writerPool.Put(w)
	w.Reset(buf)
	md := unlinked
	if mayAutolink(src) {
		md = markdown
	}
	if err := md.Convert(src, w); err != nil {
		return "", err
	}
	if err := w.Flush(); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil
}
