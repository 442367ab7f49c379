package digest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/leak"
)

// A Sender sends a digest to subscribers over SMTP, at most once each,
// recording every delivery in a ledger. It uses net/smtp rather than
// go-mail's client because exactly-once needs a step between writing a
// message and sending its final dot: the ledger records that the message
// is committing before the dot goes, and what the server answered after.
type Sender struct {
	Host     string
	Port     int
	Security string // "starttls", "tls" or "none"
	// Username and Password authenticate with AUTH PLAIN, over TLS only
	// (or on loopback).
	Username, Password string
	// TLS is the TLS configuration; nil means the system's roots and Host.
	TLS         *tls.Config
	Connections int
	// Rate caps messages per second over all connections; 0 is no cap.
	Rate float64
	// Retries is how many times a 4xx reply is retried; Backoff is the
	// first wait, doubled at each retry.
	Retries int
	Backoff time.Duration
	// After PauseAfter consecutive errors, sending pauses for Pause.
	PauseAfter int
	Pause      time.Duration
	Timeout    time.Duration

	Composer *Composer
	Ledger   Ledger
	// Now dates the messages; nil means time.Now.
	Now func() time.Time
	// Done, if set, is called after each subscriber, from the goroutine
	// that sent to them.
	Done func(to string, r Record)
}

// NewSender returns a Sender to the server [email.smtp] describes,
// which composes with c and records in ledger. The credentials, secrets
// kept out of config.toml, come from $ROUNDS_SMTP_USERNAME and
// $ROUNDS_SMTP_PASSWORD.
func NewSender(server config.SMTPConfig, c *Composer, ledger Ledger) *Sender {
	return &Sender{
		Host: server.Host, Port: server.Port, Security: server.Security,
		Username: os.Getenv("ROUNDS_SMTP_USERNAME"), Password: os.Getenv("ROUNDS_SMTP_PASSWORD"),
		Connections: server.Connections, Rate: server.Rate, Retries: server.Retries, Backoff: 2 * time.Second,
		PauseAfter: server.PauseAfter, Pause: server.PauseDuration(), Timeout: server.TimeoutDuration(),
		Composer: c, Ledger: ledger,
	}
}

// A SendReport sums up a send.
type SendReport struct {
	Sent, Failed, Deferred int
	// Unknown counts the deliveries nobody knows the outcome of. In the
	// report of Sender.Send, they are those cut off after their final dot
	// in that run; in the report of Plan.Report, they are those and the
	// ones earlier runs left unknown (or a crash left committing) that
	// were not resent.
	Unknown int
	// Skipped counts subscribers the ledger says were already handled:
	// sent, or failed for good.
	Skipped int
}

// PlanOptions say what PlanSend does with the deliveries whose outcome is
// unknown.
type PlanOptions struct {
	// Record writes to the ledger, as unknown, the deliveries a crash
	// left committing. A dry run leaves it unset, and nothing is written.
	Record bool
	// ResendUnknown puts the subscribers whose delivery is unknown back
	// among those to send to, for when the curator has decided that a
	// second copy is better than none. The message is composed again
	// with the same Message-ID, on which many providers drop a copy they
	// already have, and goes through the ledger as any other: committing,
	// then the server's answer.
	ResendUnknown bool
}

// A Plan is what a send of an edition to a list has left to do, by its
// ledger.
type Plan struct {
	// Send lists the subscribers due: never tried, or deferred by 4xx
	// replies.
	Send []*Subscriber
	// Resend lists the subscribers whose delivery is unknown, to be sent
	// again; it is empty without PlanOptions.ResendUnknown.
	Resend []*Subscriber
	// Unknown holds the latest record of each subscriber whose delivery
	// is unknown, resent or not: recorded unknown by an earlier run, or
	// left committing by a crash and made unknown by this plan (in the
	// ledger with PlanOptions.Record, in memory only without). Its
	// records name the subscribers masked (Record.Masked, as Mask gives
	// it), never by their address, and can be printed as they are; their
	// Time is when the delivery was cut off.
	Unknown []Record
	// Handled counts the subscribers the ledger says were sent or failed
	// for good: nothing more is done for them.
	Handled int
}

// PlanSend reads the ledger and returns what a send of its edition to
// the list still has to do for the active subscribers among subs. A
// delivery left committing by a crash is not resent, since the server
// may have the message: it is unknown from then on, recorded so with
// opts.Record, and resent only with opts.ResendUnknown. Its unknown
// record is dated as the committing one, when the crash cut it off, so
// that it follows that one and precedes a resend in an S3 ledger's time
// order whatever clock the caller goes by.
func PlanSend(l Ledger, list string, subs []*Subscriber, opts PlanOptions) (*Plan, error) {
	latest, err := l.Load()
	if err != nil {
		return nil, fmt.Errorf("reading the ledger: %w", err)
	}
	p := new(Plan)
	var interrupted []Record
	for _, s := range subs {
		if !s.Active(list) {
			continue
		}
		r, ok := latest[Key(s.Email)]
		switch {
		case !ok || r.State == Deferred:
			p.Send = append(p.Send, s)
		case r.State == Committing || r.State == Unknown:
			if r.State == Committing {
				r = Record{Key: r.Key, Masked: leak.Mask(s.Email), State: Unknown, Reason: "interrupted after the final dot; the server may have accepted it", Time: r.Time}
				interrupted = append(interrupted, r)
			}
			p.Unknown = append(p.Unknown, r)
			if opts.ResendUnknown {
				p.Resend = append(p.Resend, s)
			}
		default:
			p.Handled++
		}
	}
	if len(interrupted) > 0 && opts.Record {
		if err := l.Append(interrupted...); err != nil {
			return nil, fmt.Errorf("recording the deliveries a crash interrupted as unknown: %w", err)
		}
	}
	return p, nil
}

// Todo returns the subscribers to give Sender.Send: Send, then Resend.
func (p *Plan) Todo() []*Subscriber {
	return append(slices.Clip(p.Send), p.Resend...)
}

// Report sums up a run of the plan from r, what Sender.Send returned for
// Todo (the zero SendReport for a dry run): r with Skipped set to
// Handled, and Unknown counting, besides the deliveries r found unknown,
// those of the plan that are not being resent. Subscribers being resent
// count by their outcome in r; if Send stopped early with an error, any
// it never reached are still unknown in the ledger, and not counted.
func (p *Plan) Report(r SendReport) SendReport {
	r.Skipped = p.Handled
	if len(p.Resend) == 0 {
		r.Unknown += len(p.Unknown)
	}
	return r
}

// Send sends the digest to each subscriber in subs (a Plan's Todo). Its
// error is for what stops the whole send: a ledger that cannot be
// written, a server that cannot be reached at all, a cancelled context.
func (s *Sender) Send(ctx context.Context, d *Digest, subs []*Subscriber) (SendReport, error) {
	var rep SendReport
	if s.Now == nil {
		s.Now = time.Now
	}
	jobs := make(chan *Subscriber)
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	limit := newLimiter(s.Rate)
	var consecutive atomic.Int64
	var wg sync.WaitGroup
	for range max(1, s.Connections) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{s: s, d: d}
			defer w.close()
			for sub := range jobs {
				if err := limit.wait(ctx); err != nil {
					fail(err)
					return
				}
				r, err := w.deliver(ctx, sub)
				if err != nil {
					fail(err)
					cancel()
					return
				}
				mu.Lock()
				switch r.State {
				case Sent:
					rep.Sent++
				case Failed:
					rep.Failed++
				case Deferred:
					rep.Deferred++
				case Unknown:
					rep.Unknown++
				}
				mu.Unlock()
				if s.Done != nil {
					s.Done(leak.Mask(sub.Email), r)
				}
				if r.State == Sent {
					consecutive.Store(0)
				} else if n := consecutive.Add(1); s.PauseAfter > 0 && n%int64(s.PauseAfter) == 0 {
					slog.Warn("send: pausing after consecutive errors", "errors", n, "pause", s.Pause)
					if err := sleep(ctx, s.Pause); err != nil {
						fail(err)
						return
					}
				}
			}
		}()
	}
feed:
	for _, sub := range subs {
		select {
		case jobs <- sub:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return rep, firstErr
}

// worker sends over one connection, reused from message to message.
type worker struct {
	s    *Sender
	d    *Digest
	c    *smtp.Client
	conn net.Conn
}

// close ends the connection: with QUIT after a send, or at once when it
// may be broken.
func (w *worker) close() {
	if w.c != nil {
		w.conn.SetDeadline(time.Now().Add(5 * time.Second))
		if w.c.Quit() != nil {
			w.c.Close()
		}
		w.c, w.conn = nil, nil
	}
}

// abandon drops a connection that may be broken.
func (w *worker) abandon() {
	if w.c != nil {
		w.c.Close()
		w.c, w.conn = nil, nil
	}
}

// deliver sends the digest to one subscriber, retrying 4xx replies, and
// records the outcome. Its error is only for the ledger or the context.
func (w *worker) deliver(ctx context.Context, sub *Subscriber) (Record, error) {
	s := w.s
	rec := Record{Key: Key(sub.Email), Masked: leak.Mask(sub.Email)}
	msg, err := s.Composer.Compose(w.d, sub, s.Now())
	if err != nil {
		rec.State, rec.Reason, rec.Time = Failed, err.Error(), s.Now().UTC()
		return rec, s.Ledger.Append(rec)
	}
	wait := s.Backoff
	for attempt := 0; ; attempt++ {
		state, code, reason, err := w.attempt(ctx, sub.Email, msg, rec)
		var de *dialError
		if errors.As(err, &de) && attempt < s.Retries {
			slog.Warn("send: cannot reach the server, retrying", "err", err, "wait", wait)
			if err := sleep(ctx, wait); err != nil {
				return rec, err
			}
			wait *= 2
			continue
		}
		if err != nil {
			return rec, err
		}
		rec.State, rec.Code, rec.Reason, rec.Time = state, code, reason, s.Now().UTC()
		if state == Deferred && attempt < s.Retries {
			slog.Info("send: temporary failure, retrying", "to", rec.Masked, "code", code, "wait", wait)
			if err := sleep(ctx, wait); err != nil {
				return rec, err
			}
			wait *= 2
			continue
		}
		return rec, s.Ledger.Append(rec)
	}
}

// attempt makes one SMTP transaction. A reply before the final dot, or a
// 4xx or 5xx after it, means the message was not accepted; no reply
// after the dot means nobody knows, and the message is unknown.
func (w *worker) attempt(ctx context.Context, to string, msg []byte, rec Record) (State, int, string, error) {
	s := w.s
	if err := ctx.Err(); err != nil {
		return "", 0, "", err
	}
	if w.c == nil {
		c, conn, err := s.dial(ctx)
		if err != nil {
			return "", 0, "", &dialError{err}
		}
		w.c, w.conn = c, conn
	}
	c := w.c
	// No server can hold a transaction up for longer than the timeout.
	w.conn.SetDeadline(time.Now().Add(s.timeout()))
	from := s.Composer.cfg.Email.FromAddress().Address
	if err := c.Mail(from); err != nil {
		w.drop(err)
		return classify(err)
	}
	if err := c.Rcpt(to); err != nil {
		w.drop(err)
		return classify(err)
	}
	wc, err := c.Data()
	if err != nil {
		w.drop(err)
		return classify(err)
	}
	if _, err := wc.Write(msg); err != nil {
		w.abandon()
		return classify(err)
	}
	committing := rec
	committing.State, committing.Time = Committing, s.Now().UTC()
	if err := s.Ledger.Append(committing); err != nil {
		w.abandon()
		return "", 0, "", err
	}
	err = wc.Close() // the final dot, and the server's reply
	var tp *textproto.Error
	switch {
	case err == nil:
		return Sent, 250, "", nil
	case errors.As(err, &tp):
		w.drop(err)
		return classify(err)
	default:
		w.abandon()
		return Unknown, 0, "no reply after the final dot: " + err.Error(), nil
	}
}

// SendMessage sends one message to one address on a connection of its
// own: for a single mail that needs no ledger, such as a sign-up's
// confirmation.
func (s *Sender) SendMessage(ctx context.Context, to string, msg []byte) error {
	c, conn, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if err := c.Mail(s.Composer.cfg.Email.FromAddress().Address); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	wc, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := wc.Write(msg); err != nil {
		return err
	}
	if err := wc.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// A dialError is a server that could not be reached or would not let
// Rounds in: nothing was sent, and nothing will be until that is fixed.
type dialError struct{ err error }

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// drop resets the connection after the server refused a transaction,
// keeping it for the next message, or abandons it if it may be broken.
func (w *worker) drop(err error) {
	var tp *textproto.Error
	if errors.As(err, &tp) && w.c.Reset() == nil {
		return
	}
	w.abandon()
}

// classify turns an error before the final dot into the delivery's state:
// a 5xx reply fails the address, anything else defers it.
func classify(err error) (State, int, string, error) {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		if tp.Code >= 500 {
			return Failed, tp.Code, tp.Msg, nil
		}
		return Deferred, tp.Code, tp.Msg, nil
	}
	return Deferred, 0, err.Error(), nil
}

// dial connects, says hello, secures the connection and authenticates.
func (s *Sender) dial(ctx context.Context) (*smtp.Client, net.Conn, error) {
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	d := &net.Dialer{Timeout: s.timeout()}
	tlsConfig := s.TLS
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
	}
	var conn net.Conn
	var err error
	if s.Security == "tls" {
		conn, err = (&tls.Dialer{NetDialer: d, Config: tlsConfig}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	conn.SetDeadline(time.Now().Add(s.timeout()))
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("%s: %w", addr, err)
	}
	fail := func(err error) (*smtp.Client, net.Conn, error) {
		c.Close()
		return nil, nil, err
	}
	if err := c.Hello("localhost"); err != nil {
		return fail(err)
	}
	if s.Security == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fail(fmt.Errorf("%s does not offer STARTTLS; use security = \"tls\" or another server", addr))
		}
		if err := c.StartTLS(tlsConfig); err != nil {
			return fail(fmt.Errorf("STARTTLS with %s: %w", addr, err))
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			return fail(fmt.Errorf("AUTH with %s: %w; check ROUNDS_SMTP_USERNAME and ROUNDS_SMTP_PASSWORD", addr, err))
		}
	}
	return c, conn, nil
}

func (s *Sender) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return 30 * time.Second
}

// limiter spaces messages to a rate, over all connections.
type limiter struct {
	mu    sync.Mutex
	every time.Duration
	next  time.Time
}

func newLimiter(rate float64) *limiter {
	if rate <= 0 {
		return &limiter{}
	}
	return &limiter{every: time.Duration(float64(time.Second) / rate)}
}

func (l *limiter) wait(ctx context.Context) error {
	if l.every == 0 {
		return ctx.Err()
	}
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	at := l.next
	l.next = l.next.Add(l.every)
	l.mu.Unlock()
	return sleep(ctx, time.Until(at))
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
