package generator

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"golang.org/x/net/html"

	"github.com/rounds-health/rounds/generator/browsertest"
	"github.com/rounds-health/rounds/generator/theme"
)

// buildExample builds a copy of the bundled example (so that no feed cache
// a fetch left in the work tree reaches the build) as published, or as
// previewed with drafts and scheduled notes, and returns its pages'
// paths, relative to the output folder, and the folder.
func buildExample(t *testing.T, preview bool) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"content", "themes"} {
		if err := os.CopyFS(filepath.Join(dir, d), os.DirFS(filepath.Join("..", d))); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := os.ReadFile(filepath.Join("..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	mustBuild(t, dir, func(o *Options) { o.Drafts, o.Future = preview, preview })
	out := filepath.Join(dir, "public")
	var pages []string
	err = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".html") {
			rel, _ := filepath.Rel(out, p)
			pages = append(pages, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) < 40 {
		t.Fatalf("the example has %d pages; want every page, at least 40", len(pages))
	}
	return out, pages
}

// htmlValidateConfig is the configuration of html-validate for the
// example's pages: its recommended rules (the standard ones and those of
// style) less a short list, each for a reason.
var htmlValidateConfig = map[string]any{
	"root":    true,
	"extends": []string{"html-validate:recommended"},
	"rules": map[string]any{
		// The theme's labelled lists are styled without markers, and
		// WebKit (Safari and VoiceOver) then stops announcing them as
		// lists; role="list" gives the semantics back, and is what lets a
		// <ul> carry an aria-label. The rule calls it redundant.
		"no-redundant-role": "off",
		// The sign-up form's lists are checkboxes that share the name
		// "list", as HTML's multi-valued fields do; the rule allows that
		// only for radio buttons and buttons unless told.
		"form-dup-name": []any{"error", map[string]any{"shared": []string{"radio", "button", "reset", "submit", "checkbox"}}},
		// HTML allows any id without spaces; goldmark's footnotes are
		// "fn:1" and "fnref:1", which the strict form refuses.
		"valid-id": []any{"error", map[string]any{"relaxed": true}},
	},
}

// TestExamplePages checks every page of the example, published and
// previewed: html-validate, an independent validator, reports no error,
// and each <title> fits in theme.MaxTitle characters.
func TestExamplePages(t *testing.T) {
	t.Parallel()
	for _, preview := range []bool{false, true} {
		t.Run(map[bool]string{false: "published", true: "preview"}[preview], func(t *testing.T) {
			t.Parallel()
			out, pages := buildExample(t, preview)
			t.Run("titles", func(t *testing.T) { checkTitles(t, out, pages) })
			t.Run("html-validate", func(t *testing.T) { validateHTML(t, out, pages) })
		})
	}
}

// canary is a page with two errors html-validate must find, validated
// with the example's pages so that a validator that checks nothing
// cannot pass them.
const canary = `<!DOCTYPE html>
<html lang="en"><head><title>Canary</title></head>
<body><p><div>a block in a paragraph</div></p><img src="x.png"></body></html>
`

// validateHTML runs html-validate over the pages below out and fails on
// any error it reports.
func validateHTML(t *testing.T, out string, pages []string) {
	validate := browsertest.HTMLValidate(t, "..")
	conf, err := json.Marshal(htmlValidateConfig)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	confFile, canaryFile := filepath.Join(tmp, "htmlvalidate.json"), filepath.Join(tmp, "canary.html")
	if err := os.WriteFile(confFile, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(canaryFile, []byte(canary), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", append([]string{validate, "--config", confFile, "--formatter", "json", canaryFile}, pages...)...)
	cmd.Dir = out
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var results []struct {
		FilePath string `json:"filePath"`
		Messages []struct {
			RuleID   string `json:"ruleId"`
			Severity int    `json:"severity"`
			Message  string `json:"message"`
			Line     int    `json:"line"`
			Column   int    `json:"column"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &results); err != nil {
		t.Fatalf("html-validate: %v, %v\n%s\n%s", runErr, err, stdout.Bytes(), stderr.Bytes())
	}
	var canaryRules []string
	for _, r := range results {
		for _, m := range r.Messages {
			switch {
			case r.FilePath == canaryFile:
				canaryRules = append(canaryRules, m.RuleID)
			case m.Severity >= 2:
				t.Errorf("%s:%d:%d: %s (%s)", r.FilePath, m.Line, m.Column, m.Message, m.RuleID)
			}
		}
	}
	if !slices.Contains(canaryRules, "close-order") || !slices.Contains(canaryRules, "wcag/h37") {
		t.Errorf("html-validate missed the canary page's errors (found %v): it checks nothing\n%s", canaryRules, stderr.Bytes())
	}
	if runErr == nil {
		t.Error("html-validate exited 0 with the canary page's errors")
	}
}

// checkTitles checks the <title> of each page below out: present, at
// most theme.MaxTitle characters as browsers count them, and not naming
// the site after a title it had to cut.
func checkTitles(t *testing.T, out string, pages []string) {
	for _, p := range pages {
		data, err := os.ReadFile(filepath.Join(out, p))
		if err != nil {
			t.Fatal(err)
		}
		title, ok := pageTitle(data)
		n := len(utf16.Encode([]rune(title)))
		switch {
		case !ok || strings.TrimSpace(title) == "":
			t.Errorf("%s: no <title>", p)
		case n > theme.MaxTitle:
			t.Errorf("%s: <title> of %d characters, more than %d: %q", p, n, theme.MaxTitle, title)
		case strings.HasSuffix(title, "…") && strings.Contains(title, " · "):
			t.Errorf("%s: a cut title keeps the site's name: %q", p, title)
		}
	}
}

// pageTitle returns the text of a page's <title>.
func pageTitle(data []byte) (string, bool) {
	z := html.NewTokenizer(bytes.NewReader(data))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return "", false
		case html.StartTagToken:
			if name, _ := z.TagName(); string(name) == "title" {
				if z.Next() != html.TextToken {
					return "", true
				}
				return string(z.Text()), true
			}
		}
	}
}

// TestPageTitle checks how a page's <title> is made to fit.
func TestPageTitle(t *testing.T) {
	t.Parallel()
	const site = "Rounds Example"
	long := "Antenatal corticosteroids for women at risk of preterm birth: the 2020 Cochrane review update"
	for _, tc := range []struct{ title, site, want string }{
		{"Vaccines", site, "Vaccines · Rounds Example"},
		{"", site, "Rounds Example"},
		// 60 characters: with the site's name it would be 77, so the
		// name is left off.
		{strings.Repeat("a", 60), site, strings.Repeat("a", 60)},
		{strings.Repeat("a", 53), site, strings.Repeat("a", 53) + " · " + site},
		{strings.Repeat("a", 54), site, strings.Repeat("a", 54)},
		// Cut at the last word that fits, with "…", punctuation and
		// words such as "the" dropped.
		{long, site, "Antenatal corticosteroids for women at risk of preterm birth…"},
		{"Measles is spreading again. Here is what the evidence says about the MMR vaccine", site, "Measles is spreading again. Here is what the evidence says…"},
		{"  Spaces \n and\tbreaks  ", site, "Spaces and breaks · Rounds Example"},
		// One word too long to cut at a space.
		{strings.Repeat("x", 100), site, strings.Repeat("x", 69) + "…"},
		// Characters outside the BMP count twice, as browsers count them.
		{strings.Repeat("🩺", 40), site, strings.Repeat("🩺", 34) + "…"},
		{"", strings.Repeat("Long site name ", 6), "Long site name Long site name Long site name Long site name Long site…"},
	} {
		got := theme.PageTitle(tc.title, tc.site)
		if got != tc.want {
			t.Errorf("PageTitle(%q, %q) = %q, want %q", tc.title, tc.site, got, tc.want)
		}
		if n := len(utf16.Encode([]rune(got))); n > theme.MaxTitle {
			t.Errorf("PageTitle(%q, %q) has %d characters", tc.title, tc.site, n)
		}
	}
}
