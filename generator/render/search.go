package render

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rounds-health/rounds/feeds"
	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/output"
	"github.com/rounds-health/rounds/generator/search"
)

// SearchPage is what the search page needs beyond a page's data: the
// index's metadata file, and the filters' choices.
type SearchPage struct {
	// Meta is the URL of the index's metadata file.
	Meta string
	// Topics and Audiences are the site's, for the filters.
	Topics, Audiences []*content.Topic
	// Strengths are the evidence bands notes have, strongest first;
	// Years the years notes were published in, newest first.
	Strengths []string
	Years     []int
}

// A searchRecord is what a search result shows of a note or a wire
// story: the note's card, with short keys, as the index holds one for
// each document.
type searchRecord struct {
	URL       string      `json:"u"`
	Title     string      `json:"t"`
	Date      string      `json:"d"`  // as a <time> element's datetime
	Shown     string      `json:"ds"` // as the card shows it
	Strength  string      `json:"s,omitempty"`
	Evidence  string      `json:"e,omitempty"`
	Design    string      `json:"g,omitempty"`
	Audiences [][2]string `json:"a,omitempty"` // link, label
	Topics    [][2]string `json:"p,omitempty"`
	Summary   string      `json:"m,omitempty"`
	Source    string      `json:"src,omitempty"`
	// Notice labels a note whose source is retracted or questioned.
	Notice    string `json:"r,omitempty"`
	Sponsored bool   `json:"sp,omitempty"`
	// Wire marks a wire story, which links to its source.
	Wire bool `json:"w,omitempty"`
}

// planSearch schedules the search index of the published notes (and the
// wire's stories, with [search] wire) and the search page, which names
// the index's metadata file. Both are made while the other files render:
// the index's files are named by their contents. A preview's index holds
// what the preview shows.
func (w *writer) planSearch() {
	cfg := w.site.Config
	if !cfg.Search.Enabled {
		return
	}
	groups, err := search.Synonyms(w.theme.Synonyms(), cfg.Search.Synonyms)
	if err != nil {
		w.errs = append(w.errs, config.Errorf(cfg.Rel(cfg.File), cfg.Line("synonyms"), "search.synonyms", "give each group two or more phrases, each with a word that is searched for", "%v", err))
		return
	}
	page := &PageData{Kind: "search", Path: "search/", Title: "Search", Description: "Search every note in " + cfg.Title + ".", Search: &SearchPage{Topics: w.site.Topics, Audiences: w.site.Audiences}}
	file := w.pageFile(page)
	// A page of the content's own at the same path is a clash.
	w.seen[file.Path] = "the search page"
	// The documents are made with the index, while the other files
	// render; a build that lets the notes' bodies go as their pages are
	// made makes them while the rest is planned, and renders nothing
	// before they are made (see Write).
	var docs []search.Doc
	if w.keep != nil {
		made := make(chan struct{})
		w.searched = made
		go func() {
			defer close(made)
			docs = w.searchDocs(page.Search)
		}()
	}
	w.later = &output.Later{Dir: page.Path, Files: func() ([]output.File, error) {
		if w.keep == nil {
			docs = w.searchDocs(page.Search)
		}
		idx, err := search.Build(docs, &search.Options{Synonyms: groups, Cache: w.searchCache})
		if err != nil {
			return nil, config.Errorf(page.Path, 0, "", "", "%v", err)
		}
		files := []output.File{file}
		for p, data := range idx.Files {
			files = append(files, output.File{Path: page.Path + p, Render: contents(data)})
		}
		page.Search.Meta = cfg.RelURL(page.Path + idx.Meta)
		w.prep(page)
		return files, nil
	}}
}

// searchDocs returns the documents of the search index, oldest first, and
// fills in the filters' choices of the search page.
func (w *writer) searchDocs(page *SearchPage) []search.Doc {
	s := w.site
	cfg := s.Config
	day := func(t time.Time) (string, string) {
		t = t.In(cfg.Location())
		return t.Format("2006-01-02"), t.Format("2 January 2006")
	}
	docs := make([]search.Doc, 0, len(s.Notes))
	page.Strengths, page.Years = nil, nil // a preview makes the index again after an edit
	years := map[int]bool{}
	strengths := map[string]bool{}
	// Oldest first: a new note takes the next number, so that the files
	// of the older ones do not change.
	for _, n := range slices.Backward(s.Notes) {
		r := searchRecord{URL: n.URL, Title: n.Title, Summary: n.Summary, Strength: n.Evidence.Strength(), Evidence: n.Evidence.Label, Design: n.Design, Sponsored: n.Sponsored}
		r.Date, r.Shown = day(n.Published)
		d := search.Doc{Title: n.Title, Summary: n.Summary, HTML: string(n.Content), Record: &r}
		d.Meta = append(make([]string, 0, 4+len(n.Audience)+len(n.TopicPages)), n.Design, n.Evidence.Label, n.Source.Title, n.Source.Publisher)
		d.Filters = make([]string, 0, 2+len(n.Audience)+len(n.TopicPages))
		for _, a := range n.Audience {
			r.Audiences = append(r.Audiences, [2]string{cfg.RelURL("audiences/" + a + "/"), "For " + a})
			d.Meta = append(d.Meta, a)
			d.Filters = append(d.Filters, "audience:"+a)
		}
		for _, t := range n.TopicPages {
			r.Topics = append(r.Topics, [2]string{t.URL, t.Title})
			d.Meta = append(d.Meta, t.Title)
			d.Filters = append(d.Filters, "topic:"+t.Slug)
		}
		if r.Strength != "" {
			d.Filters = append(d.Filters, "evidence:"+r.Strength)
			strengths[r.Strength] = true
		}
		year := n.Published.In(cfg.Location()).Year()
		years[year] = true
		d.Filters = append(d.Filters, "year:"+strconv.Itoa(year))
		// The source's identifiers, and those its address holds
		// (a journal's /doi/ path, a PubMed link).
		found := feeds.Identify(n.Source.URL)
		for _, id := range append([]string{n.Source.DOI, n.Source.PMID, n.Source.NCT, n.Source.PMCID, found.DOI, found.PMID}, found.NCT...) {
			if id != "" && !slices.ContainsFunc(d.IDs, func(have string) bool { return strings.EqualFold(have, id) }) {
				d.IDs = append(d.IDs, id)
			}
		}
		r.Source = cmp.Or(n.Source.Publisher, n.Source.Title)
		if n.Retraction != nil {
			r.Notice = n.Retraction.Nature
			if n.Retraction.Retracted() {
				r.Notice = "Retracted"
			}
		}
		docs = append(docs, d)
	}
	if cfg.Search.Wire && s.Wire != nil {
		for _, st := range slices.Backward(s.Wire.Stories) {
			it := st.Primary()
			if it.URL == "" {
				continue
			}
			r := searchRecord{URL: it.URL, Title: it.Title, Wire: true}
			r.Date, r.Shown = day(st.Date())
			if src := s.Wire.Source(it); src != nil {
				r.Source = src.Name
			}
			d := search.Doc{Title: it.Title, HTML: it.Summary + " " + it.Content, Record: &r, Filters: []string{"kind:wire"}}
			ids := st.Identifiers()
			for _, id := range append([]string{ids.DOI, ids.PMID}, ids.NCT...) {
				if id != "" {
					d.IDs = append(d.IDs, id)
				}
			}
			docs = append(docs, d)
		}
	}
	for _, st := range []string{"strong", "moderate", "weak"} {
		if strengths[st] {
			page.Strengths = append(page.Strengths, st)
		}
	}
	for y := range years {
		page.Years = append(page.Years, y)
	}
	slices.SortFunc(page.Years, func(a, b int) int { return b - a })
	return docs
}
