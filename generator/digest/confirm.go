package digest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	texttemplate "text/template"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/leak"
	"github.com/rounds-health/rounds/generator/subscribers"
	"github.com/rounds-health/rounds/generator/theme"
)

// Confirmations mails the confirmations of sign-ups (a
// subscribers.Mailer) through the digests' SMTP server, from the
// digests' address, signed like them. The theme's email/confirm.txt
// makes each: its "subject" template the subject, the rest the body.
type Confirmations struct {
	composer *Composer
	sender   *Sender
	tmpl     *texttemplate.Template
	file     string
}

// ConfirmData is what email/confirm.txt is executed with.
type ConfirmData struct {
	subscribers.Confirmation
	Config *config.Config
}

// NewConfirmations reads what mailing confirmations needs: the [email]
// settings, the DKIM key when dkim_domain is set, and the template.
func NewConfirmations(cfg *config.Config) (*Confirmations, error) {
	c, err := NewComposer(cfg, false)
	if err != nil {
		return nil, err
	}
	if cfg.Email.DKIMDomain != "" && c.signer == nil {
		return nil, errors.New("email.dkim_domain is set: give the private key in $ROUNDS_DKIM_KEY or dkim_key_file")
	}
	path, name, err := theme.File(cfg, "email/confirm.txt")
	if err != nil {
		return nil, err
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	funcs := theme.Funcs(cfg)
	funcs["wrap"] = wrap
	t, err := texttemplate.New("confirm.txt").Funcs(funcs).Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if t.Lookup("subject") == nil {
		return nil, fmt.Errorf(`%s: no "subject" template: define the subject with {{define "subject"}}…{{end}}`, name)
	}
	return &Confirmations{composer: c, sender: NewSender(cfg.Email.SMTP, c, nil), tmpl: t, file: name}, nil
}

// Message returns the confirmation mail, dated now.
func (m *Confirmations) Message(c subscribers.Confirmation, now time.Time) ([]byte, error) {
	data := ConfirmData{Confirmation: c, Config: m.composer.cfg}
	var subject, body bytes.Buffer
	if err := m.tmpl.ExecuteTemplate(&subject, "subject", data); err != nil {
		return nil, fmt.Errorf("%s: %w", m.file, err)
	}
	if err := m.tmpl.Execute(&body, data); err != nil {
		return nil, fmt.Errorf("%s: %w", m.file, err)
	}
	e := &m.composer.cfg.Email
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	from := e.FromAddress()
	if err := msg.FromFormat(from.Name, from.Address); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if err := msg.To(c.To); err != nil {
		return nil, fmt.Errorf("to %s: %w", leak.Mask(c.To), err)
	}
	if e.ReplyTo != "" {
		if err := msg.ReplyTo(e.ReplyTo); err != nil {
			return nil, fmt.Errorf("reply_to: %w", err)
		}
	}
	msg.Subject(oneLine(subject.String()))
	msg.SetDateWithValue(now)
	id := make([]byte, 12)
	rand.Read(id)
	msg.SetMessageIDWithValue("confirm." + hex.EncodeToString(id) + "@" + m.composer.domain())
	// RFC 3834: sent by a program, so that autoresponders do not answer.
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetUserAgent("Rounds")
	msg.SetBodyString(gomail.TypeTextPlain, strings.TrimLeft(tidyText(body.String()), "\n"))
	return m.composer.sign(msg)
}

// Confirm mails the confirmation.
func (m *Confirmations) Confirm(ctx context.Context, c subscribers.Confirmation) error {
	msg, err := m.Message(c, time.Now())
	if err != nil {
		return err
	}
	return m.sender.SendMessage(ctx, c.To, msg)
}
