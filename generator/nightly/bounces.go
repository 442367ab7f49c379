package nightly

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/subscribers"
	"github.com/rounds-health/rounds/generator/subscribers/bounce"
)

// bounceTimeout bounds one read of the bounce mailbox: a server that
// stalls must not hold a nightly run.
const bounceTimeout = 5 * time.Minute

// mailbox returns the bounce mailbox [subscribers.imap] describes, with
// its credentials from $ROUNDS_IMAP_USERNAME and $ROUNDS_IMAP_PASSWORD,
// or nil when none is configured. Warnings about the messages read (a
// malformed report, a message too large) go to warn.
func mailbox(cfg *config.Config, warn io.Writer) (*bounce.Mailbox, error) {
	c := cfg.Subscribers.IMAP
	if !c.Configured() {
		return nil, nil
	}
	user, password := os.Getenv("ROUNDS_IMAP_USERNAME"), os.Getenv("ROUNDS_IMAP_PASSWORD")
	if user == "" || password == "" {
		return nil, fmt.Errorf("the bounce mailbox at %s: set $ROUNDS_IMAP_USERNAME and $ROUNDS_IMAP_PASSWORD to log in to it", c.Address)
	}
	m := &bounce.Mailbox{
		Addr: c.Address, Username: user, Password: password, Name: c.Mailbox, MoveTo: c.MoveTo,
		Logger: slog.New(slog.NewTextHandler(warn, &slog.HandlerOptions{Level: slog.LevelWarn, ReplaceAttr: noTime})),
	}
	switch c.Security {
	case "starttls":
		m.Security = bounce.StartTLS
	case "plain":
		m.Security = bounce.Plain
	default:
		m.Security = bounce.ImplicitTLS
	}
	return m, nil
}

// noTime drops the time from a log line: the lines are a command's
// warnings, read as it runs.
func noTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

// A bounceTally counts what reading the bounce mailbox did.
type bounceTally struct {
	bounce.ReadStats
	// Hard, Soft and Complaints count the reports recorded in the log.
	Hard, Soft, Complaints int
	// Known counts the reports the log held already (a message read
	// twice, or a bounce that came back twice).
	Known int
	// Unusable counts reports that name no address.
	Unusable int
}

// String is the tally on one line.
func (t bounceTally) String() string {
	s := fmt.Sprintf("%s read, %s recorded (%d hard, %d soft, %s), %d already in the log, %s skipped, %d left for the next run",
		config.Count(t.Messages, "message"), config.Count(t.Hard+t.Soft+t.Complaints, "report"), t.Hard, t.Soft, config.Count(t.Complaints, "complaint"),
		t.Known, config.Count(t.Skipped, "message"), t.Left)
	if t.Unusable > 0 {
		s += fmt.Sprintf(", %s without an address left out", config.Count(t.Unusable, "report"))
	}
	return s
}

// readBounces reads the unseen messages of the bounce mailbox m and
// records their reports in the subscribers' log, each message's before
// it is marked processed, so that a run cut short reads it again. A
// report the log holds already is not appended again.
func readBounces(ctx context.Context, cfg *config.Config, m *bounce.Mailbox, now time.Time) (bounceTally, error) {
	var t bounceTally
	key, err := secret()
	if err != nil {
		return t, err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return t, err
	}
	known := map[string]bool{}
	err = st.Read(ctx, func(e *subscribers.Event) error {
		if e.Kind == subscribers.Bounced || e.Kind == subscribers.Complained {
			known[e.ID] = true
		}
		return nil
	})
	if err != nil {
		return t, fmt.Errorf("reading the subscribers' log: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, bounceTimeout)
	defer cancel()
	t.ReadStats, err = m.Read(ctx, func(ctx context.Context, reports []bounce.Report) error {
		events, unusable := subscribers.BounceEvents(key, reports, now)
		var fresh []subscribers.Event
		for _, e := range events {
			// A report the log holds, or that the message repeats, once.
			if !known[e.ID] && !slices.ContainsFunc(fresh, func(f subscribers.Event) bool { return f.ID == e.ID }) {
				fresh = append(fresh, e)
			}
		}
		if len(fresh) > 0 {
			if err := st.Append(ctx, fresh...); err != nil {
				return fmt.Errorf("appending to the subscribers' log: %w", err)
			}
		}
		t.Unusable += unusable
		t.Known += len(events) - len(fresh)
		for _, e := range fresh {
			known[e.ID] = true
			switch {
			case e.Kind == subscribers.Complained:
				t.Complaints++
			case e.Bounce.Hard:
				t.Hard++
			default:
				t.Soft++
			}
		}
		return nil
	})
	if err != nil {
		return t, fmt.Errorf("reading the bounce mailbox: %w", err)
	}
	return t, nil
}

// SubscriberBounces runs rounds subscribers bounces: it reads the bounce
// mailbox of [subscribers.imap], records its bounces and complaints in
// the subscribers' log, and says what it did on one line.
func SubscriberBounces(ctx context.Context, cfg *config.Config, now time.Time, out Output) error {
	m, err := mailbox(cfg, out.Err)
	if err != nil {
		return err
	}
	if m == nil {
		fmt.Fprintf(out.Out, "rounds subscribers bounces: no bounce mailbox ([subscribers.imap] in %s); nothing read\n", cfg.Rel(cfg.File))
		return nil
	}
	t, err := readBounces(ctx, cfg, m, now)
	if err != nil {
		if t.Messages > 0 {
			fmt.Fprintf(out.Out, "rounds subscribers bounces: before it stopped: %s\n", t)
		}
		return err
	}
	fmt.Fprintf(out.Out, "rounds subscribers bounces: %s\n", t)
	return nil
}

// bounceStage is the bounces stage of a nightly run: it records the
// bounce mailbox's reports, so that the send stage passes by the
// addresses they suppress. A dry run does not read the mailbox, since
// reading marks its messages.
func bounceStage(ctx context.Context, cfg *config.Config, now time.Time, dryRun bool, stdout, stderr io.Writer) error {
	if !cfg.Subscribers.IMAP.Configured() {
		fmt.Fprintln(stdout, "nightly: bounces: no bounce mailbox ([subscribers.imap]); skipped")
		return nil
	}
	if dryRun {
		fmt.Fprintf(stdout, "nightly: bounces: dry run: the bounce mailbox at %s is not read (reading marks its messages as processed)\n", cfg.Subscribers.IMAP.Address)
		return nil
	}
	m, err := mailbox(cfg, stderr)
	if err != nil {
		return err
	}
	t, err := readBounces(ctx, cfg, m, now)
	if err != nil {
		if t.Messages > 0 {
			fmt.Fprintf(stdout, "nightly: bounces: before it stopped: %s\n", t)
		}
		return err
	}
	fmt.Fprintf(stdout, "nightly: bounces: %s\n", t)
	return nil
}

// errHeldBack says that a nightly run's send was held back.
var errHeldBack = errors.New("the send was held back")

// snsHandler returns the handler of SES's bounce and complaint
// notifications that SNS posts to the subscribers service, from the
// topics of [subscribers] sns_topics, recording them in the log st; nil
// when no topic is configured.
func snsHandler(cfg *config.Config, st subscribers.Store, key []byte) http.Handler {
	if len(cfg.Subscribers.SNSTopics) == 0 {
		return nil
	}
	return (&bounce.SNS{Topics: cfg.Subscribers.SNSTopics}).Handler(recordReports(st, key, time.Now))
}

// recordReports returns the function that records reports in the log st,
// as of the time now gives. A notification SNS delivers twice makes the
// same events, which the log counts once.
func recordReports(st subscribers.Store, key []byte, now func() time.Time) func(context.Context, []bounce.Report) error {
	return func(ctx context.Context, reports []bounce.Report) error {
		events, _ := subscribers.BounceEvents(key, reports, now())
		if len(events) == 0 {
			return nil
		}
		if err := st.Append(ctx, events...); err != nil {
			return fmt.Errorf("recording %s: %w", config.Count(len(events), "report"), err)
		}
		return nil
	}
}
