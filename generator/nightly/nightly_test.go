package nightly

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
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

// TestPreviewSubscribers runs rounds serve with [subscribers] url set: the
// preview's sign-up form posts to the service beside it, on the preview's
// own address, with a store of its own; the confirmation's link, printed
// on the console, leads to the page that confirms.
func TestPreviewSubscribers(t *testing.T) {
	t.Setenv("ROUNDS_UNSUBSCRIBE_SECRET", "")
	t.Setenv("ROUNDS_SUBSCRIBERS_STORE", "")
	dir := t.TempDir()
	for _, d := range []string{"content", "themes"} {
		if err := os.CopyFS(filepath.Join(dir, d), os.DirFS(filepath.Join("..", "..", d))); err != nil {
			t.Fatal(err)
		}
	}
	example, err := os.ReadFile(filepath.Join("..", "..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config.toml")
	os.WriteFile(config, example, 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out lockedBuffer
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, config, "127.0.0.1:0", Output{Out: &out, Err: &out}) }()
	var base string
	for deadline := time.Now().Add(20 * time.Second); base == ""; time.Sleep(10 * time.Millisecond) {
		if m := regexp.MustCompile(`rounds serve: (http://\S+/) \(`).FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", out.String())
		}
	}
	res, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	home, _ := io.ReadAll(res.Body)
	res.Body.Close()
	action := base + "_subscribers/subscribe"
	if !strings.Contains(string(home), `action="`+action+`"`) {
		t.Fatalf("the preview's form does not post to its service %s", action)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = client.PostForm(action, url.Values{"email": {"curator@example.org"}, "list": {"everything"}, "page": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-up on the preview: %d\n%s", res.StatusCode, out.String())
	}
	m := regexp.MustCompile(`the confirmation mail's link \(the preview mails nothing\): (\S+)`).FindStringSubmatch(out.String())
	if m == nil || !strings.HasPrefix(m[1], base+"_subscribers/confirm?token=") {
		t.Fatalf("no confirmation link on the console:\n%s", out.String())
	}
	res, err = http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), `class="service service-confirm"`) || !strings.Contains(string(page), `class="site-header"`) {
		t.Errorf("the confirmation page: %d\n%s", res.StatusCode, page)
	}
	// The preview's sign-ups are its own: the real log is untouched.
	if _, err := os.Stat(filepath.Join(dir, ".subscribers")); err == nil {
		t.Error("the preview wrote to the real subscribers' log")
	}
	if _, err := os.Stat(filepath.Join(dir, ".cache", "preview-subscribers")); err != nil {
		t.Errorf("the preview's own store: %v", err)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Error("serve did not stop")
	}
}
