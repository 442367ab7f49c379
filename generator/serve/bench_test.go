package serve

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkServeEdit is issue 6's benchmark: with 10,000 notes loaded
// ($ROUNDS_SERVE_NOTES when set; 1,000 with -short), the time from saving
// an edit to one note's body to the browser's reload event, through the
// real watcher and event stream, and then to the edited page served
// (with $ROUNDS_SERVE_EDIT=date, an edit that moves the note; with
// $ROUNDS_SERVE_EDIT=add, a note added, then deleted, in turns, and the
// new page served, then gone). Run with bench/serve.sh; it reports the
// medians and the 95th percentile.
func BenchmarkServeEdit(b *testing.B) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	// ROUNDS_SERVE_EDIT=date edits the note's date too, which moves it
	// in every list it is in: the site is linked and planned again.
	moves := os.Getenv("ROUNDS_SERVE_EDIT") == "date"
	adds := os.Getenv("ROUNDS_SERVE_EDIT") == "add"
	n = envInt(b, "ROUNDS_SERVE_NOTES", n)
	dir := project(b, n)
	var rebuilds []time.Duration
	s := &Server{Config: filepath.Join(dir, "config.toml"), Now: func() time.Time { return testNow },
		Rebuilt: func(took time.Duration, _ bool, err error) {
			rebuilds = append(rebuilds, took)
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
	slug := fmt.Sprintf("note-%05d", n/2)
	note := filepath.Join(dir, "content", "notes", slug+".md")
	page := hs.URL + s.Base() + "notes/" + slug + "/"
	orig, _ := os.ReadFile(note)
	var took, shown []time.Duration
	for i := 0; b.Loop(); i++ {
		if adds {
			took, shown = addOrDelete(b, i, dir, hs.URL+s.Base(), orig, events, took, shown)
			continue
		}
		edit := fmt.Sprintf("Edit number %d.", i)
		body := bytes.Replace(orig, []byte("## Why it matters\n"), []byte("## Why it matters\n\n"+edit+"\n"), 1)
		if moves {
			// A new date each time: the note moves in every list.
			body = bytes.Replace(body, []byte("\ndate = "), []byte(fmt.Sprintf("\ndate = 2026-01-01T%02d:%02d:00Z\n# was ", i/60%24, i%60)), 1)
		}
		start := time.Now()
		if err := os.WriteFile(note, body, 0o644); err != nil {
			b.Fatal(err)
		}
		waitReload(b, events)
		took = append(took, time.Since(start))
		if !strings.Contains(get(b, page), edit) {
			b.Fatalf("the page does not show %q after the reload", edit)
		}
		shown = append(shown, time.Since(start))
	}
	slices.Sort(took)
	slices.Sort(shown)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "median-ms")
	b.ReportMetric(float64(took[len(took)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(shown[len(shown)/2].Microseconds())/1000, "page-median-ms")
	slices.Sort(rebuilds)
	if len(rebuilds) > 0 {
		b.ReportMetric(float64(rebuilds[len(rebuilds)/2].Microseconds())/1000, "rebuild-median-ms")
		b.ReportMetric(float64(rebuilds[len(rebuilds)*95/100].Microseconds())/1000, "rebuild-p95-ms")
	}
}

// addOrDelete adds a note (i even) or deletes the one added before (i
// odd), waits for the reload, then for the note's page served or gone,
// and returns the times appended to took and shown.
func addOrDelete(b *testing.B, i int, dir, site string, orig []byte, events <-chan [2]string, took, shown []time.Duration) ([]time.Duration, []time.Duration) {
	b.Helper()
	slug := fmt.Sprintf("added-%05d", i/2)
	file := filepath.Join(dir, "content", "notes", slug+".md")
	title := fmt.Sprintf("Added number %d", i/2)
	start := time.Now()
	var err error
	if i%2 == 0 {
		err = os.WriteFile(file, bytes.Replace(orig, []byte("\ntitle = \""), []byte("\ntitle = \""+title+": "), 1), 0o644)
	} else {
		err = os.Remove(file)
	}
	if err != nil {
		b.Fatal(err)
	}
	waitReload(b, events)
	took = append(took, time.Since(start))
	if got := strings.Contains(get(b, site+"notes/"+slug+"/"), title); got != (i%2 == 0) {
		b.Fatalf("the added note's page shows it: %v, after it was %s", got, map[bool]string{true: "added", false: "deleted"}[i%2 == 0])
	}
	return took, append(shown, time.Since(start))
}
