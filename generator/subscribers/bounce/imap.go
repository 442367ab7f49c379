package bounce

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Security is how a Mailbox's connection is protected.
type Security int

// The kinds of connection security.
const (
	// ImplicitTLS is TLS from the start, usually on port 993.
	ImplicitTLS Security = iota
	// StartTLS upgrades a plain connection with STARTTLS, usually on
	// port 143; a server that does not offer it is an error.
	StartTLS
	// Plain is no protection at all, for a server on loopback (tests)
	// and nowhere else.
	Plain
)

// A Mailbox is the bounce mailbox on an IMAP server.
type Mailbox struct {
	// Addr is the server's host and port.
	Addr     string
	Security Security
	// TLSConfig, when not nil, is used for ImplicitTLS and StartTLS;
	// the server's name is taken from Addr when it has none.
	TLSConfig          *tls.Config
	Username, Password string
	// Name is the mailbox's name; "" means INBOX.
	Name string
	// MoveTo, when not "", is a mailbox that processed messages move
	// to; otherwise they stay, flagged \Seen.
	MoveTo string
	// MaxMessages is the most messages one Read takes; 0 means 500. The
	// rest wait for the next Read.
	MaxMessages int
	// MaxSize is the largest message read, in bytes; 0 or more than
	// MaxMessageSize means MaxMessageSize. Larger ones are logged and
	// marked processed without being read.
	MaxSize int64
	// Logger logs each message's outcome; nil means slog.Default().
	Logger *slog.Logger
}

// ReadStats counts what a Read did.
type ReadStats struct {
	Messages int // messages processed: read and flagged or moved
	Reports  int // reports recorded
	Skipped  int // processed messages with no report: not reports, malformed, too large
	Left     int // unseen messages left for the next Read
}

// Read reads the unseen messages of the mailbox, oldest first, and
// passes the reports of each to record. A message is flagged \Seen (or
// moved to MoveTo) only once record has returned nil for it, so a Read
// that stops, or a process that crashes, leaves it to be read again
// rather than lost: record must take the same reports twice calmly.
// Messages that give no reports (they are not reports, or are malformed
// or too large) are logged and processed too. Read stops at the first
// error of record or of the server, and returns it with what it did so
// far. Time bounds the whole of it: when ctx ends, the connection is
// closed.
//
// A report without a time of its own has the time the server received
// its message.
func (m *Mailbox) Read(ctx context.Context, record func(context.Context, []Report) error) (ReadStats, error) {
	var stats ReadStats
	c, err := m.dial(ctx)
	if err != nil {
		return stats, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	// fail prefers ctx's error to the closed connection's that it caused.
	fail := func(what string, err error) (ReadStats, error) {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return stats, fmt.Errorf("imap %s: %s: %w", m.Addr, what, err)
	}

	if err := c.Login(m.Username, m.Password).Wait(); err != nil {
		return fail("logging in", err)
	}
	name := m.Name
	if name == "" {
		name = "INBOX"
	}
	if _, err := c.Select(name, nil).Wait(); err != nil {
		return fail("selecting "+name, err)
	}
	found, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen, imap.FlagDeleted}}, nil).Wait()
	if err != nil {
		return fail("searching unseen messages", err)
	}
	uids := found.AllUIDs()
	limit := m.MaxMessages
	if limit <= 0 {
		limit = 500
	}
	if len(uids) > limit {
		stats.Left = len(uids) - limit
		uids = uids[:limit]
	}
	log := m.logger().With("mailbox", name)
	for _, uid := range uids {
		reports, err := m.fetch(c, uid)
		if err != nil {
			return fail(fmt.Sprintf("fetching message %d", uid), err)
		}
		if len(reports) > 0 {
			if err := record(ctx, reports); err != nil {
				return stats, fmt.Errorf("recording the reports of message %d: %w", uid, err)
			}
			for _, r := range reports {
				log.Info("bounce: report", "uid", uid, "report", r)
			}
		} else {
			stats.Skipped++
		}
		if err := m.done(c, uid); err != nil {
			return fail(fmt.Sprintf("marking message %d processed", uid), err)
		}
		stats.Messages++
		stats.Reports += len(reports)
	}
	if stats.Left > 0 {
		log.Info("bounce: unseen messages left for the next run", "left", stats.Left)
	}
	if err := c.Logout().Wait(); err != nil && ctx.Err() == nil {
		log.Warn("bounce: logging out", "err", err)
	}
	return stats, nil
}

// fetch reads a message and returns its reports, or none when it gives
// none (logged); an error is the server's.
func (m *Mailbox) fetch(c *imapclient.Client, uid imap.UID) ([]Report, error) {
	limit := m.MaxSize
	if limit <= 0 || limit > MaxMessageSize {
		limit = MaxMessageSize
	}
	log := m.logger().With("uid", uid)
	cmd := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{
		UID:          true,
		InternalDate: true,
		RFC822Size:   true,
		BodySection:  []*imap.FetchItemBodySection{{Peek: true}},
	})
	defer cmd.Close()
	msg := cmd.Next()
	if msg == nil {
		return nil, cmd.Close() // gone since the search: nothing to do
	}
	var (
		body     []byte
		size     int64
		received time.Time
		tooLarge bool
	)
	for item := msg.Next(); item != nil; item = msg.Next() {
		switch item := item.(type) {
		case imapclient.FetchItemDataRFC822Size:
			size = item.Size
		case imapclient.FetchItemDataInternalDate:
			received = item.Time
		case imapclient.FetchItemDataBodySection:
			if item.Literal == nil {
				continue
			}
			b, err := io.ReadAll(io.LimitReader(item.Literal, limit+1))
			if err != nil {
				return nil, err
			}
			body, tooLarge = b, int64(len(b)) > limit
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, err
	}
	if tooLarge || size > limit {
		log.Warn("bounce: message too large to read; marked processed", "size", size, "max", limit)
		return nil, nil
	}
	reports, err := ParseMessage(bytes.NewReader(body))
	if err != nil {
		level := slog.LevelWarn
		if errors.Is(err, ErrNotReport) {
			level = slog.LevelInfo
		}
		log.Log(context.Background(), level, "bounce: message without reports; marked processed", "err", masked(err))
		return nil, nil
	}
	for i := range reports {
		if reports[i].Time.IsZero() {
			reports[i].Time = received
		}
	}
	return reports, nil
}

// done marks a message processed: flagged \Seen, and moved if MoveTo says.
func (m *Mailbox) done(c *imapclient.Client, uid imap.UID) error {
	set := imap.UIDSetNum(uid)
	seen := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}
	if err := c.Store(set, seen, nil).Close(); err != nil {
		return err
	}
	if m.MoveTo == "" {
		return nil
	}
	_, err := c.Move(set, m.MoveTo).Wait()
	return err
}

// dial connects to the server as Security says, within ctx.
func (m *Mailbox) dial(ctx context.Context) (*imapclient.Client, error) {
	host, _, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return nil, fmt.Errorf("imap %s: %w", m.Addr, err)
	}
	cfg := &tls.Config{}
	if m.TLSConfig != nil {
		cfg = m.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	opts := &imapclient.Options{TLSConfig: cfg}
	var d net.Dialer
	switch m.Security {
	case ImplicitTLS:
		cfg.NextProtos = []string{"imap"}
		conn, err := (&tls.Dialer{NetDialer: &d, Config: cfg}).DialContext(ctx, "tcp", m.Addr)
		if err != nil {
			return nil, fmt.Errorf("imap %s: %w", m.Addr, err)
		}
		return m.greet(ctx, imapclient.New(conn, opts))
	case StartTLS, Plain:
		if m.Security == Plain && !loopback(host) {
			return nil, fmt.Errorf("imap %s: a plain connection is for a server on loopback only", m.Addr)
		}
		conn, err := d.DialContext(ctx, "tcp", m.Addr)
		if err != nil {
			return nil, fmt.Errorf("imap %s: %w", m.Addr, err)
		}
		if m.Security == Plain {
			return m.greet(ctx, imapclient.New(conn, opts))
		}
		// STARTTLS waits for the server's answer: bound it by ctx.
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		c, err := imapclient.NewStartTLS(conn, opts)
		if !stop() || err != nil {
			if c != nil {
				c.Close()
			}
			return nil, fmt.Errorf("imap %s: STARTTLS: %w", m.Addr, errors.Join(ctx.Err(), err))
		}
		return c, nil
	}
	return nil, fmt.Errorf("imap %s: unknown security %d", m.Addr, m.Security)
}

// greet waits for the server's greeting within ctx.
func (m *Mailbox) greet(ctx context.Context, c *imapclient.Client) (*imapclient.Client, error) {
	stop := context.AfterFunc(ctx, func() { c.Close() })
	err := c.WaitGreeting()
	if !stop() || err != nil {
		c.Close()
		return nil, fmt.Errorf("imap %s: waiting for the greeting: %w", m.Addr, errors.Join(ctx.Err(), err))
	}
	return c, nil
}

// loopback reports whether host is a loopback address or localhost.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (m *Mailbox) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.Default()
}
