package generator

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rounds-health/rounds/generator/browsertest"
)

// searchBenchQueries are one-word queries on the benchmark corpus
// (go run ./bench/corpus), from rare words to the most common, and a DOI
// from a note's source. The numbers are how many of its 10,000 notes hold
// each word.
var searchBenchQueries = []string{
	"valproate",             // 89
	"procalcitonin",         // 98
	"osteoarthritis",        // 101
	"teledermatology",       // 109
	"melanoma",              // 117
	"mobilisation",          // 129
	"dexamethasone",         // 138
	"asthma",                // 246
	"oxygen",                // 253
	"vaccine",               // 393
	"cohort",                // 1,239
	"placebo",               // 1,241
	"pregnant",              // 1,882
	"children",              // 1,947
	"randomised",            // 2,503
	"safety",                // 3,105
	"trial",                 // 5,321
	"evidence",              // 10,000
	"patients",              // 10,000
	"10.1056/NEJMoa2000008", // a DOI, in one note's source
}

// searchBenchDOI is the query of searchBenchQueries that may find
// nothing: the corpus gives its DOIs only inside addresses (source =
// "https://www.nejm.org/doi/full/10.1056/…" and links), and the index
// takes a source's DOI from its doi key and a DOI in the text.
const searchBenchDOI = "10.1056/NEJMoa2000008"

// cdnCompressed are the extensions of the files a CDN compresses on the
// fly for a browser that accepts gzip.
var cdnCompressed = map[string]bool{".html": true, ".css": true, ".js": true, ".json": true, ".xml": true, ".svg": true, ".txt": true}

// serveLikeCDN serves the built site dir under the base path on
// loopback as a CDN in front of the bucket rounds publish fills would:
// text files gzip-compressed on the fly when the request accepts gzip,
// the index's .gz files as they are, with Content-Encoding: gzip (as
// publish stores them), everything else as it is.
func serveLikeCDN(b *testing.B, dir, base string) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := strings.CutPrefix(r.URL.Path, base)
		if !ok {
			http.NotFound(w, r)
			return
		}
		p = path.Clean("/" + p)
		if strings.HasSuffix(r.URL.Path, "/") {
			p = path.Join(p, "index.html")
		}
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		ext := path.Ext(p)
		ctype := mime.TypeByExtension(ext)
		if ctype == "" {
			ctype = http.DetectContentType(data)
		}
		h := w.Header()
		if ext == ".gz" {
			// As rounds publish stores the search index's files.
			ctype = "application/octet-stream"
			h.Set("Content-Encoding", "gzip")
		}
		h.Set("Content-Type", ctype)
		h.Set("Cache-Control", "public, max-age=3600")
		if !cdnCompressed[ext] {
			h.Set("Content-Length", fmt.Sprint(len(data)))
			w.Write(data)
			return
		}
		h.Set("Vary", "Accept-Encoding")
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			h.Set("Content-Length", fmt.Sprint(len(data)))
			w.Write(data)
			return
		}
		h.Set("Content-Encoding", "gzip")
		z := gzip.NewWriter(w)
		z.Write(data)
		z.Close()
	}))
	b.Cleanup(srv.Close)
	return srv
}

// searchBenchResult is what one query measured, in the page.
type searchBenchResult struct {
	Status    string  // the status line
	Latency   float64 // ms from the keystroke to the first result's li
	Paint     float64 // ms from the keystroke to the frame after it
	Answer    float64 // ms from the keystroke to the status line's text
	Transfer  int     // bytes transferred under search/ after the keystroke
	Encoded   int     // their bodies' bytes, as sent
	Files     []string
	MetaBytes int // the metadata's transfer at load
	MetaBody  int // and its body's bytes, as sent
}

// BenchmarkSearchQuery measures one-word queries on a built site, as a
// reader on a cold cache makes them: for each query a fresh headless
// Chromium (a new profile, so nothing cached) opens the search page,
// served as a CDN would serve it, waits for the page and the index's
// metadata to load, then sets the search box to the word in one input
// event. It reports the time from that event to the first result in the
// list, by the page's own clock, and the bytes the query fetched.
//
//	ROUNDS_SEARCH_SITE=bench/out/public ROUNDS_SEARCH_BASE=/ \
//	  go test -run XXX -bench BenchmarkSearchQuery -benchtime 1x ./generator
//
// bench/search.sh builds the 10,000-note corpus and runs it (issue 18).
// It asserts no timing; it fails only when a word finds nothing.
func BenchmarkSearchQuery(b *testing.B) {
	dir := os.Getenv("ROUNDS_SEARCH_SITE")
	if dir == "" {
		b.Skip("ROUNDS_SEARCH_SITE names no built site (bench/search.sh sets it)")
	}
	if _, err := os.Stat(filepath.Join(dir, "search", "index.html")); err != nil {
		b.Fatalf("ROUNDS_SEARCH_SITE: %v", err)
	}
	base := os.Getenv("ROUNDS_SEARCH_BASE")
	if base == "" {
		base = "/"
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	chromium := browsertest.Tool(b, "chromium", "--version")
	srv := serveLikeCDN(b, dir, base)
	url := srv.URL + base + "search/"

	var latency, paint, answer, kbQuery, kbMeta []float64
	files := 0
	for range b.N {
		for _, q := range searchBenchQueries {
			r := searchBenchOne(b, chromium, url, q)
			if r.Latency < 0 {
				b.Logf("%-22s NO RESULTS: %s (the status shown %.1f ms after the keystroke; %.1f KB fetched in %d files, %.1f KB with the metadata); left out of the figures",
					q, r.Status, r.Answer, float64(r.Transfer)/1000, len(r.Files), float64(r.Transfer+r.MetaBytes)/1000)
				continue
			}
			latency = append(latency, r.Latency)
			paint = append(paint, r.Paint)
			kbQuery = append(kbQuery, float64(r.Transfer)/1000)
			kbMeta = append(kbMeta, float64(r.Transfer+r.MetaBytes)/1000)
			files = max(files, len(r.Files))
			answer = append(answer, r.Answer)
			b.Logf("%-22s %6.1f ms to the first result (status at %6.1f ms, next frame at %6.1f ms); %6.1f KB fetched (bodies %6.1f KB) in %2d files, %6.1f KB with the metadata; %s\n        files (fetch start-end ms after the keystroke, body KB): %s",
				q, r.Latency, r.Answer, r.Paint, float64(r.Transfer)/1000, float64(r.Encoded)/1000, len(r.Files),
				float64(r.Transfer+r.MetaBytes)/1000, r.Status, strings.Join(r.Files, " "))
		}
	}
	if len(latency) == 0 {
		b.Fatal("no query found anything")
	}
	b.Logf("%d queries with results: first result median %.1f ms, max %.1f ms (status median %.1f ms, max %.1f; next frame median %.1f ms, max %.1f ms); KB per query median %.1f, max %.1f; with the metadata median %.1f, max %.1f; at most %d files",
		len(latency), median(latency), slices.Max(latency), median(answer), slices.Max(answer), median(paint), slices.Max(paint),
		median(kbQuery), slices.Max(kbQuery), median(kbMeta), slices.Max(kbMeta), files)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(median(latency), "ms-median")
	b.ReportMetric(slices.Max(latency), "ms-max")
	b.ReportMetric(median(kbQuery), "KB-median")
	b.ReportMetric(slices.Max(kbQuery), "KB-max")
	b.ReportMetric(median(kbMeta), "KB+meta-median")
	b.ReportMetric(slices.Max(kbMeta), "KB+meta-max")
}

// scopedTB runs the cleanups registered on it when its cleanup is
// called, rather than at the end of the test.
type scopedTB struct {
	testing.TB
	fns []func()
}

func (t *scopedTB) Cleanup(f func()) { t.fns = append(t.fns, f) }

func (t *scopedTB) cleanup() {
	for i := len(t.fns) - 1; i >= 0; i-- {
		t.fns[i]()
	}
	t.fns = nil
}

// median returns the median of xs.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// searchBenchOne opens the search page at url in a fresh Chromium,
// searches for q once the page and its metadata have loaded, and returns
// what it measured.
func searchBenchOne(b *testing.B, chromium, url, q string) searchBenchResult {
	b.Helper()
	// Each query's Chromium stops when its query is measured, not when
	// the benchmark ends, so that no idle browser runs beside the next.
	tb := &scopedTB{TB: b}
	defer tb.cleanup()
	page := browsertest.Open(tb, chromium, url)
	// Loaded: the script has run (it hides the fallback) and the
	// metadata it fetches after the load has come in.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		s, err := page.Eval(`document.readyState === "complete" && document.querySelector(".search-fallback").hidden &&
  performance.getEntriesByType("resource").some(e => /\/search\/meta\.[^/]*\.json$/.test(new URL(e.name).pathname) && e.responseEnd > 0)`)
		if err == nil && s == "true" {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s: the search page or its metadata did not load (%v)", url, err)
		}
	}
	// Let the page parse the metadata, as a reader's first keystroke
	// would come some time after the load.
	time.Sleep(300 * time.Millisecond)
	return searchBenchQuery(b, page, q)
}

// searchBenchQuery sets the search box of page to q in one input event
// and returns what it measured, once the results are in.
func searchBenchQuery(b *testing.B, page *browsertest.Page, q string) searchBenchResult {
	b.Helper()
	query, _ := json.Marshal(q)
	if _, err := page.Eval(`(function () {
  const list = document.querySelector("ol.search-results");
  const bench = self.__bench = {first: 0, paint: 0, start: 0, answer: 0};
  const status = document.querySelector(".search-status");
  new MutationObserver(function (_, obs) {
    if (!bench.answer && status.textContent) { bench.answer = performance.now(); obs.disconnect(); }
  }).observe(status, {childList: true, characterData: true, subtree: true});
  new MutationObserver(function (_, obs) {
    if (!bench.first && list.querySelector("li")) {
      bench.first = performance.now();
      requestAnimationFrame(function () { bench.paint = performance.now(); });
      obs.disconnect();
    }
  }).observe(list, {childList: true});
  const input = document.querySelector(".search-form input[name=q]");
  bench.start = performance.now();
  input.value = ` + string(query) + `;
  input.dispatchEvent(new Event("input", {bubbles: true}));
})()`); err != nil {
		b.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		out, err := page.Eval(`(function () {
  const bench = self.__bench, status = document.querySelector(".search-status").textContent;
  if (!bench || !status) return "";
  if (!bench.first && !/^No notes found|unavailable/.test(status)) return "";
  if (bench.first && !bench.paint) return "";
  const r = {Status: status, Latency: bench.first ? bench.first - bench.start : -1, Paint: bench.paint ? bench.paint - bench.start : -1,
    Answer: bench.answer ? bench.answer - bench.start : -1,
    Transfer: 0, Encoded: 0, Files: [], MetaBytes: 0, MetaBody: 0};
  for (const e of performance.getEntriesByType("resource")) {
    const p = new URL(e.name).pathname;
    const i = p.lastIndexOf("/search/");
    if (i < 0) continue;
    if (/^\/search\/meta\.[^/]*\.json$/.test(p.slice(i))) { r.MetaBytes += e.transferSize; r.MetaBody += e.encodedBodySize; continue; }
    if (e.startTime < bench.start) continue;
    r.Transfer += e.transferSize;
    r.Encoded += e.encodedBodySize;
    r.Files.push(p.slice(i + 8, i + 12) + " " + (e.startTime - bench.start).toFixed(0) + "-" + (e.responseEnd - bench.start).toFixed(0) + " " + (e.encodedBodySize / 1000).toFixed(1));
  }
  return JSON.stringify(r);
})()`)
		if err != nil {
			b.Fatal(err)
		}
		if strings.HasPrefix(out, "{") {
			var r searchBenchResult
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				b.Fatal(err)
			}
			if r.Latency < 0 && q != searchBenchDOI {
				b.Fatalf("%q, a word of the corpus, found nothing: %s", q, r.Status)
			}
			return r
		}
		if time.Now().After(deadline) {
			dbg, _ := page.Eval(`document.querySelector(".search-status").textContent + " " + JSON.stringify(performance.getEntriesByType("resource").map(e => e.name))`)
			b.Fatalf("%q: no results shown in 30 s (%s)", q, dbg)
		}
	}
}
