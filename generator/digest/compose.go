package digest

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	gomail "github.com/wneessen/go-mail"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/leak"
	"github.com/rounds-health/rounds/generator/subscribers"
)

// A Composer makes the message of a digest for each subscriber.
type Composer struct {
	cfg    *config.Config
	secret []byte
	signer crypto.Signer
	// preview is set when composing for review without the unsubscribe
	// secret: links carry PreviewToken instead of a real token.
	preview bool
}

// PreviewToken stands in for the unsubscribe token in the links of a
// digest composed for review without $ROUNDS_UNSUBSCRIBE_SECRET.
const PreviewToken = "PREVIEW-NOT-A-REAL-TOKEN"

// NewComposer reads what composing needs from the configuration and the
// environment: $ROUNDS_UNSUBSCRIBE_SECRET (for the tokens in unsubscribe
// links) and the DKIM key ($ROUNDS_DKIM_KEY, or [email] dkim_key_file).
// When sending (not for review or a dry run), a postal address is
// required, and with dkim_domain set so is a key; for review, messages
// are then left unsigned.
func NewComposer(cfg *config.Config, sending bool) (*Composer, error) {
	e := &cfg.Email
	if e.FromAddress() == nil {
		return nil, fmt.Errorf("%s: email.from: missing; add from = \"Newsletter <editors@example.org>\" under [email]", cfg.File)
	}
	if e.UnsubscribeURL == "" && e.UnsubscribeMailto == "" && cfg.Subscribers.URL == "" {
		return nil, fmt.Errorf("%s: email.unsubscribe_url: every digest needs a way to unsubscribe; set url under [subscribers] (the subscribers service), or unsubscribe_url or unsubscribe_mailto under [email]", cfg.File)
	}
	if sending && strings.TrimSpace(e.PostalAddress) == "" {
		return nil, fmt.Errorf("%s: email.postal_address: missing; every digest must show the sender's postal address (CAN-SPAM): add postal_address = \"Street, City, Postcode, Country\" under [email]", cfg.File)
	}
	c := &Composer{cfg: cfg, secret: []byte(os.Getenv("ROUNDS_UNSUBSCRIBE_SECRET"))}
	tokens := strings.Contains(e.UnsubscribeURL, "{token}") || e.UnsubscribeURL == "" && cfg.Subscribers.URL != ""
	if tokens && len(c.secret) < 16 {
		if sending {
			return nil, errors.New("the unsubscribe links carry signed tokens: set $ROUNDS_UNSUBSCRIBE_SECRET to a secret of at least 16 characters")
		}
		c.preview = true
	}
	if e.DKIMDomain != "" {
		key := []byte(os.Getenv("ROUNDS_DKIM_KEY"))
		if len(key) == 0 && e.DKIMKeyFile != "" {
			var err error
			if key, err = os.ReadFile(e.DKIMKeyFile); err != nil {
				return nil, fmt.Errorf("email.dkim_key_file: %w", err)
			}
		}
		switch {
		case len(key) > 0:
			signer, err := parseKey(key)
			if err != nil {
				return nil, fmt.Errorf("DKIM key: %w", err)
			}
			c.signer = signer
		case sending:
			return nil, errors.New("email.dkim_domain is set: give the private key in $ROUNDS_DKIM_KEY or dkim_key_file")
		}
	}
	return c, nil
}

// parseKey reads a PEM private key: RSA (PKCS #1 or #8) or Ed25519.
func parseKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("not a PEM private key")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("the key cannot sign")
	}
	return s, nil
}

// domain is the domain of the From address.
func (c *Composer) domain() string {
	_, d, _ := strings.Cut(c.cfg.Email.FromAddress().Address, "@")
	return d
}

// MessageID is the Message-ID of an edition's digest for a list and a
// subscriber: the same every time it is composed, so a resent message is
// recognisably the same one.
func (c *Composer) MessageID(d *Digest, email string) string {
	sum := sha256.Sum256([]byte(d.Edition.Slug + "\x00" + d.List.ID + "\x00" + strings.ToLower(email)))
	return fmt.Sprintf("%s.%s.%s@%s", d.Edition.Slug, d.List.ID, hex.EncodeToString(sum[:10]), c.domain())
}

// UnsubscribeURL is the subscriber's one-click unsubscribe link for the
// list, in a message dated date, or "": [email] unsubscribe_url filled in,
// else by default the subscribers service's (URL+"unsubscribe?token=…"),
// whose signed token names the subscriber by a keyed hash of their
// address, never the address itself, and stays valid
// subscribers.UnsubscribeTTL.
func (c *Composer) UnsubscribeURL(list string, sub *Subscriber, date time.Time) string {
	if t := c.cfg.Email.UnsubscribeURL; t != "" {
		token := PreviewToken
		if !c.preview {
			mac := hmac.New(sha256.New, c.secret)
			mac.Write([]byte(list + "\x00" + strings.ToLower(sub.Email)))
			token = hex.EncodeToString(mac.Sum(nil)[:16])
		}
		return strings.NewReplacer(
			"{list}", url.QueryEscape(list),
			"{email}", url.QueryEscape(sub.Email),
			"{token}", token,
		).Replace(t)
	}
	base := c.cfg.Subscribers.URL
	if base == "" {
		return ""
	}
	token := PreviewToken
	if !c.preview {
		// NewComposer checked the secret, and the purpose is one of
		// Sign's: it cannot fail.
		token, _ = subscribers.Sign(c.secret, subscribers.Token{Purpose: subscribers.PurposeUnsubscribe,
			Key: subscribers.Key(c.secret, sub.Email), Lists: []string{list}, Ref: sub.Ref, Expires: date.Add(subscribers.UnsubscribeTTL)})
	}
	return base + "unsubscribe?token=" + url.QueryEscape(token)
}

// Preview reports whether the composer makes messages for review only,
// their unsubscribe links carrying PreviewToken.
func (c *Composer) Preview() bool { return c.preview }

// unsubscribeLink is the link in the message's footer: the one-click URL,
// else the mailto address.
func (c *Composer) unsubscribeLink(list string, sub *Subscriber, date time.Time) string {
	if u := c.UnsubscribeURL(list, sub, date); u != "" {
		return u
	}
	return "mailto:" + c.cfg.Email.UnsubscribeMailto + "?subject=" + url.PathEscape("unsubscribe "+list)
}

// Compose returns the complete message of the digest for the subscriber,
// dated date, signed if a DKIM key is configured.
func (c *Composer) Compose(d *Digest, sub *Subscriber, date time.Time) ([]byte, error) {
	e := &c.cfg.Email
	m := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	from := e.FromAddress()
	if err := m.FromFormat(from.Name, from.Address); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := m.AddToFormat(oneLine(sub.Name), sub.Email); err != nil {
		return nil, fmt.Errorf("to %s: %w", leak.Mask(sub.Email), err)
	}
	if e.ReplyTo != "" {
		if err := m.ReplyTo(e.ReplyTo); err != nil {
			return nil, fmt.Errorf("reply_to: %w", err)
		}
	}
	m.Subject(oneLine(d.Subject))
	m.SetDateWithValue(date)
	m.SetMessageIDWithValue(c.MessageID(d, sub.Email))
	m.SetGenHeader(gomail.Header("List-Id"), fmt.Sprintf("%s <%s.%s>", oneLine(d.List.Name), d.List.ID, c.domain()))
	unsub := c.UnsubscribeURL(d.List.ID, sub, date)
	var targets []string
	if e.UnsubscribeMailto != "" {
		targets = append(targets, "<mailto:"+e.UnsubscribeMailto+"?subject="+url.PathEscape("unsubscribe "+d.List.ID)+">")
	}
	if unsub != "" {
		targets = append(targets, "<"+unsub+">")
		m.SetGenHeader(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	m.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribe, strings.Join(targets, ", "))
	m.SetUserAgent("Rounds")
	link := c.unsubscribeLink(d.List.ID, sub, date)
	htmlPart, textPart := d.Personal(link)
	m.SetBodyString(gomail.TypeTextPlain, textPart)
	m.AddAlternativeString(gomail.TypeTextHTML, htmlPart)
	return c.sign(m)
}

// signedHeaders are the headers a DKIM signature covers, when present.
var signedHeaders = []string{"From", "To", "Reply-To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
	"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Auto-Submitted"}

// sign returns the message, signed if a DKIM key is configured.
func (c *Composer) sign(m *gomail.Msg) ([]byte, error) {
	var raw bytes.Buffer
	if _, err := m.WriteTo(&raw); err != nil {
		return nil, err
	}
	if c.signer == nil {
		return raw.Bytes(), nil
	}
	e := &c.cfg.Email
	var signed bytes.Buffer
	err := dkim.Sign(&signed, &raw, &dkim.SignOptions{
		Domain: e.DKIMDomain, Selector: e.DKIMSelector, Signer: c.signer,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
		HeaderKeys: signedHeaders,
	})
	if err != nil {
		return nil, fmt.Errorf("DKIM: %w", err)
	}
	return signed.Bytes(), nil
}
