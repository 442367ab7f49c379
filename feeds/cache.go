package feeds

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"
)

// A Source is one feed Rounds follows: a journal's table of contents, an
// agency's news, a regulator's alerts, a saved PubMed search.
type Source struct {
	ID   string // stable slug, names the source's file in the cache
	Name string
	URL  string
	// Kind is what the source is: journal, agency, regulator, preprint,
	// registry, news... Wire entries list the most primary source first.
	Kind string
	// MaxItems caps the items kept of the source, newest first.
	MaxItems int
}

// DefaultMaxItems is how many items of a source are kept when its
// MaxItems is 0.
const DefaultMaxItems = 100

var sourceID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,79}$`)

// ValidID reports whether id can name a source: lower-case letters,
// digits and dashes.
func ValidID(id string) bool { return sourceID.MatchString(id) }

// State is what Rounds keeps of a source between fetches: the validators
// for conditional requests, the health record and the last good items.
type State struct {
	Source string `json:"source"`
	// URL is the address the validators belong to; when the source's URL
	// changes they are not sent.
	URL          string    `json:"url"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	LastAttempt  time.Time `json:"last_attempt,omitzero"`
	LastSuccess  time.Time `json:"last_success,omitzero"`
	LastError    string    `json:"last_error,omitempty"`
	// Failures counts the failed fetches since the last success.
	Failures int `json:"failures,omitempty"`
	// RetryAfter is when a failing source is tried again.
	RetryAfter time.Time `json:"retry_after,omitzero"`
	// MovedTo is where the source answered a permanent redirect to.
	MovedTo string  `json:"moved_to,omitempty"`
	Items   []*Item `json:"items"`
}

// A Cache is the folder where the state of every source is kept, one JSON
// file per source, so that a build reads the wire offline and the same
// cache always builds the same site.
type Cache struct {
	Dir string
}

func (c *Cache) path(id string) string {
	return filepath.Join(c.Dir, id+".json")
}

// Load returns the state of the source id; a source never fetched has an
// empty state.
func (c *Cache) Load(id string) (*State, error) {
	if !ValidID(id) {
		return nil, fmt.Errorf("source id %q: use lower-case letters, digits and dashes", id)
	}
	data, err := os.ReadFile(c.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return &State{Source: id}, nil
	}
	if err != nil {
		return nil, err
	}
	st := new(State)
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("%s: %w; delete the file and run rounds fetch again", c.path(id), err)
	}
	st.Source = id
	return st, nil
}

// Save writes the state of its source, atomically: a crash leaves the old
// state or the new one, never half of one.
func (c *Cache) Save(st *State) error {
	if !ValidID(st.Source) {
		return fmt.Errorf("source id %q: use lower-case letters, digits and dashes", st.Source)
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return err
	}
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.Dir, "."+st.Source+"-*.tmp")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	if err := errors.Join(werr, tmp.Close()); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), c.path(st.Source)); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

// merge returns the fresh items of a fetch followed by the kept items the
// feed no longer carries, newest first, at most max. An item seen before
// keeps the time it was first seen, and its date if the feed gives none.
// added counts the items never seen before.
func merge(old, fresh []*Item, max int) (items []*Item, added int) {
	if max <= 0 {
		max = DefaultMaxItems
	}
	prev := make(map[string]*Item, len(old))
	for _, it := range old {
		prev[it.ID] = it
	}
	inFresh := make(map[string]bool, len(fresh))
	for _, it := range fresh {
		inFresh[it.ID] = true
		if p, ok := prev[it.ID]; ok {
			it.FirstSeen = p.FirstSeen
			if it.Undated {
				it.Published = p.Published
			}
		} else {
			added++
		}
		items = append(items, it)
	}
	for _, it := range old {
		if !inFresh[it.ID] {
			items = append(items, it)
		}
	}
	SortItems(items)
	if len(items) > max {
		items = items[:max]
	}
	return items, added
}

// SortItems orders items newest first, then by ID.
func SortItems(items []*Item) {
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if !a.Published.Equal(b.Published) {
			return a.Published.After(b.Published)
		}
		return a.ID < b.ID
	})
}
