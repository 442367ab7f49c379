package feeds

import (
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testdata reads a file of testdata/wire.
func testdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "wire", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// clock is a settable clock for fetchers under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// state returns the kept state and items of the source id.
func state(t *testing.T, cache *Cache, id string) (*State, []*Item) {
	t.Helper()
	states, err := cache.States()
	if err != nil {
		t.Fatal(err)
	}
	items, err := cache.Items(id)
	if err != nil {
		t.Fatal(err)
	}
	st := states[id]
	if st == nil {
		t.Fatalf("no state kept for %s", id)
	}
	if st.Items != len(items) {
		t.Errorf("%s: the state counts %d items, %d are kept", id, st.Items, len(items))
	}
	return st, items
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)} }

// feedServer serves the files of testdata/wire at /NAME like a careful
// publisher: ETag and Last-Modified, 304 for a matching conditional GET,
// gzip when asked. It counts the requests and full responses it served.
type feedServer struct {
	*httptest.Server
	requests, full, gzipped atomic.Int64
	mu                      sync.Mutex
	agents                  []string
}

func newFeedServer(t *testing.T, extra http.Handler) *feedServer {
	fs := &feedServer{}
	mux := http.NewServeMux()
	if extra != nil {
		mux.Handle("/x/", extra)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fs.requests.Add(1)
		fs.mu.Lock()
		fs.agents = append(fs.agents, r.UserAgent())
		fs.mu.Unlock()
		name := strings.TrimPrefix(r.URL.Path, "/")
		data, err := os.ReadFile(filepath.Join("testdata", "wire", filepath.Base(name)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		etag := fmt.Sprintf(`"%x"`, len(data))
		const modified = "Fri, 27 Nov 2026 08:00:00 GMT"
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", modified)
		if r.Header.Get("If-None-Match") == etag || r.Header.Get("If-Modified-Since") == modified {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		fs.full.Add(1)
		switch {
		case strings.HasSuffix(name, ".json"):
			w.Header().Set("Content-Type", "application/feed+json")
		case strings.HasSuffix(name, ".html"):
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		default:
			w.Header().Set("Content-Type", "application/rss+xml")
		}
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			fs.gzipped.Add(1)
			w.Header().Set("Content-Encoding", "gzip")
			gz := gzip.NewWriter(w)
			gz.Write(data)
			gz.Close()
			return
		}
		w.Write(data)
	})
	fs.Server = httptest.NewServer(mux)
	t.Cleanup(fs.Close)
	return fs
}

func TestFetchConditionalAndCache(t *testing.T) {
	t.Parallel()
	srv := newFeedServer(t, nil)
	clk := newClock()
	cache := &Cache{Dir: t.TempDir()}
	f := &Fetcher{Now: clk.now, AllowPrivate: true}
	sources := []Source{
		{ID: "pubmed", URL: srv.URL + "/pubmed.xml", Kind: "database"},
		{ID: "mmwr", URL: srv.URL + "/mmwr-windows1252.xml", Kind: "agency"},
		{ID: "jsonfeed", URL: srv.URL + "/jsonfeed11.json"},
	}
	reports, err := f.Fetch(context.Background(), cache, sources)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if r.Status != Updated || r.Items == 0 || r.New != r.Items || r.Code != 200 {
			t.Errorf("first fetch of %s: %+v", r.Source.ID, r)
		}
	}
	srv.mu.Lock()
	for _, ua := range srv.agents {
		if ua != UserAgent {
			t.Errorf("User-Agent %q, want %q", ua, UserAgent)
		}
	}
	srv.mu.Unlock()
	first, firstItems := state(t, cache, "pubmed")
	if first.ETag == "" || first.LastModified == "" || first.LastSuccess.IsZero() {
		t.Errorf("validators not kept: %+v", first)
	}

	clk.add(time.Hour)
	reports, err = f.Fetch(context.Background(), cache, sources)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if r.Status != NotModified || r.Code != 304 || r.New != 0 {
			t.Errorf("second fetch of %s: %+v", r.Source.ID, r)
		}
	}
	if got := srv.gzipped.Load(); got != 3 {
		t.Errorf("%d responses were gzipped, want 3: the fetcher should ask for gzip", got)
	}
	if got := srv.full.Load(); got != 3 {
		t.Errorf("the server sent %d full responses, want 3 (the rest 304)", got)
	}
	_, again := state(t, cache, "pubmed")
	if len(again) != len(firstItems) || !again[0].FirstSeen.Equal(firstItems[0].FirstSeen) {
		t.Errorf("a 304 changed the kept items")
	}
}

// TestFetchConditionalOneValidator follows two servers that each know one
// validator and ignore the other header: the second fetch of each is a
// 304 only if the fetcher sends that server's header.
func TestFetchConditionalOneValidator(t *testing.T) {
	t.Parallel()
	feed := testdata(t, "bmj.xml")
	const etag, modified = `"bmj-1"`, "Fri, 27 Nov 2026 08:00:00 GMT"
	var full atomic.Int64
	mux := http.NewServeMux()
	for path, v := range map[string]struct{ header, value, conditional string }{
		"/etag":     {"ETag", etag, "If-None-Match"},
		"/modified": {"Last-Modified", modified, "If-Modified-Since"},
	} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(v.header, v.value)
			if r.Header.Get(v.conditional) == v.value {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			full.Add(1)
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Write(feed)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	clk := newClock()
	cache := &Cache{Dir: t.TempDir()}
	f := &Fetcher{Now: clk.now, AllowPrivate: true}
	sources := []Source{{ID: "etag-only", URL: srv.URL + "/etag"}, {ID: "modified-only", URL: srv.URL + "/modified"}}
	for i, want := range []Status{Updated, NotModified} {
		reports, err := f.Fetch(context.Background(), cache, sources)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reports {
			if r.Status != want || r.Items != 3 {
				t.Errorf("fetch %d of %s: %s (HTTP %d), %d items; want %s", i+1, r.Source.ID, r.Status, r.Code, r.Items, want)
			}
		}
		clk.add(time.Hour)
	}
	if n := full.Load(); n != 2 {
		t.Errorf("%d full responses, want 2", n)
	}
	if st, _ := state(t, cache, "etag-only"); st.ETag != etag || st.LastModified != "" {
		t.Errorf("etag-only validators: %q, %q", st.ETag, st.LastModified)
	}
	if st, _ := state(t, cache, "modified-only"); st.ETag != "" || st.LastModified != modified {
		t.Errorf("modified-only validators: %q, %q", st.ETag, st.LastModified)
	}
}

func TestFetchFailuresKeepLastGoodItems(t *testing.T) {
	t.Parallel()
	var mode atomic.Value
	mode.Store("ok")
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	srv := newFeedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode.Load().(string) {
		case "ok":
			w.Write(testdata(t, "bmj.xml"))
		case "503":
			w.Header().Set("Retry-After", "7200")
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case "404":
			http.NotFound(w, r)
		case "challenge":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(testdata(t, "challenge.html"))
		case "malformed":
			w.Write(testdata(t, "not-a-feed.txt"))
		case "huge":
			w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>x</title>`))
			chunk := []byte(strings.Repeat("<item><title>padding</title></item>", 1000))
			for range 100 {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "hang":
			w.WriteHeader(200)
			w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel>`))
			w.(http.Flusher).Flush()
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		case "redirect-loop":
			http.Redirect(w, r, r.URL.Path+"x", http.StatusFound)
		}
	}))
	clk := newClock()
	cache := &Cache{Dir: t.TempDir()}
	f := &Fetcher{Now: clk.now, AllowPrivate: true, Timeout: 300 * time.Millisecond, MaxBytes: 512 << 10, MaxRedirects: 3}
	src := []Source{{ID: "bmj", URL: srv.URL + "/x/bmj", Kind: "journal"}}
	reports, err := f.Fetch(context.Background(), cache, src)
	if err != nil || reports[0].Status != Updated || reports[0].Items != 3 {
		t.Fatalf("first fetch: %+v, %v", reports[0], err)
	}
	for i, tc := range []struct {
		mode, want string
	}{
		{"503", "503"},
		{"404", "404"},
		{"challenge", "web page, not a feed"},
		{"malformed", "not a feed"},
		{"huge", "larger than"},
		{"hang", "within"},
		{"redirect-loop", "redirects"},
	} {
		mode.Store(tc.mode)
		clk.add(24 * time.Hour) // past any backoff
		reports, err := f.Fetch(context.Background(), cache, src)
		if err != nil {
			t.Fatal(err)
		}
		r := reports[0]
		if r.Status != Failed || r.Err == nil || !strings.Contains(r.Err.Error(), tc.want) {
			t.Errorf("%s: status %s, err %v; want failed with %q", tc.mode, r.Status, r.Err, tc.want)
		}
		if r.Items != 3 {
			t.Errorf("%s: %d items kept, want the last good 3", tc.mode, r.Items)
		}
		if r.Failures != i+1 {
			t.Errorf("%s: %d failures in a row, want %d", tc.mode, r.Failures, i+1)
		}
		st, _ := state(t, cache, "bmj")
		if st.LastError == "" || st.Failures != i+1 || st.Items != 3 {
			t.Errorf("%s: state %+v", tc.mode, st)
		}
		if tc.mode == "503" && r.RetryAfter.Sub(clk.now()) < 2*time.Hour {
			t.Errorf("503 with Retry-After: 7200 retries after %s", r.RetryAfter)
		}
	}

	// Backoff: a failing source is not asked again before its time,
	// unless forced, and never given up on.
	mode.Store("ok")
	before := srv.requests.Load()
	clk.add(time.Minute)
	reports, _ = f.Fetch(context.Background(), cache, src)
	if reports[0].Status != BackingOff || srv.requests.Load() != before {
		t.Errorf("a source in backoff was fetched: %+v", reports[0])
	}
	st, _ := state(t, cache, "bmj")
	clk.t = st.RetryAfter.Add(time.Second)
	reports, _ = f.Fetch(context.Background(), cache, src)
	if reports[0].Status != Updated || reports[0].Failures != 0 {
		t.Errorf("after its backoff, the source was not fetched again: %+v", reports[0])
	}
	st, _ = state(t, cache, "bmj")
	if st.LastError != "" || st.Failures != 0 || !st.RetryAfter.IsZero() {
		t.Errorf("a success did not clear the failure record: %+v", st)
	}
}

func TestBackoffDoubles(t *testing.T) {
	t.Parallel()
	srv := newFeedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	clk := newClock()
	cache := &Cache{Dir: t.TempDir()}
	f := &Fetcher{Now: clk.now, AllowPrivate: true, Backoff: time.Minute, MaxBackoff: time.Hour}
	src := []Source{{ID: "down", URL: srv.URL + "/x/down"}}
	var waits []time.Duration
	for range 9 {
		reports, _ := f.Fetch(context.Background(), cache, src)
		waits = append(waits, reports[0].RetryAfter.Sub(clk.now()))
		clk.t = reports[0].RetryAfter
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60}
	for i, w := range want {
		if waits[i] != w*time.Minute {
			t.Errorf("wait after failure %d: %s, want %s", i+1, waits[i], w*time.Minute)
		}
	}
}

func TestFetchPerHostLimit(t *testing.T) {
	t.Parallel()
	var inFlight, peak atomic.Int64
	srv := newFeedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		inFlight.Add(-1)
		w.Write(testdata(t, "bmj.xml"))
	}))
	var sources []Source
	for i := range 12 {
		sources = append(sources, Source{ID: fmt.Sprintf("s%d", i), URL: fmt.Sprintf("%s/x/%d", srv.URL, i)})
	}
	f := &Fetcher{Workers: 8, PerHost: 3, AllowPrivate: true}
	reports, err := f.Fetch(context.Background(), &Cache{Dir: t.TempDir()}, sources)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		if r.Status != Updated {
			t.Errorf("%s: %s %v", r.Source.ID, r.Status, r.Err)
		}
	}
	if p := peak.Load(); p > 3 || p < 2 {
		t.Errorf("peak of %d requests in flight to one host, want at most 3 (and some concurrency)", p)
	}
}

func TestFetchPermanentRedirect(t *testing.T) {
	t.Parallel()
	srv := newFeedServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/x/control" {
			// A query keeps the control characters of a Location.
			w.Header().Set("Location", "/nih-news.xml?q=a\u009b2Jb")
			w.WriteHeader(http.StatusPermanentRedirect)
			return
		}
		http.Redirect(w, r, "/nih-news.xml", http.StatusMovedPermanently)
	}))
	cache := &Cache{Dir: t.TempDir()}
	reports, err := (&Fetcher{AllowPrivate: true}).Fetch(context.Background(), cache, []Source{
		{ID: "nih", URL: srv.URL + "/x/old"},
		{ID: "control", URL: srv.URL + "/x/control"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := reports[0]; r.Status != Updated || r.MovedTo != srv.URL+"/nih-news.xml" {
		t.Errorf("permanent redirect: %+v", r)
	}
	if r := reports[1]; r.Status != Updated || r.MovedTo != srv.URL+"/nih-news.xml?q=a2Jb" {
		t.Errorf("permanent redirect with a control character: %+v", r)
	}
}

func TestCacheSurvivesCorruption(t *testing.T) {
	t.Parallel()
	srv := newFeedServer(t, nil)
	cache := &Cache{Dir: t.TempDir()}
	for _, name := range []string{"nih.json", "sources.json"} {
		if err := os.WriteFile(filepath.Join(cache.Dir, name), []byte("{not json"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cache.Items("nih"); err == nil || !strings.Contains(err.Error(), "nih.json") {
		t.Errorf("corrupt items file: error %v, want one naming the file", err)
	}
	if _, err := cache.States(); err == nil || !strings.Contains(err.Error(), "sources.json") {
		t.Errorf("corrupt record: error %v, want one naming the file", err)
	}
	reports, err := (&Fetcher{AllowPrivate: true}).Fetch(context.Background(), cache, []Source{{ID: "nih", URL: srv.URL + "/nih-news.xml"}})
	if err != nil || reports[0].Status != Updated {
		t.Fatalf("fetch over a corrupt cache: %+v %v", reports[0], err)
	}
	if _, items := state(t, cache, "nih"); len(items) != 3 {
		t.Errorf("the fetch did not mend the cache: %d items", len(items))
	}
	if _, err := cache.Items("../etc"); err == nil {
		t.Error("a source id with a path in it was accepted")
	}
}

// TestDefaultClientGoesDirect checks the default client uses no proxy the
// environment names: the address it checks must be the feed's own.
func TestDefaultClientGoesDirect(t *testing.T) {
	t.Parallel()
	c := (&Fetcher{}).defaults()
	if tr, ok := c.Client.Transport.(*http.Transport); !ok || tr.Proxy != nil {
		t.Errorf("the default client's transport is %T, with a proxy", c.Client.Transport)
	}
}
