package generator

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"

	"rounds/feeds"
	"rounds/generator/config"
	"rounds/generator/content"
	"rounds/generator/output"
	"rounds/generator/phi"
	"rounds/generator/theme"
)

// A Result describes a finished build.
type Result struct {
	Out      string // the output folder
	Notes    int    // published notes
	Editions int    // published editions
	Files    int    // files written
	Manifest *output.Manifest
	// PHI are the findings that may identify a patient; publishing
	// refuses the build while there are any.
	PHI []Finding
}

// Build loads the content and theme of the project cfg describes and
// writes the site to the output folder.
// It renders into a temporary folder beside the output and replaces the
// output only when every file was written, so a failed build leaves the
// previous site untouched. All problems are returned together as an
// ErrorList.
func Build(cfg *config.Config, opts *Options) (*Result, error) {
	// The theme loads while the content does, unless it is loaded.
	th, themeErr := opts.Theme, error(nil)
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		if th == nil {
			th, themeErr = theme.Load(cfg)
		}
	}()
	site, err := LoadContent(cfg, opts)
	<-loaded
	if err != nil || themeErr != nil {
		return nil, append(config.AsList(err), config.AsList(themeErr)...).Err()
	}
	if opts.Strict && len(site.PHI) > 0 {
		return nil, PHIError(site.PHI, "nothing was built")
	}
	return site.Write(th, opts)
}

// out returns the output folder opts name.
func (o *Options) out(cfg *config.Config) string {
	if o.Out != "" {
		return o.Out
	}
	return filepath.Join(cfg.Dir, "public")
}

// Write renders the site into the output folder opts name.
func (s *Site) Write(th *theme.Theme, opts *Options) (*Result, error) {
	out := opts.out(s.Config)
	if err := output.CheckReplaceable(out); err != nil {
		return nil, err
	}
	if err := s.Config.CheckPrivate(out); err != nil {
		return nil, err
	}
	w := s.newWriter(th, opts)
	s.plan(w, opts)
	if err := w.errs.Err(); err != nil {
		return nil, err
	}
	oo := output.Options{Workers: opts.workers(), Preview: opts.Drafts || opts.Future || opts.Expired, Verdict: s.Checked}
	if opts.Guard.Len() > 0 {
		oo.Check = opts.Guard.Check
	}
	m, err := output.Write(out, w.files(), oo)
	if err != nil {
		return nil, fileErrors(err)
	}
	return &Result{Out: out, Notes: len(s.Notes), Editions: len(s.Editions), Files: len(m.Files), Manifest: m, PHI: s.PHI}, nil
}

// plan schedules every output file of the site.
func (s *Site) plan(w *writer, opts *Options) {
	cfg := s.Config
	siteFeeds := feedLinks(cfg.Title, "", nil)
	preview := opts.Drafts || opts.Future || opts.Expired
	pg := func(d *PageData) {
		d.Site, d.Preview = s, preview
		if d.Feeds == nil {
			d.Feeds = siteFeeds
		}
		d.finish()
		w.page(d)
	}
	// Home: the latest edition and the newest notes.
	home := &PageData{Kind: "home", Title: cfg.Title, Description: cfg.Description, Edition: s.LatestEdition()}
	home.Notes = s.Notes[:min(len(s.Notes), cfg.Paginate)]
	pg(home)

	for _, n := range s.Notes {
		pg(&PageData{Kind: "note", Path: n.Path(), Title: n.Title, Description: n.Summary, Note: n})
	}
	paginate("notes/", s.Notes, cfg.Paginate, func(p *Paginator, notes []*content.Note) {
		pg(&PageData{Kind: "list", Path: pagePath("notes/", p.Number), Title: "All notes", Description: "Every note in " + cfg.Title + ", newest first.", Notes: notes, Paginator: p})
	})

	edFeeds := feedLinks(cfg.Title+": editions", "editions/", siteFeeds)
	for _, e := range s.Editions {
		pg(&PageData{Kind: "edition", Path: e.Path(), Title: e.Title, Description: e.Summary, Edition: e, Notes: e.Notes, Feeds: edFeeds})
	}
	pg(&PageData{Kind: "list", Path: "archive/", Title: "Archive", Description: "Every edition of " + cfg.Title + ".", Editions: s.Editions, Feeds: edFeeds})
	var edNotes []*content.Note
	for _, e := range s.Editions {
		edNotes = append(edNotes, e.Notes...)
	}
	writeFeeds(w, "editions/", s.editionChannel, edNotes, false)

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
			writeFeeds(w, t.Path(), func() *feeds.Channel { return s.noteChannel(title, "", t.Path(), t.Notes) }, t.Notes[:min(len(t.Notes), cfg.Feeds.Limit)], cfg.Feeds.Content == "full")
		}
	}
	for _, p := range s.Pages {
		pg(&PageData{Kind: "page", Path: p.Path(), Title: p.Title, Description: p.Summary, Page: p})
	}
	s.planWire(w, pg)
	pg(&PageData{Kind: "404", Path: "404.html", Title: "Page not found"})
	writeFeeds(w, "", func() *feeds.Channel { return s.noteChannel(cfg.Title, cfg.Description, "", s.Notes) }, s.Notes[:min(len(s.Notes), cfg.Feeds.Limit)], cfg.Feeds.Content == "full")

	// The sitemap dates every note: what lists show of it, not its body.
	w.add(job{File: output.File{Path: "sitemap.xml", Render: s.sitemap}, deps: s.Notes}, "sitemap.xml")
	w.render("robots.txt", func(buf *bytes.Buffer) error {
		fmt.Fprintf(buf, "User-agent: *\nAllow: /\n\nSitemap: %s\n", cfg.AbsURL("sitemap.xml"))
		return nil
	})
	for _, rel := range slices.Sorted(maps.Keys(w.theme.Static())) {
		w.copy(rel, w.theme.Static()[rel])
	}
	for _, rel := range slices.Sorted(maps.Keys(w.theme.Assets())) {
		data := w.theme.Assets()[rel]
		w.render(rel, func(buf *bytes.Buffer) error { _, err := buf.Write(data); return err })
	}
}

// sitemap writes sitemap.xml: every published page a reader can land on.
func (s *Site) sitemap(buf *bytes.Buffer) error {
	cfg := s.Config
	buf.WriteString(xml.Header)
	buf.WriteString(`<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">` + "\n")
	n := 0
	url := func(path string, mod string) {
		n++
		buf.WriteString("  <url><loc>")
		_ = xml.EscapeText(buf, []byte(cfg.AbsURL(path)))
		buf.WriteString("</loc>")
		if mod != "" {
			buf.WriteString("<lastmod>" + mod + "</lastmod>")
		}
		buf.WriteString("</url>\n")
	}
	url("", "")
	url("archive/", "")
	url("notes/", "")
	for _, e := range s.Editions {
		url(e.Path(), e.Published.In(cfg.Location()).Format("2006-01-02"))
	}
	for _, n := range s.Notes {
		mod := n.Published
		if n.LastReviewed.After(mod) {
			mod = n.LastReviewed
		}
		url(n.Path(), mod.In(cfg.Location()).Format("2006-01-02"))
	}
	url("topics/", "")
	for _, t := range s.Topics {
		url(t.Path(), "")
	}
	url("audiences/", "")
	for _, t := range s.Audiences {
		url(t.Path(), "")
	}
	for _, p := range s.Pages {
		url(p.Path(), "")
	}
	if len(s.Wire.Sources) > 0 {
		url("wire/", "")
	}
	buf.WriteString("</urlset>\n")
	if n > 50000 {
		// The sitemaps protocol's limit; a sitemap index would lift it.
		return fmt.Errorf("sitemap.xml: %d URLs, more than the 50,000 a sitemap may list", n)
	}
	return nil
}

// Check loads the configuration's content and theme as a build would,
// and returns the site and the theme, or every problem found, writing
// nothing.
func Check(cfg *config.Config, opts *Options) (*Site, *theme.Theme, error) {
	site, err := LoadContent(cfg, opts)
	th, themeErr := theme.Load(cfg)
	if err != nil || themeErr != nil {
		return nil, nil, append(config.AsList(err), config.AsList(themeErr)...).Err()
	}
	return site, th, nil
}

// PHIError returns findings that may identify a patient as one error,
// ending with what was not done and how to go on.
func PHIError(findings []Finding, notDone string) error {
	errs := make([]error, 0, len(findings)+1)
	for _, f := range findings {
		errs = append(errs, errors.New(f.String()))
	}
	errs = append(errs, fmt.Errorf("%s: remove what may identify a patient, or mark a reviewed line with <!-- %s -->", notDone, phi.Marker))
	return errors.Join(errs...)
}
