package subscribers

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"

	"github.com/rounds-health/rounds/generator/subscribers/bounce"
)

// BounceEvents returns the events that record the bounce and complaint
// reports in the log: for each, a Bounced event (hard or soft, with the
// report's diagnostic) or a Complained one, naming the address by its
// Key, at the report's time (now when the report tells none, or tells a
// time after now), from the report's source ("imap" or "sns").
//
// Each event's ID is made from the report alone (its source, the
// Message-ID of the mail that bounced, the address, the kind, the time
// and the diagnostic as the report gives them), so that the same report
// read twice, from a mailbox message read again after a crash or an SNS
// notification delivered twice, is the same event, which the log counts
// once.
//
// A report is recorded whether or not the log knows its address: the
// address may come later, by an import, and must then stay suppressed.
// Reports with no address or of no known kind are left out; skipped
// counts them.
func BounceEvents(secret []byte, reports []bounce.Report, now time.Time) (events []Event, skipped int) {
	for _, r := range reports {
		email := Normalize(r.Address)
		if email == "" || !strings.Contains(email, "@") {
			skipped++
			continue
		}
		e := Event{Key: Key(secret, email), Time: r.Time, Source: r.Source}
		switch r.Kind {
		case bounce.Hard, bounce.Soft:
			e.Kind, e.Bounce = Bounced, &Bounce{Hard: r.Kind == bounce.Hard, Diagnostic: Diagnostic(r.Diagnostic)}
		case bounce.Complaint:
			e.Kind = Complained
		default:
			skipped++
			continue
		}
		e.ID = bounceID(e.Key, r)
		if e.Time.IsZero() || e.Time.After(now) {
			e.Time = now
		}
		if !printable(e.Source, MaxSource) {
			e.Source = ""
		}
		events = append(events, e)
	}
	return events, skipped
}

// bounceID is the ID of the event recording the report for the
// subscriber key: a hash of what the report says, so that the same report
// makes the same ID. It hashes the key rather than the address, so that
// the ID tells nothing of the address without the secret.
func bounceID(key string, r bounce.Report) string {
	h := sha256.New()
	for _, part := range []string{r.Source, r.MessageID, key, string(r.Kind), r.Time.UTC().Format(time.RFC3339Nano), r.Diagnostic} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	// "r" marks an ID made of a report; 24 bytes (192 bits) of the hash.
	return "r" + base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:24])
}
