package generator

import (
	"bufio"
	"bytes"
	"html/template"
	"regexp"
	"strings"
	"sync"

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

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// writerPool holds buffered writers for goldmark, which otherwise makes a
// new 4 KiB one for every document it renders.
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}

// rootLink matches a link or image whose URL starts with one slash.
var rootLink = regexp.MustCompile(`( (?:href|src)=")/([^/])`)

// Markdown converts a curator's Markdown to HTML. A link or image whose
// URL starts with "/" is taken from the site's root, so "/disclaimer/"
// works under any base_url, with or without a sub-path.
func (c *Config) Markdown(src []byte) (template.HTML, error) {
	h, err := renderMarkdown(src)
	if err != nil || c.base.Path == "/" || !strings.Contains(string(h), `="/`) {
		return h, err
	}
	return template.HTML(rootLink.ReplaceAllString(string(h), "${1}"+c.base.Path+"${2}")), nil
}

// renderMarkdown converts src to HTML.
func renderMarkdown(src []byte) (template.HTML, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	w := writerPool.Get().(*bufio.Writer)
	defer writerPool.Put(w)
	w.Reset(buf)
	if err := markdown.Convert(src, w); err != nil {
		return "", err
	}
	if err := w.Flush(); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil
}
