package content

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	xhtml "golang.org/x/net/html"
)

// The research identifiers a note may cite, and the forms Rounds accepts.
var (
	doiForm   = regexp.MustCompile(`^10\.\d{4,9}/\S+$`)
	pmidForm  = regexp.MustCompile(`^[1-9]\d{0,8}$`)
	pmcidForm = regexp.MustCompile(`^PMC\d{1,9}$`)
	nctForm   = regexp.MustCompile(`^NCT\d{8}$`)
)

// NormalizeID checks an identifier of kind ("doi", "pmid", "pmcid",
// "nct") and returns it in its canonical form: a DOI without "doi:" or a
// resolver, a PMCID and an NCT number in capitals.
func NormalizeID(kind, v string) (string, error) {
	v = strings.TrimSpace(v)
	switch kind {
	case "doi":
		for _, p := range []string{"https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:", "DOI:"} {
			v = strings.TrimPrefix(v, p)
		}
		v = strings.TrimSpace(v)
		if !doiForm.MatchString(v) {
			return "", fmt.Errorf("%q is not a DOI; write it as 10.NNNN/suffix, such as 10.1056/NEJMoa1911303", v)
		}
	case "pmid":
		v = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(v, "PMID:"), "pmid:"))
		if !pmidForm.MatchString(v) {
			return "", fmt.Errorf("%q is not a PubMed ID; write its digits, such as 31535829", v)
		}
	case "pmcid":
		v = strings.ToUpper(v)
		if !pmcidForm.MatchString(v) {
			return "", fmt.Errorf("%q is not a PubMed Central ID; write it as PMC and digits, such as PMC6893803", v)
		}
	case "nct":
		v = strings.ToUpper(v)
		if !nctForm.MatchString(v) {
			return "", fmt.Errorf("%q is not a ClinicalTrials.gov number; write NCT and eight digits, such as NCT03036124", v)
		}
	}
	return v, nil
}

// IDLink is the address an identifier resolves at.
func IDLink(kind, v string) string {
	switch kind {
	case "doi":
		return "https://doi.org/" + v
	case "pmid":
		return "https://pubmed.ncbi.nlm.nih.gov/" + v + "/"
	case "pmcid":
		return "https://pmc.ncbi.nlm.nih.gov/articles/" + v + "/"
	case "nct":
		return "https://clinicaltrials.gov/study/" + v
	}
	return ""
}

// idMention finds identifiers written in a note's text: "doi:10.…" or a
// bare DOI ("10.1056/NEJMoa…", after a space or an opening bracket),
// "PMID 31535829", "PMCID: PMC6893803" or a bare PMC or NCT number.
var idMention = regexp.MustCompile(`(?i:doi):\s?10\.\d{4,9}/[^\s<>"]+|(?:^|[\s(\[])10\.\d{4,9}/[^\s<>"]*[A-Za-z0-9][^\s<>"]*|PMID:?\s?[1-9]\d{0,8}\b|(?:PMCID:?\s?)?\bPMC\d{5,9}\b|\bNCT\d{8}\b`)

// mentionLiterals are the literals every mention holds one of: a DOI's
// "10.", PMID's or PMC's "PM", and "NCT". The pattern has no literal
// prefix for the regexp package to look for, and is slow to try on text
// without one.
var mentionLiterals = [...]string{"10.", "PM", "NCT"}

// mentionable reports whether s holds one of mentionLiterals.
func mentionable(s string) bool {
	return slices.ContainsFunc(mentionLiterals[:], func(lit string) bool { return strings.Contains(s, lit) })
}

// mentionableBytes is mentionable for a token of the HTML tokenizer.
func mentionableBytes(b []byte) bool {
	return slices.ContainsFunc(mentionLiterals[:], func(lit string) bool { return bytes.Contains(b, []byte(lit)) })
}

// linkIdentifiers links the identifiers mentioned in the text of HTML h,
// outside links, code and preformatted text.
func linkIdentifiers(h string) string {
	if !mentionable(h) {
		return h
	}
	z := xhtml.NewTokenizer(strings.NewReader(h))
	var b strings.Builder
	b.Grow(len(h) + 128)
	skip := 0
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return b.String()
		}
		raw := z.Raw()
		switch tt {
		case xhtml.StartTagToken, xhtml.EndTagToken:
			name, _ := z.TagName()
			if n := string(name); n == "a" || n == "code" || n == "pre" {
				if tt == xhtml.StartTagToken {
					skip++
				} else if skip > 0 {
					skip--
				}
			}
		case xhtml.TextToken:
			if skip == 0 && mentionableBytes(raw) && idMention.Match(raw) {
				linkText(&b, xhtml.UnescapeString(string(raw)))
				continue
			}
		}
		b.Write(raw)
	}
}

// linkText writes text, unescaped, as HTML with its mentions linked. It
// works on the text rather than its HTML, so that an entity (&gt;) is
// never cut, nor taken for part of an identifier.
func linkText(b *strings.Builder, text string) {
	last := 0
	for _, loc := range idMention.FindAllStringIndex(text, -1) {
		b.WriteString(xhtml.EscapeString(text[last:loc[0]]))
		b.WriteString(linkMention(text[loc[0]:loc[1]]))
		last = loc[1]
	}
	b.WriteString(xhtml.EscapeString(text[last:]))
}

// linkMention turns one mention, plain text, into HTML: a link, leaving
// the punctuation that ends a sentence outside it.
func linkMention(m string) string {
	lead := ""
	if i := strings.Index(m, "10."); i > 0 && !strings.Contains(strings.ToUpper(m[:i]), "DOI") {
		// A bare DOI, after the space or bracket that begins it.
		lead, m = m[:i], "doi:"+m[i:]
		return xhtml.EscapeString(lead) + strings.Replace(linkMention(m), ">doi:", ">", 1)
	}
	trail := ""
	for strings.ContainsAny(m[len(m)-1:], ".,;:)") {
		trail = m[len(m)-1:] + trail
		m = m[:len(m)-1]
	}
	var kind, id string
	switch up := strings.ToUpper(m); {
	case strings.HasPrefix(up, "DOI:"):
		kind, id = "doi", strings.TrimSpace(m[4:])
	case strings.HasPrefix(up, "PMID"):
		kind, id = "pmid", strings.TrimSpace(strings.TrimLeft(m[4:], ": "))
	case strings.Contains(up, "PMC"):
		kind, id = "pmcid", up[strings.Index(up, "PMC"):]
		if strings.HasPrefix(up, "PMCID") {
			kind, id = "pmcid", strings.TrimSpace(strings.TrimLeft(up[5:], ": "))
		}
	default:
		kind, id = "nct", up
	}
	id, err := NormalizeID(kind, id)
	if err != nil {
		return xhtml.EscapeString(m + trail)
	}
	return `<a href="` + xhtml.EscapeString(IDLink(kind, id)) + `">` + xhtml.EscapeString(m) + `</a>` + xhtml.EscapeString(trail)
}
