package wire

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/rounds-health/rounds/feeds"
	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
)

// FetchOptions control rounds fetch.
type FetchOptions struct {
	// Force fetches sources that are backing off after failures.
	Force bool
	// Only, if set, fetches only the sources with these IDs.
	Only []string
	// Done is called as each source finishes.
	Done func(feeds.Report)
}

// Fetch fetches the enabled sources of cfg into its wire cache and
// reports on each. Its error is for a cache it could not write or a
// source named in opts.Only that does not exist; failing sources are in
// the reports.
func Fetch(ctx context.Context, cfg *config.Config, opts FetchOptions) ([]feeds.Report, error) {
	var sources []feeds.Source
	for _, s := range cfg.Sources {
		if s.On() && (len(opts.Only) == 0 || slices.Contains(opts.Only, s.ID)) {
			sources = append(sources, sourceFeed(s))
		}
	}
	for _, id := range opts.Only {
		if !slices.ContainsFunc(cfg.Sources, func(s *config.SourceConfig) bool { return s.ID == id }) {
			return nil, fmt.Errorf("no source %q in %s; rounds sources lists them", id, cfg.File)
		}
	}
	ua := cfg.Wire.UserAgent
	if ua == "" {
		ua = fmt.Sprintf("Rounds/1 (feed reader for %s; +%s)", cfg.Title, cfg.BaseURL)
	}
	allowAll, allow := cfg.Wire.Private()
	f := &feeds.Fetcher{
		UserAgent:    ua,
		Workers:      cfg.Wire.Workers,
		PerHost:      cfg.Wire.PerHost,
		Timeout:      cfg.Wire.TimeoutDuration(),
		MaxBytes:     cfg.Wire.MaxBytes,
		AllowPrivate: allowAll,
		Allow:        allow,
		Force:        opts.Force,
		Done:         opts.Done,
	}
	return f.Fetch(ctx, &feeds.Cache{Dir: cfg.CacheDir()}, sources)
}

// The Wire is what the sources published lately, deduplicated into
// stories and linked to the notes that curate them.
type Wire struct {
	// Stories are every story in the cache, newest first.
	Stories []*feeds.Story
	// Sources are the enabled sources, in config order, with their
	// health.
	Sources []*content.WireSource

	sources map[string]*content.WireSource
	byKey   map[string]*feeds.Story
	covered map[*feeds.Story]*content.Note
	views   map[*feeds.Story]*content.WireStory
}

// Source returns the configured source of an item.
func (w *Wire) Source(it *feeds.Item) *content.WireSource { return w.sources[it.Source] }

// Load reads the wire from the cache of cfg. A source never fetched
// has no items, and neither has one whose cache file cannot be read: that
// is logged and shown on the feed-health page, and the next fetch mends it.
func Load(cfg *config.Config) *Wire {
	w := &Wire{sources: map[string]*content.WireSource{}, byKey: map[string]*feeds.Story{}, covered: map[*feeds.Story]*content.Note{}, views: map[*feeds.Story]*content.WireStory{}}
	cache := &feeds.Cache{Dir: cfg.CacheDir()}
	states, err := cache.States()
	if err != nil {
		slog.Warn("wire: the sources' record is unreadable; the next fetch mends it", "err", err)
	}
	var items []*feeds.Item
	for _, s := range cfg.Sources {
		if !s.On() {
			continue
		}
		st := states[s.ID]
		if st == nil {
			st = &feeds.State{URL: s.URL}
		}
		kept, err := cache.Items(s.ID)
		if err != nil {
			slog.Warn("wire: a source's items are unreadable; they are left out until the next fetch", "source", s.ID, "err", err)
			st.LastError = "kept items unreadable; the next fetch replaces them" // published: no local path
		}
		st.Items = len(kept)
		ws := &content.WireSource{SourceConfig: s, State: st}
		w.Sources = append(w.Sources, ws)
		w.sources[s.ID] = ws
		items = append(items, kept...)
	}
	w.Stories = feeds.Dedupe(items, func(it *feeds.Item) int { return feeds.KindRank(w.sources[it.Source].Kind) })
	for _, st := range w.Stories {
		for _, it := range st.Items {
			for _, k := range it.Keys() {
				w.byKey[k] = st
			}
		}
	}
	return w
}

// noteKeys are the keys by which a note's source matches a wire story.
func noteKeys(n *content.Note) []string {
	var keys []string
	if n.Source.DOI != "" {
		keys = append(keys, "doi:"+strings.ToLower(n.Source.DOI))
	}
	if n.Source.PMID != "" {
		keys = append(keys, "pmid:"+n.Source.PMID)
	}
	if k := feeds.URLKey(n.Source.URL); k != "" {
		keys = append(keys, "url:"+k)
	}
	return keys
}

// StoryFor returns the wire story a note's source is, or nil.
func (w *Wire) StoryFor(n *content.Note) *feeds.Story {
	if len(w.byKey) == 0 {
		return nil
	}
	for _, k := range noteKeys(n) {
		if s := w.byKey[k]; s != nil {
			return s
		}
	}
	return nil
}

// Cover records the notes that curate wire stories.
func (w *Wire) Cover(notes []*content.Note) {
	for _, n := range notes {
		if s := w.StoryFor(n); s != nil {
			if prev, ok := w.covered[s]; !ok || n.Slug < prev.Slug {
				w.covered[s] = n
			}
		}
	}
}

// CoveredBy returns the note that curates a story, or nil.
func (w *Wire) CoveredBy(s *feeds.Story) *content.Note { return w.covered[s] }

// Topics returns the topics of a story: those of its sources.
func (w *Wire) Topics(s *feeds.Story) []string {
	var topics []string
	for _, it := range s.Items {
		if src := w.sources[it.Source]; src != nil {
			for _, t := range src.Topics {
				if !slices.Contains(topics, t) {
					topics = append(topics, t)
				}
			}
		}
	}
	slices.Sort(topics)
	return topics
}

// Find returns the story holding the item with the ID, or nil. A unique
// prefix of at least 6 digits is enough.
func (w *Wire) Find(id string) (*feeds.Story, *feeds.Item) {
	id = strings.ToLower(strings.TrimSpace(id))
	if len(id) < 6 {
		return nil, nil
	}
	var story *feeds.Story
	var item *feeds.Item
	for _, s := range w.Stories {
		for _, it := range s.Items {
			if strings.HasPrefix(it.ID, id) {
				if item != nil && item != it {
					return nil, nil
				}
				story, item = s, it
			}
		}
	}
	return story, item
}

// Since returns the stories dated after t, newest first, with topic if
// it is not empty.
func (w *Wire) Since(t time.Time, topic string) []*feeds.Story {
	var out []*feeds.Story
	for _, s := range w.Stories {
		if s.Date().Before(t) {
			break
		}
		if topic == "" || slices.Contains(w.Topics(s), topic) {
			out = append(out, s)
		}
	}
	return out
}

// View returns the page view of a story, made once.
func (w *Wire) View(s *feeds.Story) *content.WireStory {
	if v, ok := w.views[s]; ok {
		return v
	}
	v := &content.WireStory{Story: s, Note: w.covered[s]}
	for _, it := range s.Items {
		v.Items = append(v.Items, content.WireItem{Item: it, Source: w.sources[it.Source]})
	}
	w.views[s] = v
	return v
}

// A Day is the wire's stories of one day, by source.
type Day struct {
	Date    time.Time
	Sources []*Group
}

// A Group is the stories of one day whose primary item is from one
// source.
type Group struct {
	Source  *content.WireSource
	Stories []*content.WireStory
}

// Days groups stories (newest first) by the day of their date in loc,
// then by the source of their primary item, in config order.
func (w *Wire) Days(stories []*feeds.Story, loc *time.Location) []*Day {
	var days []*Day
	for _, s := range stories {
		d := s.Date().In(loc)
		day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
		if len(days) == 0 || !days[len(days)-1].Date.Equal(day) {
			days = append(days, &Day{Date: day})
		}
		cur := days[len(days)-1]
		src := w.sources[s.Primary().Source]
		i := slices.IndexFunc(cur.Sources, func(g *Group) bool { return g.Source == src })
		if i < 0 {
			cur.Sources = append(cur.Sources, &Group{Source: src})
			i = len(cur.Sources) - 1
		}
		cur.Sources[i].Stories = append(cur.Sources[i].Stories, w.View(s))
	}
	order := map[*content.WireSource]int{}
	for i, s := range w.Sources {
		order[s] = i
	}
	for _, d := range days {
		slices.SortStableFunc(d.Sources, func(a, b *Group) int { return cmp.Compare(order[a.Source], order[b.Source]) })
	}
	return days
}

// TopicList returns the topics the sources cover, sorted.
func (w *Wire) TopicList() []string {
	var topics []string
	for _, src := range w.Sources {
		for _, t := range src.Topics {
			if !slices.Contains(topics, t) {
				topics = append(topics, t)
			}
		}
	}
	slices.Sort(topics)
	return topics
}

// sourceFeed returns the source as the feeds package knows it.
func sourceFeed(s *config.SourceConfig) feeds.Source {
	return feeds.Source{ID: s.ID, Name: s.Name, URL: s.URL, Kind: s.Kind, MaxItems: s.MaxItems}
}

// Subscriptions returns the enabled sources as OPML subscriptions.
func Subscriptions(c *config.Config) []feeds.Subscription {
	var subs []feeds.Subscription
	for _, s := range c.Sources {
		if s.On() {
			subs = append(subs, feeds.Subscription{Title: s.Name, FeedURL: s.URL, SiteURL: s.Site, Categories: s.Topics, Kind: s.Kind, ID: s.ID})
		}
	}
	return subs
}

// NewNoteFrom writes a new draft note about a wire item, its title,
// topics, audience and source filled in from the item and its source, and
// returns its path. id is the item's ID or a unique prefix of it, as
// rounds inbox prints it.
func NewNoteFrom(cfg *config.Config, id string, now time.Time) (string, error) {
	w := Load(cfg)
	story, it := w.Find(id)
	if it == nil {
		return "", fmt.Errorf("new note --from %s: no wire item has that ID (or the prefix is not unique); rounds inbox lists them", id)
	}
	src := w.sources[it.Source]
	n := &content.Note{Title: it.Title, Topics: src.Topics, Audience: src.Audience}
	if len(n.Audience) == 0 {
		n.Audience = []string{"clinicians"}
	}
	if src.Kind == "preprint" {
		n.Design = "preprint"
	}
	ids := story.Identifiers()
	n.Source = content.Source{URL: it.URL, Title: it.Title, Publisher: src.Name, Published: it.Published, DOI: ids.DOI, PMID: ids.PMID}
	if len(ids.NCT) > 0 {
		n.Source.NCT = ids.NCT[0]
	}
	return content.WriteNote(cfg, n, now)
}
