package content

// A Topic is a group of notes: a topic or an audience.
type Topic struct {
	Kind  string // "topics" or "audiences"
	Slug  string
	Title string
	URL   string  // the root-relative URL of its page, for links
	Notes []*Note // newest first
}

// Path returns the topic's site path, e.g. "topics/vaccines/".
func (t *Topic) Path() string { return t.Kind + "/" + t.Slug + "/" }
