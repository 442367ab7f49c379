package generator

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/rounds-health/rounds/generator/internal/testproject"
	"github.com/rounds-health/rounds/generator/render"
	"github.com/rounds-health/rounds/generator/site"
)

// exampleSite builds the bundled example newsletter as published at
// testproject.Now into a folder of the test's, and returns the folder and
// the build's result.
func exampleSite(t testing.TB) (string, *render.Result) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "public")
	res, err := buildFile(t, filepath.Join("..", "config.toml"), &Options{Options: site.Options{Now: testproject.Now}, Out: out})
	if err != nil {
		t.Fatalf("the example site does not build:\n%v", err)
	}
	return out, res
}

// TestExampleSite builds the bundled example newsletter, as the README's
// build command does, and checks it whole.
func TestExampleSite(t *testing.T) {
	t.Parallel()
	out, res := exampleSite(t)
	if res.Notes < 12 || res.Editions != 3 {
		t.Errorf("example: %d notes, %d editions", res.Notes, res.Editions)
	}
	checkLinks(t, out, "https://example.org/rounds/")
	files := tree(t, out)
	for p, data := range files {
		if !strings.HasSuffix(p, ".html") {
			continue
		}
		page := string(data)
		if !strings.Contains(page, "It is not medical advice") {
			t.Errorf("%s: no medical disclaimer in the footer", p)
		}
		if strings.Contains(p, "notes/") && p != "notes/index.html" && !strings.Contains(p, "/page/") && !strings.Contains(page, `class="source"`) {
			t.Errorf("%s: a note without its source", p)
		}
	}
	for _, hidden := range []string{"notes/draft-glp1-shortage-update/index.html", "notes/folic-acid-before-pregnancy/index.html", "notes/flu-vaccine-autumn-2026/index.html"} {
		if _, ok := files[hidden]; ok {
			t.Errorf("%s: hidden note published", hidden)
		}
	}
	// Edition 2 has no list: it carries October's notes.
	ed := string(files["editions/no-2-pregnancy-prevention-and-screening/index.html"])
	if n := strings.Count(ed, `<article class="card`); n != 5 {
		t.Errorf("edition 2 carries %d notes, want 5", n)
	}
}
