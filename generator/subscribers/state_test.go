package subscribers

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var secret = []byte("a test secret of more than 16 bytes")

// t0 is the tests' present.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// subscribe returns a Subscribed event for the address at t.
func subscribe(email string, t time.Time, lists ...string) Event {
	return Event{ID: NewID(), Time: t, Kind: Subscribed, Key: Key(secret, email), Email: email, Lists: lists,
		Source: "form:/subscribe/", Consent: &Consent{Text: HashText("I agree"), Page: "https://rounds.example/subscribe/", IP: HashIP(secret, "198.51.100.7")}}
}

// confirm returns the Confirmed event of the Subscribed one, at t.
func confirm(sub Event, t time.Time) Event {
	return Event{ID: NewID(), Time: t, Kind: Confirmed, Key: sub.Key, Lists: sub.Lists, Ref: sub.ID}
}

func event(kind Kind, email string, t time.Time, lists ...string) Event {
	e := Event{ID: NewID(), Time: t, Kind: kind, Key: Key(secret, email), Lists: lists}
	if kind == Bounced {
		e.Bounce = &Bounce{Hard: true, Diagnostic: "550 5.1.1 no such user"}
	}
	return e
}

func soft(email string, t time.Time) Event {
	e := event(Bounced, email, t)
	e.Bounce.Hard = false
	return e
}

func emails(rs []Recipient) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Email)
	}
	return out
}

func TestFold(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	a, b, c := "ana@clinic.example", "ben@clinic.example", "cara@clinic.example"
	subA, subB, subC := subscribe(a, t0, "clinicians", "patients"), subscribe(b, t0, "clinicians"), subscribe(c, t0, "clinicians")
	tests := []struct {
		name   string
		events []Event
		want   []string // the recipients of clinicians
	}{
		{"pending receives nothing", []Event{subA}, nil},
		{"confirmed receives", []Event{subA, confirm(subA, t0.Add(time.Minute))}, []string{a}},
		{"sorted by address", []Event{subC, subB, subA, confirm(subC, t0), confirm(subA, t0), confirm(subB, t0)}, []string{a, b, c}},
		{"unsubscribed from the list", []Event{subA, confirm(subA, t0), event(Unsubscribed, a, t0.Add(day), "clinicians")}, nil},
		{"unsubscribed from another list", []Event{subA, confirm(subA, t0), event(Unsubscribed, a, t0.Add(day), "patients")}, []string{a}},
		{"unsubscribed from every list", []Event{subA, confirm(subA, t0), event(Unsubscribed, a, t0.Add(day))}, nil},
		{"a confirmation after an unsubscribe is ignored", []Event{subA, event(Unsubscribed, a, t0.Add(time.Minute)), confirm(subA, t0.Add(time.Hour))}, nil},
		{"a confirmation of an older sign-up is ignored", func() []Event {
			again := subscribe(a, t0.Add(time.Hour), "clinicians")
			return []Event{subA, event(Unsubscribed, a, t0.Add(time.Minute)), again, confirm(subA, t0.Add(2*time.Hour))}
		}(), nil},
		{"a late, older unsubscribe is ignored", []Event{subA, confirm(subA, t0.Add(time.Hour)), event(Unsubscribed, a, t0.Add(time.Minute), "clinicians")}, []string{a}},
		{"a retried subscribe after an unsubscribe changes nothing", []Event{subA, confirm(subA, t0), event(Unsubscribed, a, t0.Add(day)), subA}, nil},
		{"a hard bounce suppresses", []Event{subA, confirm(subA, t0), event(Bounced, a, t0.Add(day))}, nil},
		{"a complaint suppresses", []Event{subA, confirm(subA, t0), event(Complained, a, t0.Add(day))}, nil},
		{"two soft bounces do not", []Event{subA, confirm(subA, t0), soft(a, t0.Add(day)), soft(a, t0.Add(2*day))}, []string{a}},
		{"three soft bounces in 30 days do", []Event{subA, confirm(subA, t0), soft(a, t0.Add(day)), soft(a, t0.Add(2*day)), soft(a, t0.Add(29*day))}, nil},
		{"three soft bounces over 31 days do not", []Event{subA, confirm(subA, t0), soft(a, t0), soft(a, t0.Add(2*day)), soft(a, t0.Add(31*day))}, []string{a}},
		{"one soft bounce appended three times counts once", func() []Event {
			s := soft(a, t0.Add(day))
			return []Event{subA, confirm(subA, t0), s, s, s}
		}(), []string{a}},
		{"an erasure suppresses", []Event{subA, confirm(subA, t0), event(Erased, a, t0.Add(day))}, nil},
		{"an import after an erasure is ignored", []Event{subA, confirm(subA, t0), event(Erased, a, t0.Add(day)),
			{ID: NewID(), Time: t0.Add(2 * day), Kind: Imported, Key: Key(secret, a), Email: a, Lists: []string{"clinicians"}}}, nil},
		{"an import after a bounce is ignored", []Event{event(Bounced, a, t0),
			{ID: NewID(), Time: t0.Add(day), Kind: Imported, Key: Key(secret, a), Email: a, Lists: []string{"clinicians"}}}, nil},
		{"a new double opt-in lifts a suppression", func() []Event {
			again := subscribe(a, t0.Add(2*day), "clinicians")
			return []Event{subA, confirm(subA, t0), event(Complained, a, t0.Add(day)), again, confirm(again, t0.Add(3*day))}
		}(), []string{a}},
		{"a new double opt-in after an erasure", func() []Event {
			again := subscribe(a, t0.Add(2*day), "clinicians")
			return []Event{subA, confirm(subA, t0), event(Erased, a, t0.Add(day)), again, confirm(again, t0.Add(3*day))}
		}(), []string{a}},
		{"a confirmation begun before the suppression does not lift it", []Event{subA, event(Bounced, a, t0.Add(time.Minute)), confirm(subA, t0.Add(time.Hour))}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := Fold(tt.events)
			if got := emails(st.Recipients("clinicians")); !slices.Equal(got, tt.want) {
				t.Errorf("recipients %v, want %v", got, tt.want)
			}
			// Every event applied twice more, in place: the same state.
			var twice []Event
			for _, e := range tt.events {
				twice = append(twice, e, e)
			}
			if got := emails(Fold(twice).Recipients("clinicians")); !slices.Equal(got, tt.want) {
				t.Errorf("with every event appended twice: recipients %v, want %v", got, tt.want)
			}
		})
	}
}

func TestErasureForgets(t *testing.T) {
	t.Parallel()
	a := "ana@clinic.example"
	sub := subscribe(a, t0, "clinicians")
	sub.Name = "Ana Okafor"
	st := Fold([]Event{sub, confirm(sub, t0), event(Erased, a, t0.Add(time.Hour))})
	s, ok := st.Subscriber(Key(secret, a))
	if !ok || s.Email != "" || s.Name != "" || len(s.Lists) != 0 || !s.Erased || s.Suppressed != Erasure {
		t.Errorf("after erasure: %+v", s)
	}
	if st.Suppressed(Key(secret, a)) != Erasure {
		t.Errorf("not suppressed")
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	var events []Event
	day := 24 * time.Hour
	old := t0.Add(-60 * day)
	for i := range 10 {
		e := fmt.Sprintf("s%d@clinic.example", i)
		when := old
		if i >= 6 {
			when = t0.Add(-time.Duration(i) * day) // the last 30 days
		}
		sub := subscribe(e, when, "clinicians")
		events = append(events, sub)
		if i != 9 {
			events = append(events, confirm(sub, when.Add(time.Hour)))
		}
	}
	events = append(events,
		event(Unsubscribed, "s0@clinic.example", t0.Add(-2*day), "clinicians"),
		event(Bounced, "s1@clinic.example", t0.Add(-40*day)),
		event(Complained, "s2@clinic.example", t0.Add(-day)),
	)
	got := Fold(events).Stats(t0)
	want := []ListStats{{List: "clinicians", Confirmed: 6, Pending: 1, Unsubscribed: 1, Suppressed: 2,
		Recent: Changes{Subscribed: 4, Confirmed: 3, Unsubscribed: 1, Suppressed: 1}}}
	if !slices.Equal(got, want) {
		t.Errorf("stats\n%+v, want\n%+v", got, want)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	good := subscribe("ana@clinic.example", t0, "clinicians")
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(e *Event){
		"no id":         func(e *Event) { e.ID = "" },
		"no time":       func(e *Event) { e.Time = time.Time{} },
		"unknown kind":  func(e *Event) { e.Kind = "deleted" },
		"bad key":       func(e *Event) { e.Key = "ana@clinic.example" },
		"bad address":   func(e *Event) { e.Email = "ana at clinic" },
		"bad list":      func(e *Event) { e.Lists = []string{"a list"} },
		"no lists":      func(e *Event) { e.Lists = nil },
		"line in name":  func(e *Event) { e.Name = "Ana\nBcc: x@y.example" },
		"long source":   func(e *Event) { e.Source = strings.Repeat("x", MaxSource+1) },
		"bounce detail": func(e *Event) { e.Bounce = &Bounce{} },
		"erased email":  func(e *Event) { e.Kind = Erased },
	} {
		e := good
		change(&e)
		if err := e.Validate(); err == nil {
			t.Errorf("%s: valid", name)
		}
	}
	long := Diagnostic(strings.Repeat("é", MaxDiagnostic) + "\r\n\x1b[31m")
	if len(long) > MaxDiagnostic || strings.ContainsAny(long, "\r\n\x1b") || !strings.HasPrefix(long, "éé") {
		t.Errorf("Diagnostic: %q", long[:20])
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	a, b := "ana@clinic.example", "ben@clinic.example"
	sub := subscribe(a, t0, "clinicians", "patients")
	tok := ConfirmToken(&sub)
	s, err := Sign(secret, tok)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s, "ana") || strings.Contains(s, "clinic") || len(s) > 120 {
		t.Errorf("token %q (%d characters): it must be short and hold no address", s, len(s))
	}
	got, err := Verify(secret, s, PurposeConfirm, t0.Add(time.Hour))
	if err != nil || got.Key != tok.Key || got.Ref != tok.Ref || !slices.Equal(got.Lists, tok.Lists) || !got.Expires.Equal(tok.Expires.Truncate(time.Second)) {
		t.Fatalf("Verify: %+v, %v; want %+v", got, err, tok)
	}
	// Expired; another purpose; another secret.
	if _, err := Verify(secret, s, PurposeConfirm, t0.Add(ConfirmTTL+time.Second)); !errors.Is(err, ErrExpired) {
		t.Errorf("after 7 days: %v", err)
	}
	if _, err := Verify(secret, s, PurposeUnsubscribe, t0); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "confirmation link, not a unsubscribe") {
		t.Errorf("as an unsubscribe token: %v", err)
	}
	if _, err := Verify([]byte("another secret of 16 bytes or more"), s, PurposeConfirm, t0); !errors.Is(err, ErrInvalid) {
		t.Errorf("forged: %v", err)
	}
	// Altered anywhere, cut short, lengthened, garbage.
	for i := range s {
		alt := []byte(s)
		alt[i] ^= 1
		if _, err := Verify(secret, string(alt), PurposeConfirm, t0); !errors.Is(err, ErrInvalid) {
			t.Errorf("altered at %d: %v", i, err)
		}
	}
	for _, bad := range []string{"", s[:len(s)-1], s[:10], s + "A", "!!!", strings.Repeat("A", 5000)} {
		if _, err := Verify(secret, bad, PurposeConfirm, t0); !errors.Is(err, ErrInvalid) {
			t.Errorf("%.20q: %v", bad, err)
		}
	}
	// A token with another subscriber's key, signed with another secret:
	// the swap breaks the MAC.
	forged := tok
	forged.Key = Key(secret, b)
	fs, _ := Sign([]byte("the attacker's own secret, 16+"), forged)
	if _, err := Verify(secret, fs, PurposeConfirm, t0); !errors.Is(err, ErrInvalid) {
		t.Errorf("another's key: %v", err)
	}
	// Unsubscribe tokens last at least 60 days.
	r := Recipient{Key: Key(secret, a), Ref: sub.ID}
	us, _ := Sign(secret, r.UnsubscribeToken("clinicians", t0))
	if _, err := Verify(secret, us, PurposeUnsubscribe, t0.Add(60*24*time.Hour)); err != nil {
		t.Errorf("an unsubscribe link after 60 days: %v", err)
	}
}

func FuzzVerify(f *testing.F) {
	sub := subscribe("ana@clinic.example", t0, "clinicians")
	s, _ := Sign(secret, ConfirmToken(&sub))
	f.Add(s)
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := Verify(secret, s, PurposeConfirm, t0)
		if err == nil && (tok.Key == "" || tok.Purpose != PurposeConfirm) {
			t.Errorf("accepted %q as %+v", s, tok)
		}
	})
}

// TestConfirmAndUnsubscribe applies tokens to a state: each applies once,
// to its own subscriber, and a replay changes nothing.
func TestConfirmAndUnsubscribe(t *testing.T) {
	t.Parallel()
	a, b := "ana@clinic.example", "ben@clinic.example"
	subA, subB := subscribe(a, t0, "clinicians"), subscribe(b, t0, "clinicians")
	events := []Event{subA, subB}
	st := Fold(events)
	apply := func(e Event) {
		events = append(events, e)
		st = Fold(events)
	}
	e, err := st.Confirm(ConfirmToken(&subA), t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	apply(e)
	if got := emails(st.Recipients("clinicians")); !slices.Equal(got, []string{a}) {
		t.Fatalf("after A confirmed: %v", got)
	}
	if _, err := st.Confirm(ConfirmToken(&subA), t0.Add(2*time.Minute)); !errors.Is(err, ErrReplayed) || !strings.Contains(err.Error(), "confirmed already") {
		t.Errorf("confirmed twice: %v", err)
	}
	rA := st.Recipients("clinicians")[0]
	u, err := st.Unsubscribe(rA.UnsubscribeToken("clinicians", t0), t0.Add(time.Hour))
	if err != nil || u.Key != Key(secret, a) {
		t.Fatalf("unsubscribe: %+v, %v", u, err)
	}
	apply(u)
	if _, err := st.Unsubscribe(rA.UnsubscribeToken("clinicians", t0), t0.Add(2*time.Hour)); !errors.Is(err, ErrReplayed) {
		t.Errorf("unsubscribed twice: %v", err)
	}
	// The old confirmation link, replayed, does not subscribe A again.
	if _, err := st.Confirm(ConfirmToken(&subA), t0.Add(3*time.Hour)); !errors.Is(err, ErrReplayed) {
		t.Errorf("a replayed confirmation: %v", err)
	}
	// A signs up again; the unsubscribe link of the old subscription no
	// longer ends it.
	again := subscribe(a, t0.Add(4*time.Hour), "clinicians")
	apply(again)
	c, _ := st.Confirm(ConfirmToken(&again), t0.Add(5*time.Hour))
	apply(c)
	if _, err := st.Unsubscribe(rA.UnsubscribeToken("clinicians", t0), t0.Add(6*time.Hour)); !errors.Is(err, ErrReplayed) || !strings.Contains(err.Error(), "subscribed again") {
		t.Errorf("an old unsubscribe link after a new sign-up: %v", err)
	}
	if got := emails(st.Recipients("clinicians")); !slices.Equal(got, []string{a}) {
		t.Errorf("at the end: %v", got)
	}
	// B's pending subscription was never touched.
	if s, _ := st.Subscriber(Key(secret, b)); s.Lists[0].Status != Pending {
		t.Errorf("B: %+v", s)
	}
}
