package generator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rounds-health/rounds/feeds"
	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/internal/testproject"
	"github.com/rounds-health/rounds/generator/site"
	"github.com/rounds-health/rounds/generator/wire"
)

// wireServer serves feeds/testdata/wire on loopback, every file with
// status 200, as real servers do (the bot challenge included).
func wireServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Join("..", "feeds", "testdata", "wire"))))
	t.Cleanup(srv.Close)
	return srv
}

// wireProject is a project following sources served by srv, with a note
// that curates the BMJ paper the NIH and a news site also covered.
func wireProject(t *testing.T, srv string) string {
	cfg := testproject.Config + fmt.Sprintf(`
[wire]
days = 60
allow_private = true  # the test feeds are on loopback

[[source]]
name = "BMJ"
url = "%[1]s/bmj.xml"
site = "https://www.bmj.com/"
kind = "journal"
topics = ["nutrition"]

[[source]]
name = "NIH News"
url = "%[1]s/nih-news.xml"
kind = "agency"
topics = ["nutrition", "vaccines"]

[[source]]
name = "The Health Ledger"
url = "%[1]s/news-piece.xml"
kind = "news"

[[source]]
id = "pubmed"
name = "PubMed: older adults"
url = "%[1]s/pubmed.xml"
kind = "database"

[[source]]
name = "medRxiv"
url = "%[1]s/medrxiv.xml"
kind = "preprint"
topics = ["vaccines"]

[[source]]
name = "FDA recalls"
url = "%[1]s/hostile.xml"
kind = "regulator"
topics = ["safety"]

[[source]]
name = "NEJM"
url = "%[1]s/challenge.html"
kind = "journal"

[[source]]
name = "Retired source"
url = "%[1]s/fda-recalls.xml"
enabled = false
`, srv)
	return testproject.New(t, map[string]string{
		"config.toml": cfg,
		"content/notes/upf-dementia.md": testproject.Note("Ultra-processed food and dementia", "2026-11-10T09:00:00Z",
			`topics = ["nutrition"]`, `[source]`, `url = "https://www.bmj.com/content/391/bmj-2026-081234"`, `doi = "10.1136/bmj-2026-081234"`),
	})
}

// fetch fetches the project's sources and fails the test on a cache error.
func fetch(t *testing.T, dir string) map[string]feeds.Report {
	t.Helper()
	cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	reports, err := wire.Fetch(context.Background(), cfg, wire.FetchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]feeds.Report{}
	for _, r := range reports {
		out[r.Source.ID] = r
	}
	return out
}

// story returns the wire-story article of page whose title is title.
func story(t *testing.T, page, title string) string {
	t.Helper()
	for _, a := range strings.Split(page, `<article class="wire-story">`)[1:] {
		a, _, _ = strings.Cut(a, "</article>")
		if strings.Contains(a, ">"+title+"</a></h3>") {
			return a
		}
	}
	t.Fatalf("no wire story titled %q", title)
	return ""
}

func TestWire(t *testing.T) {
	t.Parallel()
	srv := wireServer(t)
	dir := wireProject(t, srv.URL)
	reports := fetch(t, dir)
	if len(reports) != 7 {
		t.Errorf("%d sources fetched, want the 7 enabled", len(reports))
	}
	if r := reports["nejm"]; r.Status != feeds.Failed || !strings.Contains(fmt.Sprint(r.Err), "not a feed") {
		t.Errorf("the bot challenge: %s %v", r.Status, r.Err)
	}
	for id, r := range reports {
		if id != "nejm" && r.Status != feeds.Updated {
			t.Errorf("%s: %s %v", id, r.Status, r.Err)
		}
	}
	mustBuild(t, dir) // a failing source never fails the build

	wire := read(t, dir, "wire/index.html")
	upf := story(t, wire, "Ultra-processed food consumption and risk of dementia: prospective cohort study")
	bmj, nih, news := strings.Index(upf, "BMJ"), strings.Index(upf, "NIH News"), strings.Index(upf, "The Health Ledger")
	if bmj < 0 || nih < 0 || news < 0 || !(bmj < nih && nih < news) {
		t.Errorf("the paper, press release and news piece are not one story, paper first:\n%s", upf)
	}
	if !strings.Contains(upf, `Curated: <a href="/newsletter/notes/upf-dementia/">`) {
		t.Errorf("the covered story does not link its note:\n%s", upf)
	}
	nirsevimab := story(t, wire, "Nirsevimab Effectiveness Against RSV-Associated Hospitalization in Infants, 2025–26 Season: A Test-Negative Study")
	if !strings.Contains(nirsevimab, "Preprint: not peer reviewed") || !strings.Contains(nirsevimab, "Not reviewed by the editors") {
		t.Errorf("a preprint is not labelled as one, or pretends to be curated:\n%s", nirsevimab)
	}
	if strings.Count(wire, "Ultra-processed food consumption and risk of dementia") != 1 {
		t.Error("the BMJ story is listed more than once")
	}
	if !strings.Contains(wire, "Regulator") || !strings.Contains(wire, "Monday 2 November 2026") {
		t.Error("wire page lacks the regulator label or the day headings")
	}
	if strings.Contains(wire, "fda-recalls.xml") || strings.Contains(wire, "Retired source") {
		t.Error("a disabled source is on the wire")
	}

	for _, page := range []string{"wire/index.html", "wire/safety/index.html", "notes/upf-dementia/index.html", "sources/index.html"} {
		// The page's own structured data is the one script it may have,
		// and the header's search box, before <main>, its one form.
		html := regexp.MustCompile(`<script type="application/ld\+json">[^<]*</script>`).ReplaceAllString(read(t, dir, page), "")
		header, rest, _ := strings.Cut(html, `<main id="main"`)
		html = regexp.MustCompile(`(?s)<form class="site-search".*?</form>`).ReplaceAllString(header, "") + rest
		if m := regexp.MustCompile(`(?i)<(script|iframe|object|embed|form|svg|math|base|meta http-equiv)|\son[a-z]+\s*=|javascript:|data:text|position:\s*fixed`).FindString(html); m != "" {
			t.Errorf("%s: feed content got through: %q", page, m)
		}
	}
	safety := read(t, dir, "wire/safety/index.html")
	if !strings.Contains(safety, "Acme Nutrition Recalls Infant Formula") || strings.Contains(safety, "Ultra-processed") {
		t.Error("the safety topic's wire does not hold exactly its sources' stories")
	}
	if !strings.Contains(safety, `&lt;script&gt;window.__pwned=1&lt;/script&gt;`) {
		t.Error("text that looks like a script is not shown as text")
	}

	notePage := read(t, dir, "notes/upf-dementia/index.html")
	if !strings.Contains(notePage, "On the wire") || !strings.Contains(notePage, "NIH News") {
		t.Error("the note page does not show the wire story it curates")
	}
	sources := read(t, dir, "sources/index.html")
	// Readers get the kind of failure in plain words; the fetch's own
	// error is the curator's (rounds sources).
	if !regexp.MustCompile(`(?s)NEJM.*?<strong>Not available: what it sends is not a valid feed</strong> \(last tried `).MatchString(sources) {
		t.Errorf("the feed-health page does not show the failing source")
	}
	if strings.Contains(sources, "in a row") || strings.Contains(sources, "a web page, not a feed") {
		t.Error("the feed-health page shows the fetch's error meant for the curator")
	}
	subs, err := feeds.ReadOPML(strings.NewReader(read(t, dir, "sources.opml")))
	if err != nil || len(subs) != 7 || subs[0].Title != "BMJ" || subs[0].SiteURL != "https://www.bmj.com/" || subs[0].Kind != "journal" {
		t.Errorf("sources.opml: %v, %+v", err, subs)
	}
	if !strings.Contains(read(t, dir, "sitemap.xml"), "https://example.org/newsletter/wire/") {
		t.Error("the sitemap lacks the wire")
	}

	// The same cache builds the same site, byte for byte.
	first := tree(t, filepath.Join(dir, "public"))
	other := filepath.Join(t.TempDir(), "public")
	if _, err := build(t, dir, func(o *Options) { o.Out = other }); err != nil {
		t.Fatal(err)
	}
	sameTree(t, first, tree(t, other))

	// The failing source keeps its place, a re-fetch of unchanged feeds
	// changes nothing, and the site still builds the same.
	reports = fetch(t, dir)
	if reports["nejm"].Status != feeds.BackingOff {
		t.Errorf("the failing source was asked again at once: %s", reports["nejm"].Status)
	}
	mustBuild(t, dir)
	again := tree(t, filepath.Join(dir, "public"))
	for _, p := range []string{"wire/index.html", "notes/upf-dementia/index.html"} {
		if string(again[p]) != string(first[p]) {
			t.Errorf("%s changed after a re-fetch of unchanged feeds", p)
		}
	}
}

func TestWireHealthOff(t *testing.T) {
	t.Parallel()
	var agent string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		agent = r.UserAgent()
		http.ServeFile(w, r, filepath.Join("..", "feeds", "testdata", "wire", "bmj.xml"))
	}))
	defer srv.Close()
	dir := testproject.New(t, map[string]string{"config.toml": testproject.Config + `
[wire]
health = false
allow_private = true
[[source]]
name = "BMJ"
url = "` + srv.URL + `/bmj.xml"
kind = "journal"
`})
	fetch(t, dir)
	mustBuild(t, dir)
	if agent != "Rounds/1 (feed reader for Test Rounds; +https://example.org/newsletter/)" {
		t.Errorf("User-Agent %q", agent)
	}
	if exists(dir, "sources/index.html") || !exists(dir, "wire/index.html") || !exists(dir, "sources.opml") {
		t.Error("health = false: want the wire and sources.opml, and no feed-health page")
	}
	if strings.Contains(read(t, dir, "wire/index.html"), `href="/newsletter/sources/"`) {
		t.Error("the wire links to a feed-health page that is turned off")
	}
}

func TestInboxAndNoteFrom(t *testing.T) {
	t.Parallel()
	srv := wireServer(t)
	dir := wireProject(t, srv.URL)
	fetch(t, dir)
	cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	since := testproject.Now.AddDate(0, -3, 0)
	inbox, err := site.Inbox(cfg, testproject.Now, since, "")
	if err != nil {
		t.Fatal(err)
	}
	var h5n1 *content.WireStory
	for _, s := range inbox {
		if strings.Contains(s.Primary().Title, "Ultra-processed") {
			t.Error("the inbox lists a story a note covers")
		}
		if strings.Contains(s.Primary().Title, "Influenza A(H5N1)") {
			h5n1 = s
		}
	}
	if h5n1 == nil {
		t.Fatalf("the H5N1 preprint is not in the inbox")
	}
	if len(h5n1.Items) != 2 || h5n1.Primary().Source.ID != "medrxiv" {
		t.Errorf("the preprint's PubMed and medRxiv items are not one story, medRxiv first: %d items", len(h5n1.Items))
	}
	vaccines, err := site.Inbox(cfg, testproject.Now, since, "vaccines")
	if err != nil {
		t.Fatal(err)
	}
	if len(vaccines) == 0 || len(vaccines) >= len(inbox) {
		t.Errorf("--topic vaccines: %d of %d stories", len(vaccines), len(inbox))
	}

	path, err := wire.NewNoteFrom(cfg, h5n1.Primary().ID[:8], testproject.Now)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`title = 'Household Transmission of Influenza A(H5N1) Among Dairy Farm Workers: Serologic Follow-up'`,
		`topics = ['vaccines']`, `design = 'preprint'`, `draft = true`,
		`url = 'https://www.medrxiv.org/content/10.1101/2026.10.20.26313001v2'`,
		`publisher = 'medRxiv'`, `published = 2026-10-27`, `doi = '10.1101/2026.10.20.26313001'`, `pmid = '40123459'`,
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the new note lacks %s:\n%s", want, data)
		}
	}
	after, err := site.Inbox(cfg, testproject.Now, since, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(inbox)-1 {
		t.Errorf("after a draft note covers a story the inbox has %d stories, want %d", len(after), len(inbox)-1)
	}
	if _, err := wire.NewNoteFrom(cfg, "ffffffffffff", testproject.Now); err == nil {
		t.Error("new note --from an unknown ID succeeded")
	}
}

func TestSourceConfigErrors(t *testing.T) {
	t.Parallel()
	cfg := testproject.Config + `
[wire]
timeout = "soon"

[[source]]
name = "A"
url = "https://a.example/feed.xml"

[[source]]
name = "B"
url = "ftp://b.example/feed"
kind = "blog"

[[source]]
id = "a"
name = "Another A"
url = "http://www.a.example/feed.xml?utm_source=x"
audience = ["everyone"]
`
	_, err := config.ParseConfig("config.toml", []byte(cfg))
	got := fmt.Sprint(err)
	for _, want := range []string{
		`config.toml:11: wire.timeout: "soon" is not a duration`,
		`config.toml:19: source "B": url: "ftp://b.example/feed" is not a feed URL`,
		`config.toml:20: source "B": kind: unknown kind "blog"`,
		`config.toml:23: source "Another A": id: "a" is also the id of source "A" (line 13)`,
		`config.toml:25: source "Another A": url: source "A" (line 13) has the same URL`,
		`config.toml:26: source "Another A": audience: unknown audience "everyone"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

// TestSourceIDFromName checks that a source without an id gets one made
// from its name, whatever the name, and that a problem with such an id
// is told at the name's line, of the source by its name, saying the id
// was made from it: never "cannot name a source" about a key the user
// never wrote.
func TestSourceIDFromName(t *testing.T) {
	t.Parallel()
	cfg, err := config.ParseConfig("config.toml", []byte(testproject.Config+`
[[source]]
name = "NHS_feed.xml"
url = "https://a.example/1"

[[source]]
name = "  Médecine & Santé: l'actualité  "
url = "https://a.example/2"

[[source]]
id = "tj"
name = "Test Journal"
url = "https://a.example/3"
`))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range cfg.Sources {
		ids = append(ids, s.ID)
	}
	if got := strings.Join(ids, " "); got != "nhs-feed-xml medecine-sante-l-actualite tj" {
		t.Errorf("ids %s", got)
	}

	_, err = config.ParseConfig("config.toml", []byte(testproject.Config+`
[[source]]
name = "WHO news"
url = "https://a.example/1"

[[source]]
url = "https://a.example/2"
name = "WHO News!"

[[source]]
name = "——"
url = "https://a.example/3"

[[source]]
id = "Bad_ID"
name = "Written"
url = "https://a.example/4"
`))
	got := fmt.Sprint(err)
	for _, want := range []string{
		`config.toml:16: source "WHO News!": id: "who-news", made from name "WHO News!", is also the id of source "WHO news" (line 10); give this one an id of its own, such as id = "who-news-2"`,
		`config.toml:19: source "——": id: no id can be made from name "——", which has no letter or digit; add an id such as id = "my-source"`,
		`config.toml:23: source "Written": id: "Bad_ID" cannot name a source; use lower-case letters`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "\n") + 1; n != 3 {
		t.Errorf("%d problems, want 3:\n%s", n, got)
	}
}

// TestWireRefusesPrivate checks that a feed on a loopback address is
// refused unless [wire] allow_private lets it, by name or by network,
// and that the site's feed-health page then says why without saying
// where.
func TestWireRefusesPrivate(t *testing.T) {
	t.Parallel()
	srv := wireServer(t)
	source := `
[[source]]
name = "BMJ"
url = "` + srv.URL + `/bmj.xml"
kind = "journal"
`
	dir := testproject.New(t, map[string]string{"config.toml": testproject.Config + source})
	r := fetch(t, dir)["bmj"]
	if r.Status != feeds.Failed || !errors.Is(r.Err, feeds.ErrNotPublic) {
		t.Fatalf("a loopback feed by default: %s, %v", r.Status, r.Err)
	}
	mustBuild(t, dir)
	// The source's own URL is on the page (and in sources.opml); the
	// status says, in readers' words, that it is not available, and not
	// where it led.
	_, status, _ := strings.Cut(read(t, dir, "sources/index.html"), `<tr class="source-failing">`)
	status, _, _ = strings.Cut(status, "</tr>")
	_, status, _ = strings.Cut(status, "<td>Journal</td>")
	if !strings.Contains(status, "Not available: its server declines the request") || strings.Contains(status, "127.0.0.1") || strings.Contains(status, "dial") || strings.Contains(status, "allow_private") {
		t.Errorf("the feed-health page should say the feed is not available, and not why in the curator's words or where: %s", status)
	}
	for allow, ok := range map[string]bool{`["127.0.0.0/8"]`: true, `["10.0.0.0/8", "::1/128"]`: false, `true`: true} {
		dir := testproject.New(t, map[string]string{"config.toml": testproject.Config + "[wire]\nallow_private = " + allow + "\n" + source})
		if r := fetch(t, dir)["bmj"]; (r.Status == feeds.Updated) != ok {
			t.Errorf("allow_private = %s: %s, %v", allow, r.Status, r.Err)
		}
	}
	for allow, want := range map[string]string{
		`"yes"`:                      `config.toml:10: wire.allow_private: want true, false or a list, got text "yes"`,
		`["10.0.0.0/8", "intranet"]`: `config.toml:10: wire.allow_private: "intranet" is not a network`,
	} {
		_, err := config.ParseConfig("config.toml", []byte(testproject.Config+"[wire]\nallow_private = "+allow+"\n"))
		if !strings.Contains(fmt.Sprint(err), want) {
			t.Errorf("allow_private = %s: %v, want %s", allow, err, want)
		}
	}
}

func TestImportOPML(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, map[string]string{"config.toml": testproject.Config + `
# Sources we follow.
[[source]]
name = "CDC MMWR"
url = "https://www.cdc.gov/mmwr/rss.xml"
`})
	cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	opml := `<?xml version="1.0"?><opml version="2.0"><head/><body>
<outline text="Vaccines">
 <outline text="CDC MMWR" xmlUrl="http://cdc.gov/mmwr/rss.xml?utm_source=x"/>
 <outline text="medRxiv: infectious diseases" xmlUrl="https://connect.medrxiv.org/relate/feed/181" kind="preprint"/>
</outline>
<outline text="CDC MMWR" xmlUrl="https://www.cdc.gov/other.xml"/>
</body></opml>`
	res, err := wire.ImportOPML(cfg, strings.NewReader(opml))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 2 || len(res.Skipped) != 1 {
		t.Fatalf("added %d, skipped %d; want 2 and 1", len(res.Added), len(res.Skipped))
	}
	again, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Sources) != 3 {
		t.Fatalf("%d sources after the import", len(again.Sources))
	}
	m := again.Sources[1]
	if m.ID != "medrxiv-infectious-diseases" || m.Kind != "preprint" || strings.Join(m.Topics, ",") != "vaccines" {
		t.Errorf("imported source %+v", m)
	}
	if again.Sources[2].ID != "cdc-mmwr-2" {
		t.Errorf("a second source named like the first got id %q", again.Sources[2].ID)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "config.toml"))
	if !strings.Contains(string(data), "# Sources we follow.") {
		t.Error("the import lost the file's comments")
	}
}
