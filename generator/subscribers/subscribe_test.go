package subscribers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rounds-health/rounds/generator/s3test"
)

// mailbox is a Mailer that keeps what it is given (the end-to-end tests
// send through a real SMTP server).
type mailbox struct {
	mu   sync.Mutex
	sent []Confirmation
	fail error
}

func (m *mailbox) Confirm(_ context.Context, c Confirmation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.sent = append(m.sent, c)
	return nil
}

func (m *mailbox) take() []Confirmation {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sent
	m.sent = nil
	return s
}

// TestSubscribe signs up through the form's POST on a real HTTP server:
// the sign-up is recorded with its consent and mailed a confirmation
// link that confirms it; a known address gets the same answer as an
// unknown one; robots, floods and bad forms record and mail nothing.
func TestSubscribe(t *testing.T) {
	t.Parallel()
	secret := []byte("a-long-enough-test-secret")
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	store, err := OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mail := &mailbox{}
	clock := now
	svc := &Service{Store: store, Secret: secret, Title: "Rounds", URL: "https://lists.example.org/lists/", SiteURL: "https://example.org/",
		Lists: map[string]string{"everything": "Every note", "patients": "For patients"}, Consent: "Send me the lists I chose.",
		Mailer: mail, Limits: Limits{PerIP: 8, IPEvery: time.Hour, PerAddress: 2, AddressEvery: time.Hour}, Now: func() time.Time { return clock }}
	srv := httptest.NewServer(http.StripPrefix("/lists", svc))
	t.Cleanup(srv.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	type answer struct {
		code     int
		location string
		body     string
	}
	post := func(form url.Values, ip string) answer {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/lists/subscribe", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Test-IP", ip)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return answer{res.StatusCode, res.Header.Get("Location"), string(b)}
	}
	svc.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Test-IP") }
	state := func() *State {
		st, err := Load(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	form := url.Values{"email": {"Ada@Example.net"}, "list": {"everything", "patients"}, "page": {"/subscribe/"}}

	first := post(form, "192.0.2.1")
	if first.code != http.StatusSeeOther || first.location != "subscribe?sent" {
		t.Fatalf("a sign-up: %+v", first)
	}
	sent := mail.take()
	if len(sent) != 1 || sent[0].To != "ada@example.net" || sent[0].Already || !strings.HasPrefix(sent[0].URL, svc.URL+"confirm?token=") ||
		strings.Join(sent[0].Lists, ",") != "Every note,For patients" || !sent[0].Expires.Equal(now.Add(ConfirmTTL)) {
		t.Fatalf("the confirmation: %+v", sent)
	}
	if strings.Contains(sent[0].URL, "ada") || strings.Contains(sent[0].URL, "example.net") {
		t.Errorf("the link carries the address: %s", sent[0].URL)
	}
	key := Key(secret, "ada@example.net")
	var events []Event
	store.Read(ctx, func(e *Event) error { events = append(events, *e); return nil })
	if len(events) != 1 || events[0].Kind != Subscribed || events[0].Consent == nil || events[0].Consent.Text != HashText(svc.Consent) ||
		events[0].Consent.Page != "/subscribe/" || events[0].Consent.IP != HashIP(secret, "192.0.2.1") || events[0].Key != key {
		t.Fatalf("the record: %+v", events)
	}
	// Following the link: the page's button confirms.
	u, _ := url.Parse(sent[0].URL)
	res, err := http.PostForm(srv.URL+"/lists/confirm", url.Values{"token": {u.Query().Get("token")}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if s, _ := state().Subscriber(key); res.StatusCode != 200 || len(s.Lists) != 2 || s.Lists[0].Status != Active || s.Lists[1].Status != Active {
		t.Fatalf("confirming: %d %+v", res.StatusCode, s)
	}

	// Signing up again, once subscribed: the same answer, a note rather
	// than a link, and nothing recorded. The service's copy of the log
	// may be StateTTL old.
	clock = clock.Add(StateTTL)
	again := post(form, "192.0.2.2")
	stranger := post(url.Values{"email": {"new@example.net"}, "list": {"everything"}}, "192.0.2.2")
	if again != stranger {
		t.Errorf("a known address is answered differently from an unknown one:\n%+v\n%+v", again, stranger)
	}
	if sent := mail.take(); len(sent) != 2 || !sent[0].Already || sent[0].URL != "" || sent[1].Already {
		t.Errorf("the mails of a known and an unknown address: %+v", sent)
	}
	if n := state().Len(); n != 2 {
		t.Errorf("%d subscribers, want 2", n)
	}

	// Robots and bad forms: nothing recorded, nothing mailed.
	before := state().Len()
	for _, tc := range []struct {
		name string
		form url.Values
		code int
	}{
		{"honeypot", url.Values{"email": {"bot@example.net"}, "list": {"everything"}, "website": {"http://spam.example"}}, http.StatusSeeOther},
		{"bad address", url.Values{"email": {"not an address"}, "list": {"everything"}}, http.StatusBadRequest},
		{"unknown list", url.Values{"email": {"b@example.net"}, "list": {"secret-list"}}, http.StatusBadRequest},
		{"no list", url.Values{"email": {"b@example.net"}}, http.StatusBadRequest},
		{"too big", url.Values{"email": {"b@example.net"}, "list": {"everything"}, "x": {strings.Repeat("x", maxForm)}}, http.StatusRequestEntityTooLarge},
	} {
		if got := post(tc.form, "198.51.100.7"); got.code != tc.code {
			t.Errorf("%s: %d, want %d: %s", tc.name, got.code, tc.code, got.body)
		}
	}
	if sent := mail.take(); len(sent) != 0 || state().Len() != before {
		t.Errorf("bad forms mailed %d and changed the log", len(sent))
	}

	// Flooding one address: past its limit, the same answer and no mail.
	victim := url.Values{"email": {"victim@example.net"}, "list": {"everything"}}
	for i := range 4 {
		if got := post(victim, "203.0.113.9"); got.code != http.StatusSeeOther {
			t.Fatalf("sign-up %d: %+v", i+1, got)
		}
	}
	if sent := mail.take(); len(sent) != 2 {
		t.Errorf("%d mails to one address, want the limit of 2", len(sent))
	}
	// Flooding from one client: 429 past its limit (8, 4 of them above).
	var codes []int
	for range 6 {
		codes = append(codes, post(url.Values{"email": {"c@example.net"}, "list": {"everything"}}, "203.0.113.9").code)
	}
	if codes[3] != http.StatusSeeOther || codes[4] != http.StatusTooManyRequests || codes[5] != http.StatusTooManyRequests {
		t.Errorf("one client's sign-ups past its limit: %v", codes)
	}

	// A mail that cannot be sent: the reader is told to try again.
	mail.fail = errors.New("connection refused")
	if got := post(url.Values{"email": {"d@example.net"}, "list": {"everything"}}, "192.0.2.50"); got.code != http.StatusServiceUnavailable || !strings.Contains(got.body, "could not be sent") {
		t.Errorf("a failed mail: %+v", got)
	}

	// "Check your email", where the redirect leads.
	res, err = http.Get(srv.URL + "/lists/subscribe?sent")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), "Check your email") {
		t.Errorf("the page a sign-up leads to: %d %s", res.StatusCode, b)
	}
}

// TestTwoServicesOneBucket runs two instances of the service, each with
// its own handle on one log in a bucket (versitygw on loopback), as two
// processes or two Lambda instances would: readers sign up on either at
// once and confirm on the other, and nothing is lost.
func TestTwoServicesOneBucket(t *testing.T) {
	t.Parallel()
	bucket := s3test.New(t).Bucket(t, "private")
	secret := []byte("a-long-enough-test-secret")
	mail := &mailbox{}
	var urls []string
	for range 2 {
		store, err := OpenS3Store(bucket, "s3://private/subscribers/")
		if err != nil {
			t.Fatal(err)
		}
		svc := &Service{Store: store, Secret: secret, Title: "Rounds", URL: "https://lists.example.org/", Lists: map[string]string{"everything": "Every note"},
			Consent: "Send me the lists I chose.", Mailer: mail, Limits: Limits{PerIP: 1000, IPEvery: time.Second, PerAddress: 3, AddressEvery: time.Hour}}
		srv := httptest.NewServer(svc)
		t.Cleanup(srv.Close)
		urls = append(urls, srv.URL)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	const readers = 24
	var wg sync.WaitGroup
	for i := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := client.PostForm(urls[i%2]+"/subscribe", url.Values{"email": {fmt.Sprintf("reader%02d@example.net", i)}, "list": {"everything"}})
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != http.StatusSeeOther {
				t.Errorf("reader %d: %d", i, res.StatusCode)
			}
		}()
	}
	wg.Wait()
	sent := mail.take()
	if len(sent) != readers {
		t.Fatalf("%d confirmations for %d readers", len(sent), readers)
	}
	// Each confirms on the other instance than they signed up on.
	for i, c := range sent {
		u, _ := url.Parse(c.URL)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var other string
			for j, s := range urls {
				if j != i%2 {
					other = s
				}
			}
			res, err := http.PostForm(other+"/confirm", url.Values{"token": {u.Query().Get("token")}})
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Errorf("%s: confirming: %d", c.To, res.StatusCode)
			}
		}()
	}
	wg.Wait()
	store, _ := OpenS3Store(bucket, "s3://private/subscribers/")
	st, err := Load(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(st.Recipients("everything")); got != readers {
		t.Errorf("%d confirmed recipients, want %d", got, readers)
	}
}
