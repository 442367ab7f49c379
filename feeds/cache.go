package feeds

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
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

// maxID is the longest a source's id may be.
const maxID = 80

// IDFrom derives a source's id from its name, as people name sources and
// files: "NHS_feed.xml" is nhs-feed-xml, "Médecine & Santé" is
// medecine-sante. Letters lose their accents, anything else that is not a
// letter or digit becomes one dash, and a name longer than an id may be
// is cut at a dash. The id is valid (see ValidID), or "" when the name has
// no letter or digit to make one of. It depends only on the name, so a
// source keeps it from build to build.
func IDFrom(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(name) {
		if unicode.Is(unicode.Mn, r) {
			continue // an accent, decomposed from its letter
		}
		r = unicode.ToLower(r)
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	id := strings.TrimRight(b.String(), "-")
	if len(id) > maxID {
		id = id[:maxID]
		if i := strings.LastIndexByte(id, '-'); i > maxID/2 {
			id = id[:i]
		}
		id = strings.TrimRight(id, "-")
	}
	return id
}

// State is what Rounds keeps of a source between fetches besides its
// items: the validators for conditional requests and its health record.
type State struct {
	// URL is the address the validators belong to; when the source's URL
	// changes they are not sent.
	URL          string    `json:"url"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	LastAttempt  time.Time `json:"last_attempt,omitzero"`
	LastSuccess  time.Time `json:"last_success,omitzero"`
	LastError    string    `json:"last_error,omitempty"`
	// Problem is what kind of failure LastError is, in words fit for
	// readers: ProblemUnreachable, ProblemRefused or ProblemInvalid.
	Problem string `json:"problem,omitempty"`
	// Failures counts the failed fetches since the last success.
	Failures int `json:"failures,omitempty"`
	// RetryAfter is when a failing source is tried again.
	RetryAfter time.Time `json:"retry_after,omitzero"`
	// MovedTo is where the source answered a permanent redirect to.
	MovedTo string `json:"moved_to,omitempty"`
	// Items counts the items kept.
	Items int `json:"items"`
}

// The kinds of a failing fetch.
const (
	ProblemUnreachable = "unreachable" // no answer: DNS, connection, TLS, time
	ProblemRefused     = "refused"     // an HTTP error status, or a refused address
	ProblemInvalid     = "invalid"     // an answer that is not a feed, or too large
)

// A Cache is the folder where the wire is kept, so that a build reads it
// offline and the same cache always builds the same site: the items of
// each source in ID.json, written when the source's feed changes, and the
// state of every source in sources.json, written once a fetch. A fetch
// whose sources all answer 304 writes one file.
type Cache struct {
	Dir string
}

const statesFile = "sources.json"

// States returns the state of every source fetched before, by ID. Their
// LastError and MovedTo are printable (see Printable), and a LastError
// that an older Rounds recorded as the network told it, addresses and
// all, is withheld: the site publishes LastError.
func (c *Cache) States() (map[string]*State, error) {
	states := map[string]*State{}
	err := c.read(statesFile, &states)
	for _, st := range states {
		if st == nil {
			continue
		}
		st.LastError, st.MovedTo = Printable(st.LastError), Printable(st.MovedTo)
		if rawNetError(st.LastError) {
			st.LastError = "the fetch failed (the next fetch tells why)"
		}
	}
	return states, err
}

// rawNetError reports whether msg is an error of Go's network or HTTP
// client as Rounds recorded it before it described failures instead:
// `Get "http://10.0.0.5:8080/": dial tcp 10.0.0.5:8080: connect:
// connection refused`, "read tcp 10.0.0.2:50122->10.0.0.5:8080: read:
// connection reset by peer".
func rawNetError(msg string) bool {
	return strings.HasPrefix(msg, `Get "`) || strings.Contains(msg, "tcp ") || strings.Contains(msg, "udp ")
}

// SaveStates writes the state of every source.
func (c *Cache) SaveStates(states map[string]*State) error {
	return c.write(statesFile, states)
}

// Items returns the items kept of the source id, newest first; none for a
// source never fetched. Their text is free of control characters, as
// Parse leaves it, even in items kept by an older Rounds that left them.
func (c *Cache) Items(id string) ([]*Item, error) {
	if !ValidID(id) {
		return nil, fmt.Errorf("source id %q: use lower-case letters, digits and dashes", id)
	}
	var items []*Item
	err := c.read(id+".json", &items)
	items = slices.DeleteFunc(items, func(it *Item) bool { return it == nil })
	for _, it := range items {
		it.scrub()
	}
	return items, err
}

// scrub drops the control characters of an item's text: its one-line
// fields are made printable, its HTML keeps its line breaks.
func (it *Item) scrub() {
	it.GUID, it.Title, it.URL = Printable(it.GUID), Printable(it.Title), Printable(it.URL)
	it.Summary, it.Content = stripControls(it.Summary), stripControls(it.Content)
	for _, list := range [][]string{it.Authors, it.Categories} {
		for i, s := range list {
			list[i] = Printable(s)
		}
	}
	for i := range it.Enclosures {
		e := &it.Enclosures[i]
		e.URL, e.Type = Printable(e.URL), Printable(e.Type)
	}
}

// SaveItems writes the items kept of the source id.
func (c *Cache) SaveItems(id string, items []*Item) error {
	if !ValidID(id) {
		return fmt.Errorf("source id %q: use lower-case letters, digits and dashes", id)
	}
	return c.write(id+".json", items)
}

// read decodes the JSON file name of the cache into v; a missing file
// leaves v as it is.
func (c *Cache) read(name string, v any) error {
	data, err := os.ReadFile(filepath.Join(c.Dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w; delete the file and run rounds fetch again", filepath.Join(c.Dir, name), err)
	}
	return nil
}

// write encodes v as the JSON file name of the cache, atomically: a crash
// leaves the old file or the new one, never half of one.
func (c *Cache) write(name string, v any) error {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.Dir, "."+name+"-*.tmp")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	if err := errors.Join(werr, tmp.Close()); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(c.Dir, name)); err != nil {
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
