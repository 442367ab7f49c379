package digest

import (
	"slices"
	"strconv"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/site"
	"github.com/rounds-health/rounds/generator/smtptest"
	"github.com/rounds-health/rounds/generator/subscribers"

	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/rounds-health/rounds/generator/leak"
)

var testNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// project makes a project of the example newsletter's content and theme
// with the [email] configuration extra, and returns its config file.
func project(t testing.TB, extra string) string {
	t.Helper()
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
	base, _, _ := strings.Cut(string(example), "\n[email]")
	// The example's own lists, then the test's email settings.
	lists := `
[[list]]
id = "everything"
name = "Rounds: every note"

[[list]]
id = "clinicians"
name = "Rounds for clinicians"
audience = ["clinicians"]

[[list]]
id = "patients"
name = "Rounds for patients"
audience = ["patients", "public"]

[[list]]
id = "oncology"
name = "Oncology"
topics = ["oncology"]
`
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(base+"\n"+extra+lists), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

const emailConfig = `
[email]
from = "Rounds Editors <editors@example.org>"
unsubscribe_url = "https://example.org/rounds/unsubscribe/?list={list}&token={token}"
unsubscribe_mailto = "unsubscribe@example.org"
postal_address = "Rounds Editors, 1 Test Street, Springfield, MA 01101, USA"
`

// load loads the project's site and latest edition.
func load(t testing.TB, cfgPath string) (*site.Site, *content.Edition, *Templates) {
	t.Helper()
	cfg, err := config.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	site, err := site.Load(cfg, &site.Options{Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	ed, err := Edition(site, "")
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := LoadTemplates(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return site, ed, tmpl
}

func TestRender(t *testing.T) {
	site, ed, tmpl := load(t, project(t, emailConfig))
	cfg := site.Config
	for _, l := range cfg.Lists {
		d, err := Render(tmpl, site, ed, l)
		if err != nil {
			t.Fatalf("%s: %v", l.ID, err)
		}
		if l.ID == "oncology" {
			if d != nil {
				t.Errorf("a list none of whose notes are in the edition got a digest")
			}
			continue
		}
		if d == nil || len(d.Notes) == 0 {
			t.Fatalf("%s: no digest", l.ID)
		}
		for _, n := range d.Notes {
			if !content.Carries(l, n) {
				t.Errorf("%s: carries %s, which is not for it", l.ID, n.Slug)
			}
			if !strings.Contains(d.HTML, n.Title) && !strings.Contains(d.HTML, htmlEscape(n.Title)) {
				t.Errorf("%s: HTML lacks %q", l.ID, n.Title)
			}
			if !strings.Contains(strings.Join(strings.Fields(d.Text), " "), n.Title) {
				t.Errorf("%s: text lacks %q", l.ID, n.Title)
			}
		}
		h := d.HTML
		for _, want := range []string{
			`width="600"`,
			`<span style="display:none;`, d.Preheader,
			"Medical disclaimer.", "It is not medical advice",
			`href="https://example.org/rounds/disclaimer/"`,
			`@media (prefers-color-scheme: dark)`,
			`<meta name="color-scheme" content="light dark"`,
		} {
			if !strings.Contains(h, want) {
				t.Errorf("%s: HTML lacks %q", l.ID, want)
			}
		}
		if !regexp.MustCompile(`href="https://example.org/rounds/editions/` + ed.Slug + `/"[^>]*>View in browser</a>`).MatchString(h) {
			t.Errorf("%s: no view-in-browser link", l.ID)
		}
		if !regexp.MustCompile(`<h1 style="[^"]*font-size: ?24px`).MatchString(h) {
			t.Errorf("%s: CSS was not inlined:\n%.2000s", l.ID, h)
		}
		if m := regexp.MustCompile(`(?:href|src)="(/|\.\.?/|#)`).FindString(h); m != "" {
			t.Errorf("%s: relative URL %s", l.ID, m)
		}
		if strings.Contains(d.Text, "<") && regexp.MustCompile(`<[a-z]+[ >]`).MatchString(d.Text) {
			t.Errorf("%s: the text part holds HTML", l.ID)
		}
		if !regexp.MustCompile(`Read the note \[\d+\]`).MatchString(d.Text) || !regexp.MustCompile(`(?m)^\[1\] https://`).MatchString(d.Text) {
			t.Errorf("%s: the text part has no numbered links:\n%s", l.ID, d.Text)
		}
		for _, line := range strings.Split(d.Text, "\n") {
			if len([]rune(line)) > 78 && !strings.HasPrefix(line, "[") && !strings.Contains(line, "https://") {
				t.Errorf("%s: text line of %d characters: %q", l.ID, len([]rune(line)), line)
			}
		}
	}
}

// TestRenderDeferredBodies renders the digests of a site loaded without
// its notes' bodies, as rounds digest and rounds send load it, with a
// digest template that shows each note's body: they are the digests of
// the site loaded whole.
func TestRenderDeferredBodies(t *testing.T) {
	cfgPath := project(t, emailConfig)
	tmplPath := filepath.Join(filepath.Dir(cfgPath), "themes", "default", "email", "digest.html")
	src, err := os.ReadFile(tmplPath)
	if err != nil {
		t.Fatal(err)
	}
	shown := strings.Replace(string(src), `<p><a class="button"`, `<div class="body">{{.Content}}</div><p><a class="button"`, 1)
	if shown == string(src) {
		t.Fatal("the digest template has no button to show the body before")
	}
	if err := os.WriteFile(tmplPath, []byte(shown), 0o644); err != nil {
		t.Fatal(err)
	}
	whole, ed, tmpl := load(t, cfgPath)
	deferred, err := site.Load(whole.Config, &site.Options{Now: testNow, DeferBodies: true})
	if err != nil {
		t.Fatal(err)
	}
	ded, err := Edition(deferred, ed.Slug)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range whole.Config.Lists {
		want, err := Render(tmpl, whole, ed, l)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Render(tmpl, deferred, ded, l)
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			if got != nil {
				t.Errorf("%s: a digest from the deferred site, none from the whole", l.ID)
			}
			continue
		}
		if got == nil || got.HTML != want.HTML || got.Text != want.Text {
			t.Errorf("%s: the digest of the deferred site differs from the whole site's", l.ID)
		}
		body := regexp.MustCompile(`<div class="body"[^>]*>\s*<(p|h2)`).FindAllString(want.HTML, -1)
		if len(body) != len(want.Notes) {
			t.Errorf("%s: %d notes' bodies shown, want %d", l.ID, len(body), len(want.Notes))
		}
	}
}

func TestRenderRefusesBrokenEmail(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{`<img src="https://example.org/x.png">`, `<a href="/notes/">x</a>`, `<table width="800"></table>`} {
		if err := checkHTML("<p>" + bad + "</p>"); err == nil {
			t.Errorf("checkHTML accepted %s", bad)
		}
	}
	if err := checkHTML(`<img src="https://example.org/x.png" alt=""><a href="mailto:a@example.org">x</a><table width="100%"></table>`); err != nil {
		t.Errorf("checkHTML refused good email HTML: %v", err)
	}
}

// parsed is a message parsed back: its headers and its two parts.
type parsed struct {
	header     mail.Header
	text, html string
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	p := parsed{header: m.Header}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var order []string
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, cp, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if cp["charset"] != "UTF-8" && cp["charset"] != "utf-8" {
			t.Errorf("%s part charset %q", ct, cp["charset"])
		}
		body, err := io.ReadAll(part) // multipart decodes quoted-printable
		if err != nil {
			t.Fatal(err)
		}
		order = append(order, ct)
		switch ct {
		case "text/plain":
			p.text = string(body)
		case "text/html":
			p.html = string(body)
		}
	}
	if strings.Join(order, ",") != "text/plain,text/html" {
		t.Errorf("parts %v, want text/plain then text/html", order)
	}
	return p
}

func TestCompose(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "dkim.pem")
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600)
	cfgPath := project(t, emailConfig+`dkim_domain = "example.org"
dkim_selector = "rounds"
dkim_key_file = "`+keyFile+`"
`)
	t.Setenv("ROUNDS_UNSUBSCRIBE_SECRET", "a-long-enough-test-secret")
	site, ed, tmpl := load(t, cfgPath)
	// A title with a line break and a header after it must not add one.
	ed.Title = "Rounds No. 3 — Ménière’s\r\nBcc: victim@example.net"
	list := site.Config.List("everything")
	d, err := Render(tmpl, site, ed, list)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewComposer(site.Config, true)
	if err != nil {
		t.Fatal(err)
	}
	// Sending needs the postal address every digest shows; review does not.
	noPostal := *site.Config
	noPostal.Email.PostalAddress = ""
	if _, err := NewComposer(&noPostal, true); err == nil || !strings.Contains(err.Error(), "email.postal_address: missing") {
		t.Errorf("a send without a postal address: %v", err)
	}
	if _, err := NewComposer(&noPostal, false); err != nil {
		t.Errorf("a review without a postal address: %v", err)
	}
	// Evidence labels carry their band, by colour and by word, as the
	// site's do: a weak grade is never painted as a strong one.
	bands := regexp.MustCompile(`label-evidence strength-(\w+)"[^>]*>([^<]*)<`).FindAllStringSubmatch(d.HTML, -1)
	if len(bands) == 0 {
		t.Error("no evidence labels in the digest")
	}
	seen := map[string]bool{}
	for _, m := range bands {
		seen[m[1]] = true
		if !strings.HasSuffix(m[2], ": "+m[1]) {
			t.Errorf("label %q in band %s does not say it", m[2], m[1])
		}
	}
	if !seen["strong"] || !seen["weak"] {
		t.Errorf("the digest's labels are not told apart by band: %v", seen)
	}
	htmlPart, textPart := d.Personal("https://example.org/u")
	for _, part := range []string{htmlPart, textPart} {
		if !strings.Contains(part, "1 Test Street, Springfield") {
			t.Errorf("no postal address in the footer:\n%s", part)
		}
	}
	sub := &Subscriber{Email: "zoe@example.net", Name: "Zoë Ångström", Lists: []string{"everything"}, Status: "subscribed"}
	raw, err := c.Compose(d, sub, testNow)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := c.Compose(d, sub, testNow)
	p := parse(t, raw)
	h := p.header
	dec := new(mime.WordDecoder)
	subject, _ := dec.DecodeHeader(h.Get("Subject"))
	if subject != "Rounds Example: Rounds No. 3 — Ménière’s Bcc: victim@example.net" {
		t.Errorf("Subject %q", subject)
	}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	if _, ok := h["Bcc"]; ok || bytes.Contains(head, []byte("\nBcc:")) {
		t.Error("a line break in a title made a header")
	}
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Zoë Ångström" || to[0].Address != "zoe@example.net" {
		t.Errorf("To %q: %v %v", h.Get("To"), to, err)
	}
	id := h.Get("Message-Id")
	if !regexp.MustCompile(`^<` + ed.Slug + `\.everything\.[0-9a-f]{20}@example\.org>$`).MatchString(id) {
		t.Errorf("Message-ID %q", id)
	}
	if p2 := parse(t, again); p2.header.Get("Message-Id") != id {
		t.Error("the Message-ID changes from one composition to the next")
	}
	if h.Get("List-Id") != "Rounds: every note <everything.example.org>" {
		t.Errorf("List-Id %q", h.Get("List-Id"))
	}
	unsub := c.UnsubscribeURL("everything", sub, testNow)
	if got := h.Get("List-Unsubscribe"); got != "<mailto:unsubscribe@example.org?subject=unsubscribe%20everything>, <"+unsub+">" {
		t.Errorf("List-Unsubscribe %q", got)
	}
	if !regexp.MustCompile(`^https://example\.org/rounds/unsubscribe/\?list=everything&token=[0-9a-f]{32}$`).MatchString(unsub) {
		t.Errorf("unsubscribe URL %q", unsub)
	}
	if h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post %q", h.Get("List-Unsubscribe-Post"))
	}
	if !strings.Contains(p.text, unsub) || !strings.Contains(p.html, htmlEscape(unsub)) {
		t.Error("the subscriber's unsubscribe link is not in both parts")
	}
	if strings.Contains(string(raw), unsubscribeMark) {
		t.Error("the unsubscribe placeholder is left in the message")
	}

	// DKIM: the signature verifies against the public key, and covers
	// the List-Unsubscribe headers.
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	verifications, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != "rounds._domainkey.example.org" {
				return nil, fmt.Errorf("no record for %s", domain)
			}
			return []string{"v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub)}, nil
		},
	})
	if err != nil || len(verifications) != 1 || verifications[0].Err != nil {
		t.Fatalf("DKIM: %v %+v", err, verifications)
	}
	signed := strings.Join(verifications[0].HeaderKeys, ",")
	for _, k := range []string{"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "From", "Subject", "Message-ID"} {
		if !strings.Contains(strings.ToLower(signed), strings.ToLower(k)) {
			t.Errorf("DKIM does not sign %s (signs %s)", k, signed)
		}
	}
	// A tampered message fails.
	tampered := bytes.Replace(raw, []byte("List-Unsubscribe-Post: List-Unsubscribe=One-Click"), []byte("List-Unsubscribe-Post: nothing"), 1)
	v, _ := dkim.VerifyWithOptions(bytes.NewReader(tampered), &dkim.VerifyOptions{LookupTXT: func(string) ([]string, error) {
		return []string{"v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pub)}, nil
	}})
	if len(v) != 1 || v[0].Err == nil {
		t.Error("DKIM verified a tampered List-Unsubscribe-Post")
	}
}

func TestReadSubscribers(t *testing.T) {
	t.Parallel()
	in := "email,name,lists,status\n" +
		"ann@example.org,Ann,clinicians;patients,subscribed\n" +
		"not-an-address,Bob,clinicians,subscribed\n" +
		"cat@example.org,Cat,clinicians,unsubscribed\n" +
		"ANN@example.org,Ann again,patients,subscribed\n" +
		"dan@example.org,Dan,patients,maybe\n" +
		"eve@example.org,,patients,\n"
	subs, err := ReadSubscribers("subscribers.csv", strings.NewReader(in))
	got := fmt.Sprint(err)
	for _, want := range []string{
		`subscribers.csv:3: email: "n***" is not an address`,
		`subscribers.csv:5: email: a***@example.org is also on line 2`,
		`subscribers.csv:6: status: "maybe"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in %v", want, got)
		}
	}
	if strings.Contains(got, "ann@example.org") || strings.Contains(got, "not-an-address") {
		t.Errorf("an error shows an address: %v", got)
	}
	if len(subs) != 3 || !subs[0].Active("patients") || subs[1].Active("clinicians") || !subs[2].Active("patients") {
		t.Errorf("subscribers %+v", subs)
	}
	if leak.Mask("ann@example.org") != "a***@example.org" {
		t.Errorf("Mask = %q", leak.Mask("ann@example.org"))
	}
}

// sender returns a sender to ts for the project, with its ledger in dir.
func sender(t testing.TB, ts *smtptest.Server, c *Composer, l Ledger) *Sender {
	return &Sender{
		Host: "127.0.0.1", Port: ts.Port, Security: "starttls", TLS: ts.ClientTLS(),
		Username: smtptest.User, Password: smtptest.Password,
		Connections: 3, Retries: 2, Backoff: time.Millisecond, PauseAfter: 5, Pause: time.Millisecond,
		Timeout: 5 * time.Second, Composer: c, Ledger: l,
		Now: func() time.Time { return testNow },
	}
}

// setup renders the clinicians digest and returns what sending it needs.
func setup(t *testing.T) (*Digest, *Composer, string) {
	t.Helper()
	site, ed, tmpl := load(t, project(t, emailConfig))
	d, err := Render(tmpl, site, ed, site.Config.List("clinicians"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := newComposerWithSecret(site.Config)
	if err != nil {
		t.Fatal(err)
	}
	return d, c, t.TempDir()
}

// newComposerWithSecret makes a composer without touching the process's
// environment, so tests can run in parallel.
func newComposerWithSecret(cfg *config.Config) (*Composer, error) {
	c := &Composer{cfg: cfg, secret: []byte("a-long-enough-test-secret")}
	return c, nil
}

// plan returns the plan of a send to the clinicians list.
func plan(t testing.TB, l Ledger, subs []*Subscriber, opts PlanOptions) *Plan {
	t.Helper()
	p, err := PlanSend(l, "clinicians", subs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSendExactlyOnce(t *testing.T) {
	t.Parallel()
	ts := smtptest.New(t, false)
	d, c, dir := setup(t)
	subs, err := ReadSubscribers("s.csv", strings.NewReader(smtptest.Subscribers(25, "clinicians")+
		"gone@example.net,Gone,clinicians,unsubscribed\nother@example.net,Other,patients,subscribed\n"))
	if err != nil {
		t.Fatal(err)
	}
	for run := 1; run <= 2; run++ {
		l, err := OpenFileLedger(dir, d.Edition.Slug, "clinicians")
		if err != nil {
			t.Fatal(err)
		}
		p := plan(t, l, subs, PlanOptions{Record: true})
		todo := p.Todo()
		if run == 1 && (len(todo) != 25 || p.Handled != 0) || run == 2 && (len(todo) != 0 || p.Handled != 25) {
			t.Fatalf("run %d: %d to send, %d handled", run, len(todo), p.Handled)
		}
		got, err := sender(t, ts, c, l).Send(context.Background(), d, todo)
		l.Close()
		if err != nil {
			t.Fatal(err)
		}
		if run == 1 && got.Sent != 25 {
			t.Errorf("run 1: %+v", got)
		}
	}
	msgs := ts.Messages()
	if len(msgs) != 25 {
		t.Errorf("%d recipients got mail, want 25", len(msgs))
	}
	for to, m := range msgs {
		if len(m) != 1 {
			t.Errorf("%s got %d messages", to, len(m))
		}
		if strings.HasPrefix(to, "gone") || strings.HasPrefix(to, "other") {
			t.Errorf("%s is not subscribed to the list but got it", to)
		}
		p := parse(t, m[0])
		if !strings.Contains(p.header.Get("To"), to) || !strings.Contains(p.html, "Read the note") {
			t.Errorf("%s: message %q", to, p.header.Get("To"))
		}
	}
	if ts.Logins == 0 || ts.Logins > 3 {
		t.Errorf("%d logins for 3 connections: connections are not reused", ts.Logins)
	}
	data, _ := os.ReadFile(filepath.Join(dir, d.Edition.Slug, "clinicians.jsonl"))
	if bytes.Contains(data, []byte("reader1@example.net")) {
		t.Error("the ledger holds a subscriber's address")
	}
}

func TestSendReplies(t *testing.T) {
	t.Parallel()
	ts := smtptest.New(t, false)
	tries := map[string]int{}
	ts.Rcpt = func(to string) error {
		ts.Mu.Lock()
		defer ts.Mu.Unlock()
		tries[to]++
		switch {
		case to == "reader1@example.net" && tries[to] <= 2:
			return smtptest.Reply(451, "greylisted, try again later")
		case to == "reader2@example.net":
			return smtptest.Reply(550, "no such user")
		case to == "reader3@example.net":
			return smtptest.Reply(452, "mailbox full")
		}
		return nil
	}
	ts.Data = func(to string, msg []byte) error {
		if to == "reader4@example.net" {
			return smtptest.Reply(554, "rejected as spam")
		}
		return nil
	}
	d, c, dir := setup(t)
	subs, _ := ReadSubscribers("s.csv", strings.NewReader(smtptest.Subscribers(6, "clinicians")))
	l, err := OpenFileLedger(dir, d.Edition.Slug, "clinicians")
	if err != nil {
		t.Fatal(err)
	}
	todo := plan(t, l, subs, PlanOptions{Record: true}).Todo()
	rep, err := sender(t, ts, c, l).Send(context.Background(), d, todo)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != 3 || rep.Failed != 2 || rep.Deferred != 1 {
		t.Errorf("report %+v; want 3 sent (one after two 451s), 2 failed (550, 554), 1 deferred (452)", rep)
	}
	latest, _ := l.Load()
	for i, want := range []State{Sent, Sent, Failed, Deferred, Failed, Sent} {
		if r := latest[Key("reader"+strconv.Itoa(i)+"@example.net")]; r.State != want {
			t.Errorf("reader%d: %s (%d %s), want %s", i, r.State, r.Code, r.Reason, want)
		}
	}
	if tries["reader3@example.net"] != 3 {
		t.Errorf("a 452 was tried %d times, want 1 + 2 retries", tries["reader3@example.net"])
	}
	// The next run retries only the deferred address.
	todo = plan(t, l, subs, PlanOptions{Record: true}).Todo()
	if len(todo) != 1 || todo[0].Email != "reader3@example.net" {
		t.Errorf("the next run would send to %v", todo)
	}
	l.Close()

	// A second send of the same edition and list cannot run alongside.
	l1, err := OpenFileLedger(dir, d.Edition.Slug, "clinicians")
	if err != nil {
		t.Fatal(err)
	}
	defer l1.Close()
	if _, err := OpenFileLedger(dir, d.Edition.Slug, "clinicians"); err == nil || !strings.Contains(err.Error(), "another send") {
		t.Errorf("a concurrent send was allowed: %v", err)
	}
}

// TestSendImplicitTLS sends over TLS from the first byte (port 465).
func TestSendImplicitTLS(t *testing.T) {
	t.Parallel()
	ts := smtptest.NewTLS(t)
	d, c, dir := setup(t)
	subs, _ := ReadSubscribers("s.csv", strings.NewReader(smtptest.Subscribers(3, "clinicians")))
	l, _ := OpenFileLedger(dir, d.Edition.Slug, "clinicians")
	defer l.Close()
	s := sender(t, ts, c, l)
	s.Security = "tls"
	rep, err := s.Send(context.Background(), d, subs)
	if err != nil || rep.Sent != 3 || len(ts.Messages()) != 3 {
		t.Errorf("over implicit TLS: %+v %v", rep, err)
	}
	// A server whose certificate is not trusted is refused.
	s2 := sender(t, ts, c, l)
	s2.Security, s2.TLS = "tls", nil
	s2.Retries = 0
	l2, _ := OpenFileLedger(t.TempDir(), d.Edition.Slug, "clinicians")
	defer l2.Close()
	s2.Ledger = l2
	if _, err := s2.Send(context.Background(), d, subs[:1]); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("an untrusted certificate: %v", err)
	}
}

func TestSendAuthFailure(t *testing.T) {
	t.Parallel()
	ts := smtptest.New(t, false)
	d, c, dir := setup(t)
	subs, _ := ReadSubscribers("s.csv", strings.NewReader(smtptest.Subscribers(2, "clinicians")))
	l, _ := OpenFileLedger(dir, d.Edition.Slug, "clinicians")
	defer l.Close()
	s := sender(t, ts, c, l)
	s.Password = "wrong"
	_, err := s.Send(context.Background(), d, subs)
	if err == nil || !strings.Contains(err.Error(), "AUTH") {
		t.Errorf("a wrong password: %v", err)
	}
	if len(ts.Messages()) != 0 {
		t.Error("mail was sent without authentication")
	}
	if latest, _ := l.Load(); len(latest) != 0 {
		t.Errorf("the ledger recorded deliveries that never happened: %v", latest)
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// runPlan runs a send of d to subs as the CLI does, on the ledger open
// gives, closed after: a real run (opts.Record) sends to the plan's Todo,
// a dry run only plans. It returns the plan and the run's report.
func runPlan(t *testing.T, open func() (Ledger, error), ts *smtptest.Server, c *Composer, d *Digest, subs []*Subscriber, opts PlanOptions) (*Plan, SendReport) {
	t.Helper()
	l, err := open()
	if err != nil {
		t.Fatal(err)
	}
	p := plan(t, l, subs, opts)
	var rep SendReport
	if opts.Record {
		rep, err = sender(t, ts, c, l).Send(context.Background(), d, p.Todo())
	}
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	return p, p.Report(rep)
}

// checkUnknown checks that the plan lists exactly the subscriber to as
// unknown, masked.
func checkUnknown(t *testing.T, p *Plan, to string) {
	t.Helper()
	if len(p.Unknown) != 1 {
		t.Fatalf("%d unknown deliveries listed, want 1 (%s): %+v", len(p.Unknown), leak.Mask(to), p.Unknown)
	}
	r := p.Unknown[0]
	local, _, _ := strings.Cut(to, "@")
	if r.Key != Key(to) || r.State != Unknown || r.Masked != leak.Mask(to) || strings.Contains(r.Masked, local) {
		t.Errorf("unknown delivery listed as %+v, want %s, state unknown, masked %s", r, Key(to), leak.Mask(to))
	}
}

// messageID returns the Message-ID of a raw message.
func messageID(t *testing.T, raw []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return m.Header.Get("Message-Id")
}

// TestNewSender takes the server from [email.smtp] and the credentials
// from the environment.
func TestNewSender(t *testing.T) {
	t.Setenv("ROUNDS_SMTP_USERNAME", "editor")
	t.Setenv("ROUNDS_SMTP_PASSWORD", "secret")
	cfg, err := config.ParseConfig("config.toml", []byte(`title = "T"
base_url = "https://example.org/"
disclaimer = "Not medical advice."
[email.smtp]
host = "smtp.example.org"
port = 465
security = "tls"
pause = "1m"
`))
	if err != nil {
		t.Fatal(err)
	}
	s := NewSender(cfg.Email.SMTP, nil, nil)
	if s.Host != "smtp.example.org" || s.Port != 465 || s.Security != "tls" || s.Connections != 4 || s.Retries != 3 {
		t.Errorf("server: %+v", s)
	}
	if s.Pause != time.Minute || s.Timeout != 30*time.Second || s.PauseAfter != 10 || s.Backoff != 2*time.Second {
		t.Errorf("pacing: %+v", s)
	}
	if s.Username != "editor" || s.Password != "secret" {
		t.Errorf("credentials: %q %q", s.Username, s.Password)
	}
}

// TestUnsubscribeToken composes a digest whose unsubscribe link is, by
// default, the subscribers service's: a signed token that names the
// subscriber by a keyed hash, the list and the subscription, and no
// address anywhere in the link.
func TestUnsubscribeToken(t *testing.T) {
	const secret = "a-long-enough-test-secret"
	t.Setenv("ROUNDS_UNSUBSCRIBE_SECRET", secret)
	cfgPath := project(t, `
[email]
from = "Rounds Editors <editors@example.org>"
postal_address = "1 Test Street, Springfield, MA 01101, USA"

[subscribers]
url = "https://lists.example.org/rounds/"
`)
	s, ed, tmpl := load(t, cfgPath)
	d, err := Render(tmpl, s, ed, s.Config.List("everything"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewComposer(s.Config, true)
	if err != nil {
		t.Fatal(err)
	}
	sub := &Subscriber{Email: "zoe@example.net", Lists: []string{"everything"}, Status: "subscribed", Ref: "sub-1"}
	raw, err := c.Compose(d, sub, testNow)
	if err != nil {
		t.Fatal(err)
	}
	h := parse(t, raw).header
	m := regexp.MustCompile(`^<https://lists\.example\.org/rounds/unsubscribe\?token=([A-Za-z0-9_%.-]+)>$`).FindStringSubmatch(h.Get("List-Unsubscribe"))
	if m == nil || h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe %q, -Post %q", h.Get("List-Unsubscribe"), h.Get("List-Unsubscribe-Post"))
	}
	if strings.Contains(strings.ToLower(m[0]), "zoe") {
		t.Errorf("the link carries the address: %s", m[0])
	}
	token, _ := url.QueryUnescape(m[1])
	tok, err := subscribers.Verify([]byte(secret), token, subscribers.PurposeUnsubscribe, testNow.Add(60*24*time.Hour))
	if err != nil {
		t.Fatalf("the token does not verify 60 days on: %v", err)
	}
	if tok.Key != subscribers.Key([]byte(secret), "zoe@example.net") || !slices.Equal(tok.Lists, []string{"everything"}) || tok.Ref != "sub-1" {
		t.Errorf("token %+v", tok)
	}
	if !bytes.Contains(raw, []byte("unsubscribe?token=")) {
		t.Error("the footer's link is not the service's")
	}
	// Sending needs the secret; reviewing does not.
	t.Setenv("ROUNDS_UNSUBSCRIBE_SECRET", "")
	if _, err := NewComposer(s.Config, true); err == nil || !strings.Contains(err.Error(), "$ROUNDS_UNSUBSCRIBE_SECRET") {
		t.Errorf("a send without the secret: %v", err)
	}
	if c, err := NewComposer(s.Config, false); err != nil || !c.Preview() {
		t.Errorf("a review without the secret: %v", err)
	}
}
