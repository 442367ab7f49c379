package subscribers

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/rounds-health/rounds/generator/subscribers/bounce"
)

// report returns a report of kind for the address, as a bounce mailbox
// gives it.
func report(address string, kind bounce.Kind, at time.Time, messageID string) bounce.Report {
	diag := "5.1.1 smtp; 550 5.1.1 User unknown"
	switch kind {
	case bounce.Soft:
		diag = "4.2.2 smtp; 452 4.2.2 Mailbox full"
	case bounce.Complaint:
		diag = "feedback-type abuse"
	}
	return bounce.Report{Address: address, Kind: kind, Time: at, Diagnostic: diag, Source: bounce.SourceIMAP, MessageID: messageID}
}

func TestBounceEvents(t *testing.T) {
	t.Parallel()
	now := t0.Add(time.Hour)
	reports := []bounce.Report{
		report("Ana@Clinic.example ", bounce.Hard, t0, "w1.a@news.example"),
		report("ben@clinic.example", bounce.Soft, t0, "w1.b@news.example"),
		report("cara@clinic.example", bounce.Complaint, time.Time{}, "w1.c@news.example"),
		report("dan@clinic.example", bounce.Hard, now.Add(time.Hour), ""), // a time to come
		{Address: "", Kind: bounce.Hard, Source: bounce.SourceSNS},
		{Address: "eve@clinic.example", Kind: "delivered", Source: bounce.SourceSNS},
	}
	events, skipped := BounceEvents(secret, reports, now)
	if len(events) != 4 || skipped != 2 {
		t.Fatalf("%d events, %d skipped; want 4 and 2", len(events), skipped)
	}
	for i, want := range []struct {
		kind  Kind
		email string
		hard  bool
		time  time.Time
	}{
		{Bounced, "ana@clinic.example", true, t0},
		{Bounced, "ben@clinic.example", false, t0},
		{Complained, "cara@clinic.example", false, now},
		{Bounced, "dan@clinic.example", true, now},
	} {
		e := events[i]
		if err := e.Validate(); err != nil {
			t.Errorf("event %d: %v", i, err)
		}
		if e.Kind != want.kind || e.Key != Key(secret, want.email) || !e.Time.Equal(want.time) || e.Source != "imap" || e.Email != "" {
			t.Errorf("event %d: %+v; want %s of %s at %v from imap, without the address", i, e, want.kind, want.email, want.time)
		}
		if (e.Bounce != nil) != (want.kind == Bounced) || (e.Bounce != nil && (e.Bounce.Hard != want.hard || e.Bounce.Diagnostic != reports[i].Diagnostic)) {
			t.Errorf("event %d: bounce %+v, want hard %v", i, e.Bounce, want.hard)
		}
	}

	// The same reports, read again later, make the same events.
	again, _ := BounceEvents(secret, reports, now.Add(24*time.Hour))
	for i := range events {
		if again[i].ID != events[i].ID {
			t.Errorf("event %d: ID %q the second time, %q the first", i, again[i].ID, events[i].ID)
		}
	}
	// Reports that differ in any part are different events.
	ids := map[string]bool{}
	for _, r := range []bounce.Report{
		report("ana@clinic.example", bounce.Hard, t0, "w1.a@news.example"),
		report("ana@clinic.example", bounce.Hard, t0, "w2.a@news.example"),
		report("ana@clinic.example", bounce.Hard, t0.Add(time.Second), "w1.a@news.example"),
		report("ana@clinic.example", bounce.Soft, t0, "w1.a@news.example"),
		report("ann@clinic.example", bounce.Hard, t0, "w1.a@news.example"),
		func() bounce.Report {
			r := report("ana@clinic.example", bounce.Hard, t0, "w1.a@news.example")
			r.Source = bounce.SourceSNS
			return r
		}(),
	} {
		e, _ := BounceEvents(secret, []bounce.Report{r}, now)
		if ids[e[0].ID] {
			t.Errorf("%+v: the ID of another report", r)
		}
		ids[e[0].ID] = true
	}
}

// TestBouncesSuppress records reports through a store as a mailbox read
// twice does: the addresses are suppressed, whether the log knew them or
// not, and an import cannot bring one back, so that rounds send never
// mails a suppressed address, even one that an import brings back.
func TestBouncesSuppress(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	known, stranger, complainer, slow := "ana@clinic.example", "ben@clinic.example", "cara@clinic.example", "dan@clinic.example"
	day := 24 * time.Hour
	var imported []Event
	for _, a := range []string{known, complainer, slow} {
		imported = append(imported, Event{ID: NewID(), Time: t0, Kind: Imported, Key: Key(secret, a), Email: a, Lists: []string{"clinicians"}, Source: "cli"})
	}
	if err := st.Append(ctx, imported...); err != nil {
		t.Fatal(err)
	}
	reports := []bounce.Report{
		report(known, bounce.Hard, t0.Add(day), "w1@news.example"),
		report(stranger, bounce.Hard, t0.Add(day), "w1@news.example"),
		report(complainer, bounce.Complaint, t0.Add(day), "w1@news.example"),
		report(slow, bounce.Soft, t0.Add(day), "w1@news.example"),
		report(slow, bounce.Soft, t0.Add(8*day), "w2@news.example"),
	}
	// The mailbox read twice (a crash before its messages were flagged):
	// the same soft bounces count once, and leave the address be.
	for range 2 {
		events, _ := BounceEvents(secret, reports, t0.Add(9*day))
		if err := st.Append(ctx, events...); err != nil {
			t.Fatal(err)
		}
	}
	state, err := Load(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	for a, want := range map[string]Reason{known: HardBounce, stranger: HardBounce, complainer: Complaint, slow: ""} {
		if got := state.Suppressed(Key(secret, a)); got != want {
			t.Errorf("%s: suppressed %q, want %q", a, got, want)
		}
	}
	if got := emails(state.Recipients("clinicians")); !slices.Equal(got, []string{slow}) {
		t.Errorf("recipients %v, want only %s", got, slow)
	}

	// A third soft bounce within the window suppresses.
	events, _ := BounceEvents(secret, []bounce.Report{report(slow, bounce.Soft, t0.Add(15*day), "w3@news.example")}, t0.Add(16*day))
	if err := st.Append(ctx, events...); err != nil {
		t.Fatal(err)
	}

	// The stranger comes by import later, as do the others again: none is
	// brought back, neither by the rows nor by Imported events appended
	// anyway.
	if state, err = Load(ctx, st); err != nil {
		t.Fatal(err)
	}
	var rows []Row
	var forced []Event
	for _, a := range []string{known, stranger, complainer, slow} {
		rows = append(rows, Row{Email: a, Lists: []string{"clinicians", "patients"}, Status: "subscribed"})
		forced = append(forced, Event{ID: NewID(), Time: t0.Add(20 * day), Kind: Imported, Key: Key(secret, a), Email: a, Lists: []string{"clinicians", "patients"}, Source: "import:mailchimp"})
	}
	added, rep := state.Import(secret, rows, "import:mailchimp", t0.Add(20*day))
	if len(added) != 0 || len(rep.Skipped) != 4 {
		t.Errorf("the import added %d events, skipped %d rows; want none added, all skipped", len(added), len(rep.Skipped))
	}
	if err := st.Append(ctx, forced...); err != nil {
		t.Fatal(err)
	}
	if state, err = Load(ctx, st); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"clinicians", "patients"} {
		if got := state.Recipients(l); len(got) != 0 {
			t.Errorf("%s: recipients %v after the imports, want none", l, emails(got))
		}
	}
	if got := state.Suppressed(Key(secret, slow)); got != SoftBounces {
		t.Errorf("%s: suppressed %q, want %q", slow, got, SoftBounces)
	}
}
