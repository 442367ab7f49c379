package nightly

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/rounds-health/rounds/generator/config"
)

// TestNow reads the present from SOURCE_DATE_EPOCH, from ROUNDS_NOW over
// it, and from the flag over both.
func TestNow(t *testing.T) {
	t.Setenv("ROUNDS_NOW", "")
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	if got, err := Now(""); err != nil || !got.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("SOURCE_DATE_EPOCH: %v %v", got, err)
	}
	t.Setenv("ROUNDS_NOW", "2026-01-02")
	if got, _ := Now(""); !got.Equal(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("ROUNDS_NOW: %v", got)
	}
	if got, _ := Now("2026-03-04T05:06:07+01:00"); !got.Equal(time.Date(2026, 3, 4, 4, 6, 7, 0, time.UTC)) {
		t.Errorf("--now: %v", got)
	}
}

// lockedBuffer is a bytes.Buffer safe for a server's goroutine and the
// test's.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestServeSubscribers runs rounds subscribers serve on loopback, under
// the path of [subscribers] url: it answers the links' paths there, and
// stops when its context ends.
func TestServeSubscribers(t *testing.T) {
	t.Setenv("ROUNDS_UNSUBSCRIBE_SECRET", "a-long-enough-test-secret")
	t.Setenv("ROUNDS_SUBSCRIBERS_STORE", "")
	dir := t.TempDir()
	// The service's pages and mails come from the theme.
	if err := os.CopyFS(filepath.Join(dir, "themes"), os.DirFS(filepath.Join("..", "..", "themes"))); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.ParseConfig(filepath.Join(dir, "config.toml"), []byte("title = \"T\"\nbase_url = \"https://example.org/\"\ndisclaimer = \"Not medical advice.\"\n[email]\nfrom = \"Editors <editors@example.org>\"\n[subscribers]\nurl = \"http://127.0.0.1/lists/\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- Subscribers(ctx, cfg, "serve", nil, SubscribersOptions{Bind: "127.0.0.1:0"}, Output{Out: &out, Err: &out})
	}()
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == ""; time.Sleep(10 * time.Millisecond) {
		if m := regexp.MustCompile(`on (http://\S+/lists/) `).FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("the service stopped: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the service did not start: %s", out.String())
		}
	}
	for path, want := range map[string]int{"unsubscribe?token=nonsense": 400, "confirm": 400, "elsewhere": 404} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, res.StatusCode, want)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve ended with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}
