package render

import (
	"reflect"
	"slices"

	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/output"
	"github.com/rounds-health/rounds/generator/site"
	"github.com/rounds-health/rounds/generator/theme"
)

// Edits name the notes an incremental rebuild is for, by slug: Notes
// changed in what lists and cards show of them, Bodies only in their
// body.
type Edits struct {
	Notes, Bodies map[string]bool
}

// Files renders the site's output files into memory, for a preview
// server. With edits, it renders only the files that show what changed of
// those notes; the caller keeps the rest from before. The files are those
// Write would write, but for the manifest.
func Files(s *site.Site, th *theme.Theme, opts *Options, edits *Edits) (map[string][]byte, error) {
	w := newWriter(s, th)
	w.searchCache = opts.Search
	w.plan()
	if err := w.errs.Err(); err != nil {
		return nil, err
	}
	var cards, bodies []*content.Note
	if edits != nil {
		for slug := range edits.Notes {
			if n := s.Note(slug); n != nil {
				cards = append(cards, n)
			}
		}
		for slug := range edits.Bodies {
			if n := s.Note(slug); n != nil {
				bodies = append(bodies, n)
			}
		}
	}
	var files []output.File
	for _, j := range w.jobs {
		if edits == nil || j.all || dependsOn(j.deps, cards) || dependsOn(j.bodyDeps, bodies) {
			files = append(files, j.File)
		}
	}
	out, err := output.Render(files, w.later, opts.Workers)
	return out, fileErrors(err)
}

// dependsOn reports whether deps holds one of notes (few: those just
// edited), by pointer.
func dependsOn(deps, notes []*content.Note) bool {
	for _, d := range deps {
		for _, n := range notes {
			if d == n {
				return true
			}
		}
	}
	return false
}

// SameShape reports whether two versions of a note place it the same way
// in the site: the same visibility, date, order, topics, audiences,
// editions and source. When they do, an edit re-renders only the files
// that show the note; otherwise the whole site is rendered again.
func SameShape(a, b *content.Note) bool {
	return a.Slug == b.Slug && a.ID == b.ID && a.Draft == b.Draft &&
		a.Date.Equal(b.Date) && a.Published.Equal(b.Published) && a.PublishAt.Equal(b.PublishAt) && a.Expires.Equal(b.Expires) &&
		slices.Equal(a.Topics, b.Topics) && slices.Equal(a.Audience, b.Audience) && a.Edition == b.Edition &&
		a.Source.URL == b.Source.URL && a.Source.DOI == b.Source.DOI && a.Source.PMID == b.Source.PMID
}

// BodyOnly reports whether two versions of a note differ in their body
// alone: then only the files that show the body change.
func BodyOnly(a, b *content.Note) bool {
	x, y := *a, *b
	x.Content, y.Content = "", ""
	x.Editions, y.Editions = nil, nil
	x.Story, y.Story = nil, nil
	x.TopicPages, y.TopicPages = nil, nil
	return reflect.DeepEqual(x, y) && (a.Retraction == nil) == (b.Retraction == nil)
}
