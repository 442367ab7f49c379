package bounce

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testTopic = "arn:aws:sns:eu-west-1:111122223333:rounds-ses-feedback"

// testNow is the tests' clock: the day after the SES events in testdata.
var testNow = time.Date(2024, 5, 21, 10, 0, 0, 0, time.UTC)

// testKey is the RSA key that signs the tests' messages, made once: a
// 2048-bit key takes a while.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// certPEM returns a self-signed certificate for key, valid from
// notBefore to notAfter, in PEM.
func certPEM(t *testing.T, key *rsa.PrivateKey, notBefore, notAfter time.Time) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// snsServer is SNS's side of the tests: an HTTPS server on loopback that
// serves signing certificates and takes subscription confirmations.
type snsServer struct {
	*httptest.Server
	certFetches atomic.Int32
	mu          sync.Mutex
	confirmed   []string // the tokens confirmed
}

func newSNSServer(t *testing.T) *snsServer {
	t.Helper()
	s := &snsServer{}
	good := certPEM(t, testKey(), testNow.AddDate(0, -6, 0), testNow.AddDate(1, 0, 0))
	expired := certPEM(t, testKey(), testNow.AddDate(-2, 0, 0), testNow.AddDate(-1, 0, 0))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /SimpleNotificationService-test.pem", func(w http.ResponseWriter, r *http.Request) {
		s.certFetches.Add(1)
		w.Write(good)
	})
	mux.HandleFunc("GET /expired.pem", func(w http.ResponseWriter, r *http.Request) { w.Write(expired) })
	mux.HandleFunc("GET /garbage.pem", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("not a certificate")) })
	mux.HandleFunc("GET /moved.pem", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/SimpleNotificationService-test.pem", http.StatusFound)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("Action") != "ConfirmSubscription" {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		s.confirmed = append(s.confirmed, r.URL.Query().Get("Token"))
		s.mu.Unlock()
		io.WriteString(w, "<ConfirmSubscriptionResponse/>")
	})
	s.Server = httptest.NewTLSServer(mux)
	t.Cleanup(s.Close)
	return s
}

// url returns the URL of path on the server.
func (s *snsServer) url(path string) string { return s.URL + path }

// verifier returns an SNS that trusts the server's host and certificate.
func (s *snsServer) verifier() *SNS {
	host := strings.TrimPrefix(s.URL, "https://")
	return &SNS{
		Topics:    []string{testTopic},
		Client:    s.Client(),
		AllowHost: func(h string) bool { return h == host },
		Now:       func() time.Time { return testNow },
	}
}

// notification returns an SNS Notification carrying message, signed
// with version 2.
func (s *snsServer) notification(message string) map[string]string {
	m := map[string]string{
		"Type":             "Notification",
		"MessageId":        "5c0e8f7a-1b2c-4d3e-9f40-a1b2c3d4e5f6",
		"TopicArn":         testTopic,
		"Message":          message,
		"Timestamp":        testNow.Add(-time.Minute).Format("2006-01-02T15:04:05.000Z"),
		"SignatureVersion": "2",
		"SigningCertURL":   s.url("/SimpleNotificationService-test.pem"),
		"UnsubscribeURL":   s.url("/?Action=Unsubscribe&SubscriptionArn=" + testTopic + ":1"),
	}
	sign(m, testKey())
	return m
}

// sign signs an SNS message as AWS documents: the names and values of
// the fields its type signs, in alphabetical order, one per line, hashed
// by its SignatureVersion.
func sign(m map[string]string, key *rsa.PrivateKey) {
	signed := []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	if m["Type"] != "Notification" {
		signed = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	var text strings.Builder
	for _, k := range signed {
		if v, ok := m[k]; ok {
			text.WriteString(k + "\n" + v + "\n")
		}
	}
	var sig []byte
	var err error
	if m["SignatureVersion"] == "1" {
		sum := sha1.Sum([]byte(text.String()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA1, sum[:])
	} else {
		sum := sha256.Sum256([]byte(text.String()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	}
	if err != nil {
		panic(err)
	}
	m["Signature"] = base64.StdEncoding.EncodeToString(sig)
}

func body(m map[string]string) io.Reader {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return bytes.NewReader(b)
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSNSNotification(t *testing.T) {
	t.Parallel()
	s := newSNSServer(t)
	v := s.verifier()
	tests := []struct {
		file    string
		version string
		subject bool
		reports []want
	}{
		{"ses-bounce-permanent.json", "1", true, []want{
			{"no.longer.here@clinic.example", "hard", "5.1.1 smtp; 550 5.1.1 <n***@clinic.example>: Recipient address rejected: User unknown",
				"2024-w21.clinicians.c0ffee00112233445566@news.rounds.example", "2024-05-20T06:02:14.512Z"},
		}},
		{"ses-bounce-transient.json", "2", false, []want{
			{"busy.gp@surgery.example", "soft", "4.2.2 smtp; 452 4.2.2 The email account that you tried to reach is over quota",
				"0100018f9c4d1c00-bb2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d-000000", "2024-05-20T06:03:01.004Z"},
			{"busy.nurse@surgery.example", "soft", "Transient MailboxFull",
				"0100018f9c4d1c00-bb2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d-000000", "2024-05-20T06:03:01.004Z"},
		}},
		{"ses-complaint.json", "2", true, []want{
			{"unhappy.reader@mailbox.example", "complaint", "feedback-type abuse ExampleMail/1.0 FBL",
				"2024-w21.public.feedface0011223344aa@news.rounds.example", "2024-05-21T09:12:44Z"},
		}},
		{"ses-delivery.json", "1", false, nil},
	}
	for _, tt := range tests {
		m := s.notification(readTestdata(t, tt.file))
		m["SignatureVersion"] = tt.version
		if tt.subject {
			m["Subject"] = "Amazon SES Email Event Notification"
		}
		sign(m, testKey())
		got, err := v.Handle(context.Background(), body(m))
		if err != nil {
			t.Errorf("%s: %v", tt.file, err)
			continue
		}
		checkReports(t, got, tt.reports, SourceSNS)
	}
	if n := s.certFetches.Load(); n != 1 {
		t.Errorf("the certificate was fetched %d times, want once", n)
	}
}

func TestSNSSubscriptionConfirmation(t *testing.T) {
	t.Parallel()
	s := newSNSServer(t)
	v := s.verifier()
	confirmation := func(subscribeURL string) map[string]string {
		m := map[string]string{
			"Type":             "SubscriptionConfirmation",
			"MessageId":        "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
			"Token":            "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
			"TopicArn":         testTopic,
			"Message":          "You have chosen to subscribe to the topic " + testTopic + ".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
			"SubscribeURL":     subscribeURL,
			"Timestamp":        testNow.Add(-time.Second).Format(time.RFC3339),
			"SignatureVersion": "1",
			"SigningCertURL":   s.url("/SimpleNotificationService-test.pem"),
		}
		sign(m, testKey())
		return m
	}
	m := confirmation(s.url("/?Action=ConfirmSubscription&TopicArn=" + url.QueryEscape(testTopic) + "&Token=2336412f"))
	got, err := v.Handle(context.Background(), body(m))
	if err != nil || got != nil {
		t.Fatalf("Handle = %v, %v; want no reports and no error", got, err)
	}
	if !slices.Equal(s.confirmed, []string{"2336412f"}) {
		t.Errorf("confirmed %q, want the subscription's token once", s.confirmed)
	}

	m = confirmation("https://confirm.attacker.example/?Action=ConfirmSubscription&Token=1")
	if _, err := v.Handle(context.Background(), body(m)); !errors.Is(err, ErrMalformed) {
		t.Errorf("a SubscribeURL on another host: %v, want ErrMalformed", err)
	}
}

func TestSNSRejects(t *testing.T) {
	t.Parallel()
	s := newSNSServer(t)
	bounce := readTestdata(t, "ses-bounce-permanent.json")
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(m map[string]string) // after signing
		body   string                    // instead of a message
		snsOf  func(v *SNS)
		want   error  // the sentinel the error wraps, or nil
		text   string // a part of the error
	}{
		{name: "unsigned", change: func(m map[string]string) { delete(m, "Signature"); delete(m, "SignatureVersion") },
			want: ErrSignature, text: "unsigned"},
		{name: "no signature", change: func(m map[string]string) { delete(m, "Signature") },
			want: ErrSignature, text: "missing or not base64"},
		{name: "tampered", change: func(m map[string]string) {
			m["Message"] = strings.Replace(m["Message"], "Permanent", "Transient", 1)
		}, want: ErrSignature, text: "does not match"},
		{name: "subject added", change: func(m map[string]string) { m["Subject"] = "hello" },
			want: ErrSignature, text: "does not match"},
		{name: "other key", change: func(m map[string]string) { sign(m, other) },
			want: ErrSignature, text: "does not match"},
		{name: "version 1 claimed for a version 2 signature", change: func(m map[string]string) { m["SignatureVersion"] = "1" },
			want: ErrSignature, text: "does not match"},
		{name: "unknown version", change: func(m map[string]string) { m["SignatureVersion"] = "3" },
			want: ErrSignature, text: "unknown SignatureVersion"},
		{name: "certificate over http", change: func(m map[string]string) {
			m["SigningCertURL"] = strings.Replace(m["SigningCertURL"], "https:", "http:", 1)
			sign(m, testKey())
		}, want: ErrSignature, text: "not an https URL on an SNS host"},
		{name: "certificate elsewhere", change: func(m map[string]string) {
			m["SigningCertURL"] = "https://sns.eu-west-1.amazonaws.com.attacker.example/cert.pem"
			sign(m, testKey())
		}, want: ErrSignature, text: "not an https URL on an SNS host"},
		{name: "not a certificate", change: func(m map[string]string) {
			m["SigningCertURL"] = s.url("/garbage.pem")
			sign(m, testKey())
		}, want: ErrSignature, text: "not a PEM certificate"},
		{name: "expired certificate", change: func(m map[string]string) {
			m["SigningCertURL"] = s.url("/expired.pem")
			sign(m, testKey())
		}, want: ErrSignature, text: "valid only from"},
		{name: "redirected certificate", change: func(m map[string]string) {
			m["SigningCertURL"] = s.url("/moved.pem")
			sign(m, testKey())
		}, text: "302 Found"},
		{name: "default hosts", snsOf: func(v *SNS) { v.AllowHost = nil },
			want: ErrSignature, text: "not an https URL on an SNS host"},
		{name: "wrong topic", change: func(m map[string]string) {
			m["TopicArn"] = "arn:aws:sns:eu-west-1:444455556666:someone-else"
			sign(m, testKey())
		}, want: ErrTopic},
		{name: "no topics allowed", snsOf: func(v *SNS) { v.Topics = nil }, want: ErrTopic},
		{name: "stale", change: func(m map[string]string) {
			m["Timestamp"] = testNow.Add(-2 * time.Hour).Format(time.RFC3339)
			sign(m, testKey())
		}, want: ErrStale, text: "more than 1h0m0s ago"},
		{name: "from the future", change: func(m map[string]string) {
			m["Timestamp"] = testNow.Add(time.Hour).Format(time.RFC3339)
			sign(m, testKey())
		}, want: ErrStale, text: "in the future"},
		{name: "bad timestamp", change: func(m map[string]string) { m["Timestamp"] = "yesterday" },
			want: ErrMalformed, text: "not an RFC 3339 time"},
		{name: "unknown type", change: func(m map[string]string) { m["Type"] = "Gossip" },
			want: ErrMalformed, text: "unknown Type"},
		{name: "not SES", change: func(m map[string]string) {
			m["Message"] = "Hello from no.one@clinic.example"
			sign(m, testKey())
		}, want: ErrMalformed, text: "not an SES event"},
		{name: "SES recipient not an address", change: func(m map[string]string) {
			m["Message"] = `{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":[{"emailAddress":"nobody"}]}}`
			sign(m, testKey())
		}, want: ErrMalformed, text: "is not an address"},
		{name: "not JSON", body: "Action=Publish&Message=hi", want: ErrMalformed},
		{name: "no type", body: "{}", want: ErrMalformed, text: "no Type"},
		{name: "too large", body: `{"Message":"` + strings.Repeat("x", MaxNotificationSize) + `"}`,
			want: ErrMalformed, text: "larger than 512 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := s.verifier()
			if tt.snsOf != nil {
				tt.snsOf(v)
			}
			b := strings.NewReader(tt.body)
			if tt.body == "" {
				m := s.notification(bounce)
				if tt.change != nil {
					tt.change(m)
				}
				b = strings.NewReader(mustJSON(m))
			}
			got, err := v.Handle(context.Background(), b)
			switch {
			case err == nil:
				t.Fatalf("accepted, with %d reports", len(got))
			case got != nil:
				t.Errorf("%d reports with the error %v", len(got), err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Errorf("error %v, want one wrapping %v", err, tt.want)
			case !strings.Contains(err.Error(), tt.text):
				t.Errorf("error %v, want one saying %q", err, tt.text)
			case strings.Contains(err.Error(), "@"):
				t.Errorf("the error holds an address: %v", err)
			}
		})
	}
}

func mustJSON(m map[string]string) string {
	b, err := io.ReadAll(body(m))
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestIsSNSHost(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"sns.us-east-1.amazonaws.com":                true,
		"sns.eu-west-1.amazonaws.com":                true,
		"sns.us-gov-west-1.amazonaws.com":            true,
		"sns.ap-southeast-2.amazonaws.com":           true,
		"sns.us-east-1.amazonaws.com:443":            false,
		"sns.us-east-1.amazonaws.com.attacker.test":  false,
		"attacker.test/sns.us-east-1.amazonaws.com":  false,
		"evilsns.us-east-1.amazonaws.com":            false,
		"sns.amazonaws.com":                          false,
		"sqs.us-east-1.amazonaws.com":                false,
		"sns.us-east-1.amazonaws.com.":               false,
		"SNS.US-EAST-1.AMAZONAWS.COM":                false,
		"sns.x.amazonaws.com":                        false,
		"127.0.0.1":                                  false,
		"sns.us-east-1.amazonaws.com@attacker.test":  false,
		"sns.us-east-1.amazonaws.com%2eattacker.tes": false,
	} {
		if got := IsSNSHost(host); got != want {
			t.Errorf("IsSNSHost(%q) = %v", host, got)
		}
	}
}

func TestSNSHandler(t *testing.T) {
	t.Parallel()
	s := newSNSServer(t)
	v := s.verifier()
	var mu sync.Mutex
	var recorded []Report
	fail := false
	srv := httptest.NewServer(v.Handler(func(ctx context.Context, reports []Report) error {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return errors.New("the store is down")
		}
		recorded = append(recorded, reports...)
		return nil
	}))
	t.Cleanup(srv.Close)

	bounce := s.notification(readTestdata(t, "ses-bounce-permanent.json"))
	tampered := s.notification(readTestdata(t, "ses-bounce-permanent.json"))
	tampered["TopicArn"] = "arn:aws:sns:eu-west-1:111122223333:other"
	post := func(b io.Reader) int {
		t.Helper()
		resp, err := srv.Client().Post(srv.URL, "text/plain; charset=UTF-8", b)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(body(bounce)); code != http.StatusOK {
		t.Errorf("a bounce: %d, want 200", code)
	}
	if len(recorded) != 1 || recorded[0].Address != "no.longer.here@clinic.example" || recorded[0].Kind != Hard {
		t.Errorf("recorded %+v, want the bounce", recorded)
	}
	if code := post(body(tampered)); code != http.StatusForbidden {
		t.Errorf("another topic: %d, want 403", code)
	}
	if code := post(strings.NewReader("not json")); code != http.StatusBadRequest {
		t.Errorf("not JSON: %d, want 400", code)
	}
	mu.Lock()
	fail = true
	mu.Unlock()
	if code := post(body(bounce)); code != http.StatusInternalServerError {
		t.Errorf("the store failing: %d, want 500", code)
	}
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", resp.StatusCode)
	}
}
