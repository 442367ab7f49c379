package generator

import (
	"bytes"
	"html/template"
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

// renderMarkdown converts src to HTML.
func renderMarkdown(src []byte) (template.HTML, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	if err := markdown.Convert(src, buf); err != nil {
		return "", err
	}
	return template.HTML(buf.String()), nil
}
