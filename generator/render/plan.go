package render

import (
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/output"
	"github.com/rounds-health/rounds/generator/site"
	"github.com/rounds-health/rounds/generator/theme"
)

// A Plan is a site's output files, planned and not yet made, for a
// preview server that makes each file when it is asked for: a site is
// planned in a small part of the time it takes to render, and a plan
// holds none of its pages. Its files are those Write would write, but
// for the manifest. Making a file reads the site and the theme, which
// must not change meanwhile.
type Plan struct {
	w     *writer
	files map[string]output.File
	// lated are the later files (the search index and its page), made
	// once, when the first of them is asked for.
	lated *lated
	// sitemaps are the sitemap files, planned once, when the first of
	// them is asked for.
	sitemaps *lated
}

// lated are files of a plan made once, when the first of them is asked
// for: the later files, or the sitemaps.
type lated struct {
	once  sync.Once
	files map[string]output.File
	err   error
}

// NewPlan plans the site's files.
func NewPlan(s *site.Site, th *theme.Theme, opts *Options) (*Plan, error) {
	w := newWriter(s, th)
	w.searchCache = opts.Search
	w.lazySitemaps = true
	w.plan()
	if err := w.errs.Err(); err != nil {
		return nil, err
	}
	p := &Plan{w: w, files: make(map[string]output.File, len(w.files)), lated: new(lated), sitemaps: new(lated)}
	for _, f := range w.files {
		p.files[f.Path] = f
	}
	return p, nil
}

// late returns the later files, by path, made the first time it is
// called.
func (p *Plan) late() (map[string]output.File, error) {
	l := p.lated
	l.once.Do(func() {
		if p.w.later == nil {
			return
		}
		files, err := p.w.later.Files()
		if err != nil {
			l.err = err
			return
		}
		l.files = make(map[string]output.File, len(files))
		for _, f := range files {
			l.files[f.Path] = f
		}
	})
	return l.files, l.err
}

// sitemapFiles returns the sitemap files, by path, planned the first time
// it is called.
func (p *Plan) sitemapFiles() (map[string]output.File, error) {
	l := p.sitemaps
	l.once.Do(func() {
		files := p.w.sitemapFiles()
		l.files = make(map[string]output.File, len(files))
		for _, f := range files {
			if _, clash := p.files[f.Path]; clash {
				l.err = config.Errorf(p.w.seen[f.Path], 0, "", "rename one of them", "writes %s, which the sitemap also writes", f.Path)
				return
			}
			l.files[f.Path] = f
		}
	})
	return l.files, l.err
}

// Refresh readies the plan for notes the site's content cache edited in
// place (site.ContentCache.Update): the files made from many notes'
// texts (the feeds, the search index) are made afresh when next asked
// for; a note's page is made from the note each time. Nothing may make a
// file of the plan meanwhile.
func (p *Plan) Refresh() {
	for _, c := range p.w.channels {
		c.reset()
	}
	p.lated = new(lated)
	p.sitemaps = new(lated) // a note's day of review is in the sitemap
}

// file returns the file at path, and whether the plan has it. A path
// under the later files' folder makes them, if they are not made.
func (p *Plan) file(path string) (output.File, bool, error) {
	if f, ok := p.files[path]; ok {
		return f, true, nil
	}
	if slug, ok := notePath(path); ok {
		if n := p.w.site.Note(slug); n != nil {
			return p.w.noteFile(n), true, nil
		}
	}
	if isSitemap(path) {
		sitemaps, err := p.sitemapFiles()
		f, ok := sitemaps[path]
		return f, ok || err != nil, err
	}
	if p.w.later == nil || !strings.HasPrefix(path, p.w.later.Dir) {
		return output.File{}, false, nil
	}
	late, err := p.late()
	f, ok := late[path]
	return f, ok || err != nil, err
}

// Has reports whether the plan makes a file at path.
func (p *Plan) Has(path string) bool {
	_, ok, _ := p.file(path)
	return ok
}

// Paths returns the paths of the plan's files, in no order, the later
// ones made to know theirs.
func (p *Plan) Paths() ([]string, error) {
	paths := slices.Collect(maps.Keys(p.files))
	for _, n := range p.w.site.Notes {
		paths = append(paths, n.Path()+"index.html")
	}
	sitemaps, err := p.sitemapFiles()
	if err != nil {
		return nil, err
	}
	paths = slices.AppendSeq(paths, maps.Keys(sitemaps))
	late, err := p.late()
	return slices.AppendSeq(paths, maps.Keys(late)), err
}

// Make makes the file at path, and reports whether the plan has one.
func (p *Plan) Make(path string) ([]byte, bool, error) {
	f, ok, err := p.file(path)
	if !ok || err != nil {
		return nil, ok, err
	}
	data, err := f.Bytes()
	if err != nil {
		return nil, true, fileErrors(output.Errors{{Path: path, Err: err}})
	}
	return data, true, nil
}

// All makes every file of the plan, on workers goroutines (0: one per
// CPU), and returns them by path.
func (p *Plan) All(workers int) (map[string][]byte, error) {
	sitemaps, err := p.sitemapFiles()
	if err != nil {
		return nil, err
	}
	files := append(slices.Collect(maps.Values(p.files)), p.w.noteFiles()...)
	files = slices.AppendSeq(files, maps.Values(sitemaps))
	made := make(chan struct{})
	go func() {
		defer close(made)
		p.late()
	}()
	out, err := output.Render(files, nil, workers)
	<-made
	late, lateErr := p.late()
	if err != nil {
		return nil, fileErrors(err)
	}
	if lateErr != nil {
		return nil, lateErr
	}
	more, err := output.Render(slices.Collect(maps.Values(late)), nil, workers)
	if err != nil {
		return nil, fileErrors(err)
	}
	maps.Copy(out, more)
	return out, nil
}
