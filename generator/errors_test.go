package generator

import (
	"strings"
	"testing"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/internal/testproject"
)

// TestErrors checks that each kind of bad input is reported as one line
// naming the file, the line where there is one, the field and the fix, and
// that one build reports all of them together.
func TestErrors(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"content/notes/good.md":     testproject.Note("Good", "2026-10-01T08:00:00Z"),
		"content/notes/syntax.md":   "+++\ntitle = \"Broken\"\ndate = 2026-10-01T08:00:00Z\nsummary = \"unterminated\n+++\n",
		"content/notes/baddate.md":  "+++\ntitle = \"Bad date\"\nsummary = \"x\"\ndate = \"next tuesday\"\n+++\n",
		"content/notes/notitle.md":  "+++\ndate = 2026-10-01T08:00:00Z\n+++\n",
		"content/notes/nofront.md":  "# Just markdown\n",
		"content/notes/unclosed.md": "+++\ntitle = \"x\"\n",
		"content/notes/evidence.md": testproject.Note("Evidence", "2026-10-01T08:00:00Z", `evidence = "level 9"`),
		"content/notes/audience.md": testproject.Note("Audience", "2026-10-01T08:00:00Z", `audience = ["doctors"]`),
		"content/notes/sponsor.md":  testproject.Note("Sponsor", "2026-10-01T08:00:00Z", `sponsored = true`),
		"content/notes/source.md":   testproject.Note("Source", "2026-10-01T08:00:00Z", `source = "not a url"`),
		"content/notes/dup-a.md":    testproject.Note("Dup A", "2026-10-01T08:00:00Z", `slug = "good"`),
		"content/notes/yaml.md":     "---\ntitle: [unclosed\n---\n",
		"content/notes/yaml2.md":    "---\ntitle: A\ndate: 2026-10-01\ntopics: [a, b\n---\n",
		"content/notes/Dup B.md":    testproject.Note("Dup B", "2026-10-01T08:00:00Z"),
		"content/notes/dup-b.md":    testproject.Note("Dup B again", "2026-10-01T08:00:00Z"),
		"content/notes/folder.md/x": "a folder where a note should be",
		"content/notes/types.md":    testproject.Note("Types", "2026-10-01T08:00:00Z", `draft = "yes"`, `topics = "one"`),
		"content/editions/ed.md":    "+++\ntitle = \"Ed\"\ndate = 2026-10-02T08:00:00Z\nnotes = [\"good\", \"missing-note\"]\n+++\n",
		"content/editions/sched.md": "+++\ntitle = \"Sched\"\ndate = 2026-10-03T08:00:00Z\nnotes = [\"later\"]\n+++\n",
		"content/notes/later.md":    testproject.Note("Later", "2026-10-01T08:00:00Z", `publish_at = 2027-01-01T00:00:00Z`),
		"content/notes/typos.md":    testproject.Note("Typos", "2026-10-01T08:00:00Z", `disclosre = "x"`, `reveiw_by = 2027-01-01`, `Topcis = ["a"]`, `icon = "star"`, `summary_image = "a.png"`),
	}
	dir := testproject.New(t, files)
	_, err := build(t, dir)
	if err == nil {
		t.Fatal("build succeeded")
	}
	list := config.AsList(err)
	got := err.Error()
	for _, want := range []string{
		"content/notes/syntax.md:4: summary: basic strings cannot have new lines; fix the TOML syntax",
		`content/notes/baddate.md:4: date: cannot read "next tuesday" as a date; use RFC 3339`,
		"content/notes/notitle.md:1: title: missing; add title",
		"content/notes/nofront.md:1: no front matter; start the file with",
		`content/notes/unclosed.md:1: front matter is never closed; close the front matter with a "+++" line`,
		`content/notes/evidence.md:5: evidence: unknown evidence grade "level 9"; write an OCEBM level`,
		`content/notes/audience.md:5: audience: unknown audience "doctors"; use any of`,
		"content/notes/sponsor.md:5: sponsored: a sponsored note needs a disclosure; add disclosure",
		`content/notes/source.md:5: source: "not a url" is not an absolute http(s) URL`,
		`content/notes/dup-a.md:5: slug: slug "good" is also used by content/notes/good.md; rename one of the files`,
		`content/notes/dup-b.md: slug: its file name makes the slug "dup-b", which content/notes/Dup B.md also has`,
		"content/notes/yaml.md:2: did not find expected ',' or ']'; fix the YAML",
		"content/notes/yaml2.md:4: did not find expected ',' or ']'; fix the YAML",
		"content/notes/folder.md: is a folder, not a file; put only files in content/",
		"content/notes/types.md:5: draft: want true or false, got text \"yes\"",
		`content/editions/ed.md:4: notes: no note "missing-note"; create content/notes/missing-note.md`,
		`content/notes/typos.md:5: disclosre: unknown key "disclosre", close to disclosure; rename it disclosure`,
		`content/notes/typos.md:6: reveiw_by: unknown key "reveiw_by", close to review_by; rename it review_by`,
		`content/notes/typos.md:7: Topcis: unknown key "Topcis", close to topics`,
		`content/editions/sched.md:4: notes: note "later" is scheduled for 2027-01-01T00:00:00Z; publish the note first`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing error %q", want)
		}
	}
	for _, e := range list {
		if strings.Contains(e.Error(), "\n") {
			t.Errorf("error spans lines: %q", e.Error())
		}
		if strings.Contains(e.Error(), "line ") || strings.Contains(e.Error(), "permissions") {
			t.Errorf("error repeats a parser's line, or blames permissions: %q", e.Error())
		}
	}
	if len(list) < 14 {
		t.Errorf("got %d errors, want every problem reported:\n%s", len(list), got)
	}
	// Keys far from Rounds' are a theme's.
	if strings.Contains(got, `"icon"`) || strings.Contains(got, `"summary_image"`) {
		t.Errorf("a theme's own key is taken for a misspelling:\n%s", got)
	}
	// A single string topic is a list of one, not an error.
	if strings.Contains(got, "types.md:6") {
		t.Error("topics = \"one\" should be accepted")
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ config, want string }{
		{"title = \"T\"\nbase_url = \"https://example.org/\"\ntheme = \"nope\"\ndisclaimer = \"Not medical advice.\"\n", `config.toml:3: theme: no theme "nope" in themes/; create themes/nope/ or set theme to one of: default`},
		{"title = \"T\"\nbase_url = \"example.org\"\n", `config.toml:2: base_url: "example.org" is not an absolute http(s) URL`},
		{"title = \"T\"\nbase_url = \"https://example.org/\"\ntitel = \"x\"\n", "config.toml:3: titel: unknown key; remove it or correct its spelling"},
		{"title = \"T\"\nbase_url = \"https://example.org/\"\npaginate = \"ten\"\n", "config.toml:3: paginate:"},
		{"base_url = \"https://example.org/\"\ntimezone = \"Mars/Olympus\"\n", "config.toml:2: timezone: unknown time zone"},
		{"title = \"T\"\nbase_url = \"https://example.org/\"\n[feeds]\ncontent = \"some\"\n", `config.toml:4: content: feeds content "some"; use "full" or "summary"`},
		{"title = \"T\"\nbase_url = \"https://example.org/\"\n", `config.toml: disclaimer: missing: a health newsletter shows its medical disclaimer`},
	} {
		dir := testproject.New(t, map[string]string{"config.toml": tc.config})
		_, err := build(t, dir)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config %q:\ngot  %v\nwant %s", tc.config, err, tc.want)
		}
	}
}

func TestTemplateParseError(t *testing.T) {
	t.Parallel()
	err := buildWithTheme(t, "layouts/edition.html", "{{define \"main\"}}\n<p>\n{{if .Edition}}\n</p>{{end}}\n")
	if err == nil || !strings.Contains(err.Error(), "themes/mine/layouts/edition.html:") || !strings.Contains(err.Error(), "fix the template") {
		t.Fatalf("want a template error naming the file and line, got %v", err)
	}
}

// buildWithTheme builds the test site with a theme of its own, "mine",
// that has the file at path (under themes/mine/) with text, and returns
// the build's error.
func buildWithTheme(t *testing.T, path, text string) error {
	t.Helper()
	files := siteFiles()
	files["config.toml"] = "theme = \"mine\"\n" + testproject.Config
	files["themes/mine/"+path] = text
	_, err := build(t, testproject.New(t, files))
	return err
}

// TestNotePageClash checks that a file of the theme where a note's page
// goes is an error naming both, as any two files at one path are.
func TestNotePageClash(t *testing.T) {
	t.Parallel()
	err := buildWithTheme(t, "static/notes/alpha/index.html", "<p>Not alpha.</p>\n")
	if err == nil || !strings.Contains(err.Error(), "writes notes/alpha/index.html, which content/notes/alpha.md also writes") {
		t.Fatalf("want the clash of the theme's file with the note's page, got %v", err)
	}
}
