package render

import (
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/leak"
	"github.com/rounds-health/rounds/generator/output"
	"github.com/rounds-health/rounds/generator/search"
	"github.com/rounds-health/rounds/generator/site"
	"github.com/rounds-health/rounds/generator/theme"
)

// A Result describes a finished build.
type Result struct {
	Out      string // the output folder
	Notes    int    // published notes
	Editions int    // published editions
	Files    int    // files written
	Manifest *output.Manifest
	// Held are the notes and editions the build left out: drafts,
	// scheduled, expired.
	Held site.Held
	// PHI are the findings that may identify a patient; publishing
	// refuses the build while there are any.
	PHI []content.Finding
}

// Options say where and how a site is written.
type Options struct {
	// Out is the folder the site is written to; empty means "public" beside
	// the configuration file.
	Out string
	// Workers bounds the parallel work; 0 means one per CPU.
	Workers int
	// Guard holds the subscribers' addresses: writing one into any output
	// file, or its name, fails.
	Guard *leak.Guard
	// Search keeps the search index's work from one build to the next,
	// for rounds serve; nil keeps none.
	Search *search.Cache
	// Consume says the site is not used after Write, which may then let
	// each note's body go once what shows it is made (see keptBodies),
	// and the site's records of its files once their verdict is taken
	// (site.Site.Release).
	Consume bool
	// Writing, if set, is told how many of the site's files are written
	// as each is (output.Options.Progress).
	Writing func(done, total int)
}

// out returns the output folder o names.
func (o *Options) out(cfg *config.Config) string {
	if o.Out != "" {
		return o.Out
	}
	return filepath.Join(cfg.Dir, "public")
}

// Write renders the site into the output folder opts name.
func Write(s *site.Site, th *theme.Theme, opts *Options) (*Result, error) {
	out := opts.out(s.Config)
	if err := output.CheckReplaceable(out); err != nil {
		return nil, err
	}
	if err := s.Config.CheckPrivate(out); err != nil {
		return nil, err
	}
	w := newWriter(s, th)
	w.searchCache = opts.Search
	if opts.Consume {
		w.keep = w.keptBodies()
	}
	w.plan()
	w.errs = append(w.errs, w.brokenLinks()...)
	if w.searched != nil {
		<-w.searched
	}
	if err := w.errs.Err(); err != nil {
		return nil, err
	}
	oo := output.Options{Workers: opts.Workers, Preview: s.Preview, Verdict: s.Checked(), Later: w.later, Progress: opts.Writing}
	if opts.Consume {
		// The site's verdict is taken: it is done with its files.
		s.Release()
	}
	if w.keep != nil {
		// The notes' pages first, each letting its body go: the lists'
		// pages and feeds that follow pile up cards and entries.
		oo.First = func(p string) bool { _, ok := notePath(p); return ok }
	}
	if opts.Guard.Len() > 0 {
		oo.Check = opts.Guard.Check
	}
	m, err := output.Write(out, append(w.files, w.noteFiles()...), oo)
	if err != nil {
		return nil, fileErrors(err)
	}
	return &Result{Out: out, Notes: len(s.Notes), Editions: len(s.Editions), Files: len(m.Files), Manifest: m, PHI: s.PHI, Held: s.Held}, nil
}

// plan schedules every output file of the site.
func (w *writer) plan() {
	s := w.site
	cfg := s.Config
	siteFeeds := feedLinks(cfg.Title, "", nil)
	phiByFile := map[string][]content.Finding{}
	if s.Preview {
		for _, f := range s.PHI {
			phiByFile[f.File] = append(phiByFile[f.File], f)
		}
	}
	// prep fills in what every page has; pg then schedules the page.
	prep := func(d *PageData) {
		d.Site, d.Preview = s, s.Preview
		switch {
		case len(phiByFile) == 0:
		case d.Note != nil:
			d.PHI = phiByFile[d.Note.File]
		case d.Edition != nil:
			d.PHI = phiByFile[d.Edition.File]
		case d.Page != nil:
			d.PHI = phiByFile[d.Page.File]
		}
		if d.Feeds == nil {
			d.Feeds = siteFeeds
		}
		d.finish()
	}
	w.prep = prep
	pg := func(d *PageData) {
		prep(d)
		w.page(d)
	}
	// Home: the latest edition, then the newest notes it does not carry,
	// so that no note shows twice.
	home := &PageData{Kind: "home", Title: cfg.Title, Description: cfg.Description, Edition: s.LatestEdition()}
	for _, n := range s.Notes {
		if len(home.Notes) == cfg.Paginate {
			break
		}
		if home.Edition == nil || !slices.Contains(home.Edition.Notes, n) {
			home.Notes = append(home.Notes, n)
		}
	}
	pg(home)

	// The notes' own pages are not planned one by one: each is made
	// from its note when it is written (noteFiles) or asked for (Plan).
	paginate("notes/", s.Notes, cfg.Paginate, func(p *Paginator, notes []*content.Note) {
		pg(&PageData{Kind: "list", Path: pagePath("notes/", p.Number), Title: "All notes", Description: "Every note in " + cfg.Title + ", newest first.", Notes: notes, Paginator: p})
	})

	edFeeds := feedLinks(cfg.Title+": editions", "editions/", siteFeeds)
	for _, e := range s.Editions {
		pg(&PageData{Kind: "edition", Path: e.Path(), Title: e.Title, Description: e.Summary, Edition: e, Notes: e.Notes, Feeds: edFeeds})
	}
	pg(&PageData{Kind: "list", Path: "archive/", Title: "Archive", Description: "Every edition of " + cfg.Title + ".", Editions: s.Editions, Feeds: edFeeds})
	writeFeeds(w, "editions/", w.editionChannel)

	for _, group := range []struct {
		kind, title string
		topics      []*content.Topic
	}{{"topics", "Topics", s.Topics}, {"audiences", "Audiences", s.Audiences}} {
		pg(&PageData{Kind: "list", Path: group.kind + "/", Title: group.title, Topics: group.topics})
		for _, t := range group.topics {
			title := cfg.Title + ": " + t.Title
			links := feedLinks(title, t.Path(), siteFeeds)
			paginate(t.Path(), t.Notes, cfg.Paginate, func(p *Paginator, notes []*content.Note) {
				pg(&PageData{Kind: "topic", Path: pagePath(t.Path(), p.Number), Title: t.Title, Description: fmt.Sprintf("Notes on %s from %s.", t.Title, cfg.Title), Topic: t, Notes: notes, Paginator: p, Feeds: links})
			})
			w.writeNoteFeeds(title, "", t.Path(), t.Notes)
		}
	}
	for _, p := range s.Pages {
		pg(&PageData{Kind: "page", Path: p.Path(), Title: p.Title, Description: p.Summary, Page: p})
	}
	w.planWire(pg)
	if cfg.Subscribers.ServiceURL() != nil {
		pg(&PageData{Kind: "subscribe", Path: "subscribe/", Title: "Subscribe by email", Description: "Get " + cfg.Title + " by email: choose your lists, confirm, and leave at any time."})
	}
	w.planSearch()
	pg(&PageData{Kind: "404", Path: "404.html", Title: "Page not found"})
	w.writeNoteFeeds(cfg.Title, cfg.Description, "", s.Notes)

	w.planSitemaps()
	w.render("robots.txt", func(buf *output.Buffer) error {
		fmt.Fprintf(buf, "User-agent: *\nAllow: /\n\nSitemap: %s\n", cfg.AbsURL("sitemap.xml"))
		return nil
	})
	for _, rel := range slices.Sorted(maps.Keys(w.theme.Static())) {
		w.copy(rel, w.theme.Static()[rel])
	}
	for _, rel := range slices.Sorted(maps.Keys(w.theme.Assets())) {
		w.render(rel, contents(w.theme.Assets()[rel]))
	}
	// Nothing else may be where a note's page is.
	for _, p := range slices.Sorted(maps.Keys(w.seen)) {
		if slug, ok := notePath(p); ok {
			if n := s.Note(slug); n != nil {
				w.errs = append(w.errs, config.Errorf(w.seen[p], 0, "", "rename one of them", "writes %s, which %s also writes", p, n.File))
			}
		}
	}
}

// notePage returns the data of a note's page.
func notePage(n *content.Note) *PageData {
	return &PageData{Kind: "note", Path: n.Path(), Title: n.Title, Description: n.Summary, Note: n}
}

// noteFile returns the file of a note's page, whose data is made when it
// is: a site of 100,000 notes is planned without 100,000 pages' data.
func (w *writer) noteFile(n *content.Note) output.File {
	return output.File{Path: n.Path() + "index.html", Render: func(buf *output.Buffer) error {
		d := notePage(n)
		w.prep(d)
		err := w.theme.Execute(buf, d.Kind, d)
		if w.keep != nil && !w.keep[n] {
			n.Content = ""
		}
		return err
	}}
}

// keptBodies returns the notes whose bodies a build that consumes its
// site keeps once their pages are made: none yet, and those its feeds
// carry whole as plan schedules them (writeNoteFeeds). It returns nil,
// keeping every body, when the theme may show a note's body on a page
// other than the note's own; a note's body is let go only where nothing
// that is made after its page reads it. The search index reads the bodies
// too: its documents are made first (see planSearch).
func (w *writer) keptBodies() map[*content.Note]bool {
	for _, r := range w.theme.Reads(reflect.TypeFor[PageData](), reflect.TypeFor[content.Note](), "Content") {
		if r.Layout != "note" || r.From != ".Note" {
			slog.Debug("the notes' bodies are kept for the whole build: the theme may show them on other pages", "file", r.File, "line", r.Line, "layout", r.Layout)
			return nil
		}
	}
	return map[*content.Note]bool{}
}

// noteFiles returns the files of the notes' pages.
func (w *writer) noteFiles() []output.File {
	files := make([]output.File, len(w.site.Notes))
	for i, n := range w.site.Notes {
		files[i] = w.noteFile(n)
	}
	return files
}

// notePath returns the slug of the note whose page is at the output path
// p, and whether p is where a note's page would be.
func notePath(p string) (string, bool) {
	slug, ok := strings.CutPrefix(p, "notes/")
	if !ok {
		return "", false
	}
	slug, ok = strings.CutSuffix(slug, "/index.html")
	return slug, ok && slug != "" && !strings.Contains(slug, "/")
}

// has reports whether the site has a file at the output path p.
func (w *writer) has(p string) bool {
	if _, ok := w.seen[p]; ok {
		return true
	}
	slug, ok := notePath(p)
	return ok && w.site.Note(slug) != nil
}

// brokenLinks reports each link of the site's notes, editions and pages
// to a page of the site that the build does not make.
func (w *writer) brokenLinks() config.ErrorList {
	var errs config.ErrorList
	check := func(file string, links []content.SiteLink) {
		for _, l := range links {
			p := l.Path
			if p == "" || strings.HasSuffix(p, "/") {
				p += "index.html"
			}
			if w.has(p) || w.has(p+"/index.html") { // with its final slash or without
				continue
			}
			fix := "link to a page the site has, such as /notes/SLUG/; a draft or a scheduled note is not on the published site"
			errs = append(errs, config.Errorf(file, l.Line, "link", fix, "/%s: no such page on the site", l.Path))
		}
	}
	s := w.site
	for _, n := range s.Notes {
		check(n.File, n.Links)
	}
	for _, e := range s.Editions {
		check(e.File, e.Links)
	}
	for _, p := range s.Pages {
		check(p.File, p.Links)
	}
	return errs
}
