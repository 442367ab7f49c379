package nightly

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/digest"
	"github.com/rounds-health/rounds/generator/subscribers"
)

// An audience is who the newsletter may mail: the rows of the subscribers
// file, which curators keep by hand, and the log of the subscribers
// service (sign-ups, departures, bounces, complaints, erasures). The log
// has the last word: an address it has suppressed or erased, or that left
// a list, is not mailed on the strength of a row.
type audience struct {
	// rows are the subscribers file's, nil when there is none.
	rows []*digest.Subscriber
	// state is the log folded, nil when there is no log yet; log is
	// where it is kept.
	state *subscribers.State
	log   store
	// secret keys the log's hashes of addresses: without it, rows cannot
	// be matched to the log.
	secret []byte
	// missing says that neither the file nor the log exists.
	missing bool
}

// loadAudience reads the subscribers file and the log where cfg keeps
// them. Neither is made if missing: a build reads them too.
func loadAudience(ctx context.Context, cfg *config.Config) (*audience, error) {
	a := &audience{}
	client := func() (*s3.Client, error) { return bucketClient(ctx, cfg) }
	rows, err := digest.ReadSubscribersFrom(ctx, client, cfg.SubscribersPath())
	var noKey *types.NoSuchKey
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.As(err, &noKey):
	case err != nil:
		return nil, err
	default:
		a.rows = rows
	}
	loc := cfg.StorePath()
	if _, err := os.Stat(loc); strings.HasPrefix(loc, "s3://") || err == nil {
		if a.log, err = openStore(ctx, cfg); err != nil {
			return nil, err
		}
		if a.state, err = subscribers.Load(ctx, a.log); err != nil {
			return nil, err
		}
	}
	a.secret, _ = secret() // without it, rows are not matched to the log

	a.missing = a.rows == nil && (a.state == nil || a.state.Len() == 0)
	return a, nil
}

// addresses returns every address the audience holds, whatever its
// standing: what the site and its bucket must never show.
func (a *audience) addresses() []string {
	var out []string
	for _, r := range a.rows {
		out = append(out, r.Email)
	}
	if a.state != nil {
		for _, s := range a.state.All() {
			if s.Email != "" {
				out = append(out, s.Email)
			}
		}
	}
	return out
}

// recipients returns who receives the list's digest, by address: the
// log's confirmed and unsuppressed subscribers, then the file's rows on
// the list that the log does not hold back. unchecked says that rows
// could not be matched to the log, for want of the secret.
func (a *audience) recipients(list string) (out []*digest.Subscriber, unchecked bool) {
	seen := map[string]bool{}
	if a.state != nil {
		for _, r := range a.state.Recipients(list) {
			out = append(out, &digest.Subscriber{Email: r.Email, Name: r.Name, Lists: []string{list}, Status: "subscribed", Ref: r.Ref})
			seen[subscribers.Normalize(r.Email)] = true
		}
	}
	for _, r := range a.rows {
		if !r.Active(list) || seen[subscribers.Normalize(r.Email)] {
			continue
		}
		if a.state != nil && a.state.Len() > 0 {
			if a.secret == nil {
				unchecked = true
			} else if s, ok := a.state.Subscriber(subscribers.Key(a.secret, r.Email)); ok && heldBack(s, list) {
				continue
			}
		}
		seen[subscribers.Normalize(r.Email)] = true
		out = append(out, r)
	}
	slices.SortFunc(out, func(x, y *digest.Subscriber) int { return strings.Compare(x.Email, y.Email) })
	return out, unchecked
}

// heldBack reports whether the log keeps s from the list's digest: a
// suppressed or erased address, or one that left the list.
func heldBack(s subscribers.Subscriber, list string) bool {
	if s.Suppressed != "" || s.Erased {
		return true
	}
	x, ok := s.On(list)
	return ok && x.Status == subscribers.Left
}

// bounce records in the log that mail to each address bounced for good,
// so that none is mailed again on any list.
func (a *audience) bounce(ctx context.Context, cfg *config.Config, now time.Time, bounced map[string]string) error {
	if len(bounced) == 0 {
		return nil
	}
	if a.secret == nil {
		return errors.New("bounces cannot be recorded without $ROUNDS_UNSUBSCRIBE_SECRET")
	}
	if a.log == nil {
		var err error
		if a.log, err = openStore(ctx, cfg); err != nil {
			return err
		}
	}
	var events []subscribers.Event
	for _, email := range slices.Sorted(maps.Keys(bounced)) {
		events = append(events, subscribers.Event{ID: subscribers.NewID(), Time: now, Kind: subscribers.Bounced,
			Key: subscribers.Key(a.secret, email), Source: "send", Bounce: &subscribers.Bounce{Hard: true, Diagnostic: subscribers.Diagnostic(bounced[email])}})
	}
	if err := a.log.Append(ctx, events...); err != nil {
		return fmt.Errorf("recording %s: %w", config.Count(len(events), "bounce"), err)
	}
	return nil
}
