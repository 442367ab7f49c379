package digest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// testServer is a real SMTP server on loopback (go-smtp), with STARTTLS
// and AUTH PLAIN, that keeps every message it accepts. Its hooks decide
// replies and can stop the test's sender at chosen points.
type testServer struct {
	Addr   string
	Port   int
	CAFile string // PEM of the certificate, for the sender to trust
	TLS    *tls.Config

	mu       sync.Mutex
	received map[string][][]byte // recipient → messages
	// rcpt, if set, answers RCPT TO for a recipient; nil accepts.
	rcpt func(to string) error
	// data, if set, is called with a message's recipient once the whole
	// message (final dot included) has been read; its error is the reply.
	// A message is kept unless data returns an error.
	data     func(to string, msg []byte) error
	logins   int
	sessions int
}

const testUser, testPassword = "rounds", "s3cret-password"

func newTestServer(t testing.TB, insecure bool) *testServer {
	t.Helper()
	ts := &testServer{received: map[string][][]byte{}}
	cert, pemBytes := selfSigned(t)
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	ts.CAFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ts.CAFile, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	s := smtp.NewServer(ts)
	s.Domain = "localhost"
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.MaxMessageBytes = 4 << 20
	s.AllowInsecureAuth = insecure
	if !insecure {
		s.TLSConfig = ts.TLS
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.Addr = ln.Addr().String()
	ts.Port = ln.Addr().(*net.TCPAddr).Port
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return ts
}

// clientTLS is the TLS configuration a sender needs to trust the server.
func (ts *testServer) clientTLS() *tls.Config {
	pool := x509.NewCertPool()
	data, _ := os.ReadFile(ts.CAFile)
	pool.AppendCertsFromPEM(data)
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// messages returns what each recipient received.
func (ts *testServer) messages() map[string][][]byte {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	out := map[string][][]byte{}
	for k, v := range ts.received {
		out[k] = append([][]byte(nil), v...)
	}
	return out
}

func (ts *testServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	ts.mu.Lock()
	ts.sessions++
	ts.mu.Unlock()
	return &testSession{ts: ts}, nil
}

type testSession struct {
	ts    *testServer
	authd bool
	to    []string
}

func (s *testSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *testSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != testUser || password != testPassword {
			return errors.New("invalid credentials")
		}
		s.authd = true
		s.ts.mu.Lock()
		s.ts.logins++
		s.ts.mu.Unlock()
		return nil
	}), nil
}

func (s *testSession) Mail(from string, opts *smtp.MailOptions) error {
	if !s.authd {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	return nil
}

func (s *testSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	if s.ts.rcpt != nil {
		if err := s.ts.rcpt(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	msg, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	for _, to := range s.to {
		if s.ts.data != nil {
			if err := s.ts.data(to, msg); err != nil {
				return err
			}
		}
		s.ts.mu.Lock()
		s.ts.received[to] = append(s.ts.received[to], msg)
		s.ts.mu.Unlock()
	}
	return nil
}

func (s *testSession) Reset()        { s.to = nil }
func (s *testSession) Logout() error { return nil }

// selfSigned makes a certificate for 127.0.0.1 and returns it with its
// PEM.
func selfSigned(t testing.TB) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "rounds test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pemBytes
}

// smtpErr is an SMTP reply for the server's hooks.
func smtpErr(code int, msg string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: msg}
}

// recipients returns n subscriber rows for lists, with addresses that
// include an international name.
func recipients(n int, lists string) string {
	var b strings.Builder
	b.WriteString("email,name,lists,status\n")
	for i := range n {
		name := "Reader " + itoa(i)
		if i == 0 {
			name = "Zoë Ångström"
		}
		b.WriteString("reader" + itoa(i) + "@example.net," + name + "," + lists + ",subscribed\n")
	}
	return b.String()
}

func itoa(i int) string { return strconv.Itoa(i) }
