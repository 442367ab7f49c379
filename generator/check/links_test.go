package check

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestLinkChecker checks links against real servers on loopback that
// answer each way a server does: the verdicts, the cache that spares a
// second run, and the default client that will not reach a private
// address.
func TestLinkChecker(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/new", http.StatusMovedPermanently) })
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/temp", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusGone) })
	mux.HandleFunc("/busy", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	mux.HandleFunc("/forbidden", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusForbidden) })
	mux.HandleFunc("/nohead", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/reset", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		conn.(*net.TCPConn).SetLinger(0) // close with a RST
		conn.Close()
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	want := map[string]string{
		"/ok": LinkOK, "/old": LinkMoved, "/temp": LinkOK, "/missing": LinkBroken, "/gone": LinkBroken, "/busy": LinkUnknown,
		"/forbidden": LinkUnknown, "/nohead": LinkOK, "/slow": LinkUnknown, "/reset": LinkUnknown,
	}
	links := map[string][]string{closed.URL + "/x": {"content/notes/b.md"}}
	for p := range want {
		links[srv.URL+p] = []string{"content/notes/a.md"}
	}
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	lc := &LinkChecker{Client: &http.Client{}, PerHost: 2, Delay: time.Millisecond, Timeout: 300 * time.Millisecond, Now: func() time.Time { return now }}
	cache := map[string]LinkResult{}
	results := lc.Check(context.Background(), links, cache)
	if len(results) != len(links) {
		t.Fatalf("%d results for %d links", len(results), len(links))
	}
	for _, r := range results {
		p := r.URL[len(srv.URL):]
		if r.URL == closed.URL+"/x" {
			if r.Verdict != LinkBroken || r.Reason != "the connection was refused" {
				t.Errorf("a closed port: %+v", r)
			}
			continue
		}
		if r.Verdict != want[p] || !r.Checked.Equal(now) || len(r.Files) != 1 {
			t.Errorf("%s: %+v, want %s", p, r, want[p])
		}
		switch p {
		case "/old":
			if r.MovedTo != srv.URL+"/new" {
				t.Errorf("/old moved to %q", r.MovedTo)
			}
		case "/busy":
			if r.Code != 429 || r.Reason != "the server asks for fewer requests; retry after 120" {
				t.Errorf("/busy: %+v", r)
			}
		}
	}
	findings := LinkFindings(results)
	broken := 0
	for _, f := range findings {
		if f.Severity == "warning" {
			broken++
		}
	}
	if broken != 4 { // missing, gone, the closed port, and old (moved)
		t.Errorf("%d warnings: %v", broken, findings)
	}

	// The cache: a second run within MaxAge asks nothing; past it, again.
	path := filepath.Join(t.TempDir(), "links.json")
	if err := SaveLinks(path, cache); err != nil {
		t.Fatal(err)
	}
	before := hits.Load()
	lc.Check(context.Background(), links, LoadLinks(path))
	if hits.Load() != before {
		t.Errorf("a second run made %d requests", hits.Load()-before)
	}
	if age := LinksAge(LoadLinks(path), now.Add(8*24*time.Hour)); age != 8*24*time.Hour {
		t.Errorf("the cache's age: %s", age)
	}
	now = now.Add(8 * 24 * time.Hour)
	lc.Check(context.Background(), map[string][]string{srv.URL + "/ok": nil}, LoadLinks(path))
	if hits.Load() == before {
		t.Error("an old result was not checked again")
	}

	// The default client does not reach a private address.
	r := (&LinkChecker{Timeout: time.Second}).Check(context.Background(), map[string][]string{srv.URL + "/ok": {"content/notes/a.md"}}, map[string]LinkResult{})
	if r[0].Verdict != LinkBroken || r[0].Reason != "not an address of the public internet" {
		t.Errorf("a loopback link with the default client: %+v", r[0])
	}
}
