package generator

import (
	"bytes"
	"strings"
	"testing"
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
