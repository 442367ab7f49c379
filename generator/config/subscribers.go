package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// SubscribersConfig is the [subscribers] table: the service readers sign
// up and leave through, and where it keeps its record.
type SubscribersConfig struct {
	// URL is the subscribers service's address, ending in a slash: the
	// site's sign-up forms post to URL+"subscribe". Empty means the site
	// offers no sign-up form.
	URL string `toml:"url"`
	// Store is where the record of subscriptions is kept: a folder
	// relative to config.toml, or s3://bucket/prefix/ in a private
	// bucket; $ROUNDS_SUBSCRIBERS_STORE overrides it.
	Store string `toml:"store"`
	// Consent is the sentence shown beside the sign-up button, which a
	// subscription records (by its hash) as what the reader agreed to.
	Consent string `toml:"consent"`
	// SNSTopics are the ARNs of the SNS topics whose SES bounce and
	// complaint notifications the service takes at POST /sns; with none,
	// it takes none.
	SNSTopics []string `toml:"sns_topics"`
	// IMAP is the bounce mailbox, read by rounds subscribers bounces and
	// rounds nightly.
	IMAP IMAPConfig `toml:"imap"`

	url *url.URL
}

// IMAPConfig is the [subscribers.imap] table: the mailbox that bounces
// and abuse reports come back to. The user name and password come from
// $ROUNDS_IMAP_USERNAME and $ROUNDS_IMAP_PASSWORD, never from this file.
type IMAPConfig struct {
	// Address is the server's host and port, such as
	// "imap.example.org:993"; empty means no bounce mailbox.
	Address string `toml:"address"`
	// Security is "tls" (implicit, port 993), "starttls" (port 143) or
	// "plain" (a server on this machine only).
	Security string `toml:"security"`
	// Mailbox is the mailbox the reports arrive in.
	Mailbox string `toml:"mailbox"`
	// MoveTo, when set, is a mailbox processed messages move to; else
	// they stay, flagged as seen.
	MoveTo string `toml:"move_to"`
}

// Configured reports whether a bounce mailbox is configured.
func (m *IMAPConfig) Configured() bool { return m.Address != "" }

// DefaultConsent is the consent sentence when [subscribers] gives none.
const DefaultConsent = "Send me the lists I chose by email. I can leave at any time with the link in every email; my address is used for this newsletter only and never shared."

func defaultSubscribers() SubscribersConfig {
	return SubscribersConfig{Store: ".subscribers", Consent: DefaultConsent, IMAP: IMAPConfig{Security: "tls", Mailbox: "INBOX"}}
}

// ServiceURL is URL parsed, or nil when no service is configured.
func (s *SubscribersConfig) ServiceURL() *url.URL { return s.url }

// SetURL points the sign-up forms and the service's links at raw, an
// absolute URL: for a preview that runs the service beside the site.
func (s *SubscribersConfig) SetURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("subscribers.url: %q is not an absolute URL", raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	s.url, s.URL = u, u.String()
	return nil
}

// StorePath is where the record of subscriptions is kept: the
// environment's $ROUNDS_SUBSCRIBERS_STORE, else [subscribers] store, as an
// absolute folder or an s3:// URL.
func (c *Config) StorePath() string {
	if p := os.Getenv("ROUNDS_SUBSCRIBERS_STORE"); p != "" {
		return p
	}
	return c.Abs(c.Subscribers.Store)
}

// checkSubscribers checks the [subscribers] table.
func (c *Config) checkSubscribers(data []byte) ErrorList {
	var errs ErrorList
	s := &c.Subscribers
	sec := section(data, "[subscribers]")
	bad := func(key, fix, format string, args ...any) {
		errs = append(errs, Errorf(c.File, sec.line(key), "subscribers."+key, fix, format, args...))
	}
	if s.URL != "" {
		u, err := url.Parse(s.URL)
		switch {
		case err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "":
			bad("url", `use the service's absolute address, such as "https://lists.example.org/rounds/"`, "%q is not an absolute URL", s.URL)
		case u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname())):
			bad("url", "use https: readers' addresses must not cross the network in the clear (http is for a service on this machine only)", "%q", s.URL)
		default:
			if !strings.HasSuffix(u.Path, "/") {
				u.Path += "/"
			}
			s.url = u
			s.URL = u.String()
		}
	}
	if strings.TrimSpace(s.Consent) == "" {
		bad("consent", "write the sentence readers agree to, or remove the key for the default", "empty")
	}
	if strings.TrimSpace(s.Store) == "" {
		bad("store", `name a folder such as ".subscribers", or a private bucket as "s3://bucket/subscribers/"`, "empty")
	}
	for _, arn := range s.SNSTopics {
		if !snsTopic.MatchString(arn) {
			bad("sns_topics", `give the ARNs of SNS topics, such as "arn:aws:sns:eu-west-1:123456789012:rounds-bounces"`, "%q is not an SNS topic's ARN", arn)
		}
	}
	return append(errs, c.checkIMAP(data)...)
}

// snsTopic matches the ARN of an SNS topic: a partition, a region, an
// account of 12 digits and a topic's name (letters, digits, - and _, up
// to 256, with .fifo at the end of a FIFO topic's).
var snsTopic = regexp.MustCompile(`^arn:aws(-[a-z]+)*:sns:[a-z]{2}(-[a-z]+)+-\d+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)

// checkIMAP checks the [subscribers.imap] table.
func (c *Config) checkIMAP(data []byte) ErrorList {
	var errs ErrorList
	m := &c.Subscribers.IMAP
	sec := section(data, "[subscribers.imap]")
	bad := func(key, fix, format string, args ...any) {
		line := sec.line(key)
		if line == 0 {
			line = sec.start
		}
		errs = append(errs, Errorf(c.File, line, "subscribers.imap."+key, fix, format, args...))
	}
	if m.Address == "" {
		if sec.start > 0 || m.MoveTo != "" || m.Mailbox != "INBOX" || m.Security != "tls" {
			bad("address", `give the IMAP server's host and port, such as "imap.example.org:993", or remove the table`, "missing")
		}
		return errs
	}
	host, port, err := net.SplitHostPort(m.Address)
	if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		bad("address", `give the host and port, such as "imap.example.org:993"`, "%q is not a host and port", m.Address)
	}
	switch m.Security {
	case "tls", "starttls":
	case "plain":
		if err == nil && !loopback(host) {
			bad("security", `use "tls" or "starttls": "plain" sends the mailbox's password and its reports in the clear, and is for a server on this machine only`, "%q with host %q", m.Security, host)
		}
	default:
		bad("security", `use "tls" (port 993), "starttls" (port 143) or, for a server on this machine, "plain"`, "%q", m.Security)
	}
	if !mailboxName(m.Mailbox) {
		bad("mailbox", `name the mailbox, such as "INBOX" or "Bounces"`, "%q", m.Mailbox)
	}
	if m.MoveTo != "" && !mailboxName(m.MoveTo) {
		bad("move_to", `name a mailbox, such as "Processed", or remove the key to leave messages where they are`, "%q", m.MoveTo)
	} else if m.MoveTo != "" && m.MoveTo == m.Mailbox {
		bad("move_to", "name another mailbox than mailbox, or remove the key", "%q is the mailbox read", m.MoveTo)
	}
	return errs
}

// mailboxName reports whether s can name an IMAP mailbox: not blank, of
// at most 200 bytes, without control characters.
func mailboxName(s string) bool {
	return strings.TrimSpace(s) != "" && len(s) <= 200 && strings.IndexFunc(s, unicode.IsControl) < 0
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
