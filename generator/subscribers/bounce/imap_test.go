package bounce

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rounds-health/rounds/generator/imaptest"
)

// imapServer is an in-process IMAP server on loopback (see imaptest),
// whose INBOX holds the given testdata messages, in order.
type imapServer struct {
	*imaptest.Server
}

func newIMAPServer(t *testing.T, security Security, files ...string) *imapServer {
	t.Helper()
	sec := map[Security]imaptest.Security{Plain: imaptest.Plain, StartTLS: imaptest.StartTLS, ImplicitTLS: imaptest.ImplicitTLS}[security]
	s := &imapServer{Server: imaptest.New(t, sec)}
	for _, f := range files {
		s.Append(t, "INBOX", readTestdata(t, f))
	}
	return s
}

// mailbox returns a Mailbox for the server.
func (s *imapServer) mailbox(security Security) *Mailbox {
	return &Mailbox{
		Addr:      s.Addr,
		Security:  security,
		TLSConfig: &tls.Config{RootCAs: s.RootCAs},
		Username:  imaptest.User,
		Password:  imaptest.Password,
		Logger:    slog.New(slog.DiscardHandler),
	}
}

// recorder is a Read's record function that keeps the reports, or fails.
type recorder struct {
	mu      sync.Mutex
	reports []Report
	calls   int
	fail    error
}

func (r *recorder) record(ctx context.Context, reports []Report) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail != nil {
		return r.fail
	}
	r.reports = append(r.reports, reports...)
	return nil
}

func (r *recorder) addresses() []string {
	var a []string
	for _, rep := range r.reports {
		a = append(a, rep.Address)
	}
	return a
}

func TestMailboxRead(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	var want []Report
	skipped := 0
	for i, f := range files {
		files[i] = filepath.Base(f)
		reports, _ := ParseMessage(strings.NewReader(readTestdata(t, files[i])))
		if len(reports) == 0 {
			skipped++
		}
		for _, r := range reports {
			if r.Time.IsZero() {
				r.Time = imaptest.Received
			}
			want = append(want, r)
		}
	}
	s := newIMAPServer(t, Plain, files...)
	var rec recorder
	stats, err := s.mailbox(Plain).Read(context.Background(), rec.record)
	if err != nil {
		t.Fatal(err)
	}
	if stats != (ReadStats{Messages: len(files), Reports: len(want), Skipped: skipped}) {
		t.Errorf("stats %+v, want %d messages, %d reports, %d skipped", stats, len(files), len(want), skipped)
	}
	if !slices.EqualFunc(rec.reports, want, func(a, b Report) bool { return a == b }) {
		t.Errorf("recorded\n%+v\nwant\n%+v", rec.reports, want)
	}
	if all, unseen := s.Count(t, "INBOX"); all != uint32(len(files)) || unseen != 0 {
		t.Errorf("INBOX has %d messages, %d unseen; want %d, all seen", all, unseen, len(files))
	}

	// A message that arrives later is the only one the next Read takes.
	s.Append(t, "INBOX", readTestdata(t, "exim-hard.eml"))
	rec = recorder{}
	stats, err = s.mailbox(Plain).Read(context.Background(), rec.record)
	if err != nil || stats.Messages != 1 || !slices.Equal(rec.addresses(), []string{"gone@surgery.example"}) {
		t.Errorf("the next Read: %+v, %v, recorded %q", stats, err, rec.addresses())
	}
}

// TestMailboxRecordError checks that a message whose reports could not
// be recorded stays unseen, and is read again next time.
func TestMailboxRecordError(t *testing.T) {
	t.Parallel()
	s := newIMAPServer(t, Plain, "out-of-office.eml", "postfix-hard.eml", "exim-hard.eml")
	down := errors.New("the store is down")
	rec := recorder{fail: down}
	stats, err := s.mailbox(Plain).Read(context.Background(), rec.record)
	if !errors.Is(err, down) || stats.Messages != 1 || rec.calls != 1 {
		t.Errorf("Read = %+v, %v after %d calls; want the store's error after one, with the auto-reply processed", stats, err, rec.calls)
	}
	if _, unseen := s.Count(t, "INBOX"); unseen != 2 {
		t.Errorf("%d messages unseen, want the 2 bounces", unseen)
	}

	rec = recorder{}
	stats, err = s.mailbox(Plain).Read(context.Background(), rec.record)
	want := []string{"nobody@patients.example", "full.box@clinic.example", "gone@surgery.example"}
	if err != nil || stats.Messages != 2 || !slices.Equal(rec.addresses(), want) {
		t.Errorf("the next Read: %+v, %v, recorded %q; want %q", stats, err, rec.addresses(), want)
	}
	if _, unseen := s.Count(t, "INBOX"); unseen != 0 {
		t.Errorf("%d messages unseen, want none", unseen)
	}
}

func TestMailboxTLS(t *testing.T) {
	t.Parallel()
	for _, security := range []Security{ImplicitTLS, StartTLS} {
		s := newIMAPServer(t, security, "gmail-hard.eml")

		// A client that does not trust the server's certificate stops.
		m := s.mailbox(security)
		m.TLSConfig = nil
		var rec recorder
		if _, err := m.Read(context.Background(), rec.record); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("security %d, an untrusted certificate: %v", security, err)
		}

		stats, err := s.mailbox(security).Read(context.Background(), rec.record)
		if err != nil || stats.Reports != 1 || !slices.Equal(rec.addresses(), []string{"no.such.reader@gmail.example"}) {
			t.Errorf("security %d: %+v, %v, recorded %q", security, stats, err, rec.addresses())
		}
	}

	// A server that offers no STARTTLS is not talked to in the clear.
	s := newIMAPServer(t, Plain, "gmail-hard.eml")
	var rec recorder
	if _, err := s.mailbox(StartTLS).Read(context.Background(), rec.record); err == nil || rec.calls != 0 {
		t.Errorf("STARTTLS to a server without it: %v, %d calls", err, rec.calls)
	}
	if _, unseen := s.Count(t, "INBOX"); unseen != 1 {
		t.Errorf("%d unseen, want the message still unseen", unseen)
	}
}

func TestMailboxMoveTo(t *testing.T) {
	t.Parallel()
	s := newIMAPServer(t, Plain, "postfix-delayed.eml", "read-receipt.eml")
	if err := s.User.Create("Processed", nil); err != nil {
		t.Fatal(err)
	}
	m := s.mailbox(Plain)
	m.MoveTo = "Processed"
	var rec recorder
	stats, err := m.Read(context.Background(), rec.record)
	if err != nil || stats != (ReadStats{Messages: 2, Reports: 1, Skipped: 1}) {
		t.Errorf("Read = %+v, %v", stats, err)
	}
	if all, _ := s.Count(t, "INBOX"); all != 0 {
		t.Errorf("%d messages left in INBOX", all)
	}
	if all, unseen := s.Count(t, "Processed"); all != 2 || unseen != 0 {
		t.Errorf("Processed has %d messages, %d unseen; want 2, seen", all, unseen)
	}
}

func TestMailboxLimits(t *testing.T) {
	t.Parallel()
	s := newIMAPServer(t, Plain, "huge-line.eml", "postfix-hard.eml", "exim-hard.eml")
	m := s.mailbox(Plain)
	m.MaxSize = 10 << 10
	m.MaxMessages = 2
	var rec recorder
	stats, err := m.Read(context.Background(), rec.record)
	if err != nil || stats != (ReadStats{Messages: 2, Reports: 2, Skipped: 1, Left: 1}) {
		t.Errorf("Read = %+v, %v; want the large message skipped, one read, one left", stats, err)
	}
	if _, unseen := s.Count(t, "INBOX"); unseen != 1 {
		t.Errorf("%d unseen, want 1", unseen)
	}
}

func TestMailboxRefuses(t *testing.T) {
	t.Parallel()
	s := newIMAPServer(t, Plain)
	wrong := s.mailbox(Plain)
	wrong.Password = "wrong"
	nowhere := s.mailbox(Plain)
	nowhere.Name = "Nowhere"
	for name, m := range map[string]*Mailbox{
		"plain off loopback": {Addr: "imap.example.org:143", Security: Plain},
		"no port":            {Addr: "127.0.0.1", Security: Plain},
		"unknown security":   {Addr: "127.0.0.1:1", Security: 7},
		"wrong password":     wrong,
		"no such mailbox":    nowhere,
	} {
		var rec recorder
		if _, err := m.Read(context.Background(), rec.record); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestMailboxContext checks that a server that never answers holds Read
// only until its context ends.
func TestMailboxContext(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	for _, security := range []Security{Plain, StartTLS, ImplicitTLS} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		m := &Mailbox{Addr: ln.Addr().String(), Security: security, Logger: slog.New(slog.DiscardHandler)}
		var rec recorder
		_, err := m.Read(ctx, rec.record)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("security %d: %v, want the context's deadline", security, err)
		}
	}
}
