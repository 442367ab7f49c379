package content

import "github.com/rounds-health/rounds/generator/config"

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
// the project, for errors. It returns every problem it finds; with
// problems, the Doc may be nil or hold what could be read.
func Parse(cfg *config.Config, kind, path string, data []byte) (*Doc, config.ErrorList) {
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
	out, err := Markdown(cfg, doc.body)
	if err != nil {
		errs = append(errs, config.Errorf(path, doc.bodyLine, "", "", "markdown: %v", err))
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
