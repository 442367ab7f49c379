package generator

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rounds-health/rounds/generator/browsertest"
	"github.com/rounds-health/rounds/generator/internal/testproject"
	"github.com/rounds-health/rounds/generator/search"
)

// openSearch opens the search page at url in headless Chromium and
// waits until its script has run.
func openSearch(t *testing.T, chromium, url string) *browsertest.Page {
	t.Helper()
	page := browsertest.Open(t, chromium, url)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if s, err := page.Eval(`document.readyState === "complete" && document.querySelector(".search-fallback").hidden`); err == nil && s == "true" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the search page's script never ran")
		}
	}
	return page
}

// searchFor types q into the search page (and chooses filters, by the
// select's name) and returns the paths of the results shown, in order,
// and the status line, once the results for this query are in.
func searchFor(t *testing.T, page *browsertest.Page, q string, filters map[string]string) ([]string, string) {
	t.Helper()
	if filters == nil {
		filters = map[string]string{}
	}
	set, _ := json.Marshal(filters)
	query, _ := json.Marshal(q)
	if _, err := page.Eval(`(function () {
  const f = document.querySelector(".search-form");
  for (const [k, v] of Object.entries(` + string(set) + `)) f.elements[k].value = v;
  for (const s of f.querySelectorAll("select")) if (!(s.name in ` + string(set) + `)) s.value = "";
  document.querySelector(".search-status").textContent = "";
  const q = f.elements.q;
  q.value = ` + string(query) + `;
  q.dispatchEvent(new Event("input", {bubbles: true}));
})()`); err != nil {
		t.Fatal(err)
	}
	return searchResults(t, page, q)
}

// searchResults waits for the results of q to show, and returns their
// paths, in order, and the status line.
func searchResults(t *testing.T, page *browsertest.Page, q string) ([]string, string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		out, err := page.Eval(`(function () {
  const s = document.querySelector(".search-status").textContent;
  const links = [...document.querySelectorAll(".search-results > li .card-title a")].map(a => new URL(a.href).pathname);
  const n = +(s.match(/^(\d+)/) || [0, 0])[1];
  if (!s || links.length !== Math.min(n, 10)) return "";
  return JSON.stringify({status: s, links: links});
})()`)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(out, "{") { // not yet "", nor "<nil>" before the page is there
			var r struct {
				Status string
				Links  []string
			}
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatal(err)
			}
			return r.Links, r.Status
		}
		if time.Now().After(deadline) {
			dbg, _ := page.Eval(`JSON.stringify(performance.getEntriesByType("resource").map(e => e.name + " " + e.responseStatus))`)
			t.Fatalf("search %q: no results shown (resources: %s)", q, dbg)
		}
	}
}

// TestSearchInBrowser builds the example site and searches it in
// headless Chromium: a word, a stem variant, a synonym, a DOI, a PMID, a
// trial number, a filter; a draft's own word finds nothing.
func TestSearchInBrowser(t *testing.T) {
	t.Parallel()
	chromium := browsertest.Tool(t, "chromium", "--version")
	out, res := exampleSite(t)
	srv := browsertest.Serve(t, out, "/rounds", "", browsertest.AxeScript(t, ".."))
	page := openSearch(t, chromium, srv.URL+"/rounds/search/")
	// The page's script splits text into the terms the Go index does:
	// every note's Markdown, and some harder lines.
	texts := []string{
		"Naïve Ångström café: β-blockers, IL-6 inhibitors; α1-antitrypsin", "women’s health, children's doses, O'Brien",
		"doi:10.1056/NEJMoa2021436. https://doi.org/10.1001/JAMA.2021.6238), dx.doi.org/10.1002/14651858.CD004454.pub4;",
		"Randomized organization analyzed immunizing sizes, the sizer", "糖尿病 and ﬁbrosis, 12,010 people, 3.5 mg/kg",
	}
	sources, _ := filepath.Glob(filepath.Join("..", "content", "notes", "*.md"))
	for _, src := range sources {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(data))
	}
	for _, text := range texts {
		var want []string
		search.Terms(text, func(term string) { want = append(want, term) })
		js, _ := json.Marshal(text)
		got, err := page.EvalAsync(`RoundsSearchTerms(` + string(js) + `).then(JSON.stringify)`)
		if err != nil {
			t.Fatal(err)
		}
		var terms []string
		if err := json.Unmarshal([]byte(got), &terms); err != nil {
			t.Fatalf("the page's terms: %v (%s)", err, got)
		}
		if !slices.Equal(terms, want) {
			for i := range min(len(terms), len(want)) {
				if terms[i] != want[i] {
					t.Errorf("%.60q: the page's term %d is %q, Go's %q", text, i, terms[i], want[i])
					break
				}
			}
			t.Errorf("%.60q: the page makes %d terms, Go %d", text, len(terms), len(want))
		}
	}

	note := func(slug string) string { return "/rounds/notes/" + slug + "/" }
	// The synonyms found must be found through the table, not in the text.
	if data, err := os.ReadFile(filepath.Join("..", "content", "notes", "dexamethasone-covid-19-oxygen.md")); err != nil || bytes.Contains(bytes.ToLower(data), []byte("sars")) || bytes.Contains(bytes.ToLower(data), []byte("coronavirus")) {
		t.Fatalf("the note a synonym finds has the synonym in its text (%v)", err)
	}
	for _, c := range []struct {
		name, q string
		filters map[string]string
		// first are the results that come first, in order; also more
		// that come anywhere; none that must not come.
		first, also, none []string
	}{
		{name: "a word", q: "dexamethasone", also: []string{note("dexamethasone-covid-19-oxygen"), note("recovery-preprint-dexamethasone-2020")}, none: []string{note("flu-vaccine-autumn-2026")}},
		{name: "a stem variant", q: "vaccinations", also: []string{note("hpv-vaccine-cervical-cancer-sweden"), note("measles-mmr-vaccine-cochrane"), note("rsv-vaccine-in-pregnancy")}},
		{name: "a synonym", q: "SARS-CoV-2", first: []string{note("dexamethasone-covid-19-oxygen")}},
		{name: "two words, one half typed", q: "heart fail", first: []string{note("dapagliflozin-heart-failure-dapa-hf")}},
		{name: "a DOI", q: "10.1056/NEJMoa2021436", first: []string{note("dexamethasone-covid-19-oxygen")}},
		{name: "a DOI as a link", q: "https://doi.org/10.1001/jama.2021.6238", first: []string{note("colorectal-screening-from-45")}},
		{name: "a PMID", q: "PMID 33368142", first: []string{note("antenatal-corticosteroids-cochrane")}},
		{name: "a filter", q: "vaccine", filters: map[string]string{"topic": "maternal-health"}, first: []string{note("rsv-vaccine-in-pregnancy")}, none: []string{note("flu-vaccine-autumn-2026"), note("measles-mmr-vaccine-cochrane")}},
		{name: "a filter alone", filters: map[string]string{"evidence": "strong"}, none: []string{note("montelukast-mental-health-warning")}},
		{name: "accents folded", q: "DÉXAMÉTHASONE", also: []string{note("dexamethasone-covid-19-oxygen")}},
		{name: "a draft's word", q: "semaglutide"},
		{name: "stop words only", q: "the and of"},
	} {
		links, status := searchFor(t, page, c.q, c.filters)
		if len(c.first)+len(c.also) == 0 && c.filters == nil {
			if len(links) != 0 || !strings.HasPrefix(status, "No notes found") {
				t.Errorf("%s: %q found %v (%s), want nothing", c.name, c.q, links, status)
			}
			continue
		}
		if len(links) == 0 {
			t.Errorf("%s: %q found nothing (%s)", c.name, c.q, status)
			continue
		}
		if len(links) < len(c.first) || !slices.Equal(links[:len(c.first)], c.first) {
			t.Errorf("%s: %q found %v, want %v first", c.name, c.q, links, c.first)
		}
		for _, want := range c.also {
			if !slices.Contains(links, want) {
				t.Errorf("%s: %q found %v, without %s", c.name, c.q, links, want)
			}
		}
		for _, no := range c.none {
			if slices.Contains(links, no) {
				t.Errorf("%s: %q found %s, which it must not", c.name, c.q, no)
			}
		}
	}
	// The words that matched are marked in the results.
	searchFor(t, page, "vaccinations", nil)
	marked, err := page.Eval(`JSON.stringify([...document.querySelectorAll(".search-results mark")].map(m => m.textContent.toLowerCase()))`)
	if err != nil {
		t.Fatal(err)
	}
	var marks []string
	json.Unmarshal([]byte(marked), &marks)
	if len(marks) == 0 || slices.ContainsFunc(marks, func(m string) bool { return !strings.HasPrefix(m, "vaccin") }) {
		t.Errorf("the marks of a search for vaccinations: %v", marks)
	}
	// With results and filters shown, at a phone's width and a laptop's:
	// nothing sticks out, and axe-core finds no violation.
	for _, width := range []int{375, 1024} {
		if err := page.Viewport(width, 900); err != nil {
			t.Fatal(err)
		}
		searchFor(t, page, "vaccine", nil)
		if wide, _ := page.Eval(`String(document.documentElement.scrollWidth > innerWidth)`); wide != "false" {
			t.Errorf("the search page at %d px overflows", width)
		}
		if _, err := page.Eval(`(function () {
  document.documentElement.removeAttribute("data-axe");
  const run = () => axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]}}).then(r => {
    document.documentElement.setAttribute("data-axe", JSON.stringify(r.violations.map(x => ({id: x.id, nodes: x.nodes.slice(0, 3).map(n => n.target.join(" ") + " :: " + n.failureSummary)}))));
  }, e => document.documentElement.setAttribute("data-axe", "error " + e));
  if (self.axe) return run();
  const s = document.createElement("script");
  s.src = "/_axe.js";
  s.onload = run;
  document.head.append(s);
})()`); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			got, _ := page.Eval(`document.documentElement.getAttribute("data-axe") || ""`)
			if got != "" && got != "<nil>" {
				if got != "[]" {
					t.Errorf("the search page's results at %d px: axe-core: %s", width, got)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("axe-core did not finish at %d px", width)
			}
		}
	}
	// The query is in the address, so that a search can be linked.
	searchFor(t, page, "vaccinations", nil)
	if loc, _ := page.Eval(`location.search`); loc != "?q=vaccinations" {
		t.Errorf("the address after a search: %q", loc)
	}
	linked := browsertest.Open(t, chromium, srv.URL+"/rounds/search/?q=coronavirus&year=2026")
	if links, _ := searchResults(t, linked, "coronavirus"); len(links) == 0 || links[0] != note("dexamethasone-covid-19-oxygen") {
		t.Errorf("a linked search found %v", links)
	}

	// Drafts, scheduled and expired notes are in no record of the index:
	// the notes with no page.
	if res.Held.Drafts == 0 || res.Held.Scheduled == 0 || res.Held.Expired == 0 {
		t.Fatalf("the example holds back %+v: want a draft, a scheduled note and an expired one", res.Held)
	}
	recs := searchRecords(t, out)
	held := 0
	for _, src := range sources {
		slug := strings.TrimSuffix(filepath.Base(src), ".md")
		if _, err := os.Stat(filepath.Join(out, "notes", slug, "index.html")); err == nil {
			if !slices.ContainsFunc(recs, func(r string) bool { return strings.Contains(r, "/notes/"+slug+"/") }) {
				t.Errorf("the index has no record of %s", slug)
			}
			continue
		}
		held++
		for _, rec := range recs {
			if strings.Contains(rec, "/notes/"+slug+"/") {
				t.Errorf("the index holds %s, which the site leaves out", slug)
			}
		}
	}
	if held < 3 {
		t.Errorf("%d notes have no page; the example holds back 3", held)
	}
}

// searchRecords returns the records of the search index under out, as
// JSON texts.
func searchRecords(t *testing.T, out string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(out, "search", "d", "*.gz"))
	if len(files) == 0 {
		t.Fatal("the index has no records")
	}
	var recs []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		z, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(z)
		if err != nil {
			t.Fatal(err)
		}
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			t.Fatal(err)
		}
		for _, r := range list {
			recs = append(recs, string(r))
		}
	}
	return recs
}

// TestSearchPublished searches the example as rounds publish stores the
// index's files: with Content-Encoding: gzip, which the browser inflates
// (TestSearchInBrowser serves them as built, compressed, for the page's
// script to inflate).
func TestSearchPublished(t *testing.T) {
	t.Parallel()
	chromium := browsertest.Tool(t, "chromium", "--version")
	out, _ := exampleSite(t)
	files := http.StripPrefix("/rounds", http.FileServer(http.Dir(out)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".gz") {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Header().Set("Content-Encoding", "gzip")
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	page := openSearch(t, chromium, srv.URL+"/rounds/search/")
	links, status := searchFor(t, page, "dexamethasone", nil)
	if !slices.Contains(links, "/rounds/notes/dexamethasone-covid-19-oxygen/") {
		t.Errorf("dexamethasone found %v (%s)", links, status)
	}
	// The browser inflated the files: each arrived smaller than it is.
	got, err := page.Eval(`JSON.stringify(performance.getEntriesByType("resource").filter(e => e.name.endsWith(".gz")).map(e => [e.encodedBodySize, e.decodedBodySize]))`)
	if err != nil {
		t.Fatal(err)
	}
	var sizes [][2]int
	if err := json.Unmarshal([]byte(got), &sizes); err != nil || len(sizes) < 2 {
		t.Fatalf("index files fetched: %s (%v)", got, err)
	}
	for _, sz := range sizes {
		if sz[0] >= sz[1] {
			t.Errorf("an index file arrived as %d bytes and was %d: not inflated by the browser", sz[0], sz[1])
		}
	}
}

// TestSearchWire indexes the wire's stories only with [search] wire: they
// are not curated.
func TestSearchWire(t *testing.T) {
	t.Parallel()
	srv := wireServer(t)
	dir := wireProject(t, srv.URL)
	fetch(t, dir)
	mustBuild(t, dir)
	wired := func() int {
		n := 0
		for _, r := range searchRecords(t, filepath.Join(dir, "public")) {
			if strings.Contains(r, `"w":true`) {
				n++
			}
		}
		return n
	}
	if n := wired(); n != 0 {
		t.Errorf("the index holds %d wire stories without [search] wire", n)
	}
	f, err := os.OpenFile(filepath.Join(dir, "config.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\n[search]\nwire = true\nsynonyms = [[\"UPF\", \"ultra-processed food\"]]\n")
	f.Close()
	mustBuild(t, dir)
	if n := wired(); n == 0 {
		t.Error("the index holds no wire story with [search] wire = true")
	}
	// The curator's synonym finds the note.
	files, meta := searchFiles(t, filepath.Join(dir, "public"))
	var m struct{ Synonyms [][][]string }
	if err := json.Unmarshal(files[meta], &m); err != nil {
		t.Fatal(err)
	}
	group := slices.IndexFunc(m.Synonyms, func(g [][]string) bool {
		return slices.ContainsFunc(g, func(p []string) bool { return slices.Equal(p, []string{"upf"}) })
	})
	if group < 0 {
		t.Fatalf("no synonym group holds UPF: %v", m.Synonyms)
	}
	if docs, err := search.Lookup(files, meta, "~s"+strconv.Itoa(group)); err != nil || len(docs) == 0 {
		t.Errorf("UPF finds %v (%v)", docs, err)
	}
	// A third build is made in the first one's folder (a build keeps the
	// one before it to write into): it leaves none of that index's files
	// behind. Every file under search/ is the page or one the metadata
	// names.
	f, err = os.OpenFile(filepath.Join(dir, "config.toml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("\n[check]\nreading_grade = 9\n")
	f.Close()
	mustBuild(t, dir)
	files, meta = searchFiles(t, filepath.Join(dir, "public"))
	var named struct {
		Shards [][2]string
		Chunks []string
	}
	if err := json.Unmarshal(files[meta], &named); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{meta: true, "index.html": true}
	for _, s := range named.Shards {
		want[s[1]] = true
	}
	for _, c := range named.Chunks {
		want[c] = true
	}
	for p := range files {
		if !want[p] {
			t.Errorf("search/%s is left from the build before", p)
		}
	}
	if len(files) != len(want) {
		t.Errorf("search/ has %d files, want %d", len(files), len(want))
	}
	// A synonym group of one phrase is an error naming config.toml.
	data, _ := os.ReadFile(filepath.Join(dir, "config.toml"))
	os.WriteFile(filepath.Join(dir, "config.toml"), bytes.Replace(data, []byte(`[["UPF", "ultra-processed food"]]`), []byte(`[["UPF"]]`), 1), 0o644)
	if _, err := build(t, dir); err == nil || !strings.Contains(err.Error(), "config.toml:") || !strings.Contains(err.Error(), "search.synonyms") {
		t.Errorf("a group of one phrase: %v", err)
	}
	// With [search] enabled = false there is no index, no search page,
	// no search box and no SearchAction, and the last build's are gone.
	os.WriteFile(filepath.Join(dir, "config.toml"), bytes.Replace(data, []byte("[search]\n"), []byte("[search]\nenabled = false\n"), 1), 0o644)
	mustBuild(t, dir)
	if _, err := os.Stat(filepath.Join(dir, "public", "search")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("search/ with [search] enabled = false: %v", err)
	}
	home, err := os.ReadFile(filepath.Join(dir, "public", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`role="search"`, "SearchAction", "search/"} {
		if bytes.Contains(home, []byte(s)) {
			t.Errorf("the home page has %q with [search] enabled = false", s)
		}
	}
}

// TestSearchDeterministic builds the example twice: the same index, byte
// for byte.
func TestSearchDeterministic(t *testing.T) {
	t.Parallel()
	var trees [2]map[string][]byte
	for i := range trees {
		out, _ := exampleSite(t)
		trees[i] = map[string][]byte{}
		root := filepath.Join(out, "search")
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(root, p)
				trees[i][rel], _ = os.ReadFile(p)
			}
			return nil
		})
	}
	if len(trees[0]) < 3 {
		t.Fatalf("the index has %d files", len(trees[0]))
	}
	for p, data := range trees[0] {
		if !bytes.Equal(trees[1][p], data) {
			t.Errorf("search/%s differs between two builds", p)
		}
	}
	if len(trees[1]) != len(trees[0]) {
		t.Errorf("two builds made %d and %d index files", len(trees[0]), len(trees[1]))
	}
}

// searchFiles returns the index a build wrote under out, and its
// metadata's path.
func searchFiles(t *testing.T, out string) (map[string][]byte, string) {
	t.Helper()
	files := map[string][]byte{}
	meta := ""
	root := filepath.Join(out, "search")
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			rel = filepath.ToSlash(rel)
			files[rel], _ = os.ReadFile(p)
			if strings.HasPrefix(rel, "meta.") {
				meta = rel
			}
		}
		return nil
	})
	if meta == "" {
		t.Fatal("the index has no metadata file")
	}
	return files, meta
}

// TestSearchSourceAddress finds a note by the DOI and the PMID its
// source's address holds, with no doi or pmid key.
func TestSearchSourceAddress(t *testing.T) {
	t.Parallel()
	dir := testproject.New(t, map[string]string{
		"content/notes/nejm.md":   testproject.Note("A trial", "2026-11-10T09:00:00Z", `source = "https://www.nejm.org/doi/full/10.1056/NEJMoa2000077"`),
		"content/notes/pubmed.md": testproject.Note("A cohort", "2026-11-11T09:00:00Z", `source = "https://pubmed.ncbi.nlm.nih.gov/37001234/"`),
	})
	mustBuild(t, dir)
	files, meta := searchFiles(t, filepath.Join(dir, "public"))
	for _, term := range []string{"10.1056/nejmoa2000077", "37001234"} {
		if docs, err := search.Lookup(files, meta, term); err != nil || len(docs) != 1 {
			t.Errorf("%s finds %v (%v)", term, docs, err)
		}
	}
}
