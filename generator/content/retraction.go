package content

import (
	"html/template"
	"net/url"
	"regexp"
	"strings"
)

// A Retraction is a notice that a paper was withdrawn, from the Retraction
// Watch database.
type Retraction struct {
	Nature string // "Retraction", "Expression of concern", "Correction"…
	Date   string // as the database gives it
	Notice string // the DOI of the retraction notice, if any
	Reason string
}

// Retracted reports whether the notice withdraws the paper.
func (r *Retraction) Retracted() bool { return strings.EqualFold(r.Nature, "Retraction") }

// A CitedNotice is a notice about a paper a note cites in its text.
type CitedNotice struct {
	// ID is how the text cites the paper: "doi:10.…" or "pmid:123".
	ID string
	*Retraction
}

// citedLink matches the links of HTML to a paper: its DOI at doi.org, or
// its PMID at PubMed.
var citedLink = regexp.MustCompile(`href="https?://(?:dx\.)?doi\.org/(10\.[^"]+)"|href="https?://pubmed\.ncbi\.nlm\.nih\.gov/([1-9][0-9]{0,8})/?"`)

// CitedIDs returns the papers the rendered HTML h links to, as
// "doi:10.…" (lower case) and "pmid:123": the identifiers its text
// mentions (which rendering links) and the links written to them.
func CitedIDs(h template.HTML) []string {
	if !strings.Contains(string(h), "doi.org/") && !strings.Contains(string(h), "pubmed.") {
		return nil
	}
	var out []string
	for _, m := range citedLink.FindAllStringSubmatch(string(h), -1) {
		id := "pmid:" + m[2]
		if m[1] != "" {
			doi, err := url.PathUnescape(strings.ReplaceAll(m[1], "&amp;", "&"))
			if err != nil {
				doi = m[1]
			}
			id = "doi:" + strings.ToLower(doi)
		}
		out = append(out, id)
	}
	return out
}
