package generator

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// NewNote writes a new draft note titled title, dated now, and returns its
// path. It never overwrites a file.
func NewNote(cfg *Config, title string, now time.Time) (string, error) {
	slug := slugify(title)
	if slug == "" {
		return "", errors.New(`new note: the title needs letters or digits, e.g. rounds new note "Statins after 75"`)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "+++\ntitle = %s\n", strconv.Quote(title))
	fmt.Fprintf(&b, "date = %s\n", now.In(cfg.Location()).Format(time.RFC3339))
	b.WriteString(`summary = ""
topics = []
audience = ["clinicians"]          # clinicians, patients, public
evidence = ""                      # OCEBM "1a"…"5", "GRADE:moderate", or SORT "A"/"B"/"C"
design = ""                        # e.g. "randomised controlled trial"
draft = true                       # remove when the note is ready
[source]
url = "https://"
title = ""
publisher = ""
# published = 2026-01-31
# doi = ""
# pmid = ""
# nct = ""
+++

## What it is

## Why it matters

## How strong is the evidence
`)
	return create(filepath.Join(cfg.Dir, "content", "notes", slug+".md"), b.Bytes())
}

// NewEdition writes a new draft edition dated now and returns its path. An
// empty title makes "Title No. N" from the count of existing editions.
func NewEdition(cfg *Config, title string, now time.Time) (string, error) {
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
	slug := slugify(title)
	if slug == "" {
		return "", errors.New(`new edition: the title needs letters or digits`)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "+++\ntitle = %s\n", strconv.Quote(title))
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
