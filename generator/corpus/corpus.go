// Package corpus writes synthetic newsletters for benchmarks and tests.
//
// Write lays out a complete Rounds project: a config.toml, n notes spread
// over three years and 20 topics, and one edition a month. Every byte
// depends only on n, so two runs give identical trees and a build can be
// timed against itself, or against another generator, on the same input.
// Note i's text depends only on i; only its date depends on n.
package corpus

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Start and End bound the notes' dates: note dates fall in [Start, End).
// Editions are dated on the first of each month after Start up to End.
var (
	Start = time.Date(2023, 11, 1, 0, 0, 0, 0, time.UTC)
	End   = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
)

// seed is the first half of every note's PCG seed; the second is the
// note's number.
const seed = 0x526f756e6473 // "Rounds"

// A topic is one of the corpus's subjects, with the conditions and
// interventions its notes are written about.
type topic struct {
	slug, name    string
	conditions    []string
	interventions []string
}

var topics = []topic{
	{"cardiology", "Cardiology",
		[]string{"heart failure", "atrial fibrillation", "high blood pressure", "coronary heart disease"},
		[]string{"an SGLT2 inhibitor", "intensive blood-pressure control", "a polypill", "catheter ablation"}},
	{"critical-care", "Critical care",
		[]string{"septic shock", "acute respiratory distress syndrome", "delirium in intensive care", "cardiac arrest"},
		[]string{"conservative oxygen therapy", "early mobilisation", "balanced crystalloids", "targeted temperature management"}},
	{"dermatology", "Dermatology",
		[]string{"atopic eczema", "psoriasis", "melanoma", "acne"},
		[]string{"a JAK inhibitor", "emollient bathing", "teledermatology triage", "isotretinoin"}},
	{"diabetes", "Diabetes",
		[]string{"type 2 diabetes", "type 1 diabetes", "prediabetes", "diabetic foot ulcers"},
		[]string{"a GLP-1 receptor agonist", "a low-calorie diet", "a hybrid closed-loop system", "metformin"}},
	{"drug-safety", "Drug safety",
		[]string{"valproate exposure in pregnancy", "opioid misuse", "fluoroquinolone tendon injury", "anticholinergic burden"},
		[]string{"a prescribing restriction", "a deprescribing programme", "a pharmacist-led review", "a boxed warning"}},
	{"gastroenterology", "Gastroenterology",
		[]string{"irritable bowel syndrome", "Crohn's disease", "Helicobacter pylori infection", "fatty liver disease"},
		[]string{"a low-FODMAP diet", "early biologic therapy", "bismuth quadruple therapy", "a lifestyle programme"}},
	{"infectious-disease", "Infectious disease",
		[]string{"sepsis", "urinary tract infection", "community-acquired pneumonia", "Lyme disease"},
		[]string{"a shorter antibiotic course", "procalcitonin-guided treatment", "oral step-down therapy", "rapid diagnostic testing"}},
	{"kidney-disease", "Kidney disease",
		[]string{"acute kidney injury", "kidney failure", "kidney stones", "IgA nephropathy"},
		[]string{"a sick-day rules card", "home haemodialysis", "a thiazide diuretic", "an endothelin antagonist"}},
	{"maternal-health", "Maternal health",
		[]string{"pre-eclampsia", "gestational diabetes", "preterm birth", "postpartum haemorrhage"},
		[]string{"low-dose aspirin", "tranexamic acid", "continuous glucose monitoring", "midwife-led continuity of care"}},
	{"mental-health", "Mental health",
		[]string{"depression", "generalised anxiety", "insomnia", "post-traumatic stress"},
		[]string{"guided self-help", "cognitive behavioural therapy", "an SSRI", "digital therapy"}},
	{"musculoskeletal", "Musculoskeletal health",
		[]string{"knee osteoarthritis", "hip fracture", "osteoporosis", "frozen shoulder"},
		[]string{"supervised exercise", "early surgery", "a bisphosphonate", "a corticosteroid injection"}},
	{"neurology", "Neurology",
		[]string{"migraine", "acute ischaemic stroke", "epilepsy", "Parkinson's disease"},
		[]string{"a CGRP antibody", "thrombectomy", "tenecteplase", "exercise training"}},
	{"nutrition", "Nutrition",
		[]string{"iron-deficiency anaemia", "obesity", "vitamin D deficiency", "malnutrition in older adults"},
		[]string{"a Mediterranean diet", "vitamin D supplements", "oral nutritional supplements", "a sugar levy"}},
	{"oncology", "Oncology",
		[]string{"breast cancer", "colorectal cancer", "lung cancer", "prostate cancer"},
		[]string{"immunotherapy", "a shorter course of radiotherapy", "adjuvant chemotherapy", "active surveillance"}},
	{"paediatrics", "Paediatrics",
		[]string{"bronchiolitis", "acute otitis media", "childhood asthma", "fever in young infants"},
		[]string{"high-flow oxygen", "watchful waiting", "oral dexamethasone", "a clinical decision rule"}},
	{"primary-care", "Primary care",
		[]string{"low back pain", "sore throat", "chronic kidney disease", "multimorbidity"},
		[]string{"a delayed prescription", "social prescribing", "a structured medication review", "point-of-care CRP testing"}},
	{"public-health", "Public health",
		[]string{"smoking", "alcohol harm", "air pollution", "physical inactivity"},
		[]string{"e-cigarettes for quitting", "minimum unit pricing", "a low-emission zone", "a community walking programme"}},
	{"respiratory", "Respiratory medicine",
		[]string{"COPD", "asthma", "obstructive sleep apnoea", "pulmonary fibrosis"},
		[]string{"pulmonary rehabilitation", "a triple inhaler", "an anti-fibrotic drug", "CPAP"}},
	{"screening", "Screening",
		[]string{"abdominal aortic aneurysm", "cervical cancer", "lung cancer", "hepatitis C"},
		[]string{"HPV self-sampling", "low-dose CT screening", "a one-off ultrasound scan", "opt-out testing"}},
	{"vaccines", "Vaccines",
		[]string{"influenza", "RSV infection", "shingles", "pneumococcal disease"},
		[]string{"a high-dose vaccine", "a maternal vaccine", "a recombinant vaccine", "a booster dose"}},
}

// evidence holds every grade Rounds accepts, on its three scales.
var evidence = []string{
	"1a", "1b", "1", "2a", "2b", "2", "3a", "3b", "3", "4", "5",
	"GRADE:high", "GRADE:moderate", "GRADE:low", "GRADE:very-low",
	"A", "B", "C",
}

var (
	populations = []string{"adults", "older adults", "children", "adolescents", "pregnant women",
		"people in primary care", "hospital inpatients", "adults over 65", "people on dialysis", "care-home residents"}
	designs = []string{"randomised controlled trial", "systematic review and meta-analysis", "cohort study",
		"cluster randomised trial", "case-control study", "national guideline", "regulatory safety review", "non-inferiority trial"}
	effects = []string{"reduced", "modestly reduced", "did not reduce", "halved", "increased",
		"did not change", "slightly increased", "substantially reduced"}
	outcomes = []string{"hospital admissions", "deaths from any cause", "symptom scores at 12 weeks",
		"serious adverse events", "readmissions within 30 days", "time to recovery", "quality of life",
		"major cardiovascular events", "days off work", "emergency visits"}
	comparators = []string{"usual care", "placebo", "standard treatment", "no screening", "a longer course",
		"watchful waiting", "an active control", "the previous guideline"}
	durations = []string{"12 weeks", "six months", "one year", "two years", "five years", "a median of 3.2 years", "18 months"}
	countries = []string{"the UK", "Denmark and Sweden", "the United States and Canada", "Australia",
		"the Netherlands", "India", "Brazil", "Japan", "eight European countries", "sub-Saharan Africa"}
	settings = []string{"general practices", "hospital clinics", "emergency departments", "community pharmacies",
		"intensive care units", "antenatal clinics", "school health services"}
	funders = []string{"a national research funder", "a medical charity", "the manufacturer",
		"a public health agency", "a university hospital trust", "an international consortium"}
	burdens = []string{"cost", "clinic visits", "side effects", "monitoring", "time off work", "injections"}
	reasons = []string{
		"the trial was large, well concealed and lost few participants to follow-up",
		"the included studies were small and several were at high risk of bias",
		"the result comes from observational data that cannot rule out confounding",
		"the confidence interval is wide and includes no effect",
		"the findings agree across studies with different designs and settings",
		"the outcome was measured by assessors who did not know the allocation",
		"the recommendation rests on expert consensus rather than trial data",
		"the signal comes from spontaneous reports, which cannot give a rate",
	}
	limitations = []string{
		"short follow-up", "a selected population", "open-label treatment", "a surrogate primary outcome",
		"missing data in a fifth of participants", "industry funding", "few events", "a single country",
		"self-reported outcomes", "possible publication bias",
	}
	strengths = []string{"encouraging but preliminary", "practice-changing", "consistent with earlier work",
		"surprising", "modest", "robust"}
	extraIntro = []string{
		"The protocol was registered before recruitment began and the analysis followed it.",
		"Recruitment took longer than planned because of changes in routine care during the study.",
		"Participants and clinicians knew which treatment was given, but outcome assessors did not.",
		"The authors also report a cost analysis, which we do not cover here.",
		"A patient panel helped to choose the outcomes and to write the information leaflet.",
		"Results were presented at a conference before the full paper appeared.",
	}
	extraWhy = []string{
		"Patients often ask about this, and the answer until now has been a shrug.",
		"The finding fits with what clinicians see, but it is the first time it has been tested properly.",
		"It also matters for services, since the change would free up appointments.",
		"Those who stand to gain most are people with the highest baseline risk.",
		"Harms were uncommon, but they were not trivial and should be part of the conversation.",
		"Shared decision-making tools are likely to follow, and we will link to them when they do.",
	}
	extraEvidence = []string{
		"An independent replication is under way, and we will update this note when it reports.",
		"The authors shared their data, and a reanalysis reached the same conclusion.",
		"The study was not blinded, which matters most for subjective outcomes.",
		"Subgroup results are exploratory and should not guide individual decisions.",
		"Earlier, smaller studies pointed the same way but were too imprecise to act on.",
		"The absolute benefit depends on baseline risk, so it will be smaller in low-risk groups.",
	}
	publishers = []string{"New England Journal of Medicine", "The Lancet", "The BMJ", "JAMA",
		"Cochrane Library", "PubMed", "NICE", "Drug Safety Update"}
)

// Write writes a synthetic Rounds project of n notes into dir, which must
// be missing or empty: config.toml, content/notes/note-00001.md and on,
// one edition a month in content/editions, and a copy of the theme
// folder as themes/default.
func Write(dir string, n int, theme string) error {
	if n < 0 {
		return fmt.Errorf("corpus: negative note count %d", n)
	}
	absTheme, err := filepath.Abs(theme)
	if err != nil {
		return fmt.Errorf("corpus: theme %s: %w", theme, err)
	}
	if st, err := os.Stat(absTheme); err != nil {
		return fmt.Errorf("corpus: theme: %w", err)
	} else if !st.IsDir() {
		return fmt.Errorf("corpus: theme %s is not a folder", absTheme)
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("corpus: %w", err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("corpus: %s is not empty; remove it or choose another folder", dir)
	}
	for _, d := range []string{"content/notes", "content/editions"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return fmt.Errorf("corpus: %w", err)
		}
	}
	// A copy: a build does not follow links out of the project.
	if err := os.CopyFS(filepath.Join(dir, "themes", "default"), os.DirFS(absTheme)); err != nil {
		return fmt.Errorf("corpus: copying the theme: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), config(), 0o644); err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	var buf bytes.Buffer
	for i := 1; i <= n; i++ {
		buf.Reset()
		writeNote(&buf, i, n)
		name := filepath.Join(dir, "content", "notes", fmt.Sprintf("note-%05d.md", i))
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("corpus: %w", err)
		}
	}
	for d := Start.AddDate(0, 1, 0); !d.After(End); d = d.AddDate(0, 1, 0) {
		buf.Reset()
		writeEdition(&buf, d)
		name := filepath.Join(dir, "content", "editions", "edition-"+d.Format("2006-01")+".md")
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("corpus: %w", err)
		}
	}
	return nil
}

// config returns the corpus's config.toml.
func config() []byte {
	var b bytes.Buffer
	b.WriteString("# Rounds benchmark corpus, written by rounds/generator/corpus.\n\n")
	fmt.Fprintf(&b, "title = %s\n", quote("Rounds Benchmark"))
	fmt.Fprintf(&b, "description = %s\n", quote("A synthetic newsletter for timing builds: curated evidence over 20 topics."))
	b.WriteString("base_url = \"https://example.org/\"\n")
	b.WriteString("language = \"en\"\n")
	b.WriteString("timezone = \"UTC\"\n")
	b.WriteString("theme = \"default\"\n")
	b.WriteString("paginate = 50\n")
	fmt.Fprintf(&b, "copyright = %s\n", quote("© Rounds Benchmark. Synthetic text."))
	fmt.Fprintf(&b, "disclaimer = %s\n", quote("This site is synthetic test content. It is not medical advice and does not replace a consultation with a qualified clinician."))
	b.WriteString("\n[author]\n")
	b.WriteString("name = \"Rounds Benchmark\"\nemail = \"bench@example.org\"\nurl = \"https://example.org/about/\"\n")
	b.WriteString("\n[feeds]\ncontent = \"full\"\nlimit = 50\n")
	b.WriteString("\n[topics]\n")
	for _, t := range topics {
		fmt.Fprintf(&b, "%s = %s\n", t.slug, quote(t.name))
	}
	return b.Bytes()
}

// noteDate returns note i of n's date: the notes are spread evenly over
// [Start, End), each at a random minute within its share.
func noteDate(r *rand.Rand, i, n int) time.Time {
	span := float64(End.Sub(Start))
	off := span * (float64(i-1) + r.Float64()) / float64(n)
	return Start.Add(time.Duration(off)).Truncate(time.Minute)
}

// writeNote writes note i of n: TOML front matter and a Markdown body.
func writeNote(b *bytes.Buffer, i, n int) {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	date := noteDate(r, i, n)

	// One to three distinct topics; the first sets the subject.
	perm := r.Perm(len(topics))[:1+r.IntN(3)]
	tp := topics[perm[0]]
	slugs := make([]string, len(perm))
	for k, p := range perm {
		slugs[k] = quote(topics[p].slug)
	}
	s := subject{
		r:            r,
		condition:    pick(r, tp.conditions),
		intervention: pick(r, tp.interventions),
		population:   pick(r, populations),
		design:       pick(r, designs),
		effect:       pick(r, effects),
		outcome:      pick(r, outcomes),
		comparator:   pick(r, comparators),
		duration:     pick(r, durations),
		size:         thousands(120 + r.IntN(48000)),
		evidence:     pick(r, evidence),
	}
	s.publisher, s.url = source(r, i)

	b.WriteString("+++\n")
	fmt.Fprintf(b, "title = %s\n", quote(s.title()))
	fmt.Fprintf(b, "date = %s\n", date.Format(time.RFC3339))
	fmt.Fprintf(b, "topics = [%s]\n", strings.Join(slugs, ", "))
	fmt.Fprintf(b, "evidence = %s\n", quote(s.evidence))
	fmt.Fprintf(b, "source = %s\n", quote(s.url))
	fmt.Fprintf(b, "summary = %s\n", quote(s.summary()))
	b.WriteString("+++\n\n")
	s.body(b)
}

// subject is what one note is about, and the generator its text is drawn from.
type subject struct {
	r                                        *rand.Rand
	condition, intervention, population      string
	design, effect, outcome, comparator      string
	duration, size, evidence, publisher, url string
}

func (s *subject) title() string {
	switch s.r.IntN(4) {
	case 0:
		return fmt.Sprintf("%s %s %s in %s with %s", capital(s.intervention), s.effect, s.outcome, s.population, s.condition)
	case 1:
		return fmt.Sprintf("%s: %s versus %s for %s", capital(s.design), s.intervention, s.comparator, s.condition)
	case 2:
		return fmt.Sprintf("%s: what a new %s says about %s", capital(s.condition), s.design, s.intervention)
	}
	return fmt.Sprintf("Does %s help %s with %s?", s.intervention, s.population, s.condition)
}

func (s *subject) summary() string {
	return fmt.Sprintf("In %s %s with %s, %s %s %s compared with %s over %s.",
		s.size, s.population, s.condition, s.intervention, s.effect, s.outcome, s.comparator, s.duration)
}

// body writes the note's Markdown: three headed sections of about 250 to
// 400 words, with a list, emphasis and a link.
func (s *subject) body(b *bytes.Buffer) {
	r := s.r
	a, c := 5+r.IntN(40), 5+r.IntN(40)
	intro := []string{
		fmt.Sprintf("This %s enrolled %s %s with %s across %d centres in %s.", s.design, s.size, s.population, s.condition, 3+r.IntN(120), pick(r, countries)),
		fmt.Sprintf("Participants received %s or %s and were followed for %s.", s.intervention, s.comparator, s.duration),
		fmt.Sprintf("The main outcome was %s; secondary outcomes included %s and %s.", s.outcome, pick(r, outcomes), pick(r, outcomes)),
		fmt.Sprintf("Most were recruited from %s, and the average age was %d years. The work was funded by %s.", pick(r, settings), 18+r.IntN(65), pick(r, funders)),
	}
	why := []string{
		fmt.Sprintf("%s affects about %d in %d %s, and current care leaves room for improvement.", capital(s.condition), 1+r.IntN(9), 10*(2+r.IntN(99)), s.population),
		fmt.Sprintf("If the result holds, %s could become a reasonable option for %s who now receive %s.", s.intervention, s.population, s.comparator),
		fmt.Sprintf("For patients, the practical question is whether the benefit outweighs the extra %s.", pick(r, burdens)),
	}
	items := []string{
		fmt.Sprintf("%s: %d%% with %s versus %d%% with %s", capital(s.outcome), a, s.intervention, c, s.comparator),
		fmt.Sprintf("Serious adverse events: %d%% versus %d%%", 1+r.IntN(15), 1+r.IntN(15)),
		fmt.Sprintf("Follow-up: %s, completed by %d%% of participants", s.duration, 70+r.IntN(30)),
	}
	if d := a - c; d != 0 {
		items = append(items, fmt.Sprintf("Absolute difference: %d percentage points, or about %d people treated for one to be affected", abs(d), (100+abs(d)-1)/abs(d)))
	}
	link := fmt.Sprintf("The authors call the findings *%s*. Read the full report at [%s](%s) for the methods, and see **our note on grading** before acting on a single study.",
		pick(r, strengths), s.publisher, s.url)
	ev := []string{
		fmt.Sprintf("We graded the evidence as `%s` because %s.", s.evidence, pick(r, reasons)),
		fmt.Sprintf("The main limitations are %s and %s.", pick(r, limitations), pick(r, limitations)),
		fmt.Sprintf("The findings may not apply to %s, who were under-represented.", pick(r, populations)),
	}

	// Pad with extra sentences, drawn without repeats, up to a word target.
	target := 260 + r.IntN(110)
	words := len(strings.Fields(link)) + 8 // with the headings and the list's lead-in
	for _, p := range [][]string{intro, why, items, ev} {
		for _, x := range p {
			words += len(strings.Fields(x))
		}
	}
	ei, ew, ee := r.Perm(len(extraIntro)), r.Perm(len(extraWhy)), r.Perm(len(extraEvidence))
	for words < target && len(ei)+len(ew)+len(ee) > 0 {
		var x string
		switch k := r.IntN(3); {
		case k == 0 && len(ei) > 0:
			x, ei = extraIntro[ei[0]], ei[1:]
			intro = append(intro, x)
		case k == 1 && len(ew) > 0:
			x, ew = extraWhy[ew[0]], ew[1:]
			why = append(why, x)
		case k == 2 && len(ee) > 0:
			x, ee = extraEvidence[ee[0]], ee[1:]
			ev = append(ev, x)
		}
		words += len(strings.Fields(x))
	}

	b.WriteString("## What it is\n\n")
	b.WriteString(strings.Join(intro, " "))
	b.WriteString("\n\n## Why it matters\n\n")
	b.WriteString(strings.Join(why, " "))
	b.WriteString("\n\nKey numbers from the report:\n\n")
	for _, it := range items {
		b.WriteString("- " + it + "\n")
	}
	b.WriteString("\n" + link + "\n\n## How strong is the evidence\n\n")
	b.WriteString(strings.Join(ev, " "))
	b.WriteString("\n")
}

// source returns a plausible publisher and URL for note i.
func source(r *rand.Rand, i int) (publisher, url string) {
	k := r.IntN(len(publishers))
	switch k {
	case 0:
		url = fmt.Sprintf("https://www.nejm.org/doi/full/10.1056/NEJMoa%07d", 2000000+i)
	case 1:
		url = fmt.Sprintf("https://www.thelancet.com/journals/lancet/article/PIIS0140-6736(%02d)%05d-%d/fulltext", 23+r.IntN(4), i, r.IntN(10))
	case 2:
		url = fmt.Sprintf("https://www.bmj.com/content/%d/bmj-%d-%06d", 380+r.IntN(12), 2023+r.IntN(4), 70000+i)
	case 3:
		url = fmt.Sprintf("https://jamanetwork.com/journals/jama/fullarticle/%d", 2800000+i)
	case 4:
		url = fmt.Sprintf("https://www.cochranelibrary.com/cdsr/doi/10.1002/14651858.CD%06d.pub%d/full", 10000+i, 2+r.IntN(5))
	case 5:
		url = fmt.Sprintf("https://pubmed.ncbi.nlm.nih.gov/%d/", 37000000+i)
	case 6:
		url = fmt.Sprintf("https://www.nice.org.uk/guidance/ng%d", 100+r.IntN(150))
	default:
		url = fmt.Sprintf("https://www.gov.uk/drug-safety-update/update-%05d", i)
	}
	return publishers[k], url
}

// writeEdition writes the edition dated d. It has no notes key, so it
// carries the notes published since the edition before it.
func writeEdition(b *bytes.Buffer, d time.Time) {
	d = d.Add(7 * time.Hour)
	month := d.AddDate(0, -1, 0).Format("January 2006")
	b.WriteString("+++\n")
	fmt.Fprintf(b, "title = %s\n", quote("Rounds for "+month))
	fmt.Fprintf(b, "date = %s\n", d.Format(time.RFC3339))
	b.WriteString("+++\n\n")
	fmt.Fprintf(b, "Welcome to the %s round-up. This issue collects every note we published last month, newest first.\n\n", month)
	b.WriteString("Each note says *what* was found, *why* it matters and **how strong** the evidence is. ")
	b.WriteString("Reply to this email to tell us what you would like covered next.\n")
}

// quote returns s as a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func pick(r *rand.Rand, from []string) string { return from[r.IntN(len(from))] }

// capital raises the first letter of s, which is ASCII in every list here.
func capital(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// thousands formats n with commas: 12,345.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
