package feeds

import (
	"slices"
	"sort"
	"strings"
	"time"
)

// A Story is one story on the wire: the items of every source that are
// about the same thing (one DOI, one PMID or one link), the most primary
// source first. The paper, its press release and the news piece about it
// are one story.
type Story struct {
	Items []*Item
}

// Primary is the story's first, most primary item.
func (s *Story) Primary() *Item { return s.Items[0] }

// ID is the story's ID: its primary item's.
func (s *Story) ID() string { return s.Items[0].ID }

// Date is the newest date of the story's items: a story comes back to
// the top of the wire when a new source covers it.
func (s *Story) Date() time.Time {
	t := s.Items[0].Published
	for _, it := range s.Items[1:] {
		if it.Published.After(t) {
			t = it.Published
		}
	}
	return t
}

// Identifiers merges the identifiers of the story's items, the primary
// item's first.
func (s *Story) Identifiers() Identifiers {
	var ids Identifiers
	for _, it := range s.Items {
		if ids.DOI == "" {
			ids.DOI = it.DOI
		}
		if ids.PMID == "" {
			ids.PMID = it.PMID
		}
		for _, n := range it.NCT {
			if !slices.Contains(ids.NCT, n) {
				ids.NCT = append(ids.NCT, n)
			}
		}
	}
	sort.Strings(ids.NCT)
	return ids
}

// Keys returns the keys by which an item is the same story as another:
// its DOI, its PMID and its link, normalized.
func (it *Item) Keys() []string {
	keys := make([]string, 0, 3)
	if it.DOI != "" {
		keys = append(keys, "doi:"+it.DOI)
	}
	if it.PMID != "" {
		keys = append(keys, "pmid:"+it.PMID)
	}
	if k := URLKey(it.URL); k != "" {
		keys = append(keys, "url:"+k)
		// A link to a DOI resolver is the DOI itself.
		if d := findDOI(it.URL); d != "" && (hostOf(it.URL) == "doi.org" || hostOf(it.URL) == "dx.doi.org") {
			keys = append(keys, "doi:"+d)
		}
	}
	return keys
}

func hostOf(raw string) string {
	if u := resolve(nil, raw); u != nil {
		return strings.TrimPrefix(u.Hostname(), "www.")
	}
	return ""
}

// Dedupe groups items from any number of sources into stories, newest
// first. Items sharing a DOI, a PMID or a normalized link, directly or
// through another item, are one story. rank orders a story's items: the
// lowest rank is the primary source (a journal before the agency's press
// release before the news); ties go to the earliest item.
func Dedupe(items []*Item, rank func(*Item) int) []*Story {
	parent := make([]int, len(items))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[string]int{}
	for i, it := range items {
		for _, k := range it.Keys() {
			if j, ok := owner[k]; ok {
				a, b := find(i), find(j)
				if a != b {
					parent[max(a, b)] = min(a, b)
				}
			} else {
				owner[k] = i
			}
		}
	}
	groups := map[int]*Story{}
	var entries []*Story
	for i, it := range items {
		r := find(i)
		e, ok := groups[r]
		if !ok {
			e = &Story{}
			groups[r] = e
			entries = append(entries, e)
		}
		e.Items = append(e.Items, it)
	}
	for _, e := range entries {
		sort.SliceStable(e.Items, func(i, j int) bool {
			a, b := e.Items[i], e.Items[j]
			if ra, rb := rank(a), rank(b); ra != rb {
				return ra < rb
			}
			if !a.Published.Equal(b.Published) {
				return a.Published.Before(b.Published)
			}
			return a.ID < b.ID
		})
	}
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i].Date(), entries[j].Date()
		if !a.Equal(b) {
			return a.After(b)
		}
		return entries[i].ID() < entries[j].ID()
	})
	return entries
}

// KindRank ranks source kinds for Dedupe: the research itself first, then
// what regulators and agencies say of it, then the news.
func KindRank(kind string) int {
	switch kind {
	case "journal":
		return 0
	case "preprint", "registry":
		return 1
	case "regulator":
		return 2
	case "agency":
		return 3
	case "news":
		return 5
	}
	return 4
}
