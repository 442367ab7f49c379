// Package bounce reads the bounces and complaints that come back from
// sending a newsletter, from the two places they arrive: delivery status
// notifications (RFC 3464) and abuse feedback reports (ARF, RFC 5965) in
// a bounce mailbox read over IMAP, and Amazon SES event notifications
// posted by SNS.
//
// Each source gives plain Reports: an address, whether it bounced hard
// or soft or complained, when, and why. The package decides nothing
// about subscribers: its caller records the reports, and the
// subscribers' store applies the rule (a hard bounce or a complaint
// suppresses an address at once, soft bounces after three in 30 days).
//
// Everything read here is untrusted: a message or a notification is
// bounded in size and in the work it takes, a malformed one gives an
// error that says what is wrong and no report, and no address appears
// unmasked in a log line or an error.
package bounce

import (
	"log/slog"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/rounds-health/rounds/generator/leak"
)

// Kind is what a report says happened to mail for an address.
type Kind string

// The kinds of report.
const (
	// Hard is a permanent failure (a 5.x.x status, or SES's Permanent
	// bounce type): the address does not take mail.
	Hard Kind = "hard"
	// Soft is a transient failure or a delay (4.x.x, SES's Transient or
	// Undetermined): the address may take mail later.
	Soft Kind = "soft"
	// Complaint is a recipient's report of the mail as abuse.
	Complaint Kind = "complaint"
)

// The sources of reports.
const (
	SourceIMAP = "imap" // a message in the bounce mailbox
	SourceSNS  = "sns"  // an SES event notification posted by SNS
)

// MaxDiagnostic is the longest Report.Diagnostic, in bytes.
const MaxDiagnostic = 300

// A Report is one bounce or complaint for one address.
type Report struct {
	// Address is the recipient that bounced or complained, as the
	// report names it; the caller normalizes it to look it up.
	Address string
	Kind    Kind
	// Time is when the failure or the complaint happened, as the report
	// tells it; it is zero when the report does not tell.
	Time time.Time
	// Diagnostic is the status code and the remote server's text (or
	// the feedback type), on one line, at most MaxDiagnostic bytes, with
	// any address in it masked.
	Diagnostic string
	// Source is SourceIMAP or SourceSNS.
	Source string
	// MessageID is the Message-ID of the message that bounced, without
	// angle brackets, when the report carries it.
	MessageID string
}

// LogValue logs a report with its address masked.
func (r Report) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("address", leak.Mask(r.Address)),
		slog.String("kind", string(r.Kind)),
		slog.String("source", r.Source),
		slog.String("diagnostic", r.Diagnostic),
	)
}

// maxReports bounds the reports taken from one message or notification:
// a newsletter goes to one recipient a message, and a report naming
// more than this many is not one of ours.
const maxReports = 100

// address returns the address in s ("user@host", "<user@host>" or
// "Name <user@host>"), or "" when s holds none.
func address(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 320 {
		return ""
	}
	a, err := mail.ParseAddress(s)
	if err != nil || !strings.Contains(a.Address, "@") {
		return ""
	}
	return a.Address
}

// emailish finds what looks like an address in free text, to mask it.
var emailish = regexp.MustCompile(`[^\s<>()\[\]"',;:]+@[A-Za-z0-9][A-Za-z0-9.-]*`)

// diagnostic joins the parts of a diagnostic into one line of at most
// MaxDiagnostic bytes of valid UTF-8, with control characters and runs
// of spaces made single spaces and addresses masked.
func diagnostic(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		// Only the start of a long text can be kept; cut it before
		// the work below.
		if len(p) > 4*MaxDiagnostic {
			p = p[:4*MaxDiagnostic]
		}
		p = strings.ToValidUTF8(p, "")
		p = strings.Join(strings.FieldsFunc(p, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsControl(r)
		}), " ")
		if p == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p)
	}
	return untrusted(b.String(), MaxDiagnostic)
}

// untrusted makes text from a message or a notification fit for a log
// line or an error: its addresses masked, at most n bytes, and valid
// UTF-8 (which also drops a character cut at the end).
func untrusted(s string, n int) string {
	s = emailish.ReplaceAllStringFunc(s[:min(len(s), 4*n)], leak.Mask)
	return strings.ToValidUTF8(s[:min(len(s), n)], "")
}

// masked is an error's text, untrusted, for another error or a log line.
func masked(err error) string {
	return untrusted(err.Error(), 200)
}

// messageID returns a Message-ID header's value without its angle
// brackets, or "" when it is not one.
func messageID(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	if s == "" || len(s) > 998 || strings.ContainsAny(s, " \t\r\n<>") {
		return ""
	}
	return s
}
