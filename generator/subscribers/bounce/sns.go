package bounce

import (
	"context"
	"crypto"
	"crypto/rsa"
	_ "crypto/sha1"   // SignatureVersion 1
	_ "crypto/sha256" // SignatureVersion 2
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// MaxNotificationSize is the largest SNS request body Handle reads, in
// bytes: SNS messages are at most 256 KiB, and the envelope adds little.
const MaxNotificationSize = 512 << 10

// maxCertSize bounds a signing certificate's PEM; maxCerts, how many are
// kept (SNS signs with one at a time, in each region).
const (
	maxCertSize = 64 << 10
	maxCerts    = 16
)

// The ways Handle rejects a request; its errors wrap one of them.
var (
	// ErrMalformed is a body that is not an SNS message, or whose SES
	// event cannot be read.
	ErrMalformed = errors.New("malformed SNS message")
	// ErrSignature is a message that is unsigned, badly signed, or
	// signed with a certificate from where SNS does not keep them.
	ErrSignature = errors.New("SNS signature not verified")
	// ErrTopic is a message from a topic that is not allowed.
	ErrTopic = errors.New("SNS topic not allowed")
	// ErrStale is a message whose timestamp is too old, or in the future.
	ErrStale = errors.New("SNS message stale")
)

// An SNS reads Amazon SES event notifications that SNS posts to an
// HTTPS endpoint, after verifying them. A signing certificate is trusted
// for where it comes from (https, from SNS's host) and while it is
// valid; its chain of issuers is not checked.
// Its fields are set before its first use; it is then safe for
// concurrent use.
type SNS struct {
	// Topics are the ARNs of the topics whose messages are taken. A
	// message from any other topic is rejected, so an SNS with no topics
	// takes none.
	Topics []string
	// Client fetches signing certificates and confirms subscriptions;
	// nil means a client with a 10-second timeout. Redirects are never
	// followed.
	Client *http.Client
	// AllowHost reports whether a certificate or confirmation URL's host
	// (with its port, if the URL has one) is SNS's; nil means IsSNSHost.
	AllowHost func(host string) bool
	// MaxAge is how old a message may be; 0 means an hour, as long as
	// SNS retries a delivery under the default policies.
	MaxAge time.Duration
	// Now returns the time; nil means time.Now.
	Now func() time.Time
	// Logger logs what is taken and what is not; nil means slog.Default().
	Logger *slog.Logger

	mu    sync.Mutex
	certs map[string]*x509.Certificate // by URL
}

// snsHost is the host of SNS's certificates and confirmation URLs.
var snsHost = regexp.MustCompile(`^sns\.[a-z]{2}(-[a-z]+)+-[0-9]+\.amazonaws\.com$`)

// IsSNSHost reports whether host is sns.<region>.amazonaws.com, with no
// port: where SNS keeps its signing certificates.
func IsSNSHost(host string) bool {
	return snsHost.MatchString(host)
}

// snsMessage is the JSON body of an SNS HTTP(S) delivery.
type snsMessage struct {
	Type             string
	MessageID        string `json:"MessageId"`
	Token            string
	TopicArn         string
	Subject          *string
	Message          string
	SubscribeURL     string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string `json:"SigningCertURL"`
}

// Handle reads one SNS request body, verifies it, and returns the
// reports of the SES event it carries, with Source set to SourceSNS.
//
// It rejects, with an error wrapping ErrMalformed, ErrTopic, ErrStale or
// ErrSignature, a body that is not an SNS message, one from a topic not
// in Topics, one older than MaxAge, and one not signed by SNS: signature
// version 1 (SHA1withRSA) or 2 (SHA256withRSA) over the message type's
// fields, with a certificate fetched from an https URL on an allowed
// host (and kept for later messages). A SubscriptionConfirmation is
// confirmed by getting its SubscribeURL, on an allowed host too. A
// verified message that carries no bounce or complaint (a delivery, an
// UnsubscribeConfirmation) gives no reports and no error. Any other
// error is the certificate's or the confirmation's fetch failing, which
// SNS's retry may mend.
func (v *SNS) Handle(ctx context.Context, body io.Reader) ([]Report, error) {
	data, err := io.ReadAll(io.LimitReader(body, MaxNotificationSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading the SNS request: %w", err)
	}
	if len(data) > MaxNotificationSize {
		return nil, fmt.Errorf("%w: larger than %d KiB", ErrMalformed, MaxNotificationSize>>10)
	}
	var m snsMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: %s", ErrMalformed, masked(err))
	}
	if err := v.check(&m); err != nil {
		return nil, err
	}
	if err := v.verify(ctx, &m); err != nil {
		return nil, err
	}
	log := v.logger().With("topic", m.TopicArn, "message", m.MessageID)
	switch m.Type {
	case "SubscriptionConfirmation":
		if _, err := v.get(ctx, m.SubscribeURL, maxCertSize); errors.Is(err, errHost) {
			return nil, fmt.Errorf("%w: its SubscribeURL is %w", ErrMalformed, err)
		} else if err != nil {
			return nil, fmt.Errorf("confirming the subscription: %w", err)
		}
		log.Info("sns: subscription confirmed")
		return nil, nil
	case "UnsubscribeConfirmation":
		log.Warn("sns: unsubscribed from the topic; bounces from SES no longer arrive")
		return nil, nil
	}
	reports, err := parseSESEvent([]byte(m.Message))
	if err != nil {
		return nil, err
	}
	for _, r := range reports {
		log.Info("sns: report", "report", r)
	}
	return reports, nil
}

// check checks what can be checked of a message before its signature:
// its type, topic and age.
func (v *SNS) check(m *snsMessage) error {
	switch m.Type {
	case "Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation":
	case "":
		return fmt.Errorf("%w: it has no Type", ErrMalformed)
	default:
		return fmt.Errorf("%w: unknown Type %q", ErrMalformed, untrusted(m.Type, 40))
	}
	if !slices.Contains(v.Topics, m.TopicArn) {
		return fmt.Errorf("%w: %q", ErrTopic, untrusted(m.TopicArn, 256))
	}
	ts, err := time.Parse(time.RFC3339, m.Timestamp)
	if err != nil {
		return fmt.Errorf("%w: its Timestamp %q is not an RFC 3339 time", ErrMalformed, untrusted(m.Timestamp, 40))
	}
	maxAge := v.MaxAge
	if maxAge <= 0 {
		maxAge = time.Hour
	}
	now := v.now()
	switch {
	case now.Sub(ts) > maxAge:
		return fmt.Errorf("%w: sent at %s, more than %s ago", ErrStale, ts.Format(time.RFC3339), maxAge)
	case ts.Sub(now) > 5*time.Minute:
		return fmt.Errorf("%w: sent at %s, in the future", ErrStale, ts.Format(time.RFC3339))
	}
	return nil
}

// verify checks a message's signature.
func (v *SNS) verify(ctx context.Context, m *snsMessage) error {
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	case "":
		return fmt.Errorf("%w: the message is unsigned", ErrSignature)
	default:
		return fmt.Errorf("%w: unknown SignatureVersion %q", ErrSignature, untrusted(m.SignatureVersion, 20))
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("%w: the Signature is missing or not base64", ErrSignature)
	}
	cert, err := v.cert(ctx, m.SigningCertURL)
	if err != nil {
		return err
	}
	key, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: the signing certificate's key is not RSA", ErrSignature)
	}
	h := hash.New()
	h.Write(stringToSign(m))
	if err := rsa.VerifyPKCS1v15(key, hash, h.Sum(nil), sig); err != nil {
		return fmt.Errorf("%w: the signature does not match the message", ErrSignature)
	}
	return nil
}

// stringToSign is the text SNS signs: the names and values of the
// message type's fields, in order, each on a line of its own.
func stringToSign(m *snsMessage) []byte {
	type field struct{ name, value string }
	var fields []field
	if m.Type == "Notification" {
		fields = []field{{"Message", m.Message}, {"MessageId", m.MessageID}}
		if m.Subject != nil {
			fields = append(fields, field{"Subject", *m.Subject})
		}
		fields = append(fields, field{"Timestamp", m.Timestamp}, field{"TopicArn", m.TopicArn}, field{"Type", m.Type})
	} else {
		fields = []field{{"Message", m.Message}, {"MessageId", m.MessageID}, {"SubscribeURL", m.SubscribeURL},
			{"Timestamp", m.Timestamp}, {"Token", m.Token}, {"TopicArn", m.TopicArn}, {"Type", m.Type}}
	}
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f.name + "\n" + f.value + "\n")
	}
	return []byte(b.String())
}

// cert returns the certificate at rawURL, fetched once and kept while it
// is valid.
func (v *SNS) cert(ctx context.Context, rawURL string) (*x509.Certificate, error) {
	now := v.now()
	v.mu.Lock()
	c := v.certs[rawURL]
	v.mu.Unlock()
	if c != nil && now.Before(c.NotAfter) {
		return c, nil
	}
	data, err := v.get(ctx, rawURL, maxCertSize)
	if err != nil {
		if errors.Is(err, errHost) {
			return nil, fmt.Errorf("%w: %w", ErrSignature, err)
		}
		return nil, fmt.Errorf("fetching the signing certificate: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: the signing certificate is not a PEM certificate", ErrSignature)
	}
	c, err = x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the signing certificate: %w", ErrSignature, err)
	}
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return nil, fmt.Errorf("%w: the signing certificate is valid only from %s to %s",
			ErrSignature, c.NotBefore.Format(time.RFC3339), c.NotAfter.Format(time.RFC3339))
	}
	v.mu.Lock()
	if v.certs == nil || len(v.certs) >= maxCerts {
		v.certs = make(map[string]*x509.Certificate)
	}
	v.certs[rawURL] = c
	v.mu.Unlock()
	return c, nil
}

// errHost is the error of a URL that is not SNS's.
var errHost = errors.New("not an https URL on an SNS host")

// get fetches an https URL on an allowed host, without following
// redirects, and returns at most limit bytes of its body.
func (v *SNS) get(ctx context.Context, rawURL string, limit int64) ([]byte, error) {
	u, err := url.Parse(rawURL)
	allow := v.AllowHost
	if allow == nil {
		allow = IsSNSHost
	}
	if err != nil || u.Scheme != "https" || u.User != nil || !allow(u.Host) {
		return nil, fmt.Errorf("%w: %q", errHost, untrusted(rawURL, 200))
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	var client http.Client
	if v.Client != nil {
		client = *v.Client
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u.Host+u.Path, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u.Host+u.Path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("GET %s: the body is larger than %d KiB", u.Host+u.Path, limit>>10)
	}
	return data, nil
}

func (v *SNS) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *SNS) logger() *slog.Logger {
	if v.Logger != nil {
		return v.Logger
	}
	return slog.Default()
}

// Handler returns the handler of SNS's POST requests: it passes each
// request's reports to record, and answers 200 once they are recorded,
// 400 or 403 to a request Handle rejects (which SNS does not retry), and
// 502 or 500 when fetching a certificate or recording fails, so that
// SNS delivers the message again.
func (v *SNS) Handler(record func(context.Context, []Report) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		reports, err := v.Handle(r.Context(), http.MaxBytesReader(w, r.Body, MaxNotificationSize+1))
		if err == nil && len(reports) > 0 {
			if err := record(r.Context(), reports); err != nil {
				v.logger().Error("sns: recording reports", "reports", len(reports), "err", masked(err))
				http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
				return
			}
		}
		code := http.StatusOK
		switch {
		case err == nil:
		case errors.Is(err, ErrMalformed):
			code = http.StatusBadRequest
		case errors.Is(err, ErrSignature), errors.Is(err, ErrTopic), errors.Is(err, ErrStale):
			code = http.StatusForbidden
		default:
			code = http.StatusBadGateway
		}
		if err != nil {
			v.logger().Warn("sns: request refused", "status", code, "err", masked(err))
		}
		http.Error(w, http.StatusText(code), code)
	})
}
