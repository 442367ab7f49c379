package generator

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"rounds/generator/config"
	"rounds/generator/content"

	"github.com/pelletier/go-toml/v2"
)

// NewNote writes a new draft note titled title, dated now, and returns its
// path. It never overwrites a file.
func NewNote(cfg *config.Config, title string, now time.Time) (string, error) {
	return writeNote(cfg, &content.Note{Title: title, Audience: []string{"clinicians"}}, now)
}

// NewNoteFrom writes a new draft note about a wire item, its title,
// topics, audience and source filled in from the item and its source, and
// returns its path. id is the item's ID or a unique prefix of it, as
// rounds inbox prints it.
func NewNoteFrom(cfg *config.Config, id string, now time.Time) (string, error) {
	w := LoadWire(cfg)
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
	return writeNote(cfg, n, now)
}

// writeNote writes the front matter of a new draft note, with what n
// says filled in, and the headings of a curation note.
func writeNote(cfg *config.Config, n *content.Note, now time.Time) (string, error) {
	slug := config.Slugify(n.Title)
	if slug == "" {
		return "", errors.New(`new note: the title needs letters or digits, e.g. rounds new note "Statins after 75"`)
	}
	opt := func(key, value, example string) string {
		if value != "" {
			return key + " = " + tomlValue(value) + "\n"
		}
		return "# " + key + " = " + example + "\n"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "+++\ntitle = %s\n", tomlValue(n.Title))
	fmt.Fprintf(&b, "date = %s\n", now.In(cfg.Location()).Format(time.RFC3339))
	b.WriteString("summary = \"\"\n")
	fmt.Fprintf(&b, "topics = %s\n", tomlValue(n.Topics))
	fmt.Fprintf(&b, "audience = %-24s # clinicians, patients, public\n", tomlValue(n.Audience))
	b.WriteString(`evidence = ""                      # OCEBM "1a"…"5", "GRADE:moderate", or SORT "A"/"B"/"C"` + "\n")
	fmt.Fprintf(&b, "design = %-26s # e.g. \"randomised controlled trial\"\n", tomlValue(n.Design))
	b.WriteString("draft = true                       # remove when the note is ready\n[source]\n")
	url := n.Source.URL
	if url == "" {
		url = "https://"
	}
	fmt.Fprintf(&b, "url = %s\ntitle = %s\npublisher = %s\n", tomlValue(url), tomlValue(n.Source.Title), tomlValue(n.Source.Publisher))
	if !n.Source.Published.IsZero() {
		fmt.Fprintf(&b, "published = %s\n", n.Source.Published.In(cfg.Location()).Format("2006-01-02"))
	} else {
		b.WriteString("# published = 2026-01-31\n")
	}
	b.WriteString(opt("doi", n.Source.DOI, `"10.1136/bmj-2026-081234"`))
	b.WriteString(opt("pmid", n.Source.PMID, `"40123456"`))
	b.WriteString(opt("nct", n.Source.NCT, `"NCT05123456"`))
	b.WriteString(`+++

## What it is

## Why it matters

## How strong is the evidence
`)
	return create(filepath.Join(cfg.Dir, "content", "notes", slug+".md"), b.Bytes())
}

// NewEdition writes a new draft edition dated now and returns its path. An
// empty title makes "Title No. N" from the count of existing editions.
func NewEdition(cfg *config.Config, title string, now time.Time) (string, error) {
	dir := filepath.Join(cfg.Dir, "content", "editions")
	if title == "" {
		entries, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		n := 1
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".md") {
				n++
			}
		}
		title = fmt.Sprintf("%s No. %d", cfg.Title, n)
	}
	slug := config.Slugify(title)
	if slug == "" {
		return "", errors.New(`new edition: the title needs letters or digits`)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "+++\ntitle = %s\n", tomlValue(title))
	fmt.Fprintf(&b, "date = %s\n", now.In(cfg.Location()).Format(time.RFC3339))
	b.WriteString(`summary = ""
draft = true
# Without a notes list, the edition carries every note dated after the
# previous edition, up to its own date. To choose and order them yourself:
# notes = ["note-slug", "another-note"]
+++

A few lines from the curator: what this edition covers and why.
`)
	return create(filepath.Join(dir, slug+".md"), b.Bytes())
}

// tomlValue returns v, a string or a list of strings, written as TOML by
// the TOML encoder: quotes, backslashes and control characters are
// escaped as TOML escapes them, not as Go does. Bytes that are not UTF-8
// become U+FFFD.
func tomlValue[T string | []string](v T) string {
	var x any
	switch v := any(v).(type) {
	case string:
		x = strings.ToValidUTF8(v, "\uFFFD")
	case []string:
		list := make([]string, len(v))
		for i, s := range v {
			list[i] = strings.ToValidUTF8(s, "\uFFFD")
		}
		x = list
	}
	out, err := toml.Marshal(map[string]any{"v": x})
	if err != nil {
		panic(fmt.Sprintf("toml: %v", err)) // valid UTF-8 text always encodes
	}
	return strings.TrimSuffix(strings.TrimPrefix(string(out), "v = "), "\n")
}

// create writes data to a new file at path, making its folder.
func create(path string, data []byte) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("%s already exists; choose another title", path)
		}
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}
