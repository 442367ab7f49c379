package check

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/internal/testproject"
)

// pages are the pages every checked project needs.
var requiredPages = map[string]string{
	"content/pages/disclaimer.md":       "+++\ntitle = \"Disclaimer\"\n+++\n\nNot advice.\n",
	"content/pages/editorial-policy.md": "+++\ntitle = \"Editorial policy\"\n+++\n\nHow we work.\n",
	"content/pages/contact.md":          "+++\ntitle = \"Contact\"\n+++\n\nWrite to editors@example.org.\n",
}

func TestCheckSite(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"content/notes/vignette.md": testproject.Note("A vignette", "2026-11-01", `audience = ["clinicians"]`) +
			"A 93-year-old woman (MRN 00482913) was admitted on 3 March 2026.\n\n" +
			"Call her daughter on (617) 555-0142.\n\n" +
			"MRN 99999999 is a test record. <!-- rounds:allow -->\n\n" +
			"The trial (NCT03036124, PMID 31535829) enrolled 4,744 patients and was published on 21 November 2019.\n\n" +
			"![](/images/chart.png)\n",
		"content/notes/overdue-patients.md":   testproject.Note("Overdue for patients", "2026-10-01", `audience = ["patients"]`, `reviewed_by = "A. Nurse, RN"`, `last_reviewed = 2026-10-01`, `review_by = 2026-11-01`),
		"content/notes/overdue-clinicians.md": testproject.Note("Overdue for clinicians", "2026-10-01", `audience = ["clinicians"]`, `review_by = 2026-11-01`),
		"content/notes/due-soon.md":           testproject.Note("Due soon", "2026-10-01", `review_by = 2026-12-10`, `design = "Anecdote"`),
		"content/notes/expired.md":            testproject.Note("Expired", "2026-09-01", `review_by = 2026-11-01`, `expires = 2026-11-15`),
		"content/notes/hard.md": testproject.Note("Hard to read", "2026-10-02", `audience = ["patients"]`, `reviewed_by = "A. Nurse, RN"`, `last_reviewed = 2026-10-01`) +
			"Pharmacokinetic heterogeneity notwithstanding, administration of glucagon-like peptide-1 receptor agonists demonstrated statistically significant cardiometabolic improvements, particularly regarding glycosylated haemoglobin, anthropometric measurements and microalbuminuria, in comparison with conventional sulphonylurea monotherapy across heterogeneous multinational populations.\n",
		"content/notes/plain.md": testproject.Note("Plain", "2026-10-02", `audience = ["public"]`) +
			"Wash your hands often. Use soap and water. Dry them well. Stay home when you are sick. Cover your mouth when you cough. Get the flu shot each year. Ask your nurse if you have questions.\n",
		"content/pages/contact.md": requiredPages["content/pages/contact.md"],
	}
	_ = requiredPages
	dir := testproject.New(t, files)
	cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	s, findings, err := Run(cfg, testproject.Now, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range findings {
		got = append(got, f.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		"content/notes/vignette.md:9:3: error: phi: an age over 89",
		"content/notes/vignette.md:9:26: error: phi: a record, account or health-plan number \"00482913\"",
		"content/notes/vignette.md:9:52: error: phi: a date about a person \"3 March 2026\"",
		"content/notes/vignette.md:11:22: error: phi: a phone number \"(617) 555-0142\"",
		"content/notes/vignette.md: error: alt: image without alt text",
		"content/notes/overdue-patients.md: error: review: review overdue since 1 November 2026",
		"content/notes/overdue-clinicians.md: warning: review: review overdue since 1 November 2026",
		"content/notes/due-soon.md: info: review: review due by 10 December 2026",
		"content/notes/hard.md: warning: readability: Flesch-Kincaid grade",
		"content/notes/plain.md: info: readability: Flesch-Kincaid grade",
		"content/pages/disclaimer.md: error: pages: missing",
		`content/notes/due-soon.md: warning: design: unknown study design "Anecdote"`,
		"content/pages/editorial-policy.md: error: pages: missing",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in:\n%s", want, all)
		}
	}
	// Every note for patients or the public carries its grade.
	graded := map[string]float64{}
	for _, f := range findings {
		if f.Kind == "readability" {
			graded[f.File] = f.Grade
		}
	}
	if _, ok := graded["content/notes/plain.md"]; !ok || len(graded) != 2 || graded["content/notes/hard.md"] <= 8 || graded["content/notes/plain.md"] > 8 {
		t.Errorf("the grades: %v", graded)
	}
	var queue []string
	for _, n := range ReviewQueue(s, testproject.Now, 30*24*time.Hour) {
		queue = append(queue, n.Slug)
	}
	if strings.Join(queue, " ") != "overdue-clinicians overdue-patients due-soon" {
		t.Errorf("review queue %v", queue)
	}
	for _, bad := range []string{"99999999", "NCT03036124", "31535829", "21 November 2019", "4,744", "contact.md", "vignette.md:13", "vignette.md:15"} {
		if strings.Contains(all, bad) {
			t.Errorf("a false finding about %q:\n%s", bad, all)
		}
	}
}

// TestPostalAddress warns of a newsletter with mailing lists but no postal
// address to show in its digests, and of nothing once it has one.
func TestPostalAddress(t *testing.T) {
	t.Parallel()
	lists := testproject.Config + `
[email]
from = "Test Editors <editors@example.org>"
unsubscribe_mailto = "unsubscribe@example.org"

[[list]]
id = "everything"
name = "Every note"
`
	for _, tc := range []struct {
		config string
		want   bool
	}{
		{testproject.Config, false},
		{lists, true},
		{strings.Replace(lists, "[email]\n", "[email]\npostal_address = \"1 Test Street, Springfield, MA 01101, USA\"\n", 1), false},
	} {
		files := map[string]string{"config.toml": tc.config}
		maps.Copy(files, requiredPages)
		cfg, err := config.LoadConfig(filepath.Join(testproject.New(t, files), "config.toml"))
		if err != nil {
			t.Fatal(err)
		}
		_, findings, err := Run(cfg, testproject.Now, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := slices.ContainsFunc(findings, func(f content.Finding) bool {
			return f.Kind == "email" && f.Severity == "warning" && f.File == "config.toml" && f.Line > 0 && strings.Contains(f.Message, "postal_address")
		})
		if got != tc.want {
			t.Errorf("postal address warning %v, want %v, in %v", got, tc.want, findings)
		}
	}
}

// TestPatientNotesReviewed refuses a published note for patients without
// its reviewer or the day of its review, and a review dated after today,
// in check as in every build; a draft may wait for its review.
func TestPatientNotesReviewed(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, map[string]string{
		"content/notes/unreviewed.md": testproject.Note("Unreviewed", "2026-10-01", `audience = ["patients"]`),
		"content/notes/future.md":     testproject.Note("Future", "2026-10-01", `audience = ["patients"]`, `reviewed_by = "A. Nurse, RN"`, `last_reviewed = 2027-01-01`),
		"content/notes/draft.md":      testproject.Note("Draft", "2026-10-01", `audience = ["patients"]`, `draft = true`),
		"content/notes/clinicians.md": testproject.Note("Clinicians", "2026-10-01", `audience = ["clinicians"]`),
	})
	cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Run(cfg, testproject.Now, Options{})
	got := fmt.Sprint(err)
	for _, want := range []string{
		"content/notes/unreviewed.md:5: reviewed_by: missing: the note is for patients",
		"content/notes/unreviewed.md:5: last_reviewed: missing: the note is for patients",
		"content/notes/future.md:7: last_reviewed: 2027-01-01 is after today",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "draft.md") || strings.Contains(got, "clinicians.md") {
		t.Errorf("a draft's or a note for clinicians' review is required:\n%s", got)
	}
}
