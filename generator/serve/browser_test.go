package serve

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rounds-health/rounds/generator/browsertest"
)

// TestBrowserReloads opens a note in headless Chromium, edits the note
// while the page is open, and checks that the browser shows the new text.
func TestBrowserReloads(t *testing.T) {
	t.Parallel()
	chromium := browsertest.Tool(t, "chromium", "--version")
	dir := project(t, 5)
	s := newServer(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Watch(ctx)
	hs := httptest.NewServer(s)
	// Cleanups run last first: the browser stops, then the server, which
	// waits for the browser's open event stream to end.
	t.Cleanup(func() { hs.CloseClientConnections(); hs.Close() })
	page := browsertest.Open(t, chromium, hs.URL+s.Base()+"notes/note-00002/")

	// Edit once the page is open and listening for reloads.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		s.subsMu.Lock()
		n := len(s.subs)
		s.subsMu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the page never opened the reload stream")
		}
	}
	note := filepath.Join(dir, "content", "notes", "note-00002.md")
	data, _ := os.ReadFile(note)
	os.WriteFile(note, bytes.Replace(data, []byte("## Why it matters\n"), []byte("## Why it matters\n\nWritten while the page was open.\n"), 1), 0o644)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		text, err := page.Eval("document.body ? document.body.innerText : ''")
		if err == nil && strings.Contains(text, "Written while the page was open.") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the browser did not reload to the new text (%v)", err)
		}
	}
	// A broken note: the page shows the error over the last good text.
	os.WriteFile(filepath.Join(dir, "content", "notes", "broken.md"), []byte("+++\ntitle = \"Broken\"\ndate = \"someday\"\n+++\n"), 0o644)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		text, err := page.Eval("(document.getElementById('rounds-error') || {}).textContent || ''")
		if err == nil && strings.Contains(text, "content/notes/broken.md:3: date") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no error overlay (%v)", err)
		}
	}
}
