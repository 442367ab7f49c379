package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rounds-health/rounds/generator/digest"
	"github.com/rounds-health/rounds/generator/imaptest"
	"github.com/rounds-health/rounds/generator/s3test"
	"github.com/rounds-health/rounds/generator/smtptest"
	"github.com/rounds-health/rounds/generator/subscribers"
)

// messageID returns the Message-ID header of a raw message.
func messageID(raw []byte) string {
	m := regexp.MustCompile(`(?mi)^Message-ID:\s*(\S+)`).FindSubmatch(raw)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// copyTree copies the folder src into dst: a test's project gets copies
// of the example's files, as a build does not follow links out of it.
func copyTree(t *testing.T, dst, src string) {
	t.Helper()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
}

// exampleProject copies the bundled example (its content, themes and
// config.toml, with extra appended) into a temporary folder, and returns
// the folder and its config file.
func exampleProject(t *testing.T, extra string) (dir, config string) {
	t.Helper()
	dir = t.TempDir()
	for _, d := range []string{"content", "themes"} {
		copyTree(t, filepath.Join(dir, d), d)
	}
	example, err := os.ReadFile("config.toml")
	if err != nil {
		t.Fatal(err)
	}
	config = filepath.Join(dir, "config.toml")
	if err := os.WriteFile(config, append(example, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, config
}

// rounds runs the command with args and returns its exit code and output.
func rounds(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		code int
		out  string // expected in stdout
		err  string // expected in stderr
	}{
		{nil, 2, "", "Usage:"},
		{[]string{"help"}, 0, "Commands:", ""},
		{[]string{"--help"}, 0, "Commands:", ""},
		{[]string{"frobnicate"}, 2, "", `unknown command "frobnicate"`},
		{[]string{"build", "--help"}, 0, "Usage: rounds build", ""},
		{[]string{"build", "-h"}, 0, "--drafts", ""},
		{[]string{"new", "--help"}, 0, "Usage: rounds new", ""},
		{[]string{"build", "--bogus"}, 2, "", "flag provided but not defined: -bogus"},
		{[]string{"build", "extra"}, 2, "", `unexpected argument "extra"`},
		{[]string{"build", "--now", "someday"}, 2, "", `--now: cannot read "someday" as a time`},
		{[]string{"new", "poem"}, 2, "", `want "note" and a quoted title`},
		{[]string{"new", "note"}, 2, "", `want "note" and a quoted title`},
		{[]string{"version"}, 0, "rounds ", ""},
		{[]string{"--version"}, 0, runtime.Version(), ""},
		{[]string{"build", "--bogus"}, 2, "", "Usage: rounds build"},
		{[]string{"fetch", "--help"}, 0, "Usage: rounds fetch", ""},
		{[]string{"inbox", "--help"}, 0, "--since", ""},
		{[]string{"inbox", "extra"}, 2, "", `unexpected argument "extra"`},
		{[]string{"inbox", "--since", "last week"}, 2, "", `cannot read "last week"`},
		{[]string{"sources", "--help"}, 0, "Usage: rounds sources", ""},
		{[]string{"sources", "import"}, 2, "", "want list, import FILE.opml or export"},
		{[]string{"sources", "delete"}, 2, "", "want list, import FILE.opml or export"},
		{[]string{"new", "edition", "--from", "abc123"}, 2, "", `"note --from ID"`},
	} {
		code, out, errOut := rounds(tc.args...)
		if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.err) {
			t.Errorf("rounds %q: exit %d, stdout %q, stderr %q; want exit %d, %q, %q", tc.args, code, out, errOut, tc.code, tc.out, tc.err)
		}
	}
}

// TestSynopses checks that each command's usage line names every flag the
// command declares, and that --help prints the usage once, on stdout.
func TestSynopses(t *testing.T) {
	t.Parallel()
	for _, c := range commands {
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.flags(fs, &shared{})
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(c.synopsis, "--"+f.Name+" ") && !strings.Contains(c.synopsis, "--"+f.Name+"]") {
				t.Errorf("rounds %s: the usage line %q does not name --%s", c.name, c.synopsis, f.Name)
			}
		})
		code, out, errOut := rounds(c.name, "--help")
		if code != 0 || strings.Count(out, "Usage: rounds "+c.name) != 1 || errOut != "" {
			t.Errorf("rounds %s --help: exit %d, stdout %q, stderr %q; want the usage once, on stdout", c.name, code, out, errOut)
		}
	}
}

func TestBuildExample(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "site")
	code, stdout, stderr := rounds("build", "--out", out, "--now", "2026-11-28")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "rounds: built 15 notes, 3 editions,") {
		t.Errorf("stdout: %q", stdout)
	}
	if _, err := os.Stat(filepath.Join(out, "index.html")); err != nil {
		t.Error(err)
	}
}

func TestBuildErrorsExitOne(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	write(t, cfg, "title = \"T\"\nbase_url = \"https://example.org/\"\ntheme = \"missing\"\ndisclaimer = \"Not medical advice.\"\n")
	write(t, filepath.Join(dir, "content/notes/a.md"), "+++\ntitle = \"A\"\ndate = yesterday\n+++\n")
	code, _, stderr := rounds("build", "--config", cfg)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "config.toml:3: theme:") || !strings.Contains(lines[1], "a.md:3: date:") || lines[2] != "rounds build: 2 errors" {
		t.Errorf("stderr: %q", stderr)
	}
	code, _, stderr = rounds("build", "--config", filepath.Join(dir, "nope.toml"))
	if code != 1 || !strings.Contains(stderr, "nope.toml") {
		t.Errorf("missing config: exit %d, %q", code, stderr)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	write(t, cfg, "title = \"Weekly\"\nbase_url = \"https://example.org/\"\ndisclaimer = \"Not medical advice.\"\n")
	code, stdout, stderr := rounds("new", "--config", cfg, "--now", "2026-11-02T09:00:00Z", "note", "Statins after 75: what's new?")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	path := strings.TrimSpace(stdout)
	if filepath.Base(path) != "statins-after-75-what-s-new.md" {
		t.Errorf("path %q", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"title = \"Statins after 75: what's new?\"", "date = 2026-11-02T09:00:00Z", "draft = true", "[source]", "## Why it matters"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("scaffold lacks %q", want)
		}
	}
	if code, _, stderr := rounds("new", "--config", cfg, "note", "Statins after 75: what's new?"); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Errorf("second new note: exit %d, %q", code, stderr)
	}
	code, stdout, _ = rounds("new", "--config", cfg, "--now", "2026-11-03", "edition")
	if code != 0 || filepath.Base(strings.TrimSpace(stdout)) != "weekly-no-1.md" {
		t.Errorf("new edition: exit %d, %q", code, stdout)
	}
	// The scaffolds build: drafts with --drafts, and nothing without.
	copyTree(t, filepath.Join(dir, "themes", "default"), filepath.Join("themes", "default"))
	if code, _, stderr := rounds("build", "--config", cfg, "--drafts", "--now", "2026-11-04"); code != 1 || !strings.Contains(stderr, `source.url`) && !strings.Contains(stderr, `url: "https://" is not an absolute`) {
		t.Errorf("an unfilled scaffold should fail on its placeholder URL: exit %d, %q", code, stderr)
	}
}

func write(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWireCommands runs fetch, sources, inbox and new note --from against
// feeds served on loopback.
func TestWireCommands(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Join("feeds", "testdata", "wire"))))
	defer srv.Close()
	dir := t.TempDir()
	config := filepath.Join(dir, "config.toml")
	os.WriteFile(config, []byte(`title = "T"
base_url = "https://example.org/"
disclaimer = "Not medical advice."
[wire]
days = 90
allow_private = true
[[source]]
name = "BMJ"
url = "`+srv.URL+`/bmj.xml"
kind = "journal"
[[source]]
name = "NEJM"
url = "`+srv.URL+`/challenge.html"
kind = "journal"
`), 0o644)
	code, out, errOut := rounds("fetch", "--config", config)
	if code != 0 || !strings.Contains(out, "ok    bmj ") || !strings.Contains(out, "FAIL  nejm ") ||
		!strings.Contains(out, "2 sources: 1 updated, 0 not modified, 1 failed") || !strings.Contains(out, "0 items kept, 1 failure in a row") ||
		!strings.Contains(errOut, "1 source failing, with no items kept from an earlier fetch") {
		t.Errorf("fetch: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = rounds("fetch", "--config", config, "bmj")
	if code != 0 || !strings.Contains(out, "same  bmj ") || strings.Contains(out, "nejm") {
		t.Errorf("fetch bmj: exit %d\n%s", code, out)
	}
	if code, _, errOut := rounds("fetch", "--config", config, "nobody"); code != 1 || !strings.Contains(errOut, `no source "nobody"`) {
		t.Errorf("fetch of an unknown source: exit %d, %s", code, errOut)
	}
	code, out, _ = rounds("sources", "--config", config)
	if code != 0 || !strings.Contains(out, "bmj") || !strings.Contains(out, "failing (1 in a row)") {
		t.Errorf("sources: exit %d\n%s", code, out)
	}
	code, out, _ = rounds("sources", "export", "--config", config)
	if code != 0 || !strings.Contains(out, `<opml version="2.0">`) || !strings.Contains(out, `xmlUrl="`+srv.URL+`/bmj.xml"`) {
		t.Errorf("sources export: exit %d\n%s", code, out)
	}
	code, out, _ = rounds("inbox", "--config", config, "--now", "2026-11-28", "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 {
		t.Fatalf("inbox: exit %d\n%s", code, out)
	}
	var first struct{ ID, Title string }
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.ID == "" {
		t.Fatalf("inbox --json: %v: %s", err, lines[0])
	}
	code, out, errOut = rounds("new", "note", "--from", first.ID, "--config", config, "--now", "2026-11-28")
	if code != 0 || !strings.HasSuffix(strings.TrimSpace(out), ".md") {
		t.Fatalf("new note --from: exit %d %s %s", code, out, errOut)
	}
	code, out, _ = rounds("inbox", "--config", config, "--now", "2026-11-28")
	if code != 0 || strings.Contains(out, first.Title) || strings.Count(out, "https://www.bmj.com/") != 2 {
		t.Errorf("inbox after new note --from: exit %d\n%s", code, out)
	}
	// An empty inbox says so, on stderr, and lists nothing.
	code, out, errOut = rounds("inbox", "--config", config, "--now", "2026-11-28", "--topic", "oncology")
	if code != 0 || out != "" || !strings.Contains(errOut, "rounds inbox: nothing to curate: no wire items dated from 2026-08-30 on oncology that no note covers (2 sources") {
		t.Errorf("an empty inbox: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestHostileFeedText fetches a feed whose titles carry terminal escape
// sequences and TOML's special characters: rounds inbox prints none of
// the escapes, rounds new note --from writes a note the next build
// reads, and rounds sources import writes a config.toml that parses.
func TestHostileFeedText(t *testing.T) {
	t.Parallel()
	const title = "Statins \x1b[31mafter\x1b[0m 75: \"quoted\" \\ 'single' \x1b]0;owned\x07\u009b2J"
	feed := `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://example.org/</link>
<item><title>` + title + `</title><link>https://example.org/a</link><guid>a</guid><pubDate>Thu, 26 Nov 2026 08:00:00 GMT</pubDate>
<description>Body &#27;[2J text</description></item></channel></rss>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(feed))
	}))
	defer srv.Close()
	dir := t.TempDir()
	copyTree(t, filepath.Join(dir, "themes"), "themes")
	config := filepath.Join(dir, "config.toml")
	os.WriteFile(config, []byte(`title = "T"
base_url = "https://example.org/"
disclaimer = "Not medical advice."
[wire]
days = 90
allow_private = true
[[source]]
name = "Journal"
url = "`+srv.URL+`/feed.xml"
kind = "journal"
`), 0o644)
	if code, out, errOut := rounds("fetch", "--config", config); code != 0 || !strings.Contains(out, "1 updated") {
		t.Fatalf("fetch: exit %d\n%q%s", code, out, errOut)
	}
	code, out, _ := rounds("inbox", "--config", config, "--now", "2026-11-28")
	if code != 0 || !strings.Contains(out, "Statins") || strings.ContainsAny(out, "\x1b\x07\u009b") {
		t.Fatalf("inbox: exit %d, a control character printed: %q", code, out)
	}
	id, _, _ := strings.Cut(out, " ")
	code, out, errOut := rounds("new", "note", "--from", id, "--config", config, "--now", "2026-11-28")
	if code != 0 {
		t.Fatalf("new note --from: exit %d %s %s", code, out, errOut)
	}
	note, _ := os.ReadFile(strings.TrimSpace(out))
	if strings.ContainsAny(string(note), "\x1b\x07") {
		t.Errorf("the new note holds a control character:\n%s", note)
	}
	if code, _, errOut := rounds("build", "--config", config, "--drafts", "--now", "2026-11-28"); code != 0 {
		t.Errorf("the note that new note --from wrote does not build: %s\n%s", errOut, note)
	}
	opml := filepath.Join(dir, "feeds.opml")
	os.WriteFile(opml, []byte(`<?xml version="1.0"?><opml version="2.0"><head/><body>
<outline text="A &quot;quoted&quot; \ journal&#27;[31m" type="rss" xmlUrl="https://journal.example/rss"/></body></opml>`), 0o644)
	if code, out, errOut := rounds("sources", "import", opml, "--config", config); code != 0 {
		t.Fatalf("sources import: exit %d %s %s", code, out, errOut)
	}
	if code, out, errOut := rounds("sources", "--config", config); code != 0 || !strings.Contains(out, "journal.example") {
		t.Errorf("the imported config.toml: exit %d %s %s", code, out, errOut)
	}
}

// TestDigestAndSend renders the example's latest edition for review, then
// sends it to a list through a real SMTP server on loopback, twice: the
// second run sends nothing.
func TestDigestAndSend(t *testing.T) {
	ts := smtptest.New(t, true)
	dir := t.TempDir()
	for _, d := range []string{"content", "themes"} {
		copyTree(t, filepath.Join(dir, d), d)
	}
	example, _ := os.ReadFile("config.toml")
	base, _, _ := strings.Cut(string(example), "\n[email.smtp]")
	config := filepath.Join(dir, "config.toml")
	os.WriteFile(config, []byte(base+fmt.Sprintf(`
[email.smtp]
host = "127.0.0.1"
port = %d
security = "none"
connections = 2

[[list]]
id = "clinicians"
name = "Rounds for clinicians"
audience = ["clinicians"]
`, ts.Port)), 0o644)
	os.WriteFile(filepath.Join(dir, "subscribers.csv"), []byte(smtptest.Subscribers(5, "clinicians")), 0o600)
	sendingEnv(t)
	out := filepath.Join(t.TempDir(), "review")
	code, stdout, stderr := rounds("digest", "--config", config, "--out", out, "--now", "2026-11-28")
	if code != 0 || !strings.Contains(stdout, "clinicians       3 notes") {
		t.Fatalf("digest: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, f := range []string{"clinicians.html", "clinicians.txt", "clinicians.eml"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	code, stdout, stderr = rounds("send", "--config", config, "--list", "clinicians", "--dry-run", "--now", "2026-11-28")
	if code != 0 || strings.Count(stdout, "would send") != 5 || !strings.Contains(stdout, "r***@example.net") || strings.Contains(stdout, "reader1@") {
		t.Errorf("send --dry-run: exit %d\n%s%s", code, stdout, stderr)
	}
	if len(ts.Messages()) != 0 {
		t.Error("a dry run sent mail")
	}
	code, stdout, stderr = rounds("send", "--config", config, "--list", "clinicians", "--now", "2026-11-28")
	if code != 0 || !strings.Contains(stdout, "5 sent, 0 failed") {
		t.Fatalf("send: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = rounds("send", "--config", config, "--list", "clinicians", "--now", "2026-11-28")
	if code != 0 || !strings.Contains(stdout, "0 sent, 0 failed, 0 deferred (retried next run), 0 unknown, 5 already handled") {
		t.Errorf("second send: exit %d\n%s", code, stdout)
	}
	if got := ts.Messages(); len(got) != 5 {
		t.Errorf("%d recipients got mail, want 5", len(got))
	}
	// A send killed after reader1's final dot leaves it committing: every
	// run says so, until --resend-unknown sends it again.
	ledgers, _ := filepath.Glob(filepath.Join(dir, ".cache", "ledger", "*", "clinicians.jsonl"))
	if len(ledgers) != 1 {
		t.Fatalf("ledgers %v, want one", ledgers)
	}
	f, _ := os.OpenFile(ledgers[0], os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintf(f, `{"key":%q,"to":"r***@example.net","state":"committing","time":"2026-11-28T13:00:00Z"}`+"\n", digest.Key("reader1@example.net"))
	f.Close()
	for _, args := range [][]string{{"--dry-run"}, nil, nil} {
		code, stdout, _ = rounds(append([]string{"send", "--config", config, "--list", "clinicians", "--now", "2026-11-28"}, args...)...)
		if code != 0 || !strings.Contains(stdout, "unknown   r***@example.net since 2026-11-28T13:00:00Z") || !strings.Contains(stdout, "1 unknown") {
			t.Errorf("send %v after a crash: exit %d\n%s", args, code, stdout)
		}
	}
	code, stdout, _ = rounds("send", "--config", config, "--list", "clinicians", "--now", "2026-11-28", "--resend-unknown", "--dry-run")
	if code != 0 || !strings.Contains(stdout, "would resend  r***@example.net") || !strings.Contains(stdout, "1 to resend") {
		t.Errorf("send --resend-unknown --dry-run: exit %d\n%s", code, stdout)
	}
	code, stdout, _ = rounds("send", "--config", config, "--list", "clinicians", "--now", "2026-11-28", "--resend-unknown", "--force-unlock")
	if code != 0 || !strings.Contains(stdout, "1 sent") || !strings.Contains(stdout, "0 unknown") || !strings.Contains(stdout, "no lock to break") {
		t.Errorf("send --resend-unknown: exit %d\n%s", code, stdout)
	}
	if got := ts.Messages()["reader1@example.net"]; len(got) != 2 || messageID(got[0]) == "" || messageID(got[0]) != messageID(got[1]) {
		t.Errorf("reader1 got %d messages; a resend must carry the first one's Message-ID", len(got))
	}
	if code, _, stderr := rounds("send", "--config", config, "--now", "2026-11-28"); code != 2 || !strings.Contains(stderr, "--list") {
		t.Errorf("send without --list: exit %d %s", code, stderr)
	}
	if code, _, stderr := rounds("send", "--config", config, "--list", "nobody", "--now", "2026-11-28"); code != 1 || !strings.Contains(stderr, `no list "nobody"`) {
		t.Errorf("send to an unknown list: exit %d %s", code, stderr)
	}
}

// TestReviewWithoutSecrets reviews the example's digest and dry-runs its
// send with no secret set and no subscribers file: both work, the review
// marking its unsubscribe links as previews, and only a real send asks
// for the secret.
func TestReviewWithoutSecrets(t *testing.T) {
	dir, config := exampleProject(t, "")
	t.Setenv("ROUNDS_UNSUBSCRIBE_SECRET", "")
	t.Setenv("ROUNDS_DKIM_KEY", "")
	out := filepath.Join(t.TempDir(), "review")
	code, stdout, stderr := rounds("digest", "--config", config, "--out", out, "--now", "2026-11-28")
	if code != 0 || !strings.Contains(stderr, "the unsubscribe links carry PREVIEW-NOT-A-REAL-TOKEN") {
		t.Fatalf("digest without a secret: exit %d\n%s%s", code, stdout, stderr)
	}
	eml, _ := filepath.Glob(filepath.Join(out, "*.eml"))
	if len(eml) == 0 {
		t.Fatal("digest wrote no messages")
	}
	if raw, _ := os.ReadFile(eml[0]); !bytes.Contains(raw, []byte("token=PREVIEW-NOT-A-REAL-TOKEN")) {
		t.Errorf("%s: the unsubscribe link is not marked as a preview", eml[0])
	}
	code, stdout, stderr = rounds("send", "--config", config, "--list", "everything", "--dry-run", "--now", "2026-11-28")
	if code != 0 || !strings.Contains(stdout, "no subscribers yet (neither subscribers.csv nor the subscribers' log exists): nothing to send to list everything") {
		t.Errorf("send --dry-run without subscribers: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, ".cache", "ledger")); err == nil {
		t.Error("a dry run without subscribers made a ledger")
	}
	code, _, stderr = rounds("send", "--config", config, "--list", "everything", "--now", "2026-11-28")
	if code != 1 || !strings.Contains(stderr, "set $ROUNDS_UNSUBSCRIBE_SECRET") {
		t.Errorf("a real send without the secret: exit %d %s", code, stderr)
	}
}

// TestNightlyDryRun runs rounds nightly --dry-run on the example as it
// comes, with no secrets and no subscribers: every stage runs, and
// nothing is fetched, built into public/ or recorded.
func TestNightlyDryRun(t *testing.T) {
	t.Parallel()
	dir, config := exampleProject(t, "")
	// A day after the latest edition: within the window the send stage
	// sends in.
	code, stdout, stderr := rounds("nightly", "--config", config, "--now", "2026-11-22T06:00:00Z", "--dry-run")
	if code != 0 || !regexp.MustCompile(`nightly: fetch: dry run: \d+ sources not fetched`).MatchString(stdout) || !strings.Contains(stdout, "nightly: build: ") ||
		!strings.Contains(stdout, "no subscribers yet") {
		t.Errorf("nightly --dry-run: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, p := range []string{"public", ".cache"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
			t.Errorf("a dry run made %s", p)
		}
	}
}

// ed25519KeyPEM makes an Ed25519 private key in PEM, as DKIM takes it.
func ed25519KeyPEM() (string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), err
}

// TestPublishCommand builds the example and publishes it to a real
// S3-compatible server on loopback, with a dry run first.
func TestPublishCommand(t *testing.T) {
	srv := s3test.New(t)
	c := srv.Bucket(t, "newsletter")
	t.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	dir, config := exampleProject(t, "\n[publish]\nbucket = \"newsletter\"\nchecksums = \"when_required\"\nexclude = [\"uploads/\"]\n")
	if code, _, stderr := rounds("build", "--config", config, "--now", "2026-11-28"); code != 0 {
		t.Fatalf("build: %s", stderr)
	}
	code, stdout, stderr := rounds("publish", "--config", config, "--endpoint", srv.Endpoint, "--path-style", "--dry-run")
	if code != 0 || !strings.Contains(stdout, "upload  index.html") || !regexp.MustCompile(`plan: \d+ uploads`).MatchString(stdout) {
		t.Fatalf("publish --dry-run: exit %d\n%s%s", code, stdout, stderr)
	}
	if out, _ := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("newsletter")}); len(out.Contents) != 0 {
		t.Error("a dry run changed the bucket")
	}
	code, stdout, stderr = rounds("publish", "--config", config, "--endpoint", srv.Endpoint, "--path-style")
	if code != 0 || !strings.Contains(stdout, "rounds publish: s3://newsletter/ up to date:") {
		t.Fatalf("publish: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = rounds("publish", "--config", config, "--endpoint", srv.Endpoint, "--path-style", "--force-unlock")
	if code != 0 || !strings.Contains(stdout, "no lock to break") || !strings.Contains(stdout, "0 uploaded, 0 headers updated, 0 deleted") {
		t.Errorf("second publish, --force-unlock: exit %d\n%s", code, stdout)
	}
	// A reader whose address the built site holds (here the editors'
	// address, on the contact page) subscribes after the build: publish
	// checks the files it would upload and uploads none of them.
	before := s3test.Keys(t, c, "newsletter", "")
	contact := filepath.Join(dir, "content", "pages", "contact.md")
	data, _ := os.ReadFile(contact)
	os.WriteFile(contact, append(data, "\nUpdated.\n"...), 0o644)
	if code, _, stderr := rounds("build", "--config", config, "--now", "2026-11-28"); code != 0 {
		t.Fatalf("build: %s", stderr)
	}
	os.WriteFile(filepath.Join(dir, "subscribers.csv"), []byte("email,name,lists,status\nEditors@Example.org,Ed,everything,unsubscribed\n"), 0o600)
	code, stdout, stderr = rounds("publish", "--config", config, "--endpoint", srv.Endpoint, "--path-style")
	if code != 1 || !strings.Contains(stderr, "contact/index.html: holds the address of a subscriber (e***@example.org)") || !strings.Contains(stderr, "nothing was published") || strings.Contains(stderr+stdout, "editors@") {
		t.Errorf("publish of files with a subscriber's address: exit %d\n%s%s", code, stdout, stderr)
	}
	if after := s3test.Keys(t, c, "newsletter", ""); !slices.Equal(before, after) {
		t.Error("the refused publish changed the bucket")
	}
	if code, _, stderr := rounds("build", "--config", config, "--now", "2026-11-28"); code != 1 || !strings.Contains(stderr, "holds the address of a subscriber") {
		t.Errorf("build with a subscriber's address on a page: exit %d %s", code, stderr)
	}
	os.Remove(filepath.Join(dir, "subscribers.csv"))
	if code, _, stderr := rounds("publish", "--config", config, "--bucket", ""); code != 2 || !strings.Contains(stderr, "no bucket") {
		t.Errorf("publish without a bucket: exit %d %s", code, stderr)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	if code, _, stderr := rounds("publish", "--config", config, "--endpoint", srv.Endpoint, "--path-style"); code != 1 || !strings.Contains(stderr, "check the credentials") {
		t.Errorf("publish with bad credentials: exit %d %s", code, stderr)
	}
	// No credentials anywhere (and no instance to ask): one line that says
	// where they were looked for and how to set them.
	none := filepath.Join(t.TempDir(), "none")
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_SHARED_CREDENTIALS_FILE": none, "AWS_CONFIG_FILE": none,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": ""} {
		t.Setenv(k, v)
	}
	code, _, stderr = rounds("publish", "--config", config, "--endpoint", srv.Endpoint, "--path-style")
	if code != 1 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "no AWS credentials found: looked in $AWS_ACCESS_KEY_ID") || !strings.Contains(stderr, "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") {
		t.Errorf("publish without credentials: exit %d %q", code, stderr)
	}
}

// TestNightly runs the whole pipeline against loopback servers: feeds,
// an S3-compatible store and an SMTP server; then again, which sends
// nothing twice; then with a broken note, which stops it before publish.
func TestNightly(t *testing.T) {
	feedSrv := httptest.NewServer(http.FileServer(http.Dir(filepath.Join("feeds", "testdata", "wire"))))
	defer feedSrv.Close()
	s3srv := s3test.New(t)
	c := s3srv.Bucket(t, "newsletter")
	mail := smtptest.New(t, true)
	t.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	sendingEnv(t)

	dir := t.TempDir()
	for _, d := range []string{"content", "themes"} {
		copyTree(t, filepath.Join(dir, d), d)
	}
	example, _ := os.ReadFile("config.toml")
	base, _, _ := strings.Cut(string(example), "\n[wire]")
	email := string(example)[strings.Index(string(example), "\n[email]"):]
	email, _, _ = strings.Cut(email, "\n[email.smtp]")
	config := filepath.Join(dir, "config.toml")
	os.WriteFile(config, []byte(base+email+fmt.Sprintf(`
[email.smtp]
host = "127.0.0.1"
port = %d
security = "none"

[wire]
allow_private = true  # the test feeds are on loopback

[[list]]
id = "everything"
name = "Rounds: every note"

[[source]]
name = "BMJ"
url = "%s/bmj.xml"
kind = "journal"

[[source]]
name = "NEJM"
url = "%s/challenge.html"
kind = "journal"

[publish]
bucket = "newsletter"
endpoint = %q
path_style = true
checksums = "when_required"
`, mail.Port, feedSrv.URL, feedSrv.URL, s3srv.Endpoint)), 0o644)
	os.WriteFile(filepath.Join(dir, "subscribers.csv"), []byte(smtptest.Subscribers(3, "everything")), 0o600)

	// Edition 3 is dated 21 November; the nightly runs on the 22nd.
	code, stdout, stderr := rounds("nightly", "--config", config, "--now", "2026-11-22T06:00:00Z", "--skip", "links") // no link leaves loopback
	if code != 0 {
		t.Fatalf("nightly: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"nightly: fetch: 2 sources, 1 failing", "nightly: check:", "nightly: build:", "rounds publish: s3://newsletter/ up to date", "3 sent", "rounds nightly: done"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("nightly output lacks %q:\n%s", want, stdout)
		}
	}
	if got := mail.Messages(); len(got) != 3 {
		t.Errorf("%d subscribers got the edition, want 3", len(got))
	}
	if _, err := c.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("newsletter"), Key: aws.String("wire/index.html")}); err != nil {
		t.Errorf("the published site lacks the wire: %v", err)
	}

	code, stdout, _ = rounds("nightly", "--config", config, "--now", "2026-11-23T06:00:00Z", "--skip", "links")
	if code != 0 || !strings.Contains(stdout, "0 sent") || !strings.Contains(stdout, "3 already handled") {
		t.Errorf("second nightly: exit %d\n%s", code, stdout)
	}
	for to, msgs := range mail.Messages() {
		if len(msgs) != 1 {
			t.Errorf("%s got %d messages", to, len(msgs))
		}
	}
	// A week later the edition is past the send window: nothing is sent.
	code, stdout, _ = rounds("nightly", "--config", config, "--now", "2026-11-28T06:00:00Z", "--skip", "fetch,links")
	if code != 0 || strings.Contains(stdout, "rounds send:") {
		t.Errorf("nightly past the send window: exit %d\n%s", code, stdout)
	}

	// A broken note stops the pipeline at check: nothing is published.
	os.WriteFile(filepath.Join(dir, "content", "notes", "broken.md"), []byte("+++\ntitle = \"Broken\"\ndate = \"not a date\"\n+++\n"), 0o644)
	before, _ := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("newsletter")})
	code, stdout, stderr = rounds("nightly", "--config", config, "--now", "2026-11-28T06:00:00Z", "--skip", "fetch,links")
	if code != 1 || !strings.Contains(stderr, "broken.md:3: date") || !strings.Contains(stderr, "stopped at check") || strings.Contains(stdout, "nightly: build") {
		t.Errorf("nightly with a broken note: exit %d\n%s%s", code, stdout, stderr)
	}
	after, _ := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("newsletter")})
	if len(after.Contents) != len(before.Contents) {
		t.Error("a failed nightly changed the bucket")
	}

	// The subscribers kept in a private bucket are known to the build: a
	// note that names one stops the pipeline at build, before publish.
	os.Remove(filepath.Join(dir, "content", "notes", "broken.md"))
	private := s3srv.Bucket(t, "private")
	if _, err := private.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("private"), Key: aws.String("subscribers.csv"),
		Body: strings.NewReader(smtptest.Subscribers(3, "everything"))}); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "subscribers.csv"))
	t.Setenv("ROUNDS_SUBSCRIBERS", "s3://private/subscribers.csv")
	os.WriteFile(filepath.Join(dir, "content", "notes", "tip.md"), []byte(`+++
title = "A tip"
date = 2026-11-27T00:00:00Z
source = "https://example.org/tip"
+++

Thanks to Reader2@example.net for it. <!-- rounds:allow -->
`), 0o644)
	code, stdout, stderr = rounds("nightly", "--config", config, "--now", "2026-11-28T06:00:00Z", "--skip", "fetch,links")
	if code != 1 || !strings.Contains(stderr, "notes/tip/index.html: holds the address of a subscriber (r***@example.net)") || !strings.Contains(stderr, "stopped at build") || strings.Contains(stdout+stderr, "reader2@") {
		t.Errorf("nightly with a subscriber's address in a note: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if again, _ := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("newsletter")}); len(again.Contents) != len(before.Contents) {
		t.Error("a nightly stopped at build changed the bucket")
	}
}

func TestCheckCommand(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := rounds("check", "--now", "2026-11-28")
	if code != 0 || !strings.Contains(stdout, "rounds check: 0 errors, 0 warnings") {
		t.Errorf("check of the example: exit %d\n%s%s", code, stdout, stderr)
	}
	dir, _ := exampleProject(t, "")
	os.WriteFile(filepath.Join(dir, "content", "notes", "leak.md"), []byte("+++\ntitle = \"Leak\"\ndate = 2026-11-01T00:00:00Z\nsource = \"https://example.org/\"\n+++\n\nThe patient, DOB 04/12/1931, lives at 42 Elm Street.\n"), 0o644)
	code, stdout, _ = rounds("check", "--config", filepath.Join(dir, "config.toml"), "--now", "2026-11-28", "--format", "json")
	if code != 1 {
		t.Fatalf("check with identifiers: exit %d\n%s", code, stdout)
	}
	var kinds []string
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var f struct {
			File, Kind, Severity string
			Line, Column         int
		}
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("--format json: %v: %s", err, line)
		}
		if f.File == "content/notes/leak.md" && f.Line == 7 {
			kinds = append(kinds, f.Kind+"@"+fmt.Sprint(f.Column))
		}
	}
	if strings.Join(kinds, " ") != "phi@18 phi@39" {
		t.Errorf("findings on the leaking line: %v\n%s", kinds, stdout)
	}
	if code, _, stderr := rounds("check", "--format", "yaml"); code != 2 || !strings.Contains(stderr, "--format") {
		t.Errorf("check --format yaml: exit %d %s", code, stderr)
	}
}

// TestPHIBlocks checks that an identifier of a patient blocks a build
// (--strict changes nothing) and publish; a preview is built, and warns of
// it on the console and on the page.
func TestPHIBlocks(t *testing.T) {
	t.Parallel()
	dir, config := exampleProject(t, "\n[publish]\nbucket = \"never-reached\"\nendpoint = \"http://127.0.0.1:1\"\n")
	os.WriteFile(filepath.Join(dir, "content", "notes", "leak.md"), []byte("+++\ntitle = \"Leak\"\ndate = 2026-11-01T00:00:00Z\nsource = \"https://example.org/\"\n+++\n\nCall the patient on (617) 555-0142.\n"), 0o644)
	for _, flags := range [][]string{nil, {"--strict"}} {
		if code, _, stderr := rounds(append([]string{"build", "--config", config, "--now", "2026-11-28"}, flags...)...); code != 1 || !strings.Contains(stderr, "content/notes/leak.md:7:21: error: phi: a phone number") {
			t.Errorf("build %v: exit %d\n%s", flags, code, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "public")); err == nil {
		t.Errorf("a refused build wrote public/")
	}
	code, _, stderr := rounds("build", "--config", config, "--now", "2026-11-28", "--drafts")
	if code != 0 || !strings.Contains(stderr, "may identify a patient") {
		t.Errorf("build --drafts: exit %d\n%s", code, stderr)
	}
	page, _ := os.ReadFile(filepath.Join(dir, "public", "notes", "leak", "index.html"))
	if !bytes.Contains(page, []byte(`class="phi-warning" role="alert"`)) || !bytes.Contains(page, []byte("content/notes/leak.md:7")) {
		t.Errorf("the preview's page does not warn:\n%s", page)
	}
	if other, _ := os.ReadFile(filepath.Join(dir, "public", "about", "index.html")); bytes.Contains(other, []byte("phi-warning")) {
		t.Errorf("a page without findings warns")
	}
	if code, _, stderr := rounds("publish", "--config", config); code != 1 || !strings.Contains(stderr, "a preview") {
		t.Errorf("publish: exit %d\n%s", code, stderr)
	}
}

// TestSubscribersCommand keeps the example's subscribers in a local log
// and then in a bucket of a real S3-compatible server: add, list, import,
// stats, remove, erase and export, each through the command line.
func TestSubscribersCommand(t *testing.T) {
	srv := s3test.New(t)
	srv.Bucket(t, "private")
	t.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("ROUNDS_UNSUBSCRIBE_SECRET", "a-long-enough-test-secret")
	for _, store := range []string{"", "s3://private/subscribers/"} {
		t.Run(cmp.Or(store, "local"), func(t *testing.T) {
			extra := ""
			if store != "" {
				extra = fmt.Sprintf("\n[publish]\nendpoint = %q\npath_style = true\nchecksums = \"when_required\"\n", srv.Endpoint)
			}
			dir, config := exampleProject(t, extra)
			t.Setenv("ROUNDS_SUBSCRIBERS_STORE", store)
			sub := func(args ...string) (int, string, string) {
				return rounds(append([]string{"subscribers", "--config", config, "--now", "2026-11-28"}, args...)...)
			}
			if code, out, errOut := sub("stats"); code != 0 || !strings.Contains(out, "no subscribers yet") {
				t.Fatalf("stats of an empty log: exit %d %s %s", code, out, errOut)
			}
			if code, out, errOut := sub("add", "Ada@Example.net", "bo@example.net", "--list", "everything,clinicians"); code != 0 || !strings.Contains(out, "2 added to lists") {
				t.Fatalf("add: exit %d %s %s", code, out, errOut)
			}
			csv := filepath.Join(t.TempDir(), "subscribers.csv")
			os.WriteFile(csv, []byte("email,name,lists,status\ncy@example.net,Cy,patients,subscribed\nbounced@example.net,,patients,bounced\n"), 0o600)
			if code, out, errOut := sub("import", csv); code != 0 || !strings.Contains(out, "1 added to lists") || !strings.Contains(out, "1 suppressions recorded") {
				t.Fatalf("import: exit %d %s %s", code, out, errOut)
			}
			code, out, errOut := sub("list")
			if code != 0 || !strings.Contains(out, "a***@example.net") || strings.Contains(out, "ada@") || !strings.Contains(out, "everything:confirmed") ||
				!strings.Contains(out, "suppressed: bounce") || !strings.Contains(errOut, "4 subscribers") {
				t.Errorf("list: exit %d\n%s%s", code, out, errOut)
			}
			if code, out, _ := sub("list", "--unmasked", "--list", "patients"); code != 0 || !strings.Contains(out, "cy@example.net") || strings.Contains(out, "ada@example.net") {
				t.Errorf("list --unmasked --list patients: exit %d\n%s", code, out)
			}
			if code, out, _ := sub("remove", "bo@example.net", "--list", "clinicians"); code != 0 || !strings.Contains(out, "1 unsubscribed from clinicians") {
				t.Errorf("remove: exit %d %s", code, out)
			}
			if code, out, _ := sub("stats"); code != 0 || !regexp.MustCompile(`clinicians\s+1\s+0\s+1\s+0`).MatchString(out) {
				t.Errorf("stats: exit %d\n%s", code, out)
			}
			if code, out, _ := sub("remove", "--erase", "ada@example.net"); code != 0 || !strings.Contains(out, "1 erased") {
				t.Errorf("remove --erase: exit %d %s", code, out)
			}
			// The erased address is nowhere in the log, and an import cannot
			// bring it back.
			if raw := storeBytes(t, dir, store, srv); bytes.Contains(bytes.ToLower(raw), []byte("ada@example.net")) {
				t.Error("the log still holds the erased address")
			}
			os.WriteFile(csv, []byte("email,name,lists,status\nada@example.net,Ada,everything,subscribed\n"), 0o600)
			sub("import", csv)
			code, out, _ = sub("export")
			if code != 0 || !strings.HasPrefix(out, "email,name,lists,status\n") || strings.Contains(out, "ada@") || !strings.Contains(out, "bo@example.net") {
				t.Errorf("export: exit %d\n%s", code, out)
			}
			if code, _, errOut := sub("add", "someone@example.net", "--list", "nobody"); code != 2 || !strings.Contains(errOut, `no list "nobody"`) {
				t.Errorf("add to an unknown list: exit %d %s", code, errOut)
			}
			if code, _, errOut := sub("export", "--erase"); code != 2 || !strings.Contains(errOut, "--erase goes with remove") {
				t.Errorf("export --erase: exit %d %s", code, errOut)
			}
		})
	}
	t.Setenv("ROUNDS_UNSUBSCRIBE_SECRET", "")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "config.toml"), []byte("title = \"T\"\nbase_url = \"https://example.org/\"\ndisclaimer = \"Not medical advice.\"\n[[list]]\nid = \"all\"\nname = \"All\"\n"), 0o644)
	t.Setenv("ROUNDS_SUBSCRIBERS_STORE", "")
	if code, _, errOut := rounds("subscribers", "add", "x@example.net", "--list", "all", "--config", filepath.Join(dir, "config.toml")); code != 1 || !strings.Contains(errOut, "$ROUNDS_UNSUBSCRIBE_SECRET") {
		t.Errorf("add without the secret: exit %d %s", code, errOut)
	}
}

// storeBytes returns every byte of the subscribers' log: the files of the
// local store, or the objects under the bucket's prefix.
func storeBytes(t *testing.T, dir, store string, srv *s3test.Server) []byte {
	t.Helper()
	var all []byte
	if store == "" {
		filepath.WalkDir(filepath.Join(dir, ".subscribers"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := os.ReadFile(p)
				all = append(all, b...)
			}
			return nil
		})
		return all
	}
	c := srv.Client(s3test.AccessKey, s3test.SecretKey)
	for _, k := range s3test.Keys(t, c, "private", "subscribers/") {
		k, _, _ = strings.Cut(k, " ") // the key, less its ETag
		o, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("private"), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(o.Body)
		o.Body.Close()
		all = append(all, b...)
	}
	return all
}

// TestSendFromLog sends to the subscribers of the log and of the
// subscribers file together: an address the server refuses with 550 is
// suppressed in the log, and no later send, on any list, mails it, even
// though the file still lists it.
func TestSendFromLog(t *testing.T) {
	ts := smtptest.New(t, true)
	ts.Rcpt = func(to string) error {
		if strings.HasPrefix(to, "gone@") {
			return smtptest.Reply(550, "5.1.1 no such mailbox")
		}
		return nil
	}
	dir := t.TempDir()
	for _, d := range []string{"content", "themes"} {
		copyTree(t, filepath.Join(dir, d), d)
	}
	example, _ := os.ReadFile("config.toml")
	base, _, _ := strings.Cut(string(example), "\n[email.smtp]")
	config := filepath.Join(dir, "config.toml")
	os.WriteFile(config, []byte(base+fmt.Sprintf(`
[email.smtp]
host = "127.0.0.1"
port = %d
security = "none"

[[list]]
id = "everything"
name = "Every note"

[[list]]
id = "clinicians"
name = "For clinicians"
audience = ["clinicians"]
`, ts.Port)), 0o644)
	os.WriteFile(filepath.Join(dir, "subscribers.csv"), []byte("email,name,lists,status\nrow@example.net,,everything clinicians,subscribed\ngone@example.net,,everything clinicians,subscribed\n"), 0o600)
	sendingEnv(t)
	if code, out, errOut := rounds("subscribers", "add", "log@example.net", "--list", "everything,clinicians", "--config", config, "--now", "2026-11-22"); code != 0 {
		t.Fatalf("subscribers add: exit %d %s %s", code, out, errOut)
	}
	code, out, errOut := rounds("send", "--config", config, "--list", "everything", "--now", "2026-11-22")
	if code != 0 || !strings.Contains(out, "2 sent, 1 failed") || !strings.Contains(out, "1 address bounced for good") {
		t.Fatalf("send: exit %d\n%s%s", code, out, errOut)
	}
	got := ts.Messages()
	if len(got["log@example.net"]) != 1 || len(got["row@example.net"]) != 1 || len(got["gone@example.net"]) != 0 {
		t.Errorf("delivered: %v", slices.Sorted(maps.Keys(got)))
	}
	code, out, _ = rounds("subscribers", "list", "--config", config)
	if code != 0 || !regexp.MustCompile(`\(address not kept \w+\)\s+suppressed: bounce`).MatchString(out) {
		t.Errorf("subscribers list after the bounce: exit %d\n%s", code, out)
	}
	code, out, errOut = rounds("send", "--config", config, "--list", "clinicians", "--now", "2026-11-22")
	if code != 0 || !strings.Contains(out, "2 sent, 0 failed") {
		t.Errorf("send to the other list: exit %d\n%s%s", code, out, errOut)
	}
	if n := len(ts.Messages()["gone@example.net"]); n != 0 {
		t.Errorf("the bounced address got %d messages", n)
	}
}

// TestTour runs the README's tour, as the README writes it, in a copy of
// the bundled example: each rounds command of its block, and in place of
// the editor, the front matter its sketch shows, so that the README
// cannot drift from what works.
func TestTour(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, tour, ok := strings.Cut(string(readme), "## A tour in")
	if !ok {
		t.Fatal("README.md has no tour")
	}
	// The install line names the module go.mod declares.
	install, tour, _ := strings.Cut(tour, "$EDITOR ")
	mod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	path, _, _ := strings.Cut(strings.TrimPrefix(string(mod), "module "), "\n")
	if !strings.Contains(install, "go install "+path+"@latest") {
		t.Errorf("the README's install line does not name the module %s", path)
	}
	// The tour's block is the one where the editor opens the note.
	_, first, _ := strings.Cut(install[strings.LastIndex(install, "```sh\n"):], "```sh\n")
	tour, _, _ = strings.Cut(first+"$EDITOR "+tour, "```")
	dir, _ := exampleProject(t, "")
	t.Chdir(dir)
	t.Setenv("ROUNDS_NOW", "2026-11-28T12:00:00Z")
	// The sketch of the note, under the editor's line.
	var sketch []string
	for _, line := range strings.Split(tour, "\n") {
		if s, ok := strings.CutPrefix(line, "#   "); ok {
			s, _, _ = strings.Cut(s, "  #") // the sketch's own comments
			sketch = append(sketch, strings.TrimRight(s, " "))
		}
	}
	commands := 0
	for _, line := range strings.Split(tour, "\n") {
		cmd, _, _ := strings.Cut(line, "  #")
		cmd = strings.TrimSpace(cmd)
		switch {
		case strings.HasPrefix(cmd, "$EDITOR "):
			// The curator fills in the note as the sketch shows.
			note := strings.Join(sketch, "\n") + "\n"
			if err := os.WriteFile(strings.TrimPrefix(cmd, "$EDITOR "), []byte(note), 0o644); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(cmd, "rounds "):
			args := regexp.MustCompile(`"[^"]*"|\S+`).FindAllString(strings.TrimPrefix(cmd, "rounds "), -1)
			for i, a := range args {
				args[i] = strings.Trim(a, `"`)
			}
			code, out, errOut := rounds(args...)
			if code != 0 {
				t.Fatalf("rounds %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
			}
			commands++
		}
	}
	if commands < 4 || len(sketch) < 8 {
		t.Fatalf("the tour ran %d commands and wrote a sketch of %d lines", commands, len(sketch))
	}
	// The note the sketch wrote is published; the new edition, a draft,
	// is not.
	if _, err := os.Stat(filepath.Join(dir, "public", "notes", "statins-after-75", "index.html")); err != nil {
		t.Errorf("the tour's note is not on the site: %v", err)
	}
	_, out, _ := rounds("build")
	if !strings.Contains(out, "left out 2 drafts") {
		t.Errorf("the build does not say which drafts it left out:\n%s", out)
	}
}

// TestLeaveInOneClick follows a digest's List-Unsubscribe link as a mail
// provider does, with the one-click POST of RFC 8058, to the subscribers
// service on loopback: the reader leaves the list at once, and the next
// send to it passes them by.
func TestLeaveInOneClick(t *testing.T) {
	secret := sendingEnv(t)
	ts := smtptest.New(t, true)
	dir, config := exampleProject(t, "")
	// The service, on the project's own log.
	store, err := subscribers.OpenFileStore(filepath.Join(dir, ".subscribers"))
	if err != nil {
		t.Fatal(err)
	}
	service := httptest.NewServer(http.StripPrefix("/lists", &subscribers.Service{Store: store, Secret: []byte(secret), Title: "Rounds"}))
	t.Cleanup(service.Close)
	example, _ := os.ReadFile(config)
	cfg := strings.Replace(string(example), `url = "https://example.org/rounds/lists/"`, fmt.Sprintf("url = %q", service.URL+"/lists/"), 1)
	cfg = strings.Replace(cfg, exampleSMTP, loopbackSMTP(ts.Port), 1)
	os.WriteFile(config, []byte(cfg), 0o644)
	if code, out, errOut := rounds("subscribers", "add", "reader@example.net", "--list", "everything", "--config", config, "--now", "2026-11-22"); code != 0 {
		t.Fatalf("add: exit %d %s %s", code, out, errOut)
	}
	if code, out, errOut := rounds("send", "--config", config, "--list", "everything", "--now", "2026-11-22"); code != 0 || !strings.Contains(out, "1 sent") {
		t.Fatalf("send: exit %d %s %s", code, out, errOut)
	}
	msgs := ts.Messages()["reader@example.net"]
	if len(msgs) != 1 {
		t.Fatalf("reader got %d messages", len(msgs))
	}
	oneClick(t, msgs[0], "reader")
	code, out, _ := rounds("subscribers", "list", "--config", config)
	if code != 0 || !strings.Contains(out, "everything:unsubscribed") {
		t.Errorf("after the one-click POST: %s", out)
	}
	code, out, errOut := rounds("send", "no-2-pregnancy-prevention-and-screening", "--config", config, "--list", "everything", "--now", "2026-11-22")
	if code != 0 || !strings.Contains(out, "0 sent") || len(ts.Messages()["reader@example.net"]) != 1 {
		t.Errorf("the send after leaving: exit %d %s %s", code, out, errOut)
	}
}

// bounceProject copies the example into a temporary folder with its SMTP
// server at the test server on smtpPort and, when imapAddr is not "", a
// plain bounce mailbox at imapAddr; it sets the environment the commands
// read (secrets, credentials, the log in the project's folder).
func bounceProject(t *testing.T, smtpPort int, imapAddr string) (dir, config string) {
	t.Helper()
	sendingEnv(t)
	t.Setenv("ROUNDS_SUBSCRIBERS", "")
	t.Setenv("ROUNDS_IMAP_USERNAME", imaptest.User)
	t.Setenv("ROUNDS_IMAP_PASSWORD", imaptest.Password)
	dir, config = exampleProject(t, "")
	example, _ := os.ReadFile(config)
	cfg := strings.Replace(string(example), exampleSMTP, loopbackSMTP(smtpPort), 1)
	if imapAddr != "" {
		cfg += fmt.Sprintf("\n[subscribers.imap]\naddress = %q\nsecurity = \"plain\"\n", imapAddr)
	}
	os.WriteFile(config, []byte(cfg), 0o644)
	return dir, config
}

// bounceMessages returns the real-world bounces and complaints of the
// bounce package's tests, malformed ones and messages that are no
// reports included, by name.
func bounceMessages(t *testing.T) map[string]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("generator", "subscribers", "bounce", "testdata", "*.eml"))
	msgs := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msgs[filepath.Base(f)] = string(b)
	}
	if len(msgs) != 16 {
		t.Fatalf("%d messages in the bounce package's testdata; the counts below want 16", len(msgs))
	}
	return msgs
}

// TestSubscriberBounces reads a bounce mailbox on a real IMAP server on
// loopback with rounds subscribers bounces: its hard bounces and
// complaints suppress their addresses, known to the log or not; reading
// again, or the same bounces again, records nothing new; an import brings
// none back; and rounds send mails none of them.
func TestSubscriberBounces(t *testing.T) {
	mail := smtptest.New(t, true)
	box := imaptest.New(t, imaptest.Plain)
	msgs := bounceMessages(t)
	for _, name := range slices.Sorted(maps.Keys(msgs)) {
		box.Append(t, "INBOX", msgs[name])
	}
	dir, config := bounceProject(t, mail.Port, box.Addr)
	// The subscribers file lists a reader who complained; the log, one who
	// bounces hard, one whose mailbox is slow (a soft bounce) and one
	// without trouble. nobody@patients.example is unknown to both.
	os.WriteFile(filepath.Join(dir, "subscribers.csv"), []byte("email,name,lists,status\ntired.reader@yahoo.example,,everything,subscribed\nrow@example.net,,everything,subscribed\n"), 0o600)
	sub := func(args ...string) (int, string, string) {
		return rounds(append([]string{"subscribers", "--config", config, "--now", "2026-11-22"}, args...)...)
	}
	if code, out, errOut := sub("add", "gone@surgery.example", "slow.reader@rural-practice.example", "keeper@example.net", "--list", "everything"); code != 0 {
		t.Fatalf("add: exit %d %s %s", code, out, errOut)
	}

	code, out, errOut := sub("bounces")
	want := "rounds subscribers bounces: 16 messages read, 10 reports recorded (7 hard, 1 soft, 2 complaints), 0 already in the log, 7 messages skipped, 0 left for the next run\n"
	if code != 0 || out != want {
		t.Fatalf("bounces: exit %d\n%s%s\nwant\n%s", code, out, errOut, want)
	}
	// Warnings about the malformed messages name no address.
	if regexp.MustCompile(`[a-z]{2,}@[a-z]`).MatchString(errOut) {
		t.Errorf("an address unmasked in:\n%s", errOut)
	}
	if all, unseen := box.Count(t, "INBOX"); all != 16 || unseen != 0 {
		t.Errorf("INBOX: %d messages, %d unseen; want 16, all seen", all, unseen)
	}
	code, out, _ = sub("list")
	for _, line := range []string{`g\*\*\*@surgery\.example\s+everything:confirmed\s+suppressed: bounce since 2024-04-03`,
		`\(address not kept \w+\)\s+suppressed: complaint`, `s\*\*\*@rural-practice\.example\s+everything:confirmed\n`} {
		if !regexp.MustCompile(line).MatchString(out) {
			t.Errorf("subscribers list: no line like %q in\n%s", line, out)
		}
	}
	if code != 0 || strings.Contains(out, "gone@") {
		t.Errorf("subscribers list: exit %d\n%s", code, out)
	}

	// Read again: nothing new. The same bounce and complaint delivered
	// again: read, and not recorded twice.
	log := storeBytes(t, dir, "", nil)
	if code, out, _ = sub("bounces"); code != 0 || !strings.Contains(out, ": 0 messages read, 0 reports recorded") {
		t.Errorf("bounces again: exit %d %s", code, out)
	}
	box.Append(t, "INBOX", msgs["exim-hard.eml"])
	box.Append(t, "INBOX", msgs["arf-yahoo.eml"])
	if code, out, _ = sub("bounces"); code != 0 || !strings.Contains(out, ": 2 messages read, 0 reports recorded (0 hard, 0 soft, 0 complaints), 2 already in the log") {
		t.Errorf("the same bounces again: exit %d %s", code, out)
	}
	if !bytes.Equal(storeBytes(t, dir, "", nil), log) {
		t.Error("reading the same bounces again changed the log")
	}

	// An import cannot bring back an address that bounced, even one the
	// log did not know when it bounced.
	csv := filepath.Join(t.TempDir(), "import.csv")
	os.WriteFile(csv, []byte("email,name,lists,status\nnobody@patients.example,,everything,subscribed\ngone@surgery.example,,everything,subscribed\nnew@example.net,,everything,subscribed\n"), 0o600)
	if code, out, errOut := sub("import", csv); code != 0 || !strings.Contains(out, "1 added to lists") || strings.Count(errOut, "suppressed (bounce)") != 2 {
		t.Errorf("import: exit %d %s %s", code, out, errOut)
	}

	code, out, errOut = rounds("send", "--config", config, "--list", "everything", "--now", "2026-11-22")
	if code != 0 || !strings.Contains(out, "4 sent, 0 failed") {
		t.Fatalf("send: exit %d\n%s%s", code, out, errOut)
	}
	got := slices.Sorted(maps.Keys(mail.Messages()))
	if want := []string{"keeper@example.net", "new@example.net", "row@example.net", "slow.reader@rural-practice.example"}; !slices.Equal(got, want) {
		t.Errorf("mailed %q, want %q", got, want)
	}
}

// TestSubscriberBouncesUnconfigured runs rounds subscribers bounces
// without a bounce mailbox: it says so on one line, and exits 0.
func TestSubscriberBouncesUnconfigured(t *testing.T) {
	t.Parallel()
	_, config := exampleProject(t, "")
	code, out, errOut := rounds("subscribers", "bounces", "--config", config)
	if code != 0 || out != "rounds subscribers bounces: no bounce mailbox ([subscribers.imap] in config.toml); nothing read\n" || errOut != "" {
		t.Errorf("bounces without a mailbox: exit %d %q %q", code, out, errOut)
	}
	if code, _, errOut := rounds("subscribers", "bounces", "extra", "--config", config); code != 2 || !strings.Contains(errOut, `unexpected argument "extra"`) {
		t.Errorf("bounces with an argument: exit %d %s", code, errOut)
	}
}

// TestNightlyBounces runs rounds nightly with a bounce mailbox: a dry run
// leaves it unread; a mailbox that cannot be reached holds back the send,
// though check, build and publish run, and the run exits 1; once it can
// be read, its bounces are recorded before the send, which passes them by.
func TestNightlyBounces(t *testing.T) {
	mail := smtptest.New(t, true)
	box := imaptest.New(t, imaptest.Plain)
	msgs := bounceMessages(t)
	box.Append(t, "INBOX", msgs["exim-hard.eml"])
	// An address where nothing listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	dir, config := bounceProject(t, mail.Port, box.Addr)
	if code, out, errOut := rounds("subscribers", "add", "gone@surgery.example", "keeper@example.net", "--list", "everything", "--config", config); code != 0 {
		t.Fatalf("add: exit %d %s %s", code, out, errOut)
	}
	nightly := func(args ...string) (int, string, string) {
		return rounds(append([]string{"nightly", "--config", config, "--now", "2026-11-22T06:00:00Z", "--skip", "fetch,links"}, args...)...)
	}

	code, out, errOut := nightly("--dry-run")
	if code != 0 || !strings.Contains(out, "nightly: bounces: dry run: the bounce mailbox at "+box.Addr+" is not read") {
		t.Errorf("nightly --dry-run: exit %d\n%s%s", code, out, errOut)
	}
	if _, unseen := box.Count(t, "INBOX"); unseen != 1 {
		t.Errorf("a dry run read the mailbox: %d unseen", unseen)
	}

	example, _ := os.ReadFile(config)
	os.WriteFile(config, bytes.Replace(example, []byte(box.Addr), []byte(closed), 1), 0o644)
	code, out, errOut = nightly()
	if code != 1 || !strings.Contains(errOut, "nightly: bounces: failed: reading the bounce mailbox: imap "+closed) ||
		!strings.Contains(out, "nightly: check: ") || !strings.Contains(out, "nightly: build: ") || !strings.Contains(out, "nightly: send: held back") ||
		!strings.Contains(errOut, "rounds nightly: the send was held back because the bounces failed: ") || strings.Contains(errOut, "stopped at") {
		t.Errorf("nightly with a mailbox out of reach: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "public", "index.html")); err != nil {
		t.Errorf("the build did not run: %v", err)
	}
	if n := len(mail.Messages()); n != 0 {
		t.Errorf("a held-back send mailed %d addresses", n)
	}

	os.WriteFile(config, example, 0o644)
	code, out, errOut = nightly()
	if code != 0 || !strings.Contains(out, "nightly: bounces: 1 message read, 1 report recorded (1 hard, 0 soft, 0 complaints)") || !strings.Contains(out, "rounds nightly: done") {
		t.Errorf("nightly: exit %d\n%s%s", code, out, errOut)
	}
	if got := slices.Sorted(maps.Keys(mail.Messages())); !slices.Equal(got, []string{"keeper@example.net"}) {
		t.Errorf("mailed %q, want only keeper@example.net", got)
	}
}

// TestNightlyLinks runs the nightly stage that checks the links to other
// sites: it checks them when its cache is a week old or missing, and not
// on the next night; a link to a private address is reported broken, never
// fetched.
func TestNightlyLinks(t *testing.T) {
	t.Parallel()
	hit := make(chan struct{}, 10)
	private := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit <- struct{}{} }))
	defer private.Close()
	dir := t.TempDir()
	copyTree(t, filepath.Join(dir, "themes"), "themes")
	config := filepath.Join(dir, "config.toml")
	os.WriteFile(config, []byte("title = \"T\"\nbase_url = \"https://example.org/\"\ndisclaimer = \"Not medical advice.\"\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "content", "notes"), 0o755)
	os.WriteFile(filepath.Join(dir, "content", "notes", "a.md"), []byte("+++\ntitle = \"A\"\ndate = 2026-11-01T00:00:00Z\n+++\n\nSee [the intranet]("+private.URL+"/x).\n"), 0o644)
	only := []string{"nightly", "--config", config, "--now", "2026-11-22T06:00:00Z", "--skip", "fetch,bounces,check,build,publish,send"}
	code, stdout, stderr := rounds(only...)
	if code != 0 || !strings.Contains(stdout, "1 link to other sites (1 checked now") || !strings.Contains(stderr, "content/notes/a.md: warning: link: broken link "+private.URL+"/x: not an address of the public internet") {
		t.Errorf("the links stage: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, ".cache", "links.json")); err != nil {
		t.Errorf("no cache of the results: %v", err)
	}
	code, stdout, _ = rounds(only...)
	if code != 0 || !strings.Contains(stdout, "nightly: links: checked 0s ago") {
		t.Errorf("the next night: exit %d\n%s", code, stdout)
	}
	select {
	case <-hit:
		t.Error("a private address was fetched")
	default:
	}
}

// oneClick leaves the list of a digest msg as a mail provider does: the
// one-click POST of RFC 8058 to its List-Unsubscribe link, which must not
// carry who, a part of the subscriber's address.
func oneClick(t *testing.T, msg []byte, who string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^List-Unsubscribe: .*<(http://[^>]+)>`).FindSubmatch(msg)
	if m == nil || bytes.Contains(m[1], []byte(who)) || !bytes.Contains(msg, []byte("List-Unsubscribe-Post: List-Unsubscribe=One-Click")) {
		t.Fatalf("no one-click link without the address in:\n%s", msg[:min(len(msg), 1500)])
	}
	res, err := http.Post(string(m[1]), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("one-click POST: %d", res.StatusCode)
	}
}

// sendingEnv sets what sending needs, as a curator's environment holds it:
// the unsubscribe secret (returned), the credentials of smtptest's server
// and a DKIM key; the subscribers' log is config.toml's.
func sendingEnv(t *testing.T) string {
	t.Helper()
	const secret = "a-long-enough-test-secret"
	t.Setenv("ROUNDS_UNSUBSCRIBE_SECRET", secret)
	t.Setenv("ROUNDS_SUBSCRIBERS_STORE", "")
	t.Setenv("ROUNDS_SMTP_USERNAME", smtptest.User)
	t.Setenv("ROUNDS_SMTP_PASSWORD", smtptest.Password)
	key, err := ed25519KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("ROUNDS_DKIM_KEY", key)
	return secret
}

// exampleSMTP is the example config.toml's [email.smtp] server; tests
// put loopbackSMTP in its place.
const exampleSMTP = "host = \"smtp.example.org\"\nport = 587\nsecurity = \"starttls\""

// loopbackSMTP is an [email.smtp] server on this machine's port.
func loopbackSMTP(port int) string {
	return fmt.Sprintf("host = \"127.0.0.1\"\nport = %d\nsecurity = \"none\"", port)
}
