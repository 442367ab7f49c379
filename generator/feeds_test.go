package generator

import (
	"github.com/rounds-health/rounds/generator/browsertest"
	"github.com/rounds-health/rounds/generator/internal/testproject"

	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// feedFiles returns every feed of the build in public, by path.
func feedFiles(t *testing.T, public string) []string {
	t.Helper()
	var out []string
	for p := range tree(t, public) {
		switch filepath.Base(p) {
		case "feed.xml", "atom.xml", "feed.json":
			out = append(out, filepath.Join(public, filepath.FromSlash(p)))
		}
	}
	slices.Sort(out)
	if len(out) < 9 {
		t.Fatalf("only %d feeds", len(out))
	}
	return out
}

// TestFeedsParse checks every feed with two independent parsers: xmllint
// for well-formed XML and Python's feedparser, which must not call any of
// them "bozo" and must see every entry's id, link and date.
func TestFeedsParse(t *testing.T) {
	t.Parallel()
	xmllint := browsertest.Tool(t, "xmllint", "--version")
	python := browsertest.Tool(t, "/usr/bin/python3", "-c", "import feedparser")
	dir := testproject.New(t, siteFiles())
	mustBuild(t, dir)
	feeds := feedFiles(t, filepath.Join(dir, "public"))
	for _, f := range feeds {
		if strings.HasSuffix(f, ".xml") {
			if out, err := exec.Command(xmllint, "--noout", f).CombinedOutput(); err != nil {
				t.Errorf("xmllint %s: %v\n%s", f, err, out)
			}
		}
	}
	// Debian's feedparser (6.0) predates JSON Feed support, so JSON feeds
	// are read by Python's json module and checked against the JSON Feed
	// 1.1 spec's required fields instead.
	const script = `
import sys, json, urllib.request, feedparser
bad = 0
for url in sys.argv[1:]:
    if url.endswith(".json"):
        with urllib.request.urlopen(url) as r:
            ctype = r.headers.get("Content-Type")
            f = json.load(r)
        ok = (ctype == "application/feed+json" and f.get("version") == "https://jsonfeed.org/version/1.1"
              and f.get("title") and isinstance(f.get("items"), list)
              and all(i.get("id") and (i.get("content_html") or i.get("content_text")) for i in f["items"]))
        if not ok:
            print(url, "invalid JSON Feed"); bad += 1; continue
        print("ok", url, "json11", len(f["items"]))
        continue
    d = feedparser.parse(url)
    if d.bozo:
        print(url, "bozo:", d.bozo_exception); bad += 1; continue
    if not d.feed.get("title"):
        print(url, "no feed title"); bad += 1
    for e in d.entries:
        if not (e.get("id") and e.get("link") and (e.get("published_parsed") or e.get("updated_parsed")) and e.get("title")):
            print(url, "entry lacks id, link, title or date:", e.get("id")); bad += 1
    print("ok", url, d.version, len(d.entries))
sys.exit(1 if bad else 0)
`
	// Serve the feeds on loopback with their media types, as a reader
	// would fetch them; feedparser tells JSON Feed apart by its type.
	public := filepath.Join(dir, "public")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".json") {
			w.Header().Set("Content-Type", "application/feed+json")
		}
		http.StripPrefix("/public", http.FileServer(http.Dir(public))).ServeHTTP(w, r)
	}))
	defer srv.Close()
	args := []string{"-c", script}
	for _, f := range feeds {
		rel, _ := filepath.Rel(public, f)
		args = append(args, srv.URL+"/public/"+filepath.ToSlash(rel))
	}
	out, err := exec.Command(python, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("feedparser: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{"/public/feed.xml rss20 3", "/public/atom.xml atom10 3", "/public/feed.json json11 3", "/public/editions/atom.xml atom10 2"} {
		if !strings.Contains(text, want) {
			t.Errorf("feedparser output lacks %q:\n%s", want, text)
		}
	}
}

func TestFeedContent(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, siteFiles())
	mustBuild(t, dir)
	var jf struct {
		Version string `json:"version"`
		FeedURL string `json:"feed_url"`
		Items   []struct {
			ID          string         `json:"id"`
			URL         string         `json:"url"`
			ExternalURL string         `json:"external_url"`
			Title       string         `json:"title"`
			ContentHTML string         `json:"content_html"`
			Tags        []string       `json:"tags"`
			Rounds      map[string]any `json:"_rounds"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(read(t, dir, "feed.json")), &jf); err != nil {
		t.Fatal(err)
	}
	if jf.Version != "https://jsonfeed.org/version/1.1" || jf.FeedURL != "https://example.org/newsletter/feed.json" {
		t.Errorf("feed.json: version %q, feed_url %q", jf.Version, jf.FeedURL)
	}
	if len(jf.Items) != 3 || jf.Items[0].Title != "Sponsored: Gamma alert" {
		t.Fatalf("feed.json items: %+v", jf.Items)
	}
	alpha := jf.Items[2]
	if alpha.ID != "tag:example.org,2026-10-02:/newsletter/notes/alpha/" || alpha.URL != "https://example.org/newsletter/notes/alpha/" {
		t.Errorf("alpha id %q url %q", alpha.ID, alpha.URL)
	}
	if alpha.ExternalURL != "https://doi.org/10.1056/NEJMoa2021436" || !slices.Equal(alpha.Tags, []string{"Vaccines", "Infectious disease"}) {
		t.Errorf("alpha external_url %q tags %q", alpha.ExternalURL, alpha.Tags)
	}
	if ev, _ := alpha.Rounds["evidence"].(map[string]any); ev["level"] != "1b" || ev["scale"] != "OCEBM" {
		t.Errorf("alpha _rounds: %v", alpha.Rounds)
	}
	if !strings.Contains(alpha.ContentHTML, "Source: <a href=\"https://doi.org/10.1056/NEJMoa2021436\">") || !strings.Contains(alpha.ContentHTML, "<strong>Alpha trial</strong>") {
		t.Errorf("alpha content lacks its body or source: %s", alpha.ContentHTML)
	}
	beta := read(t, dir, "feed.xml")
	if !strings.Contains(beta, `href="https://example.org/newsletter/evidence/"`) {
		t.Error("root-relative links in feed content should be absolute")
	}
	// Footnotes lead to the note's page, not to the feed.
	if !strings.Contains(beta, `href="https://example.org/newsletter/notes/beta/#fn:1"`) || strings.Contains(beta, `href="#fn`) {
		t.Error("a footnote's link in feed content should lead to the note's page")
	}
	if strings.Contains(read(t, dir, "atom.xml"), `href="/`) {
		t.Error("atom.xml has a root-relative link")
	}
	// Summary mode carries no content.
	files := siteFiles()
	files["config.toml"] = testproject.Config + "[feeds]\ncontent = \"summary\"\n"
	dir2 := testproject.New(t, files)
	mustBuild(t, dir2)
	if rss := read(t, dir2, "feed.xml"); strings.Contains(rss, "content:encoded>") || !strings.Contains(rss, "Summary of Alpha trial.") {
		t.Error("summary feeds should carry summaries, not content")
	}
}

// TestFeedIDsStable checks that adding and editing notes never changes
// the IDs of the others, and that a pinned id wins.
func TestFeedIDsStable(t *testing.T) {
	t.Parallel()
	ids := func(dir string) map[string]string {
		var jf struct {
			Items []struct{ ID, URL string } `json:"items"`
		}
		if err := json.Unmarshal([]byte(read(t, dir, "feed.json")), &jf); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, it := range jf.Items {
			out[it.URL] = it.ID
		}
		return out
	}
	dir := testproject.New(t, siteFiles())
	mustBuild(t, dir)
	before := ids(dir)
	write := func(p, data string) {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("content/notes/delta.md", testproject.Note("Delta", "2026-11-25T08:00:00Z"))
	write("content/notes/gamma.md", testproject.Note("Gamma renamed", "2026-11-10T08:00:00Z", `id = "urn:example:gamma"`))
	mustBuild(t, dir)
	after := ids(dir)
	for url, id := range before {
		if strings.Contains(url, "gamma") {
			if after[url] != "urn:example:gamma" {
				t.Errorf("pinned id not used: %q", after[url])
			}
			continue
		}
		if after[url] != id {
			t.Errorf("%s: id changed from %q to %q", url, id, after[url])
		}
	}
	if len(after) != len(before)+1 {
		t.Errorf("want one more entry, got %d then %d", len(before), len(after))
	}
}
