package render

import (
	"bytes"
	"errors"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/output"
	"github.com/rounds-health/rounds/generator/search"
	"github.com/rounds-health/rounds/generator/site"
	"github.com/rounds-health/rounds/generator/theme"
)

// A job makes one output file.
type job struct {
	output.File
	// deps are the notes the file shows; a file with all set depends on
	// every note. An incremental rebuild re-renders the files whose notes
	// changed.
	deps []*content.Note
	all  bool
	// bodyDeps are the notes whose body the file shows.
	bodyDeps []*content.Note
	// page is what a page's layout executes with; nil for other files.
	page *PageData
}

// writer gathers a build's output files, for output to write.
type writer struct {
	site  *site.Site
	theme *theme.Theme
	jobs  []job
	seen  map[string]string // output path → what made it, to catch clashes
	errs  config.ErrorList
	// searchCache keeps the search index's analyses of notes between
	// builds; nil keeps none.
	searchCache *search.Cache
	// later makes the files that are known only when they are made,
	// while the others render: the search index and its page.
	later *output.Later
}

// newWriter returns a writer for the site's files, rendered with theme.
func newWriter(s *site.Site, th *theme.Theme) *writer {
	// A page a note, and some more for lists and feeds: made to size, as
	// a rebuild under rounds serve makes it again for every edit.
	files := len(s.Notes) + len(s.Notes)/8 + 256
	return &writer{site: s, theme: th, jobs: make([]job, 0, files), seen: make(map[string]string, files)}
}

// render schedules the file at p, made by fn.
func (w *writer) render(p string, fn func(buf *bytes.Buffer) error) {
	w.add(job{File: output.File{Path: p, Render: fn}}, p)
}

// contents makes a file of data, already made.
func contents(data []byte) func(buf *bytes.Buffer) error {
	return func(buf *bytes.Buffer) error { _, err := buf.Write(data); return err }
}

// copy schedules the file at p, copied from src.
func (w *writer) copy(p, src string) { w.add(job{File: output.File{Path: p, Src: src}}, src) }

func (w *writer) add(j job, from string) {
	if prev, dup := w.seen[j.Path]; dup {
		w.errs = append(w.errs, config.Errorf(from, 0, "", "rename one of them", "writes %s, which %s also writes", j.Path, prev))
		return
	}
	w.seen[j.Path] = from
	w.jobs = append(w.jobs, j)
}

// page schedules an HTML page at its path.
func (w *writer) page(d *PageData) {
	j := job{File: w.pageFile(d), page: d}
	if d.Note != nil {
		j.deps = append(j.deps, d.Note)
		j.bodyDeps = []*content.Note{d.Note}
	}
	j.deps = append(j.deps, d.Notes...)
	if d.Edition != nil {
		j.deps = append(j.deps, d.Edition.Notes...)
	}
	// Wire pages name the notes that curate their stories.
	if d.Kind == "wire" {
		j.deps = w.site.Notes
	}
	w.add(j, j.Path)
}

// pageFile returns the file of an HTML page.
func (w *writer) pageFile(d *PageData) output.File {
	p := d.Path + "index.html"
	if d.Kind == "404" {
		p = "404.html"
	}
	return output.File{Path: p, Render: func(buf *bytes.Buffer) error { return w.theme.Execute(buf, d.Kind, d) }}
}

// files returns the jobs' files, for output to make.
func (w *writer) files() []output.File {
	files := make([]output.File, len(w.jobs))
	for i := range w.jobs {
		files[i] = w.jobs[i].File
	}
	return files
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
