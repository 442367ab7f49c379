package nightly

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-lambda-go/lambdaurl"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/leak"
	"github.com/rounds-health/rounds/generator/subscribers"
)

// SubscribersOptions are rounds subscribers' choices.
type SubscribersOptions struct {
	Now time.Time
	// Lists are the lists --list names: what add subscribes to, remove
	// unsubscribes from (all when empty), list shows and import fills
	// when the file names none.
	Lists []string
	// Unmasked prints addresses whole.
	Unmasked bool
	// Erase makes remove forget the address, keeping only its keyed hash.
	Erase bool
	// Format is the import file's kind; "" detects it.
	Format string
	// Bind is the address serve listens on; Listener, when set, is
	// listened on instead (a socket handed over, as by a test).
	Bind     string
	Listener net.Listener
	// ClientIPHeader, for a service behind a proxy, is the header that
	// proxy sets to the client's address (X-Forwarded-For): its last
	// address is counted by the sign-up limits. Empty means the address
	// of the connection.
	ClientIPHeader string
}

// A store is the subscribers' log and, for erasures, its compaction.
type store interface {
	subscribers.Store
	Compact(ctx context.Context) error
}

// openStore opens the log of subscribers where cfg keeps it: a folder
// (made when missing) or a private bucket.
func openStore(ctx context.Context, cfg *config.Config) (store, error) {
	loc := cfg.StorePath()
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" && !strings.HasPrefix(loc, "s3://") {
		// Refused before OpenFileStore makes the folder, which in the
		// function's read-only /var/task would fail less clearly.
		return nil, fmt.Errorf("in Lambda the subscribers' log must be in a bucket, as a function's folder does not last: set $ROUNDS_SUBSCRIBERS_STORE or [subscribers] store to s3://bucket/prefix/ (it is %s)", cfg.Rel(loc))
	}
	if strings.HasPrefix(loc, "s3://") {
		client, err := bucketClient(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return subscribers.OpenS3Store(client, loc)
	}
	return subscribers.OpenFileStore(loc)
}

// secret returns the key of the subscribers' keyed hashes,
// $ROUNDS_UNSUBSCRIBE_SECRET, which changing the log needs.
func secret() ([]byte, error) {
	s := []byte(os.Getenv("ROUNDS_UNSUBSCRIBE_SECRET"))
	if err := subscribers.CheckSecret(s); err != nil {
		return nil, fmt.Errorf("$ROUNDS_UNSUBSCRIBE_SECRET: %w; the log names subscribers by a keyed hash of their address, made with it", err)
	}
	return s, nil
}

// Subscribers runs rounds subscribers' subcommand sub (list, add, remove,
// import, export or stats) with its arguments.
func Subscribers(ctx context.Context, cfg *config.Config, sub string, args []string, o SubscribersOptions, out Output) error {
	for _, l := range o.Lists {
		if cfg.List(l) == nil {
			return &UsageError{fmt.Sprintf("no list %q in %s; the lists are the [[list]] tables", l, cfg.Rel(cfg.File))}
		}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	if sub == "serve" {
		// The service reads the log afresh for each request.
		return serveSubscribers(ctx, cfg, st, o, out)
	}
	state, err := subscribers.Load(ctx, st)
	if err != nil {
		return err
	}
	mask := leak.Mask
	if o.Unmasked {
		mask = func(s string) string { return s }
	}
	switch sub {
	case "list":
		return listSubscribers(state, o.Lists, mask, out)
	case "export":
		return state.Export(out.Out)
	case "stats":
		return subscriberStats(state, o.Now, out)
	}
	key, err := secret()
	if err != nil {
		return err
	}
	switch sub {
	case "add", "import":
		var rows []subscribers.Row
		source := "cli"
		if sub == "add" {
			if len(o.Lists) == 0 {
				return &UsageError{"add: name the lists with --list"}
			}
			for _, a := range args {
				email, err := subscribers.CheckAddress(a)
				if err != nil {
					return &UsageError{fmt.Sprintf("add %s: %v", leak.Mask(a), err)}
				}
				rows = append(rows, subscribers.Row{Email: email, Lists: o.Lists, Status: "subscribed"})
			}
		} else {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			var format subscribers.Format
			rows, format, err = subscribers.ReadCSV(args[0], f, subscribers.Format(o.Format), o.Lists)
			if err != nil {
				return err
			}
			source = "import:" + string(format)
		}
		events, rep := state.Import(key, rows, source, o.Now)
		if err := st.Append(ctx, events...); err != nil {
			return err
		}
		for _, s := range rep.Skipped {
			fmt.Fprintf(out.Err, "rounds subscribers %s: line %d: %s left out: %s\n", sub, s.Line, s.Email, s.Why)
		}
		fmt.Fprintf(out.Out, "rounds subscribers %s: %d added to lists, %d unsubscribes and %d suppressions recorded, %d left out\n",
			sub, rep.Added, rep.Unsubscribed, rep.Suppressed, len(rep.Skipped))
		return nil
	case "remove":
		var events []subscribers.Event
		for _, a := range args {
			k := subscribers.Key(key, a)
			if _, ok := state.Subscriber(k); !ok && !o.Erase {
				fmt.Fprintf(out.Err, "rounds subscribers remove: %s: not in the log\n", mask(a))
				continue
			}
			e := subscribers.Event{ID: subscribers.NewID(), Time: o.Now, Kind: subscribers.Unsubscribed, Key: k, Lists: o.Lists, Source: "cli"}
			if o.Erase {
				e.Kind, e.Lists = subscribers.Erased, nil
			}
			events = append(events, e)
		}
		if len(events) == 0 {
			return nil
		}
		if err := st.Append(ctx, events...); err != nil {
			return err
		}
		if o.Erase {
			// The log's older lines still hold the address until a
			// compaction drops them.
			if err := st.Compact(ctx); err != nil {
				return fmt.Errorf("the erasure is recorded, but the log still holds the address: %w; run the command again", err)
			}
			fmt.Fprintf(out.Out, "rounds subscribers remove: %d erased: only a keyed hash of each address is kept, so that it is never mailed again\n", len(events))
			return nil
		}
		what := "every list"
		if len(o.Lists) > 0 {
			what = strings.Join(o.Lists, ", ")
		}
		fmt.Fprintf(out.Out, "rounds subscribers remove: %d unsubscribed from %s\n", len(events), what)
		return nil
	}
	return &UsageError{fmt.Sprintf("unknown subcommand %q", sub)}
}

// listSubscribers prints every subscriber on the lists (all when lists is
// empty): address, their lists and standing, and any suppression.
func listSubscribers(state *subscribers.State, lists []string, mask func(string) string, out Output) error {
	w := tabwriter.NewWriter(out.Out, 0, 4, 2, ' ', 0)
	n := 0
	for _, s := range state.All() {
		var on []string
		for _, x := range s.Lists {
			if len(lists) == 0 || slices.Contains(lists, x.List) {
				on = append(on, fmt.Sprintf("%s:%s", x.List, x.Status))
			}
		}
		if len(on) == 0 && (len(lists) > 0 || s.Suppressed == "") {
			continue
		}
		who := mask(s.Email)
		switch {
		case s.Erased:
			who = "(erased " + s.Key[:min(12, len(s.Key))] + ")"
		case s.Email == "":
			who = "(address not kept " + s.Key[:min(12, len(s.Key))] + ")"
		}
		standing := strings.Join(on, " ")
		if s.Suppressed != "" {
			standing += "  suppressed: " + string(s.Suppressed) + " since " + s.SuppressedSince.Format("2006-01-02")
		}
		fmt.Fprintf(w, "%s\t%s\n", who, strings.TrimSpace(standing))
		n++
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out.Err, "rounds subscribers list: %s\n", config.Count(n, "subscriber"))
	return nil
}

// subscriberStats prints each list's counts and its last days' changes.
func subscriberStats(state *subscribers.State, now time.Time, out Output) error {
	stats := state.Stats(now)
	if len(stats) == 0 {
		fmt.Fprintln(out.Out, "rounds subscribers stats: no subscribers yet")
		return nil
	}
	w := tabwriter.NewWriter(out.Out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "list\tconfirmed\tpending\tunsubscribed\tsuppressed\t\tlast %d days: joined\tconfirmed\tleft\tsuppressed\t\n", subscribers.StatsDays)
	for _, s := range stats {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t\t%d\t%d\t%d\t%d\t\n", s.List, s.Confirmed, s.Pending, s.Unsubscribed, s.Suppressed,
			s.Recent.Subscribed, s.Recent.Confirmed, s.Recent.Unsubscribed, s.Recent.Suppressed)
	}
	return w.Flush()
}

// serveSubscribers runs the subscribers service on o.Bind until ctx ends:
// the confirmation and unsubscribe links' pages and posts, under the path
// of [subscribers] url.
func serveSubscribers(ctx context.Context, cfg *config.Config, st store, o SubscribersOptions, out Output) error {
	key, err := secret()
	if err != nil {
		return err
	}
	svc, err := newService(cfg, st, key, time.Now(), serviceOptions{})
	if err != nil {
		return err
	}
	svc.Bounces = snsHandler(cfg, st, key)
	if h := o.ClientIPHeader; h != "" {
		svc.ClientIP = func(r *http.Request) string {
			// The last address is the one the proxy itself added.
			v := r.Header.Values(h)
			if len(v) == 0 {
				return ""
			}
			last := v[len(v)-1]
			return strings.TrimSpace(last[strings.LastIndexByte(last, ',')+1:])
		}
	}
	prefix := "/"
	if u := cfg.Subscribers.ServiceURL(); u != nil {
		prefix = u.Path
	}
	mux := http.NewServeMux()
	mux.Handle(prefix, http.StripPrefix(strings.TrimSuffix(prefix, "/"), svc))
	if os.Getenv("AWS_LAMBDA_RUNTIME_API") != "" {
		// In AWS Lambda, behind a Function URL: the same handler, given
		// each request by the Lambda runtime; the client's address is
		// the Function URL's source IP. openStore has refused a folder.
		fmt.Fprintf(out.Err, "rounds subscribers: serving %s in AWS Lambda (the store: %s)\n", cfg.Subscribers.URL, cfg.StorePath())
		lambdaurl.Start(mux)
		return nil
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10}
	ln := o.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", o.Bind); err != nil {
			return err
		}
	}
	fmt.Fprintf(out.Out, "rounds subscribers: serving %s on http://%s%s (the store: %s)\n", cfg.Subscribers.URL, ln.Addr(), prefix, cfg.Rel(cfg.StorePath()))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(shut)
	}
}
