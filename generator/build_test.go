package generator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/rounds-health/rounds/generator/check"
	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/internal/testproject"
	"github.com/rounds-health/rounds/generator/leak"
	"github.com/rounds-health/rounds/generator/output"
	"github.com/rounds-health/rounds/generator/render"
	"github.com/rounds-health/rounds/generator/site"
)

// siteFiles is a small newsletter with one of each kind of content.
func siteFiles() map[string]string {
	return map[string]string{
		"content/notes/alpha.md": testproject.Note("Alpha trial", "2026-10-02T08:00:00Z",
			`topics = ["vaccines", "Infectious Disease"]`, `audience = ["clinicians", "public"]`,
			`evidence = "1b"`, `design = "randomised controlled trial"`,
			`reviewed_by = "A. Reviewer, MD"`, `last_reviewed = 2026-10-01`, `review_by = 2027-10-01`,
			`reading_time_hint = "2 min"`,
			`[source]`, `url = "https://doi.org/10.1056/NEJMoa2021436"`, `title = "Dexamethasone in Hospitalized Patients with Covid-19"`,
			`publisher = "NEJM"`, `published = 2021-02-25`, `doi = "10.1056/NEJMoa2021436"`, `pmid = "32678530"`),
		"content/notes/beta.md": "---\ntitle: Beta review\ndate: 2026-10-20T08:00:00Z\nsummary: A YAML note.\ntopics: [vaccines]\naudience: [patients]\nreviewed_by: \"A. Nurse, RN\"\nlast_reviewed: 2026-10-19\nevidence: \"GRADE:moderate\"\nsource: https://www.cochranelibrary.com/\n---\n\n## What it is\n\n| Group | Risk |\n|---|---|\n| A | 1% |\n\nSee \"this\"[^1] -- and [the evidence page](/evidence/).\n\n[^1]: A footnote.\n",
		"content/notes/gamma.md": testproject.Note("Gamma alert", "2026-11-10T08:00:00Z", `topics = ["drug-safety"]`, `audience = ["clinicians"]`, `evidence = "A"`,
			`sponsored = true`, `disclosure = "Paid for by a grant; no editorial control."`),
		"content/notes/draft.md":      testproject.Note("Secret draft", "2026-11-01T08:00:00Z", `draft = true`, `topics = ["secret-topic"]`),
		"content/notes/future.md":     testproject.Note("Future note", "2026-11-01T08:00:00Z", `publish_at = 2027-01-05T08:00:00Z`, `topics = ["secret-topic"]`),
		"content/notes/expired.md":    testproject.Note("Expired alert", "2026-09-01T08:00:00Z", `expires = 2026-10-15T00:00:00Z`, `topics = ["secret-topic"]`),
		"content/editions/one.md":     "+++\ntitle = \"Edition one\"\ndate = 2026-10-15T07:00:00Z\nsummary = \"The first.\"\n+++\n\nIntro to **one**.\n",
		"content/editions/two.md":     "+++\ntitle = \"Edition two\"\ndate = 2026-11-20T07:00:00Z\nnotes = [\"gamma\", \"alpha\"]\n+++\n\nIntro to two.\n",
		"content/editions/later.md":   "+++\ntitle = \"Edition later\"\ndate = 2027-02-01T07:00:00Z\n+++\n\nNot yet.\n",
		"content/pages/evidence.md":   "+++\ntitle = \"Evidence scales\"\nmenu = true\nweight = 2\n+++\n\nHow we grade.\n",
		"content/pages/disclaimer.md": "+++\ntitle = \"Disclaimer\"\nmenu = true\nweight = 1\n+++\n\nNot advice.\n",
	}
}

func TestBuildPages(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, siteFiles())
	res := mustBuild(t, dir)
	if res.Notes != 3 || res.Editions != 2 {
		t.Errorf("built %d notes, %d editions; want 3 and 2", res.Notes, res.Editions)
	}
	for _, p := range []string{
		"index.html", "404.html", "sitemap.xml", "robots.txt",
		"notes/alpha/index.html", "notes/beta/index.html", "notes/gamma/index.html",
		"notes/index.html", "notes/page/2/index.html",
		"editions/one/index.html", "editions/two/index.html", "archive/index.html",
		"topics/index.html", "topics/vaccines/index.html", "topics/infectious-disease/index.html", "topics/drug-safety/index.html",
		"audiences/index.html", "audiences/clinicians/index.html", "audiences/patients/index.html", "audiences/public/index.html",
		"evidence/index.html", "disclaimer/index.html",
		"feed.xml", "atom.xml", "feed.json", "topics/vaccines/feed.xml", "topics/vaccines/atom.xml", "topics/vaccines/feed.json",
		"audiences/patients/feed.json", "editions/feed.xml", "editions/atom.xml", "editions/feed.json",
	} {
		if !exists(dir, p) {
			t.Errorf("%s: not written", p)
		}
	}
	alpha := read(t, dir, "notes/alpha/index.html")
	for _, want := range []string{
		`<link rel="canonical" href="https://example.org/newsletter/notes/alpha/">`,
		`<meta property="og:title" content="Alpha trial">`,
		`<meta property="og:type" content="article">`,
		`<meta property="og:url" content="https://example.org/newsletter/notes/alpha/">`,
		`<link rel="alternate" type="application/rss&#43;xml" title="Test Rounds (RSS)" href="https://example.org/newsletter/feed.xml">`,
		`Evidence level 1b`, `For clinicians`, `href="/newsletter/topics/infectious-disease/"`,
		`Dexamethasone in Hospitalized Patients with Covid-19`, `href="https://doi.org/10.1056/NEJMoa2021436"`,
		`Reviewed by A. Reviewer, MD on`, `Not medical advice. See the <a href="/newsletter/disclaimer/">disclaimer</a>.`,
		`<a href="/newsletter/editions/two/">Edition two</a>`,
	} {
		if !strings.Contains(alpha, want) {
			t.Errorf("notes/alpha/: missing %s", want)
		}
	}
	beta := read(t, dir, "notes/beta/index.html")
	for _, want := range []string{`<table>`, `class="footnotes"`, `&ldquo;this&rdquo;`, `&ndash;`, `<h2 id="what-it-is">`, `href="/newsletter/evidence/"`, "GRADE: moderate certainty"} {
		if !strings.Contains(beta, want) {
			t.Errorf("notes/beta/: missing %s", want)
		}
	}
	gamma := read(t, dir, "notes/gamma/index.html")
	for _, want := range []string{"Sponsored content", "Paid for by a grant; no editorial control.", "SORT A"} {
		if !strings.Contains(gamma, want) {
			t.Errorf("notes/gamma/: missing %s", want)
		}
	}
	if topics := read(t, dir, "topics/vaccines/index.html"); !strings.Contains(topics, `href="https://example.org/newsletter/topics/vaccines/feed.xml"`) {
		t.Error("topic page does not advertise its feed")
	}
}

func TestEditions(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, siteFiles())
	mustBuild(t, dir)
	// Edition one has no list: it carries the notes dated up to its date.
	one := read(t, dir, "editions/one/index.html")
	if !strings.Contains(one, "Alpha trial") || strings.Contains(one, "Beta review") || strings.Contains(one, "Gamma alert") {
		t.Error("edition one should carry exactly the notes dated up to its date")
	}
	// Edition two carries the notes after edition one... but lists them
	// explicitly, in its own order.
	two := read(t, dir, "editions/two/index.html")
	if g, a := strings.Index(two, "Gamma alert"), strings.Index(two, "Alpha trial"); g < 0 || a < 0 || g > a {
		t.Error("edition two should list gamma then alpha")
	}
	if strings.Contains(two, "Beta review") {
		t.Error("edition two lists a note it does not name")
	}
	home := read(t, dir, "index.html")
	if !strings.Contains(home, "Edition two") || strings.Contains(home, "Edition later") {
		t.Error("home should show the latest published edition, edition two")
	}
	archive := read(t, dir, "archive/index.html")
	if !strings.Contains(archive, "Edition one") || !strings.Contains(archive, "Edition two") || strings.Contains(archive, "Edition later") {
		t.Error("archive should list every published edition")
	}
}

// TestHiddenContent checks that drafts, scheduled and expired notes appear
// nowhere: no page, feed entry, list or sitemap entry.
func TestHiddenContent(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, siteFiles())
	mustBuild(t, dir)
	files := tree(t, filepath.Join(dir, "public"))
	for p, data := range files {
		for _, hidden := range []string{"Secret draft", "Future note", "Expired alert", "secret-topic", "notes/draft/", "notes/future/", "notes/expired/", "Edition later"} {
			if strings.Contains(string(data), hidden) {
				t.Errorf("%s mentions hidden content %q", p, hidden)
			}
		}
		if strings.Contains(p, "draft") || strings.Contains(p, "future") || strings.Contains(p, "expired") || strings.Contains(p, "later") {
			t.Errorf("%s: written for hidden content", p)
		}
	}
	// --drafts shows drafts, and only drafts; --future shows scheduled notes.
	mustBuild(t, dir, func(o *Options) { o.Drafts = true })
	if !exists(dir, "notes/draft/index.html") || exists(dir, "notes/future/index.html") {
		t.Error("--drafts should add the draft and nothing else")
	}
	if page := read(t, dir, "notes/draft/index.html"); !strings.Contains(page, "Draft: not published") || !strings.Contains(page, `<meta name="robots" content="noindex">`) {
		t.Error("a draft shown with --drafts should be marked and not indexed")
	}
	mustBuild(t, dir, func(o *Options) { o.Future = true })
	if !exists(dir, "notes/future/index.html") || !exists(dir, "editions/later/index.html") {
		t.Error("--future should add scheduled content")
	}
	// The build's now decides: a year later the expired alert is still
	// gone and the scheduled note is live.
	mustBuild(t, dir, func(o *Options) { o.Now = o.Now.AddDate(1, 0, 0) })
	if !exists(dir, "notes/future/index.html") || exists(dir, "notes/expired/index.html") {
		t.Error("now should decide what is scheduled and what expired")
	}
}

func TestUnknownKeysReachTemplates(t *testing.T) {
	t.Parallel()
	files := siteFiles()
	files["config.toml"] = "theme = \"custom\"\n" + testproject.Config
	files["themes/custom/layouts/note.html"] = `{{define "main"}}<p class="hint">{{.Note.Params.reading_time_hint}}</p>{{end}}`
	files["themes/custom/static/css/extra.css"] = "p { color: red }\n"
	dir := testproject.New(t, files)
	mustBuild(t, dir)
	if page := read(t, dir, "notes/alpha/index.html"); !strings.Contains(page, `<p class="hint">2 min</p>`) {
		t.Errorf("custom note layout or unknown key missing:\n%s", page)
	}
	// Layouts the custom theme does not override come from the default.
	if page := read(t, dir, "archive/index.html"); !strings.Contains(page, "Edition one") {
		t.Error("archive should fall back to the default theme's list layout")
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "public", "css", "extra.*.css"))
	if len(matches) != 1 {
		t.Errorf("the custom theme's CSS should be fingerprinted, got %v", matches)
	}
}

func TestFingerprintedCSS(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, siteFiles())
	mustBuild(t, dir)
	css, err := os.ReadFile(filepath.Join("..", "themes", "default", "static", "css", "style.css"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(css)
	name := "css/style." + hex.EncodeToString(sum[:5]) + ".css"
	if got := read(t, dir, name); got != string(css) {
		t.Errorf("%s: not the theme's style.css", name)
	}
	if exists(dir, "css/style.css") {
		t.Error("the unfingerprinted style.css should not be written")
	}
	if home := read(t, dir, "index.html"); !strings.Contains(home, `href="/newsletter/`+name+`" integrity="sha384-`) {
		t.Error("pages should link the fingerprinted CSS with its integrity")
	}
}

// TestLinks follows every internal link and asset of every page under a
// base URL with a sub-path and checks that each one is a file of the build.
func TestLinks(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, siteFiles())
	mustBuild(t, dir)
	checkLinks(t, filepath.Join(dir, "public"), "https://example.org/newsletter/")
}

var linkRE = regexp.MustCompile(`(?:href|src)="([^"#]*)`)

func checkLinks(t *testing.T, public, base string) {
	t.Helper()
	files := tree(t, public)
	prefix := strings.TrimPrefix(base, "https://example.org")
	checked := 0
	for p, data := range files {
		if !strings.HasSuffix(p, ".html") {
			continue
		}
		for _, m := range linkRE.FindAllStringSubmatch(string(data), -1) {
			link := strings.ReplaceAll(m[1], "&#43;", "+")
			switch {
			case strings.HasPrefix(link, base):
				link = strings.TrimPrefix(link, base)
			case strings.HasPrefix(link, prefix):
				link = strings.TrimPrefix(link, prefix)
			case strings.HasPrefix(link, "/"):
				t.Errorf("%s: link %s is outside the base URL %s", p, link, base)
				continue
			default:
				continue // external, or an in-page anchor
			}
			target := link
			if target == "" || strings.HasSuffix(target, "/") {
				target += "index.html"
			}
			if _, ok := files[target]; !ok {
				t.Errorf("%s: broken link %s", p, m[1])
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no internal links found")
	}
}

func TestSitemapAndRobots(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, siteFiles())
	mustBuild(t, dir)
	sm := read(t, dir, "sitemap.xml")
	for _, want := range []string{
		"<loc>https://example.org/newsletter/</loc>",
		"<loc>https://example.org/newsletter/notes/alpha/</loc><lastmod>2026-10-02</lastmod>",
		"<loc>https://example.org/newsletter/editions/two/</loc>",
		"<loc>https://example.org/newsletter/topics/vaccines/</loc>",
		"<loc>https://example.org/newsletter/evidence/</loc>",
	} {
		if !strings.Contains(sm, want) {
			t.Errorf("sitemap.xml: missing %s", want)
		}
	}
	if strings.Contains(sm, "404") {
		t.Error("sitemap.xml lists the 404 page")
	}
	if robots := read(t, dir, "robots.txt"); !strings.Contains(robots, "Sitemap: https://example.org/newsletter/sitemap.xml") {
		t.Errorf("robots.txt: %s", robots)
	}
}

// TestDeterministic builds the same input twice, with different numbers of
// workers, and compares every byte.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, siteFiles())
	mustBuild(t, dir, func(o *Options) { o.Out = filepath.Join(dir, "a"); o.Workers = 1 })
	mustBuild(t, dir, func(o *Options) { o.Out = filepath.Join(dir, "b"); o.Workers = 8 })
	a, b := tree(t, filepath.Join(dir, "a")), tree(t, filepath.Join(dir, "b"))
	if len(a) < 40 {
		t.Fatalf("only %d files", len(a))
	}
	sameTree(t, a, b)
}

func TestManifest(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, siteFiles())
	res := mustBuild(t, dir)
	public := filepath.Join(dir, "public")
	m, err := output.ReadManifest(public)
	if err != nil {
		t.Fatal(err)
	}
	files := tree(t, public)
	delete(files, output.ManifestFile)
	if len(m.Files) != len(files) || res.Files != len(files) {
		t.Errorf("manifest lists %d files, result says %d, the folder has %d", len(m.Files), res.Files, len(files))
	}
	if !slices.IsSortedFunc(m.Files, func(a, b output.Item) int { return strings.Compare(a.Path, b.Path) }) {
		t.Error("manifest is not sorted")
	}
	for _, f := range m.Files {
		data, ok := files[f.Path]
		sum := sha256.Sum256(data)
		if !ok || int64(len(data)) != f.Size || hex.EncodeToString(sum[:]) != f.SHA256 {
			t.Errorf("manifest entry %+v does not match the file", f)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(public, output.ManifestFile))
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
}

// TestFailedBuildKeepsPublic breaks a note after a good build and checks
// that the failed build leaves the previous site exactly as it was.
func TestFailedBuildKeepsPublic(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, siteFiles())
	mustBuild(t, dir)
	before := tree(t, filepath.Join(dir, "public"))
	if err := os.WriteFile(filepath.Join(dir, "content/notes/alpha.md"), []byte("+++\ntitle = \"Alpha\"\ndate = 2026-13-45\n+++\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := build(t, dir); err == nil {
		t.Fatal("build with a bad date succeeded")
	}
	// A template that fails while rendering, after content loaded fine.
	if err := os.WriteFile(filepath.Join(dir, "content/notes/alpha.md"), []byte(testproject.Note("Alpha", "2026-10-02T08:00:00Z")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "themes/broken/layouts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "themes/broken/layouts/note.html"), []byte(`{{define "main"}}{{.Note.NoSuchField}}{{end}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte("theme = \"broken\"\n"+testproject.Config), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := build(t, dir)
	if err == nil || !strings.Contains(err.Error(), "themes/broken/layouts/note.html:1") {
		t.Fatalf("want an error naming the template, got %v", err)
	}
	if list := config.AsList(err); len(list) != 1 {
		t.Errorf("one template error on every note page should be reported once, got %d", len(list))
	}
	sameTree(t, before, tree(t, filepath.Join(dir, "public")))
	// What the failed build left in the work folder has no manifest, so
	// the next build will not trust it.
	if _, err := output.ReadManifest(filepath.Join(dir, ".public.work")); err == nil {
		t.Error("a failed build left a manifest in the work folder")
	}
}

func TestRefusesForeignOutput(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, siteFiles())
	out := filepath.Join(dir, "precious")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(out, "thesis.tex"), []byte("years of work"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := build(t, dir, func(o *Options) { o.Out = out })
	if err == nil || !strings.Contains(err.Error(), "not written by rounds") {
		t.Fatalf("want a refusal, got %v", err)
	}
	if data, err := os.ReadFile(filepath.Join(out, "thesis.tex")); err != nil || string(data) != "years of work" {
		t.Error("the folder's files were touched")
	}
}

// TestSubscriberDataNeverPublished checks that a build fails rather than
// publish subscriber data: a subscribers file or ledger inside a
// published folder, or a subscriber's address in any output file, in
// any of the forms text, HTML, URLs and JSON write it in.
func TestSubscriberDataNeverPublished(t *testing.T) {
	t.Parallel()
	subs := "email,name,lists,status\nann.lee@example.net,Ann,clinicians,subscribed\n"
	dir := testproject.New(t, map[string]string{
		"config.toml":             testproject.Config + "[email]\nsubscribers = \"content/subscribers.csv\"\n",
		"content/subscribers.csv": subs,
		"content/notes/a.md":      testproject.Note("A", "2026-11-01"),
	})
	_, err := build(t, dir)
	if err == nil || !strings.Contains(err.Error(), "config.toml:10: email.subscribers: content/subscribers.csv is inside content") || !strings.Contains(err.Error(), "which is published") {
		t.Errorf("a subscribers file under content/: %v", err)
	}

	guard := leak.New([]string{"ann.lee@example.net", "info@clinic.test"})
	// Previews: the patient-identifier rule, which finds some of these
	// addresses too, refuses other builds before the guard looks.
	guarded := func(o *Options) { o.Guard, o.Drafts = guard, true }
	dir = testproject.New(t, map[string]string{"content/notes/a.md": testproject.Note("A", "2026-11-01")})
	mustBuild(t, dir, guarded)
	before := tree(t, filepath.Join(dir, "public"))
	for name, text := range map[string]string{
		"plain":           "Thanks to Ann.Lee@example.net for the tip.",
		"full stop":       "Thanks to ann.lee@example.net.",
		"in quotes":       `She wrote from "ann.lee@example.net" on Monday.`,
		"code span":       "Write to `ann.lee@example.net`.",
		"link query":      "[Unsubscribe](https://example.org/u?email=ann.lee@example.net)",
		"percent-encoded": "[Unsubscribe](https://example.org/u?email=ann.lee%40example.net)",
		"role address":    "Appointments: info@clinic.test.",
		"html reference":  "Write to ann.lee&#64;example.net.",
	} {
		os.WriteFile(filepath.Join(dir, "content", "notes", "b.md"), []byte(testproject.Note("B", "2026-11-02")+"\n"+text+"\n"), 0o644)
		_, err = build(t, dir, guarded)
		if msg := fmt.Sprint(err); err == nil || !strings.Contains(msg, "notes/b/index.html") || !strings.Contains(msg, "***@") || strings.Contains(msg, "ann.lee@") {
			t.Errorf("%s: a subscriber's address in a note: %v", name, err)
		}
		sameTree(t, before, tree(t, filepath.Join(dir, "public")))
	}
	// Feeds, the JSON feed and a theme's assets are looked at too: the
	// title is in every feed.
	os.WriteFile(filepath.Join(dir, "content", "notes", "b.md"), []byte(testproject.Note("A tip from ann.lee@example.net", "2026-11-02")), 0o644)
	if _, err = build(t, dir, guarded); !strings.Contains(fmt.Sprint(err), "feed.json") || !strings.Contains(fmt.Sprint(err), "atom.xml") {
		t.Errorf("a subscriber's address in a note's title, in the feeds: %v", err)
	}
	os.Remove(filepath.Join(dir, "content", "notes", "b.md"))
	os.MkdirAll(filepath.Join(dir, "themes", "default", "static", "js"), 0o755)
	os.WriteFile(filepath.Join(dir, "themes", "default", "static", "js", "contact.js"), []byte(`const to = "ann.lee\u0040example.net";`), 0o644)
	if _, err = build(t, dir, guarded); !strings.Contains(fmt.Sprint(err), "contact") {
		t.Errorf("a subscriber's address in a theme's script: %v", err)
	}
	sameTree(t, before, tree(t, filepath.Join(dir, "public")))
	// An address that is no subscriber's is content like any other.
	os.Remove(filepath.Join(dir, "themes", "default", "static", "js", "contact.js"))
	os.WriteFile(filepath.Join(dir, "content", "notes", "b.md"), []byte(testproject.Note("B", "2026-11-02")+"\nWrite to press@example.org or xann.lee@example.net.\n"), 0o644)
	mustBuild(t, dir, guarded)
}

func TestInvalidIdentifiers(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, map[string]string{
		"content/notes/a.md": testproject.Note("A", "2026-11-01", `[source]`, `url = "https://example.org/a"`, `doi = "doi:10.1056/NEJMoa1911303"`, `pmid = "PMID 31535829"`, `nct = "NCT0303612"`, `pmcid = "6893803"`),
	})
	_, err := build(t, dir)
	got := fmt.Sprint(err)
	for _, want := range []string{
		`content/notes/a.md:9: nct: source nct: "NCT0303612" is not a ClinicalTrials.gov number`,
		`content/notes/a.md:10: pmcid: source pmcid: "6893803" is not a PubMed Central ID`,
		`content/notes/a.md:8: pmid: source pmid: "PMID 31535829" is not a PubMed ID`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "is not a DOI") {
		t.Error("a DOI written as doi:… was refused")
	}
}

// TestJSONLD checks the schema.org MedicalWebPage of a note's page.
func TestJSONLD(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, map[string]string{
		"content/notes/a.md": testproject.Note("A <b> & c", "2026-11-01", `topics = ["cardiology"]`, `audience = ["patients", "clinicians"]`,
			`reviewed_by = "Dr Ann Lee"`, `last_reviewed = 2026-11-10`, `design = "randomised controlled trial"`, `evidence = "1b"`,
			`[source]`, `url = "https://www.nejm.org/doi/full/10.1056/NEJMoa1911303"`, `title = "DAPA-HF"`, `publisher = "NEJM"`, `doi = "10.1056/NEJMoa1911303"`, `pmid = "31535829"`),
		"content/notes/g.md": testproject.Note("G", "2026-11-02", `design = "guideline"`, `evidence = "GRADE:moderate"`, `source = "https://www.nice.org.uk/guidance/ng1"`),
	})
	mustBuild(t, dir)
	page := read(t, dir, "notes/a/index.html")
	m := regexp.MustCompile(`<script type="application/ld\+json">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no JSON-LD on the note page")
	}
	var ld struct {
		Type         string                          `json:"@type"`
		Name         string                          `json:"name"`
		URL          string                          `json:"url"`
		LastReviewed string                          `json:"lastReviewed"`
		ReviewedBy   struct{ Name string }           `json:"reviewedBy"`
		Audience     []struct{ AudienceType string } `json:"medicalAudience"`
		About        []struct{ Name string }         `json:"about"`
		Citation     struct {
			Name       string
			SameAs     []string
			Identifier []struct{ PropertyID, Value string }
		} `json:"citation"`
	}
	if err := json.Unmarshal([]byte(m[1]), &ld); err != nil {
		t.Fatalf("JSON-LD: %v\n%s", err, m[1])
	}
	if ld.Type != "MedicalWebPage" || ld.Name != "A <b> & c" || ld.URL != "https://example.org/newsletter/notes/a/" ||
		ld.LastReviewed != "2026-11-10" || ld.ReviewedBy.Name != "Dr Ann Lee" || len(ld.Audience) != 2 || ld.Audience[0].AudienceType != "Patient" ||
		len(ld.About) != 1 || ld.About[0].Name != "Cardiology" || ld.Citation.Name != "DAPA-HF" || len(ld.Citation.Identifier) != 2 ||
		ld.Citation.SameAs[0] != "https://doi.org/10.1056/NEJMoa1911303" {
		t.Errorf("JSON-LD %+v", ld)
	}
	if strings.Contains(m[1], "<b>") {
		t.Error("the JSON-LD holds markup that could end its script")
	}
	// The design and the evidence, in schema.org's terms.
	if !strings.Contains(m[1], `"@type":"MedicalScholarlyArticle"`) || !strings.Contains(m[1], `"publicationType":"randomised controlled trial","about":{"@type":"MedicalTrial","trialDesign":"https://schema.org/RandomizedTrial"}`) {
		t.Errorf("the trial's design is not in the JSON-LD:\n%s", m[1])
	}
	if g := read(t, dir, "notes/g/index.html"); !strings.Contains(g, `"publicationType":"guideline","evidenceLevel":"https://schema.org/EvidenceLevelB"`) {
		t.Errorf("the guideline's evidence level is not in the JSON-LD")
	}
	var jf struct {
		Items []struct {
			Rounds map[string]any `json:"_rounds"`
		} `json:"items"`
	}
	json.Unmarshal([]byte(read(t, dir, "feed.json")), &jf)
	x := jf.Items[len(jf.Items)-1].Rounds
	if ev, _ := x["evidence"].(map[string]any); ev["strength"] != "strong" || ev["explanation"] == "" || x["design"] != "randomised controlled trial" ||
		x["reviewed_by"] != "Dr Ann Lee" || x["last_reviewed"] != "2026-11-10" {
		t.Errorf("the JSON Feed's _rounds: %v", x)
	}
	if strings.Contains(read(t, dir, "archive/index.html"), "application/ld+json") {
		t.Error("JSON-LD on a page that is neither a note nor the home page")
	}
	// The home page describes the site and how to search it.
	home := read(t, dir, "index.html")
	_, siteLD, _ := strings.Cut(home, `<script type="application/ld+json">`)
	siteLD, _, _ = strings.Cut(siteLD, "</script>")
	var site struct {
		Type   string `json:"@type"`
		Action struct {
			Type   string `json:"@type"`
			Target struct {
				URLTemplate string `json:"urlTemplate"`
			} `json:"target"`
		} `json:"potentialAction"`
	}
	if err := json.Unmarshal([]byte(siteLD), &site); err != nil || site.Type != "WebSite" || site.Action.Type != "SearchAction" || !strings.HasSuffix(site.Action.Target.URLTemplate, "/search/?q={search_term_string}") {
		t.Errorf("the home page's JSON-LD: %v %s", err, siteLD)
	}
}

// TestRetractions labels notes whose paper Retraction Watch lists, on
// every page and feed they appear in, and rounds check reports them.
func TestRetractions(t *testing.T) {
	t.Parallel()
	csv := "Record ID,Title,RetractionDate,RetractionDOI,RetractionPubMedID,OriginalPaperDate,OriginalPaperDOI,OriginalPaperPubMedID,RetractionNature,Reason\n" +
		"1,\"A, with a comma\",3/4/2026 0:00,10.1016/S0140-6736(26)99999-9,0,1/2/2020 0:00,10.1016/S0140-6736(20)31180-6,32450107,Retraction,+Concerns/Issues About Data;\n" +
		"2,Other,5/6/2025 0:00,,0,,,39999999,Expression of concern,+Investigation;\n"
	dir := testproject.New(t, map[string]string{
		"config.toml":            testproject.Config + "[check]\nretractions = \"data/retractions.csv\"\n",
		"data/retractions.csv":   csv,
		"content/notes/hcq.md":   testproject.Note("Hydroxychloroquine registry", "2026-11-01", `topics = ["covid"]`, `[source]`, `url = "https://www.thelancet.com/"`, `doi = "10.1016/S0140-6736(20)31180-6"`),
		"content/notes/eoc.md":   testproject.Note("Under a cloud", "2026-11-02", `[source]`, `url = "https://example.org/"`, `pmid = "39999999"`),
		"content/notes/clean.md": testproject.Note("Sound", "2026-11-03", `source = "https://example.org/sound"`) + "\nUnlike doi:10.1016/S0140-6736(20)31180-6 and [this one](https://pubmed.ncbi.nlm.nih.gov/39999999/).\n",
	})
	// A retracted source is an error until the curator has read it.
	if _, err := build(t, dir); !strings.Contains(fmt.Sprint(err), "content/notes/hcq.md: source: the paper was retracted on 4 March 2026") || !strings.Contains(fmt.Sprint(err), "retraction_reviewed") {
		t.Fatalf("a retracted source, not reviewed: %v", err)
	}
	cfg, _ := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if _, _, err := check.Run(cfg, testproject.Now, check.Options{}); !strings.Contains(fmt.Sprint(err), "hcq.md: source: the paper was retracted") {
		t.Errorf("check passes a retracted source: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "content", "notes", "hcq.md"), []byte(testproject.Note("Hydroxychloroquine registry", "2026-11-01", `topics = ["covid"]`, `retraction_reviewed = 2026-03-10`, `[source]`, `url = "https://www.thelancet.com/"`, `doi = "10.1016/S0140-6736(20)31180-6"`)), 0o644)
	mustBuild(t, dir)
	if p := read(t, dir, "notes/hcq/index.html"); !strings.Contains(p, `<p class="flag flag-retracted" role="note"><strong>Retracted.</strong>`) || !strings.Contains(p, "was retracted (4 March 2026)") || !strings.Contains(p, `href="https://doi.org/10.1016/S0140-6736%2826%2999999-9">the notice</a>`) {
		t.Error("the note page lacks the retraction banner")
	}
	for _, page := range []string{"notes/page/2/index.html", "topics/covid/index.html"} {
		if !strings.Contains(read(t, dir, page), `<li class="label label-retracted">Retracted</li>`) {
			t.Errorf("%s: the list does not label the retracted note", page)
		}
	}
	if !strings.Contains(read(t, dir, "feed.xml"), "<title>Retracted: Hydroxychloroquine registry</title>") || !strings.Contains(read(t, dir, "feed.json"), `"retraction":{"date":"4 March 2026","nature":"Retraction"`) {
		t.Error("the feeds do not label the retracted note")
	}
	if p := read(t, dir, "notes/eoc/index.html"); !strings.Contains(p, "Expression of concern.") {
		t.Error("an expression of concern is not shown")
	}
	if strings.Contains(read(t, dir, "notes/clean/index.html"), "flag-retracted") {
		t.Error("a sound note is labelled")
	}
	_, findings, err := check.Run(cfg, testproject.Now, check.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range findings {
		if f.Kind == "retraction" {
			got = append(got, f.String())
		}
	}
	all := strings.Join(got, "\n")
	// The reviewed retraction is no longer reported; the expression of
	// concern is, and so are the two papers the sound note's text cites.
	if len(got) != 3 || strings.Contains(all, "hcq.md") || !strings.Contains(all, "eoc.md: warning: retraction: the paper it cites has a notice: Expression of concern") ||
		!strings.Contains(all, "clean.md: warning: retraction: its text cites doi:10.1016/s0140-6736(20)31180-6, which has a notice: Retraction") ||
		!strings.Contains(all, "clean.md: warning: retraction: its text cites pmid:39999999") {
		t.Errorf("rounds check reports:\n%s", all)
	}
}

// TestBoundedInput checks that a build reads only regular files of the
// project, of a bounded size: a named pipe, a link to a device or to a
// file outside the project, a folder where a note should be, or a note
// over max_note_bytes is a clear error naming the file, and the
// previous site stays as it was.
func TestBoundedInput(t *testing.T) {
	t.Parallel()
	outside := filepath.Join(t.TempDir(), "elsewhere.md")
	os.WriteFile(outside, []byte(testproject.Note("Elsewhere", "2026-11-01")), 0o644)
	dir := testproject.New(t, map[string]string{"content/notes/a.md": testproject.Note("A", "2026-11-01")})
	mustBuild(t, dir)
	before := tree(t, filepath.Join(dir, "public"))
	notes := filepath.Join(dir, "content", "notes")
	for name, tc := range map[string]struct {
		make func(path string) error
		want string
	}{
		"fifo":           {func(p string) error { return unix.Mkfifo(p, 0o644) }, "content/notes/b.md: is a named pipe (FIFO), not a file"},
		"link to device": {func(p string) error { return os.Symlink("/dev/zero", p) }, "content/notes/b.md: is a link to /dev/zero, outside the project"},
		"link outside":   {func(p string) error { return os.Symlink(outside, p) }, "content/notes/b.md: is a link to " + outside + ", outside the project; copy it into the project, or set [build] follow_symlinks = true"},
		"dangling link":  {func(p string) error { return os.Symlink(filepath.Join(dir, "nowhere.md"), p) }, "content/notes/b.md: is a link to a file that does not exist"},
		"folder":         {func(p string) error { return os.Mkdir(p, 0o755) }, "content/notes/b.md: is a folder, not a file"},
		"link to folder": {func(p string) error { return os.Symlink(filepath.Join(dir, "themes"), p) }, "content/notes/b.md: is a folder, not a file"},
		"too large": {func(p string) error {
			return os.WriteFile(p, []byte(testproject.Note("Big", "2026-11-01")+strings.Repeat("Words and more words.\n", 60000)), 0o644)
		}, "content/notes/b.md: is 1320087 bytes, more than [build] max_note_bytes (1048576); split it into smaller notes, or raise max_note_bytes"},
	} {
		b := filepath.Join(notes, "b.md")
		if err := tc.make(b); err != nil {
			t.Fatal(err)
		}
		if _, err := build(t, dir); !strings.Contains(fmt.Sprint(err), tc.want) {
			t.Errorf("%s: %v, want %s", name, err, tc.want)
		}
		sameTree(t, before, tree(t, filepath.Join(dir, "public")))
		os.RemoveAll(b)
	}

	// A link inside the project is read as the file it leads to.
	os.WriteFile(filepath.Join(dir, "drafts.md"), []byte(testproject.Note("Linked", "2026-11-02")), 0o644)
	os.Symlink(filepath.Join(dir, "drafts.md"), filepath.Join(notes, "linked.md"))
	mustBuild(t, dir)
	if !strings.Contains(read(t, dir, "notes/linked/index.html"), "Linked") {
		t.Error("a link to a file inside the project was not built")
	}
	// A theme's static file that leads out of the project is refused
	// like a note; follow_symlinks lets both through, and a device is
	// still refused then.
	static := filepath.Join(dir, "themes", "default", "static", "secret.txt")
	os.Symlink(outside, static)
	if _, err := build(t, dir); !strings.Contains(fmt.Sprint(err), "themes/default/static/secret.txt: is a link to "+outside+", outside the project") {
		t.Errorf("a theme file linked out of the project: %v", err)
	}
	cfg := filepath.Join(dir, "config.toml")
	data, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(data, "\n[build]\nfollow_symlinks = true\nmax_note_bytes = 2048\n"...), 0o644)
	os.Symlink(outside, filepath.Join(notes, "elsewhere.md"))
	mustBuild(t, dir)
	if !exists(dir, "secret.txt") || !exists(dir, "notes/elsewhere/index.html") {
		t.Error("follow_symlinks = true: the files links lead to were not built")
	}
	os.Symlink("/dev/zero", filepath.Join(notes, "zero.md"))
	if _, err := build(t, dir); !strings.Contains(fmt.Sprint(err), "content/notes/zero.md: is a device, not a file") {
		t.Errorf("follow_symlinks = true, a link to a device: %v", err)
	}
	os.Remove(filepath.Join(notes, "zero.md"))
	os.WriteFile(filepath.Join(notes, "c.md"), []byte(testproject.Note("C", "2026-11-01")+strings.Repeat("x", 3000)), 0o644)
	if _, err := build(t, dir); !strings.Contains(fmt.Sprint(err), "content/notes/c.md: is 3") || !strings.Contains(fmt.Sprint(err), "more than [build] max_note_bytes (2048)") {
		t.Errorf("max_note_bytes = 2048: %v", err)
	}
	if _, err := config.ParseConfig("config.toml", []byte(testproject.Config+"[build]\nmax_note_bytes = 10\n")); !strings.Contains(fmt.Sprint(err), "config.toml:10: build.max_note_bytes: 10 bytes; use at least 1024") {
		t.Errorf("max_note_bytes = 10: %v", err)
	}
}

// TestFeedIDsChecked checks that a pinned feed ID is an absolute IRI, and
// that no two notes or editions share one; the errors name both files.
func TestFeedIDsChecked(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]string{
		"../../../x":           `content/notes/a.md:5: id: "../../../x" is not an absolute IRI: it has no scheme, such as tag or https`,
		"tag:x y":              `content/notes/a.md:5: id: "tag:x y" holds " ", which an IRI cannot`,
		"https:///no-host":     `content/notes/a.md:5: id: "https:///no-host" is an http(s) URL without a host`,
		"urn:":                 `content/notes/a.md:5: id: "urn:" has a scheme and nothing else`,
		"tag:a\u009b]0;x":      `holds "\u009b", which an IRI cannot`,
		"tag:ex.org,2026:<b>":  `holds "<", which an IRI cannot`,
		"javascript:alert(1)x": "",
	} {
		dir := testproject.New(t, map[string]string{"content/notes/a.md": testproject.Note("A", "2026-11-01", "id = "+config.TOMLValue(id))})
		_, err := build(t, dir)
		if want == "" {
			if err != nil {
				t.Errorf("id = %q: %v", id, err)
			}
			continue
		}
		if !strings.Contains(fmt.Sprint(err), want) {
			t.Errorf("id = %q: %v, want %s", id, err, want)
		}
	}
	dir := testproject.New(t, map[string]string{
		"content/notes/a.md":      testproject.Note("A", "2026-11-01", `id = "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"`),
		"content/notes/b.md":      testproject.Note("B", "2026-11-02", `draft = true`, `id = "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"`),
		"content/notes/c.md":      testproject.Note("C", "2026-11-03", `id = "tag:example.org,2026-11-01:/newsletter/notes/d/"`),
		"content/notes/d.md":      testproject.Note("D", "2026-11-01"),
		"content/editions/e1.md":  "+++\ntitle = \"E1\"\ndate = 2026-11-05\nid = \"urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66\"\n+++\n",
		"content/notes/ok.md":     testproject.Note("OK", "2026-11-04", `id = "tag:example.org,2026:ok"`),
		"content/editions/e2.md":  "+++\ntitle = \"E2\"\ndate = 2026-11-06\n+++\n",
		"content/notes/other.md":  testproject.Note("Other", "2026-11-04", `id = "https://example.org/other"`),
		"content/notes/other2.md": testproject.Note("Other 2", "2026-11-04", `id = "https://example.org/other2"`),
	})
	got := fmt.Sprint(func() error { _, err := build(t, dir); return err }())
	for _, want := range []string{
		`content/notes/b.md:6: id: "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66" is also the id of content/notes/a.md`,
		`content/editions/e1.md:4: id: "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66" is also the id of content/notes/a.md`,
		`content/notes/c.md:5: id: "tag:example.org,2026-11-01:/newsletter/notes/d/" is also the id of content/notes/d.md`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "is also the id of"); n != 3 {
		t.Errorf("%d duplicate IDs reported, want 3:\n%s", n, got)
	}
}

// TestBrokenLinks fails a build whose content links to a page of the site
// that it does not make, naming the file and line; links to pages it
// makes, in any form, and links in code pass.
func TestBrokenLinks(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, map[string]string{
		"content/notes/a.md": testproject.Note("A", "2026-11-01") + "\nSee [b](/notes/b/), [b again](/notes/b#top), [home](/), [the feed](/feed.xml) and [topics](/topics/?x=1).\n\n" +
			"`[not a link](/nowhere/)`\n\n```\n[nor this](/nowhere/)\n```\n",
		"content/notes/b.md":     testproject.Note("B", "2026-11-02") + "\nAnd [gone](/notes/does-not-exist/).\n\n[later]: /notes/later/\n",
		"content/notes/later.md": testproject.Note("Later", "2026-11-01", `publish_at = 2027-01-01T00:00:00Z`),
		"content/pages/p.md":     "+++\ntitle = \"P\"\n+++\n\n[Broken](/archive/page/9/).\n",
	})
	_, err := build(t, dir)
	got := fmt.Sprint(err)
	for _, want := range []string{
		"content/notes/b.md:10: link: /notes/does-not-exist/: no such page on the site",
		"content/notes/b.md:12: link: /notes/later/: no such page on the site",
		"content/pages/p.md:5: link: /archive/page/9/: no such page",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "a.md") || strings.Count(got, "no such page") != 3 {
		t.Errorf("good links, or links in code, taken for broken ones:\n%s", got)
	}
}

// TestBodiesLetGo checks that a build that consumes its site lets a
// note's body go once its page is made, unless a feed carries it whole,
// and writes the files of a build that keeps every body; and that it
// keeps them all for a theme that shows bodies on other pages.
func TestBodiesLetGo(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, list string
		letGo      bool
	}{
		{"default theme", "", true},
		{"bodies on list pages", `{{define "main"}}{{range .Notes}}<article>{{.Content}}</article>{{end}}{{end}}`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			files := siteFiles()
			// Feeds of one entry: delta, older than the others of its
			// topic and audience, is in none; epsilon only in its topic's.
			files["content/notes/delta.md"] = testproject.Note("Delta cohort", "2026-09-20T08:00:00Z", `topics = ["vaccines"]`, `audience = ["clinicians"]`)
			files["content/notes/epsilon.md"] = testproject.Note("Epsilon registry", "2026-09-10T08:00:00Z", `topics = ["cardiology"]`, `audience = ["clinicians"]`)
			files["config.toml"] = testproject.Config + "[feeds]\nlimit = 1\n"
			if c.list != "" {
				files["themes/default/layouts/list.html"] = c.list
			}
			dir := testproject.New(t, files)
			cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
			if err != nil {
				t.Fatal(err)
			}
			write := func(out string, consume bool) *site.Site {
				s, th, err := Check(cfg, &site.Options{Now: testproject.Now})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := render.Write(s, th, &render.Options{Out: filepath.Join(dir, out), Consume: consume}); err != nil {
					t.Fatal(err)
				}
				return s
			}
			kept, consumed := write("kept", false), write("consumed", true)
			sameTree(t, tree(t, filepath.Join(dir, "kept")), tree(t, filepath.Join(dir, "consumed")))
			if len(consumed.Notes) != 5 {
				t.Fatalf("%d notes, want 5", len(consumed.Notes))
			}
			for i, n := range consumed.Notes {
				want := !(c.letGo && n.Slug == "delta")
				if has := n.Content != ""; has != want {
					t.Errorf("%s: body kept %v, want %v", n.Slug, has, want)
				}
				if kept.Notes[i].Content == "" {
					t.Errorf("%s: body let go by a build that keeps them", n.Slug)
				}
			}
			if !c.letGo && !strings.Contains(string(tree(t, filepath.Join(dir, "consumed"))["notes/page/2/index.html"]), "Body of <strong>Delta cohort</strong>") {
				t.Error("the list page does not show delta's body")
			}
		})
	}
}
