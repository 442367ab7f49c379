package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
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

	url *url.URL
}

// DefaultConsent is the consent sentence when [subscribers] gives none.
const DefaultConsent = "Send me the lists I chose by email. I can leave at any time with the link in every email; my address is used for this newsletter only and never shared."

func defaultSubscribers() SubscribersConfig {
	return SubscribersConfig{Store: ".subscribers", Consent: DefaultConsent}
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
	return errs
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
