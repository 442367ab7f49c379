package generator

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rounds/generator/config"
	"rounds/generator/render"
	"rounds/generator/site"
)

// testNow is the present of every test build.
var testNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

const testConfig = `title = "Test Rounds"
description = "A test newsletter."
base_url = "https://example.org/newsletter/"
paginate = 2
disclaimer = "Not medical advice. See the [disclaimer](/disclaimer/)."
[author]
name = "Test Editors"
email = "editors@example.org"
`

// note returns a note file with the given extra front matter lines.
func note(title, date string, extra ...string) string {
	return "+++\ntitle = \"" + title + "\"\ndate = " + date + "\nsummary = \"Summary of " + title + ".\"\n" +
		strings.Join(extra, "\n") + "\n+++\n\nBody of **" + title + "**.\n"
}

// project writes a project folder with files (path → content), a default
// config.toml unless files has one, and the repository's default theme.
func project(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if _, ok := files["config.toml"]; !ok {
		files["config.toml"] = testConfig
	}
	// A copy, not a link: a build refuses links out of the project, and a
	// test that writes into the theme changes only its own.
	if err := os.CopyFS(filepath.Join(dir, "themes", "default"), os.DirFS(filepath.Join("..", "themes", "default"))); err != nil {
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

// build builds the project in dir as of testNow into dir/public.
func build(t testing.TB, dir string, mod ...func(*Options)) (*render.Result, error) {
	t.Helper()
	opts := &Options{Options: site.Options{Now: testNow}}
	for _, m := range mod {
		m(opts)
	}
	return buildFile(t, filepath.Join(dir, "config.toml"), opts)
}

// buildFile builds the project whose config.toml is file.
func buildFile(t testing.TB, file string, opts *Options) (*render.Result, error) {
	t.Helper()
	cfg, err := config.LoadConfig(file)
	if err != nil {
		return nil, err
	}
	return Build(cfg, opts)
}

// mustBuild builds and fails the test on error.
func mustBuild(t testing.TB, dir string, mod ...func(*Options)) *render.Result {
	t.Helper()
	res, err := build(t, dir, mod...)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return res
}

// read returns the output file p of the build in dir.
func read(t testing.TB, dir, p string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "public", filepath.FromSlash(p)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func exists(dir, p string) bool {
	_, err := os.Stat(filepath.Join(dir, "public", filepath.FromSlash(p)))
	return err == nil
}

// tree returns every file under dir with its bytes.
func tree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTree fails unless a and b hold the same files with the same bytes.
func sameTree(t testing.TB, a, b map[string][]byte) {
	t.Helper()
	if len(a) != len(b) {
		t.Errorf("trees have %d and %d files", len(a), len(b))
	}
	for p, data := range a {
		if other, ok := b[p]; !ok {
			t.Errorf("%s: only in the first tree", p)
		} else if !bytes.Equal(data, other) {
			t.Errorf("%s: differs", p)
		}
	}
}
