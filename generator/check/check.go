package check

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/phi"
	"github.com/rounds-health/rounds/generator/site"
)

// StudyDesigns are the designs a note's design names.
var StudyDesigns = []string{"systematic review", "meta-analysis", "randomised controlled trial", "randomized controlled trial", "rct",
	"cohort", "cohort study", "case-control", "case-control study", "cross-sectional", "case series", "case report", "guideline",
	"preprint", "regulatory action", "news", "diagnostic accuracy", "economic evaluation", "qualitative study", "modelling study", "expert opinion", "surveillance"}

// ReviewQueue returns the notes of s whose review_by falls before
// now+within, soonest first: what needs review next. Notes that have
// expired by now need none.
func ReviewQueue(s *site.Site, now time.Time, within time.Duration) []*content.Note {
	var out []*content.Note
	for _, n := range s.Notes {
		expired := !n.Expires.IsZero() && !now.Before(n.Expires)
		if !n.ReviewBy.IsZero() && n.ReviewBy.Before(now.Add(within)) && !expired {
			out = append(out, n)
		}
	}
	slices.SortFunc(out, func(a, b *content.Note) int {
		return cmp.Or(a.ReviewBy.Compare(b.ReviewBy), cmp.Compare(a.Slug, b.Slug))
	})
	return out
}

// RequiredPages are the pages every health newsletter must publish.
var RequiredPages = map[string]string{
	"disclaimer":       "the medical disclaimer",
	"editorial-policy": "the editorial policy (who writes, who reviews, how evidence is graded, how errors are corrected)",
	"contact":          "how readers reach the editors",
}

// Options tune rounds check.
type Options struct {
	// ReadingGrade is the highest Flesch-Kincaid grade a note for
	// patients may have before a warning; 0 means 8.
	ReadingGrade float64
	// DueWithin lists notes whose review falls due this soon.
	DueWithin time.Duration
	// Cache, if set, keeps the parsed content, so that a build that
	// follows (rounds nightly's) parses and scans nothing again.
	Cache *site.ContentCache
}

// Run looks at everything the site holds, drafts and scheduled notes
// included, for what a health newsletter must not publish or must fix:
// identifiers of patients, overdue reviews, missing pages, images without
// alt text, notes for patients that are hard to read. Findings come by
// file, then line. It returns them with the site it looked at.
func Run(cfg *config.Config, now time.Time, o Options) (*site.Site, []content.Finding, error) {
	if o.Cache == nil {
		o.Cache = new(site.ContentCache)
	}
	s, _, err := o.Cache.Load(cfg, &site.Options{Now: now, Drafts: true, Future: true, Expired: true})
	if err != nil {
		return nil, nil, err
	}
	return s, Site(s, now, o), nil
}

// Site returns what rounds check finds in the site s, which should be
// loaded with drafts, scheduled and expired content, as Run loads it.
func Site(s *site.Site, now time.Time, o Options) []content.Finding {
	if o.ReadingGrade == 0 {
		o.ReadingGrade = s.Config.Check.ReadingGrade
	}
	if o.DueWithin == 0 {
		o.DueWithin = 30 * 24 * time.Hour
	}
	out := slices.Clone(s.PHI)
	for _, n := range s.Notes {
		out = append(out, reviewFindings(n, now, o.DueWithin)...)
		if lay := layAudience(n.Audience); lay != "" {
			// Every note for patients or the public is graded; those
			// above the target are warned of.
			if grade, words := readingGrade(string(n.Content)); words >= 30 {
				grade = math.Round(grade*10) / 10
				f := content.Finding{File: n.File, Kind: "readability", Severity: "info", Grade: grade,
					Message: fmt.Sprintf("Flesch-Kincaid grade %.1f (at most %.0f for %s)", grade, o.ReadingGrade, lay)}
				if grade > o.ReadingGrade {
					f.Severity = "warning"
					f.Message = fmt.Sprintf("Flesch-Kincaid grade %.1f for a note for %s (at most %.0f); use shorter sentences and plainer words", grade, lay, o.ReadingGrade)
				}
				out = append(out, f)
			}
		}
		out = append(out, altFindings(n.File, string(n.Content))...)
		if d := strings.ToLower(n.Design); d != "" && !slices.Contains(StudyDesigns, d) {
			out = append(out, content.Finding{File: n.File, Kind: "design", Severity: "warning",
				Message: fmt.Sprintf("unknown study design %q; use one of: %s", n.Design, strings.Join(StudyDesigns, ", "))})
		}
		if r := n.Retraction; r != nil && (!r.Retracted() || n.RetractionReviewed.IsZero()) {
			// A warning: the label must go out with the next build. (An
			// unreviewed retraction is an error of the build itself.)
			out = append(out, content.Finding{File: n.File, Kind: "retraction", Severity: "warning",
				Message: fmt.Sprintf("the paper it cites has a notice: %s %s (%s); the note is labelled, but say so in its text or take it down", r.Nature, r.Date, r.Notice)})
		}
		for _, c := range n.CitedNotices {
			out = append(out, content.Finding{File: n.File, Kind: "retraction", Severity: "warning",
				Message: fmt.Sprintf("its text cites %s, which has a notice: %s %s (%s); say so where it is cited, or cite another paper", c.ID, c.Nature, c.Date, c.Notice)})
		}
	}
	for _, p := range s.Pages {
		out = append(out, altFindings(p.File, string(p.Content))...)
	}
	for _, slug := range slices.Sorted(maps.Keys(RequiredPages)) {
		if !slices.ContainsFunc(s.Pages, func(p *content.Page) bool { return p.Slug == slug }) {
			out = append(out, content.Finding{File: "content/pages/" + slug + ".md", Kind: "pages", Severity: "error",
				Message: fmt.Sprintf("missing: every health newsletter publishes %s; write content/pages/%s.md", RequiredPages[slug], slug)})
		}
	}
	if len(s.Config.Lists) > 0 && strings.TrimSpace(s.Config.Email.PostalAddress) == "" {
		out = append(out, content.Finding{File: s.Config.Rel(s.Config.File), Line: s.Config.Line("from"), Kind: "email", Severity: "warning",
			Message: "no postal_address under [email]: every digest must show the sender's postal address (CAN-SPAM), and rounds send refuses to send without one; add postal_address = \"Street, City, Postcode, Country\""})
	}
	slices.SortStableFunc(out, content.Finding.Compare)
	return out
}

// layAudience is "patients" or "the public" when a note is for them, else "".
func layAudience(audience []string) string {
	switch {
	case slices.Contains(audience, "patients"):
		return "patients"
	case slices.Contains(audience, "public"):
		return "the public"
	}
	return ""
}

// reviewFindings reports a note's review that is overdue (an error for a
// note for patients, a warning otherwise) or falls due soon.
func reviewFindings(n *content.Note, now time.Time, soon time.Duration) []content.Finding {
	if n.ReviewBy.IsZero() {
		return nil
	}
	day := n.ReviewBy.Format("2 January 2006")
	switch {
	case n.ReviewBy.Before(now):
		sev := "warning"
		if slices.Contains(n.Audience, "patients") {
			sev = "error"
		}
		return []content.Finding{{File: n.File, Kind: "review", Severity: sev,
			Message: fmt.Sprintf("review overdue since %s; review the note and set last_reviewed and a new review_by", day)}}
	case n.ReviewBy.Before(now.Add(soon)):
		return []content.Finding{{File: n.File, Kind: "review", Severity: "info", Message: "review due by " + day}}
	}
	return nil
}

var imgTag = regexp.MustCompile(`(?i)<img\b[^>]*>`)
var altAttr = regexp.MustCompile(`(?i)\balt\s*=`)

// altFindings reports images without alt text in rendered HTML.
func altFindings(file, h string) []content.Finding {
	var out []content.Finding
	for _, img := range imgTag.FindAllString(h, -1) {
		if !altAttr.MatchString(img) || strings.Contains(img, `alt=""`) && !strings.Contains(img, `role="presentation"`) {
			out = append(out, content.Finding{File: file, Kind: "alt", Severity: "error",
				Message: fmt.Sprintf("image without alt text (%s); describe it: ![what it shows](…)", img)})
		}
	}
	return out
}

var (
	codeBlock = regexp.MustCompile(`(?s)<(pre|code)\b.*?</(pre|code)>`)
	anyTag    = regexp.MustCompile(`<[^>]+>`)
	urlText   = regexp.MustCompile(`https?://\S+|\bdoi:\S+|\b10\.\d{4,9}/\S+`)
	sentence  = regexp.MustCompile(`[.!?]+(?:\s|$)`)
)

// readingGrade returns the Flesch-Kincaid grade of the prose in HTML h,
// leaving out code, links' addresses and citations, and the words counted.
func readingGrade(h string) (float64, int) {
	text := codeBlock.ReplaceAllString(h, " ")
	text = anyTag.ReplaceAllString(text, " ")
	text = urlText.ReplaceAllString(text, " ")
	words, syllables := 0, 0
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' && r != '’' }) {
		words++
		syllables += countSyllables(w)
	}
	sentences := max(1, len(sentence.FindAllString(text, -1)))
	if words == 0 {
		return 0, 0
	}
	return 0.39*float64(words)/float64(sentences) + 11.8*float64(syllables)/float64(words) - 15.59, words
}

// countSyllables estimates the syllables of an English word: groups of
// vowels, less a silent final e, at least one.
func countSyllables(w string) int {
	w = strings.ToLower(w)
	n, prev := 0, false
	for _, r := range w {
		v := strings.ContainsRune("aeiouy", r)
		if v && !prev {
			n++
		}
		prev = v
	}
	if strings.HasSuffix(w, "e") && !strings.HasSuffix(w, "le") && n > 1 {
		n--
	}
	return max(n, 1)
}

// PHIError returns findings that may identify a patient as one error,
// ending with what was not done and how to go on.
func PHIError(findings []content.Finding, notDone string) error {
	errs := make([]error, 0, len(findings)+1)
	for _, f := range findings {
		errs = append(errs, errors.New(f.String()))
	}
	errs = append(errs, fmt.Errorf("%s: remove what may identify a patient, or mark a reviewed line with <!-- %s -->", notDone, phi.Marker))
	return errors.Join(errs...)
}
