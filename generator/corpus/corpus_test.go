package corpus_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/rounds-health/rounds/generator"
	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/corpus"
	"github.com/rounds-health/rounds/generator/site"
)

const theme = "../../themes/default"

// TestWriteDeterministic writes the same corpus twice and compares the
// trees byte for byte.
func TestWriteDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if err := corpus.Write(dir, 50, theme); err != nil {
			t.Fatal(err)
		}
	}
	fa, fb := readTree(t, a), readTree(t, b)
	if len(fa) != len(fb) {
		t.Fatalf("first run wrote %d files, second %d", len(fa), len(fb))
	}
	for name, data := range fa {
		if !bytes.Equal(data, fb[name]) {
			t.Errorf("%s differs between runs", name)
		}
	}
	if _, ok := fa["content/notes/note-00050.md"]; !ok {
		t.Error("no content/notes/note-00050.md")
	}
	if _, ok := fa["content/notes/note-00051.md"]; ok {
		t.Error("wrote a 51st note")
	}
	base, err := os.ReadFile(filepath.Join(theme, "layouts", "base.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fa["themes/default/layouts/base.html"], base) {
		t.Error("themes/default is not a copy of the theme")
	}
}

// TestNotesParse decodes every note's front matter and checks its keys
// and their types.
func TestNotesParse(t *testing.T) {
	dir := t.TempDir()
	if err := corpus.Write(dir, 50, theme); err != nil {
		t.Fatal(err)
	}
	notes, err := filepath.Glob(filepath.Join(dir, "content", "notes", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 50 {
		t.Fatalf("%d notes, want 50", len(notes))
	}
	for _, file := range notes {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(file)
		front, body, ok := strings.Cut(strings.TrimPrefix(string(data), "+++\n"), "\n+++\n")
		if !ok || !strings.HasPrefix(string(data), "+++\n") {
			t.Errorf("%s: no +++ front matter", name)
			continue
		}
		var m map[string]any
		if err := toml.Unmarshal([]byte(front), &m); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(m) != 6 {
			t.Errorf("%s: %d front matter keys, want 6: %v", name, len(m), m)
		}
		for _, key := range []string{"title", "evidence", "source", "summary"} {
			if s, ok := m[key].(string); !ok || s == "" {
				t.Errorf("%s: %s = %#v, want text", name, key, m[key])
			}
		}
		if d, ok := m["date"].(time.Time); !ok {
			t.Errorf("%s: date = %#v, want an RFC 3339 date-time", name, m["date"])
		} else if d.Before(corpus.Start) || !d.Before(corpus.End) {
			t.Errorf("%s: date %v outside [%v, %v)", name, d, corpus.Start, corpus.End)
		}
		topics, ok := m["topics"].([]any)
		if !ok || len(topics) < 1 || len(topics) > 3 {
			t.Errorf("%s: topics = %#v, want a list of 1 to 3", name, m["topics"])
		}
		for _, tp := range topics {
			if s, ok := tp.(string); !ok || s == "" {
				t.Errorf("%s: topic %#v, want text", name, tp)
			}
		}
		if ev, _ := m["evidence"].(string); ev != "" {
			if _, err := content.ParseEvidence(ev); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		if src, _ := m["source"].(string); !strings.HasPrefix(src, "https://") {
			t.Errorf("%s: source %q is not an https URL", name, src)
		}
		for _, h := range []string{"## What it is", "## Why it matters", "## How strong is the evidence"} {
			if !strings.Contains(body, h) {
				t.Errorf("%s: no %q heading", name, h)
			}
		}
		if w := len(strings.Fields(body)); w < 250 || w > 400 {
			t.Errorf("%s: %d words of body, want 250 to 400", name, w)
		}
	}
}

// TestBuild builds a small corpus with Rounds, which must accept it whole.
func TestBuild(t *testing.T) {
	dir := t.TempDir()
	if err := corpus.Write(dir, 50, theme); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := generator.Build(cfg, &generator.Options{
		Options: site.Options{Now: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)},
		Out:     filepath.Join(dir, "public"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Notes != 50 {
		t.Errorf("built %d notes, want 50", res.Notes)
	}
	if res.Editions == 0 {
		t.Error("built no editions")
	}
}

func TestWriteRefusesNonEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keep.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := corpus.Write(dir, 1, theme); err == nil {
		t.Error("wrote into a folder that was not empty")
	}
}

// readTree returns every regular file under dir by slash path, and each
// symbolic link's target.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		var data []byte
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			data = []byte(target)
			if err != nil {
				return err
			}
		} else if data, err = os.ReadFile(p); err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}
