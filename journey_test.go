package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rounds-health/rounds/generator/browsertest"
	project "github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/nightly"
	"github.com/rounds-health/rounds/generator/smtptest"
)

// TestReaderJourney is a reader's whole way through, with real parts: the
// built example site on loopback, in headless Chromium; rounds subscribers
// serve on loopback; a real SMTP server. The reader fills in the sign-up
// form, receives the confirmation mail, follows its link and presses the
// button; the next rounds send reaches them; the one-click POST of RFC
// 8058, as a mail provider sends it, takes them off the list; the send
// after that passes them by. The curator touches no file.
func TestReaderJourney(t *testing.T) {
	chromium := browsertest.Tool(t, "chromium", "--version")
	sendingEnv(t)
	ts := smtptest.New(t, true)
	dir, config := exampleProject(t, "")
	site := browsertest.Serve(t, filepath.Join(dir, "public"), "/rounds", "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	example, _ := os.ReadFile(config)
	cfg := strings.NewReplacer(
		`base_url = "https://example.org/rounds/"`, fmt.Sprintf("base_url = %q", site.URL+"/rounds/"),
		`url = "https://example.org/rounds/lists/"`, fmt.Sprintf("url = \"http://%s/lists/\"", ln.Addr()),
		exampleSMTP, loopbackSMTP(ts.Port),
	).Replace(string(example))
	if strings.Count(cfg, "127.0.0.1") != 3 {
		t.Fatalf("the example's config.toml changed: base_url, [subscribers] url or [email.smtp] not replaced")
	}
	if err := os.WriteFile(config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	const now = "2026-11-22"
	if code, out, errOut := rounds("build", "--config", config, "--now", now); code != 0 {
		t.Fatalf("build: exit %d %s %s", code, out, errOut)
	}

	// The service, as rounds subscribers serve runs it.
	c, err := project.LoadConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- nightly.Subscribers(ctx, c, "serve", nil, nightly.SubscribersOptions{Listener: ln}, nightly.Output{Out: io.Discard, Err: io.Discard})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the service: %v", err)
		}
	})

	// The reader signs up on the site.
	page := browsertest.Open(t, chromium, site.URL+"/rounds/subscribe/")
	waitFor := func(what, expr string) string {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if s, err := page.Eval(expr); err == nil && s != "" && s != "false" {
				return s
			}
			if time.Now().After(deadline) {
				url, _ := page.Eval("location.href")
				text, _ := page.Eval("document.body && document.body.innerText")
				t.Fatalf("%s: never came, at %s:\n%s", what, url, text)
			}
		}
	}
	waitFor("the sign-up form", `document.readyState === "complete" && !!document.querySelector(".signup form")`)
	siteButton := waitFor("the form's button", `getComputedStyle(document.querySelector(".signup button")).backgroundColor`)
	const reader = "new.reader@example.net"
	if _, err := page.Eval(`(function () {
  var f = document.querySelector(".signup form");
  f.querySelector("input[type=email]").value = "` + reader + `";
  f.querySelector("input[value=everything]").checked = true;
  f.querySelector("button[type=submit]").click();
  return "ok";
})()`); err != nil {
		t.Fatal(err)
	}
	waitFor("the page that says to check your email", `document.readyState === "complete" && document.title.startsWith("Check your email")`)

	// The confirmation mail.
	var msg []byte
	for deadline := time.Now().Add(20 * time.Second); msg == nil; time.Sleep(50 * time.Millisecond) {
		if m := ts.Messages()[reader]; len(m) > 0 {
			msg = m[0]
		} else if time.Now().After(deadline) {
			t.Fatal("no confirmation mail arrived")
		}
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`http://\S+/lists/confirm\?token=\S+`).Find(body)
	if link == nil || m.Header.Get("DKIM-Signature") == "" || !strings.HasPrefix(m.Header.Get("Subject"), "Confirm your subscription") ||
		m.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Fatalf("the confirmation mail:\n%s", msg)
	}
	if bytes.Contains(link, []byte("reader")) {
		t.Errorf("the link carries the address: %s", link)
	}

	// The link's page, in the site's look; its button confirms.
	if _, err := page.Eval(fmt.Sprintf("location.href = %q", link)); err != nil {
		t.Fatal(err)
	}
	waitFor("the confirmation page", `document.readyState === "complete" && !!document.querySelector(".service form button")`)
	if got := waitFor("its button's colour", `getComputedStyle(document.querySelector(".service button")).backgroundColor`); got != siteButton {
		t.Errorf("the service's button is %s, the site's %s: the page is not in the site's look", got, siteButton)
	}
	if code, out, _ := rounds("subscribers", "list", "--config", config, "--unmasked"); code != 0 || !strings.Contains(out, reader+"  everything:pending") {
		t.Errorf("before the button: %s", out)
	}
	if _, err := page.Eval(`document.querySelector(".service form button").click(), "ok"`); err != nil {
		t.Fatal(err)
	}
	waitFor("the confirmed page", `document.readyState === "complete" && document.title.startsWith("Subscribed")`)

	// The next send reaches the reader.
	if code, out, errOut := rounds("send", "--config", config, "--list", "everything", "--now", now); code != 0 || !strings.Contains(out, "1 sent") {
		t.Fatalf("send: exit %d %s %s", code, out, errOut)
	}
	msgs := ts.Messages()[reader]
	if len(msgs) != 2 {
		t.Fatalf("the reader got %d messages, want the confirmation and the digest", len(msgs))
	}
	// One click, as a mail provider makes it.
	oneClick(t, msgs[1], "new.reader")
	code, out, errOut := rounds("send", "no-2-pregnancy-prevention-and-screening", "--config", config, "--list", "everything", "--now", now)
	if code != 0 || !strings.Contains(out, "0 sent") || len(ts.Messages()[reader]) != 2 {
		t.Errorf("the send after leaving: exit %d %s %s", code, out, errOut)
	}
}
