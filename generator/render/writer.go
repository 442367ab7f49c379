package render

import (
	"errors"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/output"
	"github.com/rounds-health/rounds/generator/search"
	"github.com/rounds-health/rounds/generator/site"
	"github.com/rounds-health/rounds/generator/theme"
)

// writer gathers a build's output files, for output to write.
type writer struct {
	site  *site.Site
	theme *theme.Theme
	files []output.File
	seen  map[string]string // output path → what made it, to catch clashes
	errs  config.ErrorList
	// searchCache keeps the search index's analyses of notes between
	// builds; nil keeps none.
	searchCache *search.Cache
	// later makes the files that are known only when they are made,
	// while the others render: the search index and its page.
	later *output.Later
	// prep fills in what every page's data has.
	prep func(*PageData)
	// channels are the feeds' channels, each kept while its formats
	// render.
	channels []*sharedChannel
	// keep, when set, says the site is consumed: a note's body is let go
	// once its page is made unless keep holds the note.
	keep map[*content.Note]bool
	// searched, when set, is closed once the search index's documents
	// are made.
	searched chan struct{}
	// lazySitemaps leaves the sitemaps to be planned when one is asked
	// for (see Plan).
	lazySitemaps bool
}

// newWriter returns a writer for the site's files, rendered with theme.
func newWriter(s *site.Site, th *theme.Theme) *writer {
	// The lists' pages and feeds (the notes' own are made from the
	// notes): made to size, as a rebuild under rounds serve makes it
	// again for every edit.
	files := len(s.Notes)/8 + 256
	return &writer{site: s, theme: th, files: make([]output.File, 0, files), seen: make(map[string]string, files)}
}

// render schedules the file at p, made by fn.
func (w *writer) render(p string, fn func(buf *output.Buffer) error) {
	w.add(output.File{Path: p, Render: fn}, p)
}

// contents makes a file of data, already made.
func contents(data []byte) func(buf *output.Buffer) error {
	return func(buf *output.Buffer) error { _, err := buf.Write(data); return err }
}

// copy schedules the file at p, copied from src.
func (w *writer) copy(p, src string) { w.add(output.File{Path: p, Src: src}, src) }

// add schedules f, which from makes: a path two things write is an error.
func (w *writer) add(f output.File, from string) {
	if prev, dup := w.seen[f.Path]; dup {
		w.errs = append(w.errs, config.Errorf(from, 0, "", "rename one of them", "writes %s, which %s also writes", f.Path, prev))
		return
	}
	w.seen[f.Path] = from
	w.files = append(w.files, f)
}

// page schedules an HTML page at its path.
func (w *writer) page(d *PageData) {
	f := w.pageFile(d)
	w.add(f, f.Path)
}

// pageFile returns the file of an HTML page.
func (w *writer) pageFile(d *PageData) output.File {
	p := d.Path + "index.html"
	if d.Kind == "404" {
		p = "404.html"
	}
	return output.File{Path: p, Render: func(buf *output.Buffer) error { return w.theme.Execute(buf, d.Kind, d) }}
}

// fileErrors turns the files output could not make into an ErrorList
// naming each file, keeping the theme's and content's own errors, each
// said once: a template error repeats on every page of its layout.
func fileErrors(err error) error {
	var files output.Errors
	if !errors.As(err, &files) {
		return err
	}
	var list config.ErrorList
	seen := map[string]bool{}
	for _, f := range files {
		e, ok := f.Err.(*config.Error)
		if !ok {
			e = config.Errorf(f.Path, 0, "", "", "%v", f.Err)
		}
		if key := e.Error(); !seen[key] {
			seen[key] = true
			list = append(list, e)
		}
	}
	return list.Err()
}
