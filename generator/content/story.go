package content

import (
	"github.com/rounds-health/rounds/feeds"
	"github.com/rounds-health/rounds/generator/config"
)

// A WireSource is a source and the state of its cache.
type WireSource struct {
	*config.SourceConfig
	State *feeds.State
}

// Status is what the public sources page says of the source's feed, in
// words for readers: how its last fetch went, never the fetch's error,
// which is the curator's (rounds sources prints it).
func (s *WireSource) Status() string {
	st := s.State
	switch {
	case st == nil || st.LastError == "" && st.LastSuccess.IsZero():
		return "Not fetched yet"
	case st.LastError == "":
		return "OK"
	}
	switch st.Problem {
	case feeds.ProblemRefused:
		return "Not available: its server declines the request"
	case feeds.ProblemInvalid:
		return "Not available: what it sends is not a valid feed"
	}
	return "Not reachable at the moment"
}

// Label is what the wire says of the source's kind.
func (s *WireSource) Label() string { return config.SourceKinds[s.Kind] }

// A WireStory is a story as pages show it: each item with its source,
// and the note that curates the story, if any.
type WireStory struct {
	*feeds.Story
	Items []WireItem
	// Note is the published note that curates the story, or nil.
	Note *Note
}

// A WireItem is a story's item and the source it came from.
type WireItem struct {
	*feeds.Item
	Source *WireSource
}

// Primary is the story's most primary item.
func (s *WireStory) Primary() WireItem { return s.Items[0] }
