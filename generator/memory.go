package generator

import (
	"bytes"
	"sync"
)

// RenderFiles renders the site's output files into memory, for a preview
// server. With changed set (note slugs), it renders only the files that
// show one of those notes; the caller keeps the rest from before. The
// files are those Write would write, but for the manifest.
func (s *Site) RenderFiles(theme *Theme, opts *Options, changed map[string]bool) (map[string][]byte, error) {
	w := &writer{site: s, theme: theme, seen: map[string]string{}, preview: opts.Drafts || opts.Future || opts.Expired}
	s.plan(w, opts)
	if err := w.errs.Err(); err != nil {
		return nil, err
	}
	var jobs []job
	for _, j := range w.jobs {
		if changed == nil || j.all || dependsOn(j.deps, changed) {
			jobs = append(jobs, j)
		}
	}
	out := make(map[string][]byte, len(jobs))
	errs := make([]error, len(jobs))
	var mu sync.Mutex
	parallel(len(jobs), opts.workers(), func(i int) {
		j := jobs[i]
		var buf bytes.Buffer
		var err error
		if j.fn != nil {
			err = j.fn(&buf)
		} else {
			err = readInto(&buf, j.src)
		}
		if err != nil {
			errs[i] = err
			return
		}
		mu.Lock()
		out[j.path] = buf.Bytes()
		mu.Unlock()
	})
	var list ErrorList
	for i, err := range errs {
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				e = errorf(jobs[i].path, 0, "", "", "%v", err)
			}
			list = append(list, e)
		}
	}
	return out, list.Err()
}

func dependsOn(deps []*Note, changed map[string]bool) bool {
	for _, n := range deps {
		if changed[n.Slug] {
			return true
		}
	}
	return false
}

// SameShape reports whether two versions of a note place it the same way
// in the site: the same visibility, date, order, topics, audiences,
// editions and source. When they do, an edit re-renders only the files
// that show the note; otherwise the whole site is rendered again.
func SameShape(a, b *Note) bool {
	return a.Slug == b.Slug && a.ID == b.ID && a.Draft == b.Draft &&
		a.Date.Equal(b.Date) && a.Published.Equal(b.Published) && a.PublishAt.Equal(b.PublishAt) && a.Expires.Equal(b.Expires) &&
		equalStrings(a.Topics, b.Topics) && equalStrings(a.Audience, b.Audience) && a.Edition == b.Edition &&
		a.Source.URL == b.Source.URL && a.Source.DOI == b.Source.DOI && a.Source.PMID == b.Source.PMID
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
