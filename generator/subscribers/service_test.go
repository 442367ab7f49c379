package subscribers

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestService confirms and unsubscribes through the service's pages and
// posts, as a reader's browser and a mail provider make them, against a
// real HTTP server on loopback and a log in a folder.
func TestService(t *testing.T) {
	t.Parallel()
	secret := []byte("a-long-enough-test-secret")
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	store, err := OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	clock := now
	svc := &Service{Store: store, Secret: secret, Title: "Rounds", Lists: map[string]string{"everything": "Every note"}, Now: func() time.Time { return clock }}
	srv := httptest.NewServer(http.StripPrefix("/lists", svc))
	t.Cleanup(srv.Close)

	key := Key(secret, "ada@example.net")
	signup := Event{ID: NewID(), Time: now, Kind: Subscribed, Key: key, Email: "ada@example.net", Lists: []string{"everything"}, Source: "form:/subscribe/",
		Consent: &Consent{Text: HashText("Send me the lists I chose."), Page: "/subscribe/"}}
	if err := store.Append(ctx, signup); err != nil {
		t.Fatal(err)
	}
	confirm, err := Sign(secret, ConfirmToken(&signup))
	if err != nil {
		t.Fatal(err)
	}
	standing := func() Status {
		st, err := Load(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		s, _ := st.Subscriber(key)
		x, _ := s.On("everything")
		return x.Status
	}
	get := func(path string) (int, string) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	post := func(path string, form url.Values) (int, string) {
		res, err := http.PostForm(srv.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	// A GET, as a mail scanner makes, shows the button and changes nothing.
	code, body := get("/lists/confirm?token=" + url.QueryEscape(confirm))
	if code != 200 || !strings.Contains(body, `<form method="post" action="confirm">`) || !strings.Contains(body, "Every note") || standing() != Pending {
		t.Fatalf("GET confirm: %d, %s, %s", code, standing(), body)
	}
	if code, body := post("/lists/confirm", url.Values{"token": {confirm}}); code != 200 || !strings.Contains(body, "confirmed") || standing() != Active {
		t.Fatalf("POST confirm: %d, %s, %s", code, standing(), body)
	}
	if code, _ := post("/lists/confirm", url.Values{"token": {confirm}}); code != http.StatusConflict {
		t.Errorf("a replayed confirmation: %d", code)
	}

	// The one-click POST of RFC 8058, to the URL of List-Unsubscribe.
	st, _ := Load(ctx, store)
	r := st.Recipients("everything")
	if len(r) != 1 {
		t.Fatalf("recipients %v", r)
	}
	unsub, _ := Sign(secret, r[0].UnsubscribeToken("everything", now))
	if code, _ := get("/lists/unsubscribe?token=" + url.QueryEscape(unsub)); code != 200 || standing() != Active {
		t.Errorf("GET unsubscribe changed something: %d, %s", code, standing())
	}
	res, err := http.Post(srv.URL+"/lists/unsubscribe?token="+url.QueryEscape(unsub), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || standing() != Left {
		t.Fatalf("one-click unsubscribe: %d, %s", res.StatusCode, standing())
	}
	if code, _ := post("/lists/unsubscribe", url.Values{"token": {unsub}}); code != http.StatusConflict {
		t.Errorf("unsubscribing again: %d", code)
	}

	// A subscriber of the curators' file, unknown to the log: recorded,
	// so that no send mails them on the strength of their row.
	row, _ := Sign(secret, Token{Purpose: PurposeUnsubscribe, Key: Key(secret, "row@example.net"), Lists: []string{"everything"}, Expires: now.Add(UnsubscribeTTL)})
	if code, body := post("/lists/unsubscribe", url.Values{"token": {row}}); code != 200 || !strings.Contains(body, "You are unsubscribed") {
		t.Errorf("unsubscribing a row of the file: %d %s", code, body)
	}
	st, _ = Load(ctx, store)
	if s, _ := st.Subscriber(Key(secret, "row@example.net")); len(s.Lists) != 1 || s.Lists[0].Status != Left {
		t.Errorf("the row's unsubscribe is not in the log: %+v", s)
	}

	// Bad input changes nothing.
	before := st.Len()
	forged := unsub[:len(unsub)-2] + "AA"
	for _, tc := range []struct {
		name string
		code int
		do   func() int
	}{
		{"forged", 400, func() int { c, _ := post("/lists/unsubscribe", url.Values{"token": {forged}}); return c }},
		{"wrong purpose", 400, func() int { c, _ := post("/lists/unsubscribe", url.Values{"token": {confirm}}); return c }},
		{"no token", 400, func() int { c, _ := get("/lists/unsubscribe"); return c }},
		{"too big", 400, func() int {
			c, _ := post("/lists/unsubscribe", url.Values{"token": {strings.Repeat("x", maxForm)}})
			return c
		}},
		{"unknown path", 404, func() int { c, _ := get("/lists/elsewhere"); return c }},
		{"PUT", 405, func() int {
			req, _ := http.NewRequest(http.MethodPut, srv.URL+"/lists/unsubscribe", nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}},
	} {
		if got := tc.do(); got != tc.code {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.code)
		}
	}
	clock = now.Add(ConfirmTTL + time.Hour)
	if code, body := get("/lists/confirm?token=" + url.QueryEscape(confirm)); code != http.StatusGone || !strings.Contains(body, "expired") {
		t.Errorf("an expired link: %d %s", code, body)
	}
	if st, _ := Load(ctx, store); st.Len() != before {
		t.Errorf("bad requests changed the log: %d subscribers, want %d", st.Len(), before)
	}
}
