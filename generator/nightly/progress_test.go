package nightly

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/internal/testproject"
)

// TestProgressLine checks when a progress line is written: at once, then
// at most every progressEvery, and always when the work is done; and that
// clear takes it away once.
func TestProgressLine(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	p := &progressLine{w: &out, now: func() time.Time { return at }}
	step := func(d time.Duration, done, total int, want string) {
		t.Helper()
		at = at.Add(d)
		out.Reset()
		p.show("writing", done, total, "")
		if out.String() != want {
			t.Errorf("%d/%d after %v: wrote %q, want %q", done, total, d, out.String(), want)
		}
	}
	step(0, 1, 10, "\r\x1b[Kwriting 1/10")
	step(progressEvery/2, 2, 10, "")                  // too soon
	step(progressEvery/2-time.Millisecond, 3, 10, "") // still too soon
	step(time.Millisecond, 4, 10, "\r\x1b[Kwriting 4/10")
	step(time.Millisecond, 10, 10, "\r\x1b[Kwriting 10/10") // done: always
	out.Reset()
	at = at.Add(progressEvery)
	p.show("fetching", 1, 2, "nejm")
	if want := "\r\x1b[Kfetching 1/2: nejm"; out.String() != want {
		t.Errorf("with a detail: wrote %q, want %q", out.String(), want)
	}
	out.Reset()
	p.clear()
	p.clear()
	if out.String() != "\r\x1b[K" {
		t.Errorf("two clears wrote %q, want one \\r\\x1b[K", out.String())
	}

	// No terminal, no line: a nil line takes every call.
	var log bytes.Buffer
	none := newProgress(&log)
	if none != nil {
		t.Fatal("newProgress on a buffer: a progress line, want none")
	}
	none.show("writing", 1, 2, "")
	none.counter("reading")
	none.clear()
	f, err := os.Create(filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if newProgress(f) != nil {
		t.Error("newProgress on a regular file: a progress line, want none")
	}
}

// TestProgressLineConcurrent shows progress from many goroutines at once,
// as the workers reading content files do: every line written is whole.
func TestProgressLineConcurrent(t *testing.T) {
	t.Parallel()
	var out lockedBuffer
	p := &progressLine{w: &out, now: time.Now}
	var wg sync.WaitGroup
	const total = 4000
	var next sync.Mutex
	done := 0
	for range 8 {
		wg.Go(func() {
			for {
				next.Lock()
				if done == total {
					next.Unlock()
					return
				}
				done++
				d := done
				next.Unlock()
				p.show("reading", d, total, "")
			}
		})
	}
	wg.Wait()
	lines := strings.Split(out.String(), "\r\x1b[K")
	if lines[0] != "" || len(lines) < 2 {
		t.Fatalf("wrote %q", out.String())
	}
	for _, l := range lines[1:] {
		if !regexp.MustCompile(`^reading \d+/4000$`).MatchString(l) {
			t.Errorf("a line %q, not whole", l)
		}
	}
	if len(lines) > total/2 {
		t.Errorf("%d lines for %d steps: not held back", len(lines)-1, total)
	}
}

// openTerminal opens a pseudo-terminal: its controller, which reads what
// is written to the terminal, and the terminal.
func openTerminal(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ptmx.Close() })
	fd := int(ptmx.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ptmx, tty
}

// TestBuildProgress runs rounds build at a terminal, a real
// pseudo-terminal: it shows the content files read and the site's files
// written, and takes the line away before it says what it built. At
// anything else it writes its one line and no progress.
func TestBuildProgress(t *testing.T) {
	t.Parallel()
	files := map[string]string{}
	for i := range 5 {
		files[fmt.Sprintf("content/notes/n%d.md", i)] = testproject.Note(fmt.Sprintf("Note %d", i), "2026-11-0"+strconv.Itoa(i+1)+"T09:00:00Z")
	}
	dir := testproject.New(t, files)
	cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}

	var log, errs bytes.Buffer
	if err := Build(context.Background(), cfg, BuildOptions{Out: filepath.Join(dir, "public-log"), Now: testproject.Now}, Output{Out: &log, Err: &errs}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "\x1b") || !strings.HasPrefix(log.String(), "rounds: built 5 notes") {
		t.Errorf("not at a terminal, rounds build wrote %q", log.String())
	}

	ptmx, tty := openTerminal(t)
	var screen lockedBuffer
	read := make(chan error, 1)
	go func() {
		_, err := io.Copy(&screen, ptmx)
		read <- err
	}()
	err = Build(context.Background(), cfg, BuildOptions{Out: filepath.Join(dir, "public"), Now: testproject.Now}, Output{Out: tty, Err: &errs})
	tty.Close() // the controller reads to its end, then fails
	if err != nil {
		t.Fatal(err)
	}
	if err := <-read; err != nil && !errors.Is(err, syscall.EIO) {
		t.Fatal(err)
	}
	got := screen.String()
	m := regexp.MustCompile(`rounds: built 5 notes, \d+ editions?, (\d+) files`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("at a terminal, rounds build wrote %q", got)
	}
	for _, want := range []string{"\r\x1b[Kreading 5/5", "\r\x1b[Kwriting " + m[1] + "/" + m[1], "\r\x1b[Krounds: built"} {
		if !strings.Contains(got, want) {
			t.Errorf("at a terminal, rounds build wrote %q, without %q", got, want)
		}
	}
}
