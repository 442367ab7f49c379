package digest

import (
	"rounds/generator/smtptest"

	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
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
	todo, _, err := Pending(l, "clinicians", subs, testNow, true)
	if err != nil {
		t.Fatal(err)
	}
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
	cfgPath := project(t, emailConfig)
	dir := t.TempDir()
	subsPath := filepath.Join(t.TempDir(), "subscribers.csv")
	if err := os.WriteFile(subsPath, []byte(smtptest.Subscribers(n, "clinicians")), 0o600); err != nil {
		t.Fatal(err)
	}

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
