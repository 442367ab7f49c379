// Package testproject writes small newsletter projects for tests: a
// config.toml, content files and a copy of the repository's default
// theme, in a test's temporary folder.
package testproject

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Now is the present of every test build.
var Now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// Config is the config.toml New writes when the files do not hold one.
const Config = `title = "Test Rounds"
description = "A test newsletter."
base_url = "https://example.org/newsletter/"
paginate = 2
disclaimer = "Not medical advice. See the [disclaimer](/disclaimer/)."
[author]
name = "Test Editors"
email = "editors@example.org"
`

// Note returns a note file with the given extra front matter lines.
func Note(title, date string, extra ...string) string {
	return "+++\ntitle = \"" + title + "\"\ndate = " + date + "\nsummary = \"Summary of " + title + ".\"\n" +
		strings.Join(extra, "\n") + "\n+++\n\nBody of **" + title + "**.\n"
}

// New writes a project folder with files (path → content), Config unless
// files has a config.toml, and the repository's default theme, and
// returns the folder.
func New(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if _, ok := files["config.toml"]; !ok {
		files["config.toml"] = Config
	}
	// A copy, not a link: a build refuses links out of the project, and a
	// test that writes into the theme changes only its own.
	if err := os.CopyFS(filepath.Join(dir, "themes", "default"), os.DirFS(filepath.Join(Root(t), "themes", "default"))); err != nil {
		t.Fatal(err)
	}
	for p, data := range files {
		abs := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(abs, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Root returns the repository's folder: the nearest folder above the
// test's that holds go.mod.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = up
	}
}
