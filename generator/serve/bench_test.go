package serve

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkServeEdit is issue 6's benchmark: with 10,000 notes loaded,
// the time from saving an edit to one note's body to the browser's
// reload event, through the real watcher and event stream. Run with
// bench/serve.sh; it reports the median and the 95th percentile.
func BenchmarkServeEdit(b *testing.B) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	dir := project(b, n)
	var rebuilds []time.Duration
	s := &Server{Config: filepath.Join(dir, "config.toml"), Now: func() time.Time { return testNow },
		Rebuilt: func(took time.Duration, incremental bool, err error) {
			if incremental {
				rebuilds = append(rebuilds, took)
			}
		}}
	if err := s.Build(); err != nil || s.Err() != nil {
		b.Fatal(err, s.Err())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Watch(ctx)
	time.Sleep(200 * time.Millisecond)
	hs := httptest.NewServer(s)
	b.Cleanup(func() { hs.CloseClientConnections(); hs.Close() })
	events, stop := sse(b, hs.URL+"/_rounds/events")
	defer stop()
	note := filepath.Join(dir, "content", "notes", fmt.Sprintf("note-%05d.md", n/2))
	orig, _ := os.ReadFile(note)
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		body := bytes.Replace(orig, []byte("## Why it matters\n"), []byte(fmt.Sprintf("## Why it matters\n\nEdit number %d.\n", i)), 1)
		start := time.Now()
		if err := os.WriteFile(note, body, 0o644); err != nil {
			b.Fatal(err)
		}
		waitReload(b, events)
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
	slices.Sort(rebuilds)
	if len(rebuilds) > 0 {
		b.ReportMetric(float64(rebuilds[len(rebuilds)/2].Microseconds())/1000, "rebuild-median-ms")
	}
}
