package feeds

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Issue 3's benchmark: aggregating 200 sources of 50 items each, served on
// loopback by 20 hosts, cold (an empty cache) and when every source
// answers 304. Run with bench/fetch.sh.
const (
	benchSources = 200
	benchItems   = 50
	benchHosts   = 20
)

// benchFeed is an RSS feed of n items shaped like a journal's: titles,
// links with tracking parameters, DOIs, a paragraph of HTML each.
func benchFeed(src, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Source %d</title><link>https://journal%d.example/</link><description>Research</description>
`, src, src)
	for i := range n {
		fmt.Fprintf(&b, `<item>
<title>Effect of intervention %d-%d on outcomes in adults &amp; children: a randomised trial</title>
<link>https://journal%d.example/article/%d?utm_source=rss&amp;utm_medium=feed</link>
<guid isPermaLink="false">j%d-a%d</guid>
<dc:identifier>doi:10.5555/j%d.%d</dc:identifier>
<pubDate>Mon, %02d Nov 2026 09:%02d:00 +0000</pubDate>
<description><![CDATA[<p><strong>Objective</strong> To assess intervention %d in 1,200 adults. <a href="/article/%d/full">Full text</a>.</p><p>Results: the risk ratio was 0.82 (95%% CI 0.70 to 0.95). <img src="/figures/%d.png" alt="Figure 1"></p>]]></description>
</item>
`, src, i, src, i, src, i, src, i, 1+i%28, i%60, i, i, i)
	}
	b.WriteString("</channel></rss>\n")
	return []byte(b.String())
}

// benchServers starts the hosts and returns the sources they serve.
func benchServers(b *testing.B) []Source {
	feeds := make([][]byte, benchSources)
	for i := range feeds {
		feeds[i] = benchFeed(i, benchItems)
	}
	var hosts []*httptest.Server
	for range benchHosts {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var n int
			fmt.Sscanf(r.URL.Path, "/feed/%d", &n)
			etag := fmt.Sprintf(`"f%d"`, n)
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", etag)
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Write(feeds[n])
		}))
		b.Cleanup(srv.Close)
		hosts = append(hosts, srv)
	}
	sources := make([]Source, benchSources)
	for i := range sources {
		sources[i] = Source{ID: fmt.Sprintf("s%03d", i), URL: fmt.Sprintf("%s/feed/%d", hosts[i%benchHosts].URL, i), Kind: "journal"}
	}
	return sources
}

func BenchmarkFetchCold(b *testing.B) {
	sources := benchServers(b)
	now := func() time.Time { return time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC) }
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		cache := &Cache{Dir: b.TempDir()}
		f := &Fetcher{Now: now, AllowPrivate: true}
		b.StartTimer()
		reports, err := f.Fetch(context.Background(), cache, sources)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range reports {
			if r.Status != Updated || r.Items != benchItems {
				b.Fatalf("%s: %s, %d items, %v", r.Source.ID, r.Status, r.Items, r.Err)
			}
		}
	}
	b.ReportMetric(float64(benchSources*benchItems), "items/op")
}

func BenchmarkFetchNotModified(b *testing.B) {
	sources := benchServers(b)
	now := func() time.Time { return time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC) }
	cache := &Cache{Dir: b.TempDir()}
	if _, err := (&Fetcher{Now: now, AllowPrivate: true}).Fetch(context.Background(), cache, sources); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		reports, err := (&Fetcher{Now: now, AllowPrivate: true}).Fetch(context.Background(), cache, sources)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range reports {
			if r.Status != NotModified {
				b.Fatalf("%s: %s %v", r.Source.ID, r.Status, r.Err)
			}
		}
	}
}
