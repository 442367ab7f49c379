package nightly

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/subscribers"
	"github.com/rounds-health/rounds/generator/subscribers/bounce"
)

// TestSNSHandler checks the subscribers service's POST /sns: there only
// with sns_topics, refusing what is not a signed notification from them,
// and recording the reports of one that is, once however often SNS
// delivers it.
func TestSNSHandler(t *testing.T) {
	t.Parallel()
	const head = "title = \"T\"\nbase_url = \"https://example.org/\"\ndisclaimer = \"Not medical advice.\"\n[subscribers]\n"
	key := []byte("a-long-enough-test-secret")
	st, err := subscribers.OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.ParseConfig(filepath.Join(t.TempDir(), "config.toml"), []byte(head))
	if err != nil {
		t.Fatal(err)
	}
	if h := snsHandler(cfg, st, key); h != nil {
		t.Errorf("a handler without sns_topics: %v", h)
	}
	cfg, err = config.ParseConfig(filepath.Join(t.TempDir(), "config.toml"), []byte(head+"sns_topics = [\"arn:aws:sns:eu-west-1:123456789012:rounds-bounces\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	svc := &subscribers.Service{Store: st, Secret: key, Title: "T", Bounces: snsHandler(cfg, st, key)}
	for _, tc := range []struct {
		method, body string
		want         int
	}{
		{"POST", "not JSON", http.StatusBadRequest},
		{"POST", `{"Type":"Notification","TopicArn":"arn:aws:sns:eu-west-1:123456789012:someone-else","Message":"{}"}`, http.StatusForbidden},
		{"GET", "", http.StatusMethodNotAllowed},
	} {
		w := httptest.NewRecorder()
		svc.ServeHTTP(w, httptest.NewRequest(tc.method, "/sns", strings.NewReader(tc.body)))
		if w.Code != tc.want {
			t.Errorf("%s /sns %q: %d, want %d", tc.method, tc.body, w.Code, tc.want)
		}
	}
	state, err := subscribers.Load(context.Background(), st)
	if err != nil || state.Len() != 0 {
		t.Fatalf("refused notifications recorded %d subscribers (%v)", state.Len(), err)
	}

	// What the handler records of a verified notification, delivered twice.
	now := time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)
	record := recordReports(st, key, func() time.Time { return now })
	reports := []bounce.Report{
		{Address: "Gone@Surgery.example", Kind: bounce.Hard, Time: now.Add(-time.Hour), Diagnostic: "smtp; 550 5.1.1 user unknown", Source: bounce.SourceSNS, MessageID: "0100018f-ses"},
		{Address: "tired.reader@yahoo.example", Kind: bounce.Complaint, Time: now.Add(-time.Hour), Diagnostic: "abuse", Source: bounce.SourceSNS, MessageID: "0100018f-ses"},
	}
	for range 2 {
		if err := record(context.Background(), reports); err != nil {
			t.Fatal(err)
		}
	}
	if state, err = subscribers.Load(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if got := state.Suppressed(subscribers.Key(key, "gone@surgery.example")); got != subscribers.HardBounce {
		t.Errorf("the hard bounce: suppressed %q", got)
	}
	if got := state.Suppressed(subscribers.Key(key, "tired.reader@yahoo.example")); got != subscribers.Complaint {
		t.Errorf("the complaint: suppressed %q", got)
	}
	if stats := state.Stats(now); len(stats) != 0 {
		t.Errorf("stats %+v; the reports name no list", stats)
	}
}
