package subscribers

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// A Purpose is what a token is for; a token for one purpose is refused for
// the other.
type Purpose byte

// The purposes of tokens.
const (
	PurposeConfirm     Purpose = 1 // the link of a confirmation email
	PurposeUnsubscribe Purpose = 2 // the unsubscribe link of a digest
)

// String names the purpose, as errors say it.
func (p Purpose) String() string {
	switch p {
	case PurposeConfirm:
		return "confirmation"
	case PurposeUnsubscribe:
		return "unsubscribe"
	}
	return fmt.Sprintf("purpose %d", byte(p))
}

// How long tokens last.
const (
	ConfirmTTL     = 7 * 24 * time.Hour
	UnsubscribeTTL = 90 * 24 * time.Hour // at least 60 days, as RFC 8058 links live in old mail
)

// A Token is what a confirmation or unsubscribe link carries: the
// subscriber's key, never their address, and the subscription it is for,
// signed with the secret.
type Token struct {
	Purpose Purpose
	Key     string
	// Lists are the lists the token is for; an unsubscribe token with
	// none is for every list.
	Lists []string
	// Ref is the ID of the event that started the subscription (see
	// Subscription.Ref): a confirmation token confirms that pending
	// subscription and no other, an unsubscribe token ends that
	// subscription and not one begun since.
	Ref     string
	Expires time.Time
}

// ConfirmToken returns the token of the confirmation link for a Subscribed
// event, valid for ConfirmTTL from the event.
func ConfirmToken(e *Event) Token {
	return Token{Purpose: PurposeConfirm, Key: e.Key, Lists: e.Lists, Ref: e.ID, Expires: e.Time.Add(ConfirmTTL)}
}

// UnsubscribeToken returns the token of the recipient's unsubscribe link
// for list, valid for UnsubscribeTTL from now.
func (r Recipient) UnsubscribeToken(list string, now time.Time) Token {
	return Token{Purpose: PurposeUnsubscribe, Key: r.Key, Lists: []string{list}, Ref: r.Ref, Expires: now.Add(UnsubscribeTTL)}
}

// Errors of Verify, and of State.Confirm and State.Unsubscribe.
var (
	// ErrInvalid: the token is not one of ours: forged, altered, cut
	// short, or made for another purpose.
	ErrInvalid = errors.New("this link is not valid")
	// ErrExpired: the token was ours, and has expired.
	ErrExpired = errors.New("this link has expired")
	// ErrReplayed: the token was used already, or the subscription it is
	// for has changed since (left, or begun again).
	ErrReplayed = errors.New("this link was used already or no longer applies")
)

// CheckSecret reports whether secret will do for keys and tokens.
func CheckSecret(secret []byte) error {
	if len(secret) < 16 {
		return errors.New("the secret is shorter than 16 bytes: set $ROUNDS_UNSUBSCRIBE_SECRET to a long random string, and keep it")
	}
	return nil
}

// token layout: version, purpose, expiry (uvarint Unix seconds), key (16
// bytes), ref (a length byte, then the bytes; 0x80|16 then 16 bytes for a
// NewID), lists joined by commas; then the MAC.
const (
	tokenVersion = 1
	macSize      = 16
	maxToken     = 1024 // characters
)

// Sign returns the token as a URL-safe string, signed with the secret.
func Sign(secret []byte, t Token) (string, error) {
	if err := CheckSecret(secret); err != nil {
		return "", err
	}
	key, err := hex.DecodeString(t.Key)
	if err != nil || len(key) != 16 {
		return "", fmt.Errorf("token: %q is not a subscriber key", t.Key)
	}
	if t.Purpose != PurposeConfirm && t.Purpose != PurposeUnsubscribe {
		return "", fmt.Errorf("token: %v is not a purpose", t.Purpose)
	}
	b := []byte{tokenVersion, byte(t.Purpose)}
	b = binary.AppendUvarint(b, uint64(max(t.Expires.Unix(), 0)))
	b = append(b, key...)
	if id, err := base64.RawURLEncoding.DecodeString(t.Ref); err == nil && len(id) == 16 && base64.RawURLEncoding.EncodeToString(id) == t.Ref {
		b = append(append(b, 0x80|16), id...)
	} else if len(t.Ref) < 0x80 {
		b = append(append(b, byte(len(t.Ref))), t.Ref...)
	} else {
		return "", fmt.Errorf("token: the ref is longer than %d bytes", 0x7f)
	}
	for _, l := range t.Lists {
		if err := CheckList(l); err != nil {
			return "", fmt.Errorf("token: %w", err)
		}
	}
	b = append(b, strings.Join(t.Lists, ",")...)
	b = append(b, mac(secret, "token", b)[:macSize]...)
	s := base64.RawURLEncoding.EncodeToString(b)
	if len(s) > maxToken {
		return "", fmt.Errorf("token: longer than %d characters: too many lists", maxToken)
	}
	return s, nil
}

// Verify checks a token string for the purpose and returns the token. A
// forged, altered or damaged token, or one for another purpose, gives an
// error wrapping ErrInvalid; an expired one, the token and an error
// wrapping ErrExpired (so that the page can offer a new link). The MAC is
// compared in constant time.
func Verify(secret []byte, s string, purpose Purpose, now time.Time) (Token, error) {
	invalid := func(why string) (Token, error) { return Token{}, fmt.Errorf("%w: %s", ErrInvalid, why) }
	if len(s) > maxToken {
		return invalid("too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 2+1+16+1+macSize {
		return invalid("damaged; copy the whole link from the email")
	}
	body, sum := b[:len(b)-macSize], b[len(b)-macSize:]
	if !hmac.Equal(sum, mac(secret, "token", body)[:macSize]) {
		return invalid("damaged or altered; copy the whole link from the email")
	}
	if body[0] != tokenVersion {
		return invalid("made by another version")
	}
	t := Token{Purpose: Purpose(body[1])}
	if t.Purpose != purpose {
		return invalid(fmt.Sprintf("this is a %s link, not a %s link", t.Purpose, purpose))
	}
	exp, n := binary.Uvarint(body[2:])
	if n <= 0 || exp > 1<<40 {
		return invalid("damaged expiry")
	}
	t.Expires = time.Unix(int64(exp), 0).UTC()
	rest := body[2+n:]
	if len(rest) < 17 {
		return invalid("cut short")
	}
	t.Key, rest = hex.EncodeToString(rest[:16]), rest[16:]
	switch l := rest[0]; {
	case l == 0x80|16 && len(rest) >= 17:
		t.Ref, rest = base64.RawURLEncoding.EncodeToString(rest[1:17]), rest[17:]
	case l < 0x80 && len(rest) >= 1+int(l):
		t.Ref, rest = string(rest[1:1+l]), rest[1+l:]
	default:
		return invalid("damaged ref")
	}
	if len(rest) > 0 {
		t.Lists = strings.Split(string(rest), ",")
	}
	if now.After(t.Expires) {
		return t, fmt.Errorf("%w: it expired on %s", ErrExpired, t.Expires.Format("2 January 2006"))
	}
	return t, nil
}

// Confirm returns the Confirmed event that a verified confirmation token
// asks for, to append; an error wrapping ErrReplayed if the subscription it
// confirms is no longer pending (confirmed already, left, or replaced by a
// newer sign-up), and changes nothing.
func (st *State) Confirm(t Token, now time.Time) (Event, error) {
	if t.Purpose != PurposeConfirm {
		return Event{}, fmt.Errorf("%w: not a confirmation link", ErrInvalid)
	}
	s := st.subs[t.Key]
	var lists []string
	confirmed := false
	if s != nil {
		for _, x := range s.Lists {
			if x.Ref != t.Ref || (len(t.Lists) > 0 && !slices.Contains(t.Lists, x.List)) {
				continue
			}
			switch x.Status {
			case Pending:
				lists = append(lists, x.List)
			case Active:
				confirmed = true
			}
		}
	}
	switch {
	case len(lists) > 0:
		return Event{ID: NewID(), Time: now, Kind: Confirmed, Key: t.Key, Lists: lists, Ref: t.Ref, Source: "confirm"}, nil
	case confirmed:
		return Event{}, fmt.Errorf("%w: the subscription is confirmed already", ErrReplayed)
	}
	return Event{}, fmt.Errorf("%w: the subscription it confirms was left or replaced since; subscribe again", ErrReplayed)
}

// Unsubscribe returns the Unsubscribed event that a verified unsubscribe
// token asks for, to append; an error wrapping ErrReplayed if the
// subscription it ends is no longer on (left already, or begun again since
// the link was made), and changes nothing.
func (st *State) Unsubscribe(t Token, now time.Time) (Event, error) {
	if t.Purpose != PurposeUnsubscribe {
		return Event{}, fmt.Errorf("%w: not an unsubscribe link", ErrInvalid)
	}
	s := st.subs[t.Key]
	var lists []string
	again := false
	if s != nil {
		for _, x := range s.Lists {
			if x.Status == Left || (len(t.Lists) > 0 && !slices.Contains(t.Lists, x.List)) {
				continue
			}
			if t.Ref == "" || x.Ref == t.Ref {
				lists = append(lists, x.List)
			} else {
				again = true
			}
		}
	}
	switch {
	case len(lists) == 0 && again:
		return Event{}, fmt.Errorf("%w: you subscribed again after this link was sent; use the link in a newer email", ErrReplayed)
	case len(lists) == 0:
		return Event{}, fmt.Errorf("%w: you are unsubscribed already", ErrReplayed)
	}
	return Event{ID: NewID(), Time: now, Kind: Unsubscribed, Key: t.Key, Lists: lists, Ref: t.Ref, Source: "link"}, nil
}
