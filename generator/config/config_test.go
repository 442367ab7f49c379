package config

import (
	"errors"
	"strings"
	"testing"
)

// TestParseConfig reads a minimal configuration, its defaults filled in,
// and configurations with a mistake, each named by line and key.
func TestParseConfig(t *testing.T) {
	t.Parallel()
	c, err := ParseConfig("site/config.toml", []byte("title = \"T\"\nbase_url = \"https://example.org/news\"\ndisclaimer = \"Not medical advice.\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != "https://example.org/news/" || c.Dir != "site" || c.Theme != "default" || c.Build.MaxNoteBytes != 1<<20 || c.Location().String() != "UTC" {
		t.Errorf("defaults: base %q, dir %q, theme %q, max note bytes %d, location %v", c.BaseURL, c.Dir, c.Theme, c.Build.MaxNoteBytes, c.Location())
	}
	if got := c.RelURL("notes/a/"); got != "/news/notes/a/" {
		t.Errorf("RelURL: %q", got)
	}
	for _, tc := range []struct{ config, want string }{
		{"title = \"T\"\nbase_url = \"example.org\"\n", `config.toml:2: base_url: "example.org" is not an absolute http(s) URL`},
		{"title = \"T\"\nbase_url = \"https://example.org/\"\ntitel = \"x\"\n", "config.toml:3: titel: unknown key"},
		{"base_url = \"https://example.org/\"\ntimezone = \"Mars/Olympus\"\n", "config.toml:2: timezone: unknown time zone"},
		{"title = \"T\"\nbase_url = \"https://example.org/\"\n\n[wire]\ntimeout = \"soon\"\n", "config.toml:5: "},
	} {
		_, err := ParseConfig("config.toml", []byte(tc.config))
		var list ErrorList
		if !errors.As(err, &list) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config %q:\ngot  %v\nwant an ErrorList with %s", tc.config, err, tc.want)
		}
	}
}

// TestSubscribersConfig reads the [subscribers] table: the service's
// address (https, or http on this machine), the consent sentence and the
// store, which must stay out of what is published.
func TestSubscribersConfig(t *testing.T) {
	t.Parallel()
	const head = "title = \"T\"\nbase_url = \"https://example.org/\"\ndisclaimer = \"Not medical advice.\"\n[subscribers]\n"
	c, err := ParseConfig("site/config.toml", []byte(head+"url = \"https://lists.example.org/rounds\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Subscribers; s.URL != "https://lists.example.org/rounds/" || s.ServiceURL().Path != "/rounds/" || s.Consent != DefaultConsent || c.StorePath() != "site/.subscribers" {
		t.Errorf("subscribers: %+v, store %q", s, c.StorePath())
	}
	c, err = ParseConfig("config.toml", []byte("title = \"T\"\nbase_url = \"https://example.org/\"\ndisclaimer = \"Not medical advice.\"\n"))
	if err != nil || c.Subscribers.ServiceURL() != nil {
		t.Errorf("no [subscribers]: %v, %v", err, c.Subscribers.ServiceURL())
	}
	if _, err := ParseConfig("config.toml", []byte(head+"url = \"http://127.0.0.1:8081/\"\n")); err != nil {
		t.Errorf("a service on this machine over http: %v", err)
	}
	for _, tc := range []struct{ table, want string }{
		{"url = \"http://lists.example.org/\"\n", `config.toml:5: subscribers.url: "http://lists.example.org/"; use https`},
		{"url = \"lists.example.org\"\n", `config.toml:5: subscribers.url: "lists.example.org" is not an absolute URL`},
		{"consent = \" \"\n", "config.toml:5: subscribers.consent: empty"},
		{"\nstore = \"\"\n", "config.toml:6: subscribers.store: empty"},
	} {
		_, err := ParseConfig("config.toml", []byte(head+tc.table))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("[subscribers] %q:\ngot  %v\nwant %s", tc.table, err, tc.want)
		}
	}
	c, err = ParseConfig("site/config.toml", []byte(head+"store = \"content/subscribers\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckPrivate("site/public"); err == nil || !strings.Contains(err.Error(), "config.toml:5: subscribers.store: content/subscribers is inside content") {
		t.Errorf("a store inside content/: %v", err)
	}
}

// TestBouncesConfig reads the bounce mailbox of [subscribers.imap] and the
// SNS topics of [subscribers], and names each bad value by line and key.
func TestBouncesConfig(t *testing.T) {
	t.Parallel()
	const head = "title = \"T\"\nbase_url = \"https://example.org/\"\ndisclaimer = \"Not medical advice.\"\n[subscribers]\n"
	c, err := ParseConfig("config.toml", []byte(head+"sns_topics = [\"arn:aws:sns:eu-west-1:123456789012:rounds-bounces\", \"arn:aws-us-gov:sns:us-gov-west-1:123456789012:b.fifo\"]\n\n[subscribers.imap]\naddress = \"imap.example.org:993\"\nmove_to = \"Processed\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m := c.Subscribers.IMAP; !m.Configured() || m.Address != "imap.example.org:993" || m.Security != "tls" || m.Mailbox != "INBOX" || m.MoveTo != "Processed" || len(c.Subscribers.SNSTopics) != 2 {
		t.Errorf("[subscribers.imap] %+v, topics %q", m, c.Subscribers.SNSTopics)
	}
	c, err = ParseConfig("config.toml", []byte(head))
	if err != nil || c.Subscribers.IMAP.Configured() || len(c.Subscribers.SNSTopics) != 0 {
		t.Errorf("no bounce mailbox: %v, %+v", err, c.Subscribers.IMAP)
	}
	if _, err := ParseConfig("config.toml", []byte(head+"[subscribers.imap]\naddress = \"127.0.0.1:1143\"\nsecurity = \"plain\"\nmailbox = \"Bounces\"\n")); err != nil {
		t.Errorf("a plain mailbox on this machine: %v", err)
	}
	const imap = head + "\n[subscribers.imap]\n"
	for _, tc := range []struct{ table, want string }{
		{head + "sns_topics = [\"rounds-bounces\"]\n", `config.toml:5: subscribers.sns_topics: "rounds-bounces" is not an SNS topic's ARN; give the ARNs`},
		{head + "sns_topics = [\"arn:aws:sqs:eu-west-1:123456789012:q\"]\n", `config.toml:5: subscribers.sns_topics: "arn:aws:sqs:eu-west-1:123456789012:q" is not`},
		{head + "sns_topics = [\"arn:aws:sns:eu-west-1:1234:t\"]\n", "config.toml:5: subscribers.sns_topics: "},
		{imap + "mailbox = \"Bounces\"\n", "config.toml:6: subscribers.imap.address: missing; give the IMAP server's host and port"},
		{imap + "address = \"imap.example.org\"\n", `config.toml:7: subscribers.imap.address: "imap.example.org" is not a host and port`},
		{imap + "address = \"imap.example.org:0\"\n", `config.toml:7: subscribers.imap.address: "imap.example.org:0" is not a host and port`},
		{imap + "address = \"imap.example.org:143\"\nsecurity = \"plain\"\n", `config.toml:8: subscribers.imap.security: "plain" with host "imap.example.org"; use "tls" or "starttls"`},
		{imap + "address = \"imap.example.org:993\"\nsecurity = \"ssl\"\n", `config.toml:8: subscribers.imap.security: "ssl"; use "tls" (port 993)`},
		{imap + "address = \"imap.example.org:993\"\nmailbox = \"\"\n", `config.toml:8: subscribers.imap.mailbox: ""; name the mailbox`},
		{imap + "address = \"imap.example.org:993\"\nmove_to = \"INBOX\"\n", `config.toml:8: subscribers.imap.move_to: "INBOX" is the mailbox read`},
		{imap + "address = \"imap.example.org:993\"\nmove_to = \"a\\tb\"\n", `config.toml:8: subscribers.imap.move_to: "a\tb"`},
		{imap + "address = \"imap.example.org:993\"\nusername = \"bounces\"\n", "config.toml:8: subscribers.imap.username: unknown key"},
	} {
		_, err := ParseConfig("config.toml", []byte(tc.table))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\ngot  %v\nwant %s", tc.table, err, tc.want)
		}
	}
}
