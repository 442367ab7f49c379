package site

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/internal/testproject"
)

// TestRelinkEqualsAssemble moves notes at random (their dates, topics,
// audiences, drafts, schedules and expiry), adds and deletes them, while
// the present moves on,
// and checks after each that the site Update makes is the one a fresh
// load assembles, whether it was relinked or assembled, and that most
// moves were relinked.
func TestRelinkEqualsAssemble(t *testing.T) {
	t.Parallel()
	const notes = 30
	rng := rand.New(rand.NewPCG(19, 6))
	topics := []string{"alpha", "beta", "gamma", "delta"}
	audiences := []string{"clinicians", "patients", "public"}
	// note writes the front matter of note i.
	note := func(i int, date string, extra ...string) string {
		return testproject.Note(fmt.Sprintf("Note %d", i), date, append([]string{fmt.Sprintf(`source = "https://example.org/%d"`, i), `reviewed_by = "A. Reviewer, MD"`, `last_reviewed = 2026-08-01`}, extra...)...)
	}
	pick := func(from []string) string {
		var out []string
		for _, s := range from {
			if rng.IntN(3) == 0 {
				out = append(out, `"`+s+`"`)
			}
		}
		return "[" + strings.Join(out, ", ") + "]"
	}
	day := func() string {
		// Mostly before the present (2026-11-28), some after it.
		return fmt.Sprintf("2026-%02d-%02dT%02d:00:00Z", 9+rng.IntN(4), 1+rng.IntN(28), rng.IntN(24))
	}
	files := map[string]string{
		"content/editions/listed.md":  "+++\ntitle = \"Listed\"\ndate = 2026-10-01T07:00:00Z\nnotes = [\"n03\", \"n05\"]\n+++\n\nIntro.\n",
		"content/editions/october.md": "+++\ntitle = \"October\"\ndate = 2026-10-31T07:00:00Z\n+++\n\nIntro.\n",
		"content/editions/window.md":  "+++\ntitle = \"Window\"\ndate = 2026-11-20T07:00:00Z\nfrom = 2026-11-01T00:00:00Z\nto = 2026-11-15T00:00:00Z\n+++\n\nIntro.\n",
	}
	for i := range notes {
		files[fmt.Sprintf("content/notes/n%02d.md", i)] = note(i, day(), "topics = "+pick(topics), "audience = "+pick(audiences))
	}
	dir := testproject.New(t, files)
	cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	opts := &Options{Now: testproject.Now}
	var cache ContentCache
	last, _, err := cache.Load(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	relinked, failed, mend := 0, 0, -1
	present := map[int]bool{}
	for i := range notes {
		present[i] = true
	}
	const steps = 200
	for step := range steps {
		// A note of ten more than there are at first: added when it is
		// not there, now and then deleted when it is.
		i := rng.IntN(notes + 10)
		if mend >= 0 {
			i = mend // the note whose move broke the site: moved back into sight
		}
		p := filepath.Join(dir, "content", "notes", fmt.Sprintf("n%02d.md", i))
		extra := []string{"topics = " + pick(append(topics, "new-topic")), "audience = " + pick(audiences)}
		hide := rng.IntN(6)
		if (i == 3 || i == 5) && rng.IntN(2) > 0 || mend >= 0 {
			// The listed edition's notes mostly stay published (below):
			// hidden, they are an error, mended at the next step.
			hide = 5
		}
		mend = -1
		switch hide {
		case 0:
			extra = append(extra, "draft = true")
		case 1:
			extra = append(extra, "expires = 2026-11-01T00:00:00Z")
		case 2:
			extra = append(extra, "publish_at = 2026-12-24T00:00:00Z")
		}
		date := day()
		if hide == 5 && date > "2026-11" {
			date = "2026-10" + date[len("2026-11"):]
		}
		what := "added: " + strings.Join(append(extra, "date = "+date), "; ")
		switch {
		case present[i] && i != 3 && i != 5 && hide != 5 && rng.IntN(5) == 0:
			what = "deleted"
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
		default:
			if present[i] {
				what = "moved: " + what[len("added: "):]
			}
			if err := os.WriteFile(p, []byte(note(i, date, extra...)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		present[i] = what != "deleted"
		// The present moves on, past a note's time now and then.
		opts := &Options{Now: testproject.Now.Add(time.Duration(step) * 37 * time.Minute)}
		got, _, err := cache.Update(cfg, opts, []string{p})
		var fresh ContentCache
		want, _, wantErr := fresh.Load(cfg, opts)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("step %d (n%02d: %s): Update: %v; a fresh load: %v", step, i, what, err, wantErr)
		}
		if err != nil {
			if failed == 0 {
				t.Logf("step %d: %v", step, err)
			}
			failed++
			mend = i
			last = nil
			continue
		}
		if last != nil && got != last && got.linked == last.linked {
			relinked++
		}
		if g, w := dump(got), dump(want); g != w {
			t.Fatalf("step %d (n%02d: %s): the site Update made differs from a fresh load's:\n%s", step, i, what, diffLines(g, w))
		}
		last = got
	}
	t.Logf("%d steps: %d relinked, %d with errors", steps, relinked, failed)
	if relinked < steps/3 {
		t.Errorf("%d of %d moves relinked, want at least a third", relinked, steps)
	}
}

// dump writes out what a site links: its lists and each note's links.
func dump(s *Site) string {
	var b strings.Builder
	slugs := func(notes []*content.Note) []string {
		var out []string
		for _, n := range notes {
			out = append(out, n.Slug)
		}
		return out
	}
	fmt.Fprintf(&b, "held %+v, now %v, preview %v, %d findings, %+v\n", s.Held, s.Now, s.Preview, len(s.PHI), s.Checked())
	for _, n := range s.Notes {
		var topics, eds []string
		for _, t := range n.TopicPages {
			topics = append(topics, t.Slug)
		}
		for _, e := range n.Editions {
			eds = append(eds, e.Slug)
		}
		fmt.Fprintf(&b, "note %s %v scheduled %v topics %v editions %v story %v\n", n.Slug, n.Published, n.Scheduled, topics, eds, n.Story != nil)
	}
	for _, t := range slices.Concat(s.Topics, s.Audiences) {
		fmt.Fprintf(&b, "%s %s %q %s %v\n", t.Kind, t.Slug, t.Title, t.URL, slugs(t.Notes))
	}
	for _, e := range s.Editions {
		fmt.Fprintf(&b, "edition %s %d %s %v\n", e.Slug, e.Number, e.URL, slugs(e.Notes))
	}
	for _, slug := range slices.Sorted(maps.Keys(s.notes)) {
		fmt.Fprintf(&b, "published %s\n", slug)
	}
	return b.String()
}

// diffLines returns the lines of got and want that differ.
func diffLines(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var out []string
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			out = append(out, "got:  "+a, "want: "+b)
		}
	}
	return strings.Join(out[:min(len(out), 12)], "\n")
}
