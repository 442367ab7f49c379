// Package subscribers keeps the record of a newsletter's subscribers: who
// subscribed to which list, when and how, their confirmation, and every
// unsubscribe, bounce, complaint and erasure, as an append-only log of
// events that is never rewritten in place, so that nothing is lost and
// consent can be shown on request.
//
// The log lives in a Store: a local folder (FileStore), or the private S3
// bucket where the ledgers live (S3Store), which two service instances can
// append to at once. Folding the log (Load, or State.Apply on each event)
// gives the current State: each subscriber's lists, what is suppressed and
// why, the recipients of a list and the counts the CLI prints.
//
// Subscribers are named by a Key, a keyed hash of their address, so that
// events, tokens and erasure records hold no address. Tokens (Sign and
// Verify) are the links of confirmation and unsubscribe emails; Import and
// Export move subscribers in and out as CSV files.
//
// One secret, $ROUNDS_UNSUBSCRIBE_SECRET, keys all of it: the subscriber
// keys, the hashes of IP addresses and the tokens. Changing it makes every
// key in the log name nobody, so it is set once and kept.
package subscribers

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rounds-health/rounds/generator/leak"
)

// A Kind is what an event records.
type Kind string

// The kinds of events.
const (
	// Subscribed: the subscriber asked, on a form, to join Lists; the
	// subscription is pending until confirmed. It carries the Consent.
	Subscribed Kind = "subscribed"
	// Confirmed: the subscriber confirmed the pending subscription whose
	// Subscribed event's ID is Ref.
	Confirmed Kind = "confirmed"
	// Imported: the subscriber was brought in, already confirmed, from
	// another system (Source names it) to Lists.
	Imported Kind = "imported"
	// Unsubscribed: the subscriber left Lists, or every list when Lists is
	// empty. With a Ref, only the subscription Ref started is left.
	Unsubscribed Kind = "unsubscribed"
	// Bounced: a message to the subscriber bounced (see Bounce). A hard
	// bounce suppresses the address at once, soft ones after SoftLimit
	// within SoftWindow.
	Bounced Kind = "bounced"
	// Complained: the subscriber reported a message as spam; the address
	// is suppressed at once.
	Complained Kind = "complained"
	// Erased: the subscriber asked to be forgotten. Only the key is kept,
	// so that the address is never mailed again; Compact removes the
	// address from the events before this one.
	Erased Kind = "erased"
)

var kinds = map[Kind]bool{Subscribed: true, Confirmed: true, Imported: true, Unsubscribed: true, Bounced: true, Complained: true, Erased: true}

// An Event is one line of the log.
type Event struct {
	// ID is unique to the event: a retried append of the same event is
	// recognised by it and counted once. NewID makes one.
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	Kind Kind      `json:"kind"`
	// Key names the subscriber (see Key).
	Key string `json:"key"`
	// Email and Name are the address and name as given, on the events
	// that bring them (Subscribed, Imported); never on Erased.
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
	// Lists are the IDs of the lists the event is about.
	Lists []string `json:"lists,omitempty"`
	// Source says where the event came from: the form's page
	// ("form:/subscribe/"), "import:mailchimp", "one-click", "sns",
	// "imap", "send", "cli".
	Source string `json:"source,omitempty"`
	// Ref is the ID of the event that started the subscription this one
	// is about: the Subscribed event a Confirmed one confirms, or the
	// subscription an unsubscribe link was made for.
	Ref     string   `json:"ref,omitempty"`
	Consent *Consent `json:"consent,omitempty"`
	Bounce  *Bounce  `json:"bounce,omitempty"`
}

// Consent is what a subscriber agreed to and where: enough to show the
// consent on request without keeping their IP address.
type Consent struct {
	// Text is the SHA-256 (hex) of the consent text the form showed
	// (see HashText).
	Text string `json:"text,omitempty"`
	// Page is the URL of the form.
	Page string `json:"page,omitempty"`
	// IP is the keyed hash of the subscriber's IP address (see HashIP).
	IP string `json:"ip,omitempty"`
	// At is when consent was given, when not the event's time: an
	// import's opt-in time.
	At time.Time `json:"at,omitzero"`
}

// Bounce describes a bounced message.
type Bounce struct {
	// Hard is a permanent failure (a 5xx reply, an unknown mailbox); soft
	// ones (a full mailbox, a 4xx reply past the retries) are not.
	Hard bool `json:"hard"`
	// Diagnostic is the server's reason, cut at MaxDiagnostic bytes.
	Diagnostic string `json:"diagnostic,omitempty"`
}

// Limits on what an event holds; Validate enforces them.
const (
	MaxEventSize  = 16 << 10 // bytes of one event's JSON line
	MaxLists      = 64
	MaxListID     = 64
	MaxName       = 200
	MaxSource     = 200
	MaxDiagnostic = 1000
)

// Normalize returns the address in the form keys are made of: trimmed and
// in lower case. (Local parts are case-sensitive in theory and never in
// practice; treating them so keeps one person from being two subscribers.)
func Normalize(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// CheckAddress returns the normalised address, or an error (with the
// address masked) if it is not a plain address such as name@example.org.
func CheckAddress(email string) (string, error) {
	e := Normalize(email)
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || len(e) > 254 || strings.ContainsAny(e, "\r\n\x00") || !strings.Contains(e[strings.LastIndexByte(e, '@')+1:], ".") {
		return "", fmt.Errorf("%q is not an address; write it as name@example.org", leak.Mask(e))
	}
	return e, nil
}

// mac is HMAC-SHA256 of the parts under secret, for the purpose named by
// domain, so that a key, an IP hash and a token never share a value.
func mac(secret []byte, domain string, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("rounds-subscribers/" + domain + "\x00"))
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// Key is the subscriber's name in the log: a keyed hash (HMAC-SHA256 under
// the secret, 128 bits, hex) of the normalised address. Without the secret
// it cannot be traced back to the address, and it is all an erasure keeps.
func Key(secret []byte, email string) string {
	return hex.EncodeToString(mac(secret, "key", []byte(Normalize(email)))[:16])
}

// HashIP is the keyed hash of an IP address for a Consent: it shows that
// two sign-ups came from the same address without keeping the address.
func HashIP(secret []byte, ip string) string {
	return hex.EncodeToString(mac(secret, "ip", []byte(ip))[:16])
}

// HashText is the SHA-256 (hex) of a consent text, for Consent.Text.
func HashText(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// NewID returns a new random event ID.
func NewID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CheckList reports whether id can name a list: 1 to MaxListID letters,
// digits, "-" and "_".
func CheckList(id string) error {
	if id == "" || len(id) > MaxListID {
		return fmt.Errorf("list %q: a list ID has 1 to %d characters", id, MaxListID)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("list %q: a list ID has only letters, digits, - and _", id)
		}
	}
	return nil
}

// isHex reports whether s is n lower-case hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// printable reports whether s is valid UTF-8 of at most max bytes with no
// control characters.
func printable(s string, max int) bool {
	if len(s) > max || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// Validate reports what is wrong with the event, if anything: a store
// appends only valid events, and a reader refuses invalid ones.
func (e *Event) Validate() error {
	if err := e.check(); err != nil {
		return err
	}
	if e.Email != "" {
		if _, err := CheckAddress(e.Email); err != nil {
			return fmt.Errorf("email: %w", err)
		}
	}
	return nil
}

// check is Validate but for the address, which it only bounds: what a
// read checks of what Validate let in.
func (e *Event) check() error {
	switch {
	case !printable(e.Email, 254) || (e.Email != "" && !strings.Contains(e.Email, "@")):
		return errors.New("email: not an address")
	case e.ID == "" || len(e.ID) > 64 || !printable(e.ID, 64):
		return errors.New("id: missing or longer than 64 characters")
	case e.Time.IsZero():
		return errors.New("time: missing")
	case !kinds[e.Kind]:
		return fmt.Errorf("kind: %q is not a kind of event", e.Kind)
	case !isHex(e.Key, 32):
		return errors.New("key: not a subscriber key (32 hex digits; see Key)")
	case len(e.Lists) > MaxLists:
		return fmt.Errorf("lists: more than %d", MaxLists)
	case !printable(e.Name, MaxName):
		return fmt.Errorf("name: longer than %d bytes or has control characters", MaxName)
	case !printable(e.Source, MaxSource):
		return fmt.Errorf("source: longer than %d bytes or has control characters", MaxSource)
	case !printable(e.Ref, 64):
		return errors.New("ref: longer than 64 characters")
	case e.Kind == Confirmed && e.Ref == "":
		return errors.New("ref: a confirmation names the subscription it confirms")
	case (e.Kind == Subscribed || e.Kind == Imported) && (e.Email == "" || len(e.Lists) == 0):
		return fmt.Errorf("%s: needs an email and lists", e.Kind)
	case e.Kind == Erased && (e.Email != "" || e.Name != "" || e.Consent != nil):
		return errors.New("erased: keeps nothing but the key")
	case (e.Bounce != nil) != (e.Kind == Bounced):
		return errors.New("bounce: given on a bounce, and only there")
	case e.Bounce != nil && !printable(e.Bounce.Diagnostic, MaxDiagnostic):
		return fmt.Errorf("bounce: diagnostic longer than %d bytes or has control characters", MaxDiagnostic)
	case e.Consent != nil && !(printable(e.Consent.Text, 64) && printable(e.Consent.Page, 2048) && printable(e.Consent.IP, 64)):
		return errors.New("consent: a field is too long or has control characters")
	}
	for _, l := range e.Lists {
		if err := CheckList(l); err != nil {
			return fmt.Errorf("lists: %w", err)
		}
	}
	return nil
}

// Diagnostic cuts a bounce's diagnostic to MaxDiagnostic bytes of valid
// UTF-8 with no control characters, for Bounce.Diagnostic.
func Diagnostic(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > MaxDiagnostic {
		s = s[:MaxDiagnostic]
		for !utf8.ValidString(s) { // a rune cut in the middle
			s = s[:len(s)-1]
		}
	}
	return s
}
