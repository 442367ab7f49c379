package digest

import (
	"github.com/rounds-health/rounds/generator/leak"
	"github.com/rounds-health/rounds/generator/smtptest"

	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSendChild is the send that TestSendCrashResume runs, and kills, in
// a child process. It does nothing in a normal test run.
func TestSendChild(t *testing.T) {
	env := os.Getenv("ROUNDS_DIGEST_CHILD")
	if env == "" {
		t.Skip("run by TestSendCrashResume")
	}
	var cfgPath, dir, subsPath, caFile string
	var port int
	fmt.Sscanf(env, "%s %s %s %s %d", &cfgPath, &dir, &subsPath, &caFile, &port)
	site, ed, tmpl := load(t, cfgPath)
	d, err := Render(tmpl, site, ed, site.Config.List("clinicians"))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newComposerWithSecret(site.Config)
	subs, err := LoadSubscribers(subsPath)
	if err != nil {
		t.Fatal(err)
	}
	l, err := OpenFileLedger(dir, ed.Slug, "clinicians")
	if err != nil {
		t.Fatal(err)
	}
	todo := plan(t, l, subs, PlanOptions{Record: true}).Todo()
	ts := &smtptest.Server{Port: port, CAFile: caFile}
	if _, err := sender(t, ts, c, l).Send(context.Background(), d, todo); err != nil {
		t.Fatal(err)
	}
}

// TestSendCrashResume kills a send with SIGKILL at chosen and at random
// points, runs it again until it finishes, and checks that every
// subscriber got the digest exactly once, except those whose message was
// cut off after its final dot: they are marked unknown, and got it at
// most once.
func TestSendCrashResume(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	const n = 60
	ts := smtptest.New(t, false)

	var mu sync.Mutex
	var child *exec.Cmd
	kill := func() {
		mu.Lock()
		defer mu.Unlock()
		if child != nil && child.Process != nil {
			child.Process.Kill()
		}
	}
	// Kill plans, one per run: "rcpt K" kills at the K-th RCPT of the
	// run (before the message's final dot); "data K" kills once the
	// K-th message was read whole, before the server answers it; a
	// duration kills after that long.
	plans := []string{"rcpt 3", "data 5", "data 1", "rcpt 7", "random", "random", "data 4", "random", "random", "random", "random", ""}
	var plan string
	var rcpts, datas int
	ts.Rcpt = func(to string) error {
		mu.Lock()
		rcpts++
		hit := plan == "rcpt "+strconv.Itoa(rcpts)
		mu.Unlock()
		if hit {
			kill()
			return smtptest.Reply(421, "shutting down")
		}
		return nil
	}
	ts.Data = func(to string, msg []byte) error {
		mu.Lock()
		datas++
		hit := plan == "data "+strconv.Itoa(datas)
		mu.Unlock()
		if hit {
			// The server keeps the message, and the sender never hears.
			ts.Mu.Lock()
			ts.Received[to] = append(ts.Received[to], msg)
			ts.Mu.Unlock()
			kill()
			time.Sleep(200 * time.Millisecond)
			return smtptest.Reply(421, "too late")
		}
		return nil
	}
	// The hooks are set before the test writes any file: through those
	// writes the race detector orders them before the server's reads, as
	// it cannot through the child's connection.
	cfgPath := project(t, emailConfig)
	dir := t.TempDir()
	subsPath := filepath.Join(t.TempDir(), "subscribers.csv")
	if err := os.WriteFile(subsPath, []byte(smtptest.Subscribers(n, "clinicians")), 0o600); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	finished := false
	for run, p := range plans {
		mu.Lock()
		plan, rcpts, datas = p, 0, 0
		cmd := exec.Command(os.Args[0], "-test.run=^TestSendChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), fmt.Sprintf("ROUNDS_DIGEST_CHILD=%s %s %s %s %d", cfgPath, dir, subsPath, ts.CAFile, ts.Port))
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		child = cmd
		if err := cmd.Start(); err != nil {
			mu.Unlock()
			t.Fatal(err)
		}
		mu.Unlock()
		if p == "random" {
			delay := time.Duration(5+rng.IntN(40)) * time.Millisecond
			timer := time.AfterFunc(delay, kill)
			defer timer.Stop()
		}
		err := cmd.Wait()
		if err == nil {
			finished = true
			t.Logf("run %d (%q): finished", run+1, p)
			break
		}
		if !strings.Contains(err.Error(), "killed") {
			t.Fatalf("run %d (%q): the send failed on its own: %v\n%s", run+1, p, err, out.String())
		}
		t.Logf("run %d (%q): killed", run+1, p)
	}
	if !finished {
		t.Fatal("the send never finished")
	}

	l, err := OpenFileLedger(dir, "no-3-respiratory-season-and-second-looks", "clinicians")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	latest, err := l.Load()
	if err != nil {
		t.Fatal(err)
	}
	got := ts.Messages()
	unknown := 0
	for i := range n {
		to := "reader" + strconv.Itoa(i) + "@example.net"
		r := latest[Key(to)]
		switch {
		case len(got[to]) > 1:
			t.Errorf("%s got %d messages", to, len(got[to]))
		case r.State == Sent && len(got[to]) != 1:
			t.Errorf("%s: the ledger says sent, the server has %d messages", to, len(got[to]))
		case r.State == Unknown:
			unknown++
		case r.State != Sent:
			t.Errorf("%s: state %q after the send finished", to, r.State)
		}
	}
	// Each "data" kill left one message unknown, delivered once.
	if unknown < 3 {
		t.Errorf("%d deliveries unknown, want at least the 3 killed after their final dot", unknown)
	}
}

// TestResendUnknownAfterCrash kills a send after the server has read a
// message whole but before it answers, so that the ledger is left as the
// crash leaves it: committing. Every run after then counts and lists that
// delivery as unknown, a dry run writing nothing; none resends it until
// one is told to, and that one sends it once, with the Message-ID of the
// copy the server already has.
func TestResendUnknownAfterCrash(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a child process")
	}
	ts := smtptest.New(t, false)
	// The server reads the first message whole and keeps it, then the
	// sender dies before the reply can reach it. The hook is set before
	// the test writes any file: through those writes the race detector
	// orders it before the server's reads, as it cannot through the
	// child's connection.
	procs := make(chan *os.Process, 1)
	exited := make(chan struct{})
	var crash sync.Once
	ts.Data = func(rcpt string, msg []byte) error {
		first := false
		crash.Do(func() { first = true })
		if !first {
			return nil
		}
		ts.Mu.Lock()
		ts.Received[rcpt] = append(ts.Received[rcpt], msg)
		ts.Mu.Unlock()
		(<-procs).Kill()
		<-exited
		return smtptest.Reply(421, "too late")
	}
	cfgPath := project(t, emailConfig)
	site, ed, tmpl := load(t, cfgPath)
	d, err := Render(tmpl, site, ed, site.Config.List("clinicians"))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newComposerWithSecret(site.Config)
	dir := t.TempDir()
	subsPath := filepath.Join(t.TempDir(), "subscribers.csv")
	if err := os.WriteFile(subsPath, []byte(smtptest.Subscribers(3, "clinicians")), 0o600); err != nil {
		t.Fatal(err)
	}
	subs, err := LoadSubscribers(subsPath)
	if err != nil {
		t.Fatal(err)
	}
	const to = "reader1@example.net"
	open := func() (Ledger, error) { return OpenFileLedger(dir, ed.Slug, "clinicians") }
	ledgerFile := filepath.Join(dir, ed.Slug, "clinicians.jsonl")

	// Earlier runs sent to reader0 and failed reader2 for good.
	l, err := open()
	if err != nil {
		t.Fatal(err)
	}
	err = l.Append(Record{Key: Key("reader0@example.net"), Masked: leak.Mask("reader0@example.net"), State: Sent, Time: testNow},
		Record{Key: Key("reader2@example.net"), Masked: leak.Mask("reader2@example.net"), State: Failed, Code: 550, Time: testNow})
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestSendChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("ROUNDS_DIGEST_CHILD=%s %s %s %s %d", cfgPath, dir, subsPath, ts.CAFile, ts.Port))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	procs <- cmd.Process
	err = cmd.Wait()
	close(exited)
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("the send was not killed: %v\n%s", err, out.String())
	}
	first := ts.Messages()[to]
	if len(first) != 1 {
		t.Fatalf("before the crash the server got %d messages for %s, want 1", len(first), leak.Mask(to))
	}
	states := func() []State {
		data, err := os.ReadFile(ledgerFile)
		if err != nil {
			t.Fatal(err)
		}
		var got []State
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			var r Record
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatal(err)
			}
			if r.Key == Key(to) {
				got = append(got, r.State)
			}
		}
		return got
	}
	if got := states(); !slices.Equal(got, []State{Committing}) {
		t.Fatalf("the crash left %s %v in the ledger, want committing", leak.Mask(to), got)
	}
	unchanged := func(run string, before []byte) {
		t.Helper()
		if after, _ := os.ReadFile(ledgerFile); !bytes.Equal(after, before) {
			t.Errorf("%s changed the ledger from\n%s\nto\n%s", run, before, after)
		}
	}

	// A dry run counts and lists the delivery as unknown, resending it
	// or not, and writes nothing: not even to cut off a line torn by
	// another crash, as a real run does.
	torn, err := os.OpenFile(ledgerFile, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = torn.WriteString(`{"key":"` + Key("reader2@example.net") + `","to":"r***@exa`)
	if cerr := torn.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(ledgerFile)
	p, rep := runPlan(t, open, ts, c, d, subs, PlanOptions{})
	checkUnknown(t, p, to)
	if len(p.Todo()) != 0 || rep != (SendReport{Unknown: 1, Skipped: 2}) {
		t.Errorf("dry run: %d to send, report %+v; want none, 1 unknown, 2 handled", len(p.Todo()), rep)
	}
	p, rep = runPlan(t, open, ts, c, d, subs, PlanOptions{ResendUnknown: true})
	checkUnknown(t, p, to)
	if len(p.Send) != 0 || len(p.Resend) != 1 || p.Resend[0].Email != to || len(p.Todo()) != 1 || rep != (SendReport{Skipped: 2}) {
		t.Errorf("dry run resending: send %v, resend %v, report %+v; want %s resent alone", p.Send, p.Resend, rep, leak.Mask(to))
	}
	unchanged("a dry run", before)

	// A real run records it unknown, reports it and sends it nothing;
	// so does the next.
	for run := 1; run <= 2; run++ {
		before, _ := os.ReadFile(ledgerFile)
		p, rep := runPlan(t, open, ts, c, d, subs, PlanOptions{Record: true})
		checkUnknown(t, p, to)
		if rep != (SendReport{Unknown: 1, Skipped: 2}) {
			t.Errorf("run %d: report %+v, want 1 unknown, 2 handled", run, rep)
		}
		if got := states(); !slices.Equal(got, []State{Committing, Unknown}) {
			t.Errorf("run %d: %s is %v in the ledger, want committing then unknown", run, leak.Mask(to), got)
		}
		if run == 2 {
			unchanged("a run with nothing new", before)
		}
	}
	if got := ts.Messages(); len(got) != 1 || len(got[to]) != 1 {
		t.Fatalf("without resending, the server got %d messages for %s (%d recipients), want the first alone", len(got[to]), leak.Mask(to), len(got))
	}

	// Told to, a run resends it once, through committing to sent, with
	// the first copy's Message-ID; the next run has nothing to do.
	_, rep = runPlan(t, open, ts, c, d, subs, PlanOptions{Record: true, ResendUnknown: true})
	if rep != (SendReport{Sent: 1, Skipped: 2}) {
		t.Errorf("resending: report %+v, want 1 sent, 0 unknown, 2 handled", rep)
	}
	got := ts.Messages()
	if len(got) != 1 || len(got[to]) != 2 {
		t.Fatalf("after resending, the server has %d messages for %s (%d recipients), want 2", len(got[to]), leak.Mask(to), len(got))
	}
	if id, want := messageID(t, got[to][1]), messageID(t, first[0]); id != want || want != "<"+c.MessageID(d, to)+">" {
		t.Errorf("resent with Message-ID %s, first sent with %s", id, want)
	}
	if got := states(); !slices.Equal(got, []State{Committing, Unknown, Committing, Sent}) {
		t.Errorf("after resending, %s is %v in the ledger, want committing, unknown, committing, sent", leak.Mask(to), got)
	}
	p, rep = runPlan(t, open, ts, c, d, subs, PlanOptions{Record: true, ResendUnknown: true})
	if len(p.Todo()) != 0 || len(p.Unknown) != 0 || rep != (SendReport{Skipped: 3}) {
		t.Errorf("after resending: %d to send, %d unknown, report %+v; want nothing to do", len(p.Todo()), len(p.Unknown), rep)
	}
	if n := len(ts.Messages()[to]); n != 2 {
		t.Errorf("the run after resending sent %s %d more", leak.Mask(to), n-2)
	}
}
