package site

import (
	"cmp"
	"slices"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
)

// linked is what assemble knew of every note and edition, drafts
// included, kept so that relink need not walk them all again.
type linked struct {
	// notes are the notes' files by slug; editions every edition.
	notes    map[string]*contentFile
	editions []*content.Edition
	// held counts the notes the site leaves out, edHeld the editions.
	held, edHeld Held
	// windows are the days of the notes each published edition without
	// a list of notes carries.
	windows map[*content.Edition]window
	// ids are the feed IDs of the notes and editions.
	ids map[string]idOwner
}

// relink returns the site that assemble would make of the files of s
// with the notes of edits parsed again, added or removed (each edit: what
// the file was, nil for a new file; what it is, nil for a file deleted),
// when each keeps its slug, file name and source, and at least one note
// moves in the site: its date, topics, audiences, draft or schedule
// change (SameShape), or it comes or goes. It inserts and removes those
// notes in the lists rather than linking every note again. It returns
// nil, having changed nothing assemble does not set afresh, when the
// edits are of another kind or the site they make has an error: assemble
// then makes the site, and finds the errors.
//
// The new site takes s's lists of topics and published notes, edited: s
// is not to be used again, but for its published notes by slug (Note),
// which it keeps for the moved notes.
func (s *Site) relink(cfg *config.Config, opts *Options, edits [][2]*contentFile) *Site {
	l := s.linked
	if l == nil || cfg.Check.Retractions != "" || s.Wire == nil || len(edits) == 0 || len(s.deferred) > 0 {
		return nil // a site loaded without bodies is assembled anew
	}
	moved := false
	ids := map[string]bool{}
	for _, e := range edits {
		old, f := e[0], e[1]
		for _, g := range e {
			if g != nil && (g.note == nil || len(g.errs) > 0 || len(g.phi) > 0 || s.Wire.StoryFor(g.note) != nil) {
				return nil
			}
		}
		switch {
		case old == nil && f == nil:
			return nil
		case old == nil || f == nil:
			moved = true // a note comes or goes
		case f.note.Slug != old.note.Slug || f.slugLine != old.slugLine || !sameSource(f.note.Source, old.note.Source):
			return nil
		default:
			moved = moved || !SameShape(old.note, f.note)
		}
		if old != nil && l.notes[old.note.Slug] != old {
			return nil
		}
		if f == nil {
			continue
		}
		if n := f.note; old == nil && l.notes[n.Slug] != nil || n.LastReviewed.After(opts.Now) && !opts.Now.IsZero() {
			return nil // a slug taken, or a review to come: errors
		}
		// A feed ID taken by another note or edition is an error too.
		if o, taken := l.ids[f.id]; (taken && (old == nil || o.file != old.path)) || ids[f.id] {
			return nil
		}
		ids[f.id] = true
	}
	if !moved {
		return nil
	}
	// Nothing else may come out, go or expire between the two present
	// times.
	if !opts.Now.Equal(s.Now) && !s.stillAt(opts.Now) {
		return nil
	}

	next := *s
	next.Now, next.Notes = opts.Now, slices.Clone(s.Notes)
	// The map of published notes, 100,000 of them in a large archive, is
	// handed on rather than copied: s keeps what it held of the moved.
	s.was = make(map[string]*content.Note, len(edits))
	for _, e := range edits {
		for _, g := range e {
			if g == nil {
				continue
			}
			if _, kept := s.was[g.note.Slug]; !kept {
				s.was[g.note.Slug] = s.notes[g.note.Slug]
			}
		}
	}
	// The files, in the order of the cache's: by kind, then by path.
	next.files = slices.Clone(s.files)
	for _, e := range edits {
		old, f := e[0], e[1]
		switch {
		case old == nil:
			i, _ := slices.BinarySearchFunc(next.files, f, fileOrder)
			next.files = slices.Insert(next.files, i, f)
		case f == nil:
			next.files = slices.DeleteFunc(next.files, func(g *contentFile) bool { return g == old })
		default:
			if i := slices.Index(next.files, old); i >= 0 {
				next.files[i] = f
			}
		}
	}
	// The window narrows by the new notes' times; what it was for the
	// notes that stay still holds.
	if s.still != nil {
		w := *s.still
		for _, e := range edits {
			if e[1] == nil {
				continue
			}
			narrow(&w, opts.Now, e[1].note.Published)
			narrow(&w, opts.Now, e[1].note.Expires)
		}
		next.still = &w
	}
	was := *opts
	was.Now = s.Now
	for _, e := range edits {
		if old := e[0]; old != nil {
			o := old.note
			l.held.add(was.hides(o.Draft, o.Published, o.Expires), -1)
			if s.was[o.Slug] == o {
				next.Notes = remove(next.Notes, o)
				next.ungroup(o)
			}
			delete(next.notes, o.Slug)
			delete(l.notes, o.Slug)
			delete(l.ids, old.id)
		}
		if f := e[1]; f != nil {
			n := f.note
			n.Scheduled = opts.Now.Before(n.Published)
			why := opts.hides(n.Draft, n.Published, n.Expires)
			l.held.add(why, 1)
			if why == "" {
				next.Notes = insert(next.Notes, n)
				next.notes[n.Slug] = n
				next.regroup(n)
			}
			l.notes[n.Slug] = f
			l.ids[f.id] = idOwner{f.path, n.IDLine(), n.ID != ""}
		}
	}
	next.Held = l.held.plus(l.edHeld)
	if listed(l.editions, edits) {
		// An edition lists a note that moved: the editions are linked
		// again, which finds a listed note out of sight.
		for _, e := range s.Editions {
			for _, n := range e.Notes {
				n.Editions = n.Editions[:0]
			}
		}
		for _, e := range l.editions {
			e.Notes, e.Number = nil, 0
		}
		next.Editions, next.Held = nil, Held{}
		errs, windows := next.linkEditions(l.editions, l.notes, opts)
		if len(errs) > 0 {
			return nil
		}
		l.windows, l.edHeld = windows, next.Held
		next.Held = l.held.plus(l.edHeld)
		return &next
	}
	// Otherwise a note comes into or leaves the editions whose days hold
	// its time, before and after.
	for _, e := range edits {
		var o, n *content.Note
		if e[0] != nil && s.was[e[0].note.Slug] == e[0].note {
			o = e[0].note
		}
		if e[1] != nil && next.notes[e[1].note.Slug] == e[1].note {
			n = e[1].note
		}
		for _, ed := range slices.Backward(next.Editions) { // oldest first
			w, ok := l.windows[ed]
			if !ok {
				continue
			}
			had, has := o != nil && w.holds(o.Published), n != nil && w.holds(n.Published)
			if !had && !has {
				continue
			}
			notes := slices.Clone(ed.Notes)
			if had {
				notes = remove(notes, o)
			}
			if has {
				notes = insert(notes, n)
				n.Editions = append(n.Editions, ed)
			}
			ed.Notes = notes
		}
	}
	return &next
}

// listed reports whether an edition lists a note of edits by its slug.
func listed(editions []*content.Edition, edits [][2]*contentFile) bool {
	for _, ed := range editions {
		for _, e := range edits {
			for _, g := range e {
				if g != nil && slices.Contains(ed.NoteSlugs, g.note.Slug) {
					return true
				}
			}
		}
	}
	return false
}

// fileOrder orders content files as a scan of the folders finds them: by
// kind, then by path.
func fileOrder(a, b *contentFile) int {
	return cmp.Or(cmp.Compare(slices.Index(contentKinds, a.kind), slices.Index(contentKinds, b.kind)), cmp.Compare(a.abs, b.abs))
}

// newestFirst orders notes as a site lists them: newest first, and those
// published at the same instant by slug.
func newestFirst(a, b *content.Note) int {
	return cmp.Or(b.Published.Compare(a.Published), cmp.Compare(a.Slug, b.Slug))
}

// remove returns notes, in newestFirst order, without n.
func remove(notes []*content.Note, n *content.Note) []*content.Note {
	if i, ok := slices.BinarySearchFunc(notes, n, newestFirst); ok && notes[i] == n {
		return slices.Delete(notes, i, i+1)
	}
	return slices.DeleteFunc(notes, func(m *content.Note) bool { return m == n })
}

// insert returns notes, in newestFirst order, with n in its place.
func insert(notes []*content.Note, n *content.Note) []*content.Note {
	i, _ := slices.BinarySearchFunc(notes, n, newestFirst)
	return slices.Insert(notes, i, n)
}

// ungroup takes n out of its topics' and audiences' lists, and drops a
// topic or audience it leaves empty.
func (s *Site) ungroup(n *content.Note) {
	for _, list := range []*[]*content.Topic{&s.Topics, &s.Audiences} {
		kept := (*list)[:0:0]
		for _, t := range *list {
			if slices.Contains(n.Topics, t.Slug) && t.Kind == "topics" || slices.Contains(n.Audience, t.Slug) && t.Kind == "audiences" {
				t.Notes = remove(slices.Clone(t.Notes), n)
				if len(t.Notes) == 0 {
					continue
				}
			}
			kept = append(kept, t)
		}
		*list = kept
	}
}

// regroup puts n in its topics' and audiences' lists, making those it is
// the first of, and sets its TopicPages.
func (s *Site) regroup(n *content.Note) {
	n.TopicPages = make([]*content.Topic, 0, len(n.Topics))
	for _, slug := range n.Topics {
		i, found := slices.BinarySearchFunc(s.Topics, slug, func(t *content.Topic, slug string) int { return cmp.Compare(t.Slug, slug) })
		if !found {
			s.Topics = slices.Insert(slices.Clone(s.Topics), i, NewTopic(s.Config, "topics", slug, s.Config.TopicTitle(slug)))
		}
		t := s.Topics[i]
		t.Notes = insert(slices.Clone(t.Notes), n)
		n.TopicPages = append(n.TopicPages, t)
	}
	for _, a := range n.Audience {
		i := slices.IndexFunc(s.Audiences, func(t *content.Topic) bool { return t.Slug == a })
		if i < 0 {
			// In the order of config.Audiences.
			rank := slices.Index(config.Audiences, a)
			i = len(s.Audiences)
			for j, t := range s.Audiences {
				if slices.Index(config.Audiences, t.Slug) > rank {
					i = j
					break
				}
			}
			s.Audiences = slices.Insert(slices.Clone(s.Audiences), i, NewTopic(s.Config, "audiences", a, config.TitleCase(a)))
		}
		t := s.Audiences[i]
		t.Notes = insert(slices.Clone(t.Notes), n)
	}
}
