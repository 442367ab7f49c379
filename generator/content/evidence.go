package content

import (
	"fmt"
	"strings"
)

// Evidence is a note's grade of evidence on one of three scales: the Oxford
// CEBM 2011 levels (1–5, with a/b), GRADE certainty, or SORT strength (A–C).
type Evidence struct {
	Raw         string // as the curator wrote it
	Scale       string // "OCEBM", "GRADE" or "SORT"
	Level       string // "1b", "moderate", "A"
	Label       string // short label for a badge, e.g. "Evidence level 1b"
	Explanation string // one plain sentence on what the grade means
	Rank        int    // 1 is strongest; comparable within a scale
}

// String returns the evidence's short label.
func (e Evidence) String() string { return e.Label }

var ocebm = map[string]string{
	"1a": "Systematic review of randomised trials.",
	"1b": "A well-conducted randomised trial.",
	"1":  "Systematic review of randomised trials or an n-of-1 trial.",
	"2a": "Systematic review of cohort studies.",
	"2b": "A cohort study or lower-quality randomised trial.",
	"2":  "Randomised trial or observational study with dramatic effect.",
	"3a": "Systematic review of case-control studies.",
	"3b": "A case-control study or non-randomised cohort.",
	"3":  "Non-randomised controlled cohort or follow-up study.",
	"4":  "Case series, case-control or historically controlled studies.",
	"5":  "Expert opinion or mechanism-based reasoning; not yet tested in people, or not peer reviewed.",
}

var grade = map[string][2]string{
	"high":     {"1", "We are very confident the true effect is close to the estimate."},
	"moderate": {"2", "The true effect is probably close to the estimate, but may differ."},
	"low":      {"3", "The true effect may be substantially different from the estimate."},
	"very-low": {"4", "The true effect is likely to be substantially different from the estimate."},
}

var sortGrades = map[string]string{
	"A": "Consistent, good-quality patient-oriented evidence.",
	"B": "Inconsistent or limited-quality patient-oriented evidence.",
	"C": "Consensus, usual practice, opinion, disease-oriented evidence or case series.",
}

// EvidenceFix says how to write a valid evidence grade.
const EvidenceFix = `write an OCEBM level ("1a" to "5"), "GRADE:high|moderate|low|very-low" or a SORT grade ("A", "B", "C"); see content/pages/evidence.md`

// ParseEvidence reads an evidence grade.
func ParseEvidence(s string) (Evidence, error) {
	raw := strings.TrimSpace(s)
	e := Evidence{Raw: raw}
	v := strings.ToLower(raw)
	switch {
	case strings.HasPrefix(v, "grade:") || strings.HasPrefix(v, "grade "):
		lvl := strings.ReplaceAll(strings.TrimSpace(v[6:]), " ", "-")
		g, ok := grade[lvl]
		if !ok {
			return e, fmt.Errorf("unknown GRADE certainty %q", raw)
		}
		e.Scale, e.Level, e.Explanation = "GRADE", lvl, g[1]
		e.Rank = int(g[0][0] - '0')
		e.Label = "GRADE: " + strings.ReplaceAll(lvl, "-", " ") + " certainty"
	case len(raw) == 1 && strings.Contains("ABC", raw):
		e.Scale, e.Level, e.Explanation = "SORT", raw, sortGrades[raw]
		e.Rank = int(raw[0]-'A') + 1
		e.Label = "SORT " + raw
	default:
		v = strings.TrimPrefix(strings.TrimPrefix(v, "ocebm:"), "level ")
		x, ok := ocebm[v]
		if !ok {
			return e, fmt.Errorf("unknown evidence grade %q", raw)
		}
		e.Scale, e.Level, e.Explanation = "OCEBM", v, x
		e.Rank = int(v[0] - '0')
		e.Label = "Evidence level " + v
	}
	return e, nil
}

// Strength places a grade of any scale in one of three bands readers can
// filter by: "strong" (OCEBM 1–2, GRADE high, SORT A), "moderate" (OCEBM 3,
// GRADE moderate, SORT B) or "weak" (the rest); "" without a grade.
func (e Evidence) Strength() string {
	switch e.Scale {
	case "OCEBM":
		return [...]string{"", "strong", "strong", "moderate", "weak", "weak"}[min(max(e.Rank, 0), 5)]
	case "GRADE":
		switch e.Level {
		case "high":
			return "strong"
		case "moderate":
			return "moderate"
		}
		return "weak"
	case "SORT":
		return map[string]string{"A": "strong", "B": "moderate", "C": "weak"}[e.Level]
	}
	return ""
}
