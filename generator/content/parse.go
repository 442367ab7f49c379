package content

import (
	"html/template"

	"github.com/rounds-health/rounds/generator/config"
)

// A Doc is what a content file holds: a note, an edition or a page.
type Doc struct {
	Note    *Note
	Edition *Edition
	Page    *Page
	// SlugLine is the file line of the slug key, 0 when it is not set.
	SlugLine int
}

// Parse reads a content file of kind "notes", "editions" or "pages": its
// front matter and its Markdown, rendered to HTML. path is its path in
// the project, for errors. With deferBody, a note's Markdown is not
// rendered: its Content is left empty, for Body to make from the file if
// it is asked for (a digest of a site of 100,000 notes shows a few). It
// returns every problem it finds; with problems, the Doc may be nil or
// hold what could be read.
func Parse(cfg *config.Config, kind, path string, data []byte, deferBody bool) (*Doc, config.ErrorList) {
	var errs config.ErrorList
	d := &Doc{}
	doc, err := splitDocument(path, data)
	if err != nil {
		return nil, config.AsList(err)
	}
	fl, ok := decodeFields(doc, cfg.Location(), &errs)
	if !ok {
		return nil, errs
	}
	var out template.HTML
	if kind != "notes" || !deferBody {
		if out, err = body(cfg, doc); err != nil {
			errs = append(errs, config.AsList(err)...)
		}
	}
	if _, set := fl.m["slug"]; set {
		d.SlugLine = fl.line("slug")
	}
	switch kind {
	case "notes":
		d.Note = parseNote(fl)
		d.Note.Content = out
		d.Note.URL = cfg.RelURL(d.Note.Path())
		d.Note.Links = SiteLinks(doc.body, doc.bodyLine)
	case "editions":
		d.Edition = parseEdition(fl)
		d.Edition.Content, d.Edition.Body = out, string(doc.body)
		d.Edition.Links = SiteLinks(doc.body, doc.bodyLine)
	case "pages":
		d.Page = parsePage(fl)
		d.Page.Content = out
		d.Page.Links = SiteLinks(doc.body, doc.bodyLine)
	}
	return d, errs
}

// Body renders the Markdown of the content file data, at path, to HTML:
// the Content that Parse leaves out with deferBody.
func Body(cfg *config.Config, path string, data []byte) (template.HTML, error) {
	doc, err := splitDocument(path, data)
	if err != nil {
		return "", err
	}
	return body(cfg, doc)
}

// body renders doc's Markdown.
func body(cfg *config.Config, doc *document) (template.HTML, error) {
	out, err := Markdown(cfg, doc.body)
	if err != nil {
		return "", config.Errorf(doc.file, doc.bodyLine, "", "", "markdown: %v", err)
	}
	return out, nil
}
