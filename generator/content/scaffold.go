package content

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rounds-health/rounds/generator/config"
)

// NewNote writes a new draft note titled title, dated now, and returns its
// path. It never overwrites a file.
func NewNote(cfg *config.Config, title string, now time.Time) (string, error) {
	return WriteNote(cfg, &Note{Title: title, Audience: []string{"clinicians"}}, now)
}

// WriteNote writes the front matter of a new draft note, with what n
// says filled in, and the headings of a curation note.
func WriteNote(cfg *config.Config, n *Note, now time.Time) (string, error) {
	slug := config.Slugify(n.Title)
	if slug == "" {
		return "", errors.New(`new note: the title needs letters or digits, e.g. rounds new note "Statins after 75"`)
	}
	opt := func(key, value, example string) string {
		if value != "" {
			return key + " = " + config.TOMLValue(value) + "\n"
		}
		return "# " + key + " = " + example + "\n"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "+++\ntitle = %s\n", config.TOMLValue(n.Title))
	fmt.Fprintf(&b, "date = %s\n", now.In(cfg.Location()).Format(time.RFC3339))
	b.WriteString("summary = \"\"\n")
	fmt.Fprintf(&b, "topics = %s\n", config.TOMLValue(n.Topics))
	fmt.Fprintf(&b, "audience = %-24s # clinicians, patients, public\n", config.TOMLValue(n.Audience))
	b.WriteString(`evidence = ""                      # OCEBM "1a"…"5", "GRADE:moderate", or SORT "A"/"B"/"C"` + "\n")
	fmt.Fprintf(&b, "design = %-26s # e.g. \"randomised controlled trial\"\n", config.TOMLValue(n.Design))
	b.WriteString("draft = true                       # remove when the note is ready\n[source]\n")
	url := n.Source.URL
	if url == "" {
		url = "https://"
	}
	fmt.Fprintf(&b, "url = %s\ntitle = %s\npublisher = %s\n", config.TOMLValue(url), config.TOMLValue(n.Source.Title), config.TOMLValue(n.Source.Publisher))
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
	fmt.Fprintf(&b, "+++\ntitle = %s\n", config.TOMLValue(title))
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
