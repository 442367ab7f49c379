package config

import (
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// EmailConfig is the [email] table: who digests come from, where the
// subscribers and the send ledger are, and how to reach the SMTP server.
// Secrets (SMTP credentials, the DKIM key, the unsubscribe secret) come
// from the environment, never from this file.
type EmailConfig struct {
	// From is the sender, as "Name <address>".
	From    string `toml:"from"`
	ReplyTo string `toml:"reply_to"`
	// Subject is the subject line; {site}, {edition} and {list} are
	// replaced by their titles.
	Subject string `toml:"subject"`
	// UnsubscribeURL is the one-click unsubscribe address; {list},
	// {email} and {token} are replaced for each subscriber.
	UnsubscribeURL string `toml:"unsubscribe_url"`
	// UnsubscribeMailto is the address that unsubscribes by email.
	UnsubscribeMailto string `toml:"unsubscribe_mailto"`
	// PostalAddress is the sender's physical postal address, on one line,
	// as every digest's footer shows it (CAN-SPAM wants one in every
	// message). Sending needs it.
	PostalAddress string `toml:"postal_address"`
	// Subscribers is the CSV file of subscribers, relative to config.toml;
	// $ROUNDS_SUBSCRIBERS overrides it.
	Subscribers string `toml:"subscribers"`
	// Ledger is the folder of send ledgers; $ROUNDS_LEDGER overrides it.
	Ledger string `toml:"ledger"`
	// Out is where rounds digest writes its files for review.
	Out string `toml:"out"`
	// SendWithin is how long after its date rounds nightly sends an
	// edition: a subscriber who joins later does not get old editions.
	SendWithin string `toml:"send_within"`
	// DKIM signs each message when a key is given in the file DKIMKeyFile
	// or in $ROUNDS_DKIM_KEY (PEM).
	DKIMDomain   string `toml:"dkim_domain"`
	DKIMSelector string `toml:"dkim_selector"`
	DKIMKeyFile  string `toml:"dkim_key_file"`

	SMTP SMTPConfig `toml:"smtp"`

	from       *mail.Address
	sendWithin time.Duration
}

// SMTPConfig is the [email.smtp] table. The user name and password come
// from $ROUNDS_SMTP_USERNAME and $ROUNDS_SMTP_PASSWORD.
type SMTPConfig struct {
	Host string `toml:"host"`
	Port int    `toml:"port"`
	// Security is "starttls" (required), "tls" (implicit, port 465) or
	// "none" (loopback only).
	Security string `toml:"security"`
	// Connections is how many messages are sent at once, each over its
	// own reused connection.
	Connections int `toml:"connections"`
	// Rate caps messages per second; 0 is no cap.
	Rate float64 `toml:"rate"`
	// Retries is how many times a 4xx reply is retried, with backoff.
	Retries int `toml:"retries"`
	// PauseAfter consecutive errors, sending pauses for Pause.
	PauseAfter int    `toml:"pause_after"`
	Pause      string `toml:"pause"`
	Timeout    string `toml:"timeout"`

	pause, timeout time.Duration
}

// ListConfig is one [[list]] table: a mailing list whose digest carries
// the notes of an edition for its audiences and topics.
type ListConfig struct {
	ID          string `toml:"id"`
	Name        string `toml:"name"`
	Description string `toml:"description"`
	// Audience and Topics select the notes: a note is in the list's
	// digest if it has one of them (an empty selection takes every note).
	Audience []string `toml:"audience"`
	Topics   []string `toml:"topics"`

	line int
}

func defaultEmail() EmailConfig {
	return EmailConfig{
		Subject:     "{site}: {edition}",
		Subscribers: "subscribers.csv",
		Ledger:      ".cache/ledger",
		Out:         ".cache/digest",
		SendWithin:  "72h",
		SMTP: SMTPConfig{
			Port: 587, Security: "starttls", Connections: 4, Rate: 0, Retries: 3,
			PauseAfter: 10, Pause: "30s", Timeout: "30s",
		},
	}
}

// SendWindow is how long after its date an edition is sent by nightly.
func (e *EmailConfig) SendWindow() time.Duration { return e.sendWithin }

// FromAddress is the parsed From address, or nil if none is configured.
func (e *EmailConfig) FromAddress() *mail.Address { return e.from }

// PauseDuration returns the parsed pause.
func (s *SMTPConfig) PauseDuration() time.Duration { return s.pause }

// TimeoutDuration returns the parsed timeout.
func (s *SMTPConfig) TimeoutDuration() time.Duration { return s.timeout }

// List returns the list with the id, or nil.
func (c *Config) List(id string) *ListConfig {
	for _, l := range c.Lists {
		if l.ID == id {
			return l
		}
	}
	return nil
}

// SubscribersPath is where the subscribers are read from: the
// environment's $ROUNDS_SUBSCRIBERS, else [email] subscribers.
func (c *Config) SubscribersPath() string {
	if p := os.Getenv("ROUNDS_SUBSCRIBERS"); p != "" {
		return p
	}
	return c.Abs(c.Email.Subscribers)
}

// LedgerDir is the folder of send ledgers.
func (c *Config) LedgerDir() string {
	if p := os.Getenv("ROUNDS_LEDGER"); p != "" {
		return p
	}
	return c.Abs(c.Email.Ledger)
}

// Abs returns the path p, relative to config.toml, as an absolute path;
// an absolute path or an s3:// URL is returned as it is.
func (c *Config) Abs(p string) string {
	if p == "" || filepath.IsAbs(p) || strings.HasPrefix(p, "s3://") {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// checkEmail checks the [email] and [[list]] tables.
func (c *Config) checkEmail(data []byte) ErrorList {
	var errs ErrorList
	e := &c.Email
	sec := section(data, "[email]")
	bad := func(key, fix, format string, args ...any) {
		errs = append(errs, Errorf(c.File, sec.line(key), "email."+key, fix, format, args...))
	}
	if e.From != "" {
		a, err := mail.ParseAddress(e.From)
		if err != nil {
			bad("from", `use "Name <address@example.org>"`, "%q: %v", e.From, err)
		} else {
			e.from = a
		}
	}
	if e.ReplyTo != "" {
		if _, err := mail.ParseAddress(e.ReplyTo); err != nil {
			bad("reply_to", "use an email address", "%q: %v", e.ReplyTo, err)
		}
	}
	if d, err := time.ParseDuration(e.SendWithin); err != nil || d <= 0 {
		bad("send_within", `use a duration such as "72h"`, "%q", e.SendWithin)
	} else {
		e.sendWithin = d
	}
	if strings.ContainsAny(e.Subject, "\r\n") {
		bad("subject", "keep the subject on one line", "has a line break")
	}
	if e.UnsubscribeURL != "" {
		u, err := url.Parse(strings.NewReplacer("{list}", "l", "{email}", "e", "{token}", "t").Replace(e.UnsubscribeURL))
		if err != nil || u.Scheme != "https" || u.Host == "" {
			bad("unsubscribe_url", `use an https URL such as "https://example.org/unsubscribe?list={list}&token={token}"`, "%q is not an https URL", e.UnsubscribeURL)
		}
	}
	if e.UnsubscribeMailto != "" {
		if _, err := mail.ParseAddress(e.UnsubscribeMailto); err != nil {
			bad("unsubscribe_mailto", "use an email address", "%q: %v", e.UnsubscribeMailto, err)
		}
	}
	if (e.DKIMKeyFile != "" || e.DKIMSelector != "") && (e.DKIMDomain == "" || e.DKIMSelector == "") {
		bad("dkim_selector", "set dkim_domain and dkim_selector together", "DKIM needs a domain and a selector")
	}
	smtp := section(data, "[email.smtp]")
	sbad := func(key, fix, format string, args ...any) {
		errs = append(errs, Errorf(c.File, smtp.line(key), "email.smtp."+key, fix, format, args...))
	}
	s := &e.SMTP
	if s.Port < 1 || s.Port > 65535 {
		sbad("port", "use 587 (STARTTLS), 465 (TLS) or 25", "%d", s.Port)
	}
	if s.Security != "starttls" && s.Security != "tls" && s.Security != "none" {
		sbad("security", `use "starttls", "tls" or "none"`, "%q", s.Security)
	}
	if s.Security == "none" && s.Host != "" && s.Host != "localhost" && !net.ParseIP(s.Host).IsLoopback() {
		sbad("security", `use "starttls" or "tls": "none" sends passwords and subscribers' mail in the clear, and is for a server on this machine only`, "%q with host %q", s.Security, s.Host)
	}
	if s.Connections < 1 || s.Connections > 64 {
		sbad("connections", "use 1 to 64", "%d", s.Connections)
	}
	if s.Rate < 0 {
		sbad("rate", "use messages per second, or 0 for no cap", "%g", s.Rate)
	}
	if s.Retries < 0 || s.Retries > 20 {
		sbad("retries", "use 0 to 20", "%d", s.Retries)
	}
	if s.PauseAfter < 1 {
		sbad("pause_after", "use a whole number of at least 1", "%d", s.PauseAfter)
	}
	var err error
	if s.pause, err = time.ParseDuration(s.Pause); err != nil || s.pause < 0 {
		sbad("pause", `use a duration such as "30s"`, "%q", s.Pause)
	}
	if s.timeout, err = time.ParseDuration(s.Timeout); err != nil || s.timeout <= 0 {
		sbad("timeout", `use a duration such as "30s"`, "%q", s.Timeout)
	}

	starts := headerLines(data, "[[list]]")
	ids := map[string]int{}
	for i, l := range c.Lists {
		var lbad func(key, fix, format string, args ...any)
		l.line, lbad = c.arrayTable(data, "list", starts, i, &errs)
		if l.ID == "" || Slugify(l.ID) != l.ID {
			lbad("id", `use lower-case letters, digits and dashes, such as id = "clinicians"`, "%q cannot name a list", l.ID)
		} else if other, dup := ids[l.ID]; dup {
			lbad("id", "give one of them another id", "%q is also the list at line %d", l.ID, other)
		} else {
			ids[l.ID] = l.line
		}
		if strings.TrimSpace(l.Name) == "" {
			lbad("name", `add name = "For clinicians"`, "missing")
		}
		for _, a := range l.Audience {
			if !slices.Contains(Audiences, a) {
				lbad("audience", "use "+strings.Join(Audiences, ", "), "unknown audience %q", a)
			}
		}
	}
	return errs
}

// CheckPrivate checks that subscriber data cannot reach the site: the
// subscribers file, the send ledgers and the subscribers service's store
// must be outside content/,
// themes/ and the output folder. (The guard in Options keeps the
// subscribers' addresses out of the output files.)
func (c *Config) CheckPrivate(out string) error {
	var errs ErrorList
	for _, p := range []struct{ key, path string }{{"email.subscribers", c.SubscribersPath()}, {"email.ledger", c.LedgerDir()}, {"subscribers.store", c.StorePath()}} {
		if strings.HasPrefix(p.path, "s3://") {
			continue // a private bucket is never the site's
		}
		for _, public := range []string{filepath.Join(c.Dir, "content"), filepath.Join(c.Dir, "themes"), out} {
			if within(public, p.path) {
				table, key, _ := strings.Cut(p.key, ".")
				errs = append(errs, Errorf(c.File, section(c.source, "["+table+"]").line(key), p.key, "keep it outside content/, themes/ and the output folder, such as in .cache/ or a private bucket",
					"%s is inside %s, which is published", c.Rel(p.path), c.Rel(public)))
			}
		}
	}
	return errs.Err()
}

// within reports whether path is dir or inside it.
func within(dir, path string) bool {
	a, err1 := filepath.Abs(dir)
	b, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(a, b)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// Rel returns p relative to the project's folder in slash form, or p if it
// is outside.
func (c *Config) Rel(p string) string {
	if r, err := filepath.Rel(c.Dir, p); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return p
}
