package content

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rounds-health/rounds/generator/config"
)

// TestMarkdownAutolinkShortcut checks that skipping the autolinker for
// documents without "://", "www." or "@" changes nothing, and that
// documents with them are still linked.
func TestMarkdownAutolinkShortcut(t *testing.T) {
	t.Parallel()
	plain := []string{
		"A *note* -- with \"quotes\", a table:\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- ~~struck~~\n\nText[^1].\n\n[^1]: A footnote.\n",
		"## Why it matters\n\n[a link](https://example.org/) and <https://example.org/x>\n",
	}
	for _, src := range plain {
		var a, b bytes.Buffer
		if err := markdown.Convert([]byte(src), &a); err != nil {
			t.Fatal(err)
		}
		if err := unlinked.Convert([]byte(src), &b); err != nil {
			t.Fatal(err)
		}
		if a.String() != b.String() {
			t.Errorf("the two converters differ on %q:\n%s\n%s", src, a.String(), b.String())
		}
	}
	for _, src := range []string{"See www.cdc.gov/flu today.", "Mail editors@example.org.", "At https://www.nice.org.uk/guidance/ng222 now."} {
		h, err := renderMarkdown([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(h), "<a href=") {
			t.Errorf("%q was not autolinked: %s", src, h)
		}
	}
}

func TestMayAutolink(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]bool{
		"No links here.": false,
		"See [PubMed](https://pubmed.ncbi.nlm.nih.gov/1/).":   false,
		"See <https://www.cdc.gov/flu> and [x](/about/).":     false,
		"A (parenthesis) and a [bracket] and a < b.":          false,
		"See https://www.cdc.gov/flu.":                        true,
		"See www.cdc.gov.":                                    true,
		"Write to editors@example.org.":                       true,
		"[x](https://a.example/) then https://b.example/":     true,
		"[x](https://a.example/ \"title\") www.b.example":     true,
		"<not a link www.example.org>":                        true,
		"[label with https://x.example/](https://x.example/)": true,
	} {
		if got := mayAutolink([]byte(src)); got != want {
			t.Errorf("mayAutolink(%q) = %v, want %v", src, got, want)
		}
	}
}

func TestIdentifiersInText(t *testing.T) {
	t.Parallel()
	cfg, err := config.ParseConfig("config.toml", []byte("title = \"T\"\nbase_url = \"https://example.org/newsletter/\"\ndisclaimer = \"Not medical advice.\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	src := "The trial (NCT03036124; PMID: 31535829, doi:10.1056/NEJMoa1911303). Also PMCID: PMC6893803.\n\n" +
		"`NCT03036124` in code, [a link about PMID 123](https://example.org/), and 2,400 patients in 2019.\n\n" +
		"See doi:10.1000/abc>5 & PMID:31535829&lt; too, and doi:10.1000/x&y;.\n\n" +
		"A bare one (10.1056/NEJMoa2034577), 10.1001/jama.2020.1234. and `10.1000/code`, but not 3.10.2020/x or version 10.12/3.\n"
	h, err := Markdown(cfg, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<a href="https://clinicaltrials.gov/study/NCT03036124">NCT03036124</a>;`,
		`<a href="https://pubmed.ncbi.nlm.nih.gov/31535829/">PMID: 31535829</a>,`,
		`<a href="https://doi.org/10.1056/NEJMoa1911303">doi:10.1056/NEJMoa1911303</a>).`,
		`<a href="https://pmc.ncbi.nlm.nih.gov/articles/PMC6893803/">PMCID: PMC6893803</a>.`,
		`<code>NCT03036124</code>`,
		`>a link about PMID 123</a>`,
		`2,400 patients in 2019`,
		`<a href="https://doi.org/10.1000/abc">doi:10.1000/abc</a>&gt;5 &amp; `,
		`<a href="https://pubmed.ncbi.nlm.nih.gov/31535829/">PMID:31535829</a>&lt; too`,
		`<a href="https://doi.org/10.1000/x&amp;y">doi:10.1000/x&amp;y</a>;.`,
		`A bare one (<a href="https://doi.org/10.1056/NEJMoa2034577">10.1056/NEJMoa2034577</a>), <a href="https://doi.org/10.1001/jama.2020.1234">10.1001/jama.2020.1234</a>.`,
		`<code>10.1000/code</code>`,
		`not 3.10.2020/x or version 10.12/3.`,
	} {
		if !strings.Contains(string(h), want) {
			t.Errorf("missing %s in\n%s", want, h)
		}
	}
	if strings.Contains(string(h), "&gt</a>") || strings.Contains(string(h), "&gt;</a>") || strings.Contains(string(h), `&gt"`) {
		t.Errorf("an entity cut into a link:\n%s", h)
	}
	for _, bad := range []string{"10.1056/x", "NCT123", "PMID 0"} {
		if _, err := NormalizeID(map[string]string{"10.1056/x": "pmid", "NCT123": "nct", "PMID 0": "pmid"}[bad], bad); err == nil {
			t.Errorf("normalizeID accepted %q", bad)
		}
	}
}
