// Package smtptest runs a real SMTP server on loopback for tests: go-smtp,
// with STARTTLS and AUTH PLAIN, keeping every message it accepts.
package smtptest

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

// A Server is a real SMTP server on loopback (go-smtp), with STARTTLS and
// AUTH PLAIN, that keeps every message it accepts. Its hooks decide
// replies and can stop a sender under test at chosen points.
type Server struct {
	Addr   string
	Port   int
	CAFile string // PEM of the certificate, for the sender to trust
	TLS    *tls.Config

	// Mu guards Received and the counters; hooks run without it held.
	Mu       sync.Mutex
	Received map[string][][]byte // recipient → messages
	// Rcpt, if set, answers RCPT TO for a recipient; nil accepts.
	Rcpt func(to string) error
	// Data, if set, is called with a message's recipient once the whole
	// message (final dot included) has been read; its error is the reply.
	// A message is kept unless Data returns an error.
	Data     func(to string, msg []byte) error
	Logins   int
	Sessions int
}

// The credentials the server accepts.
const User, Password = "rounds", "s3cret-password"

// New starts a server for the test; with insecure, it offers no STARTTLS
// and accepts AUTH in the clear.
func New(t testing.TB, insecure bool) *Server {
	t.Helper()
	return start(t, insecure, false)
}

// NewTLS starts a server that speaks TLS from the first byte, as on port
// 465.
func NewTLS(t testing.TB) *Server {
	t.Helper()
	return start(t, true, true)
}

func start(t testing.TB, insecure, implicitTLS bool) *Server {
	t.Helper()
	ts := &Server{Received: map[string][][]byte{}}
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
	if implicitTLS {
		ln = tls.NewListener(ln, ts.TLS)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return ts
}

// ClientTLS is the TLS configuration a sender needs to trust the server.
func (ts *Server) ClientTLS() *tls.Config {
	pool := x509.NewCertPool()
	data, _ := os.ReadFile(ts.CAFile)
	pool.AppendCertsFromPEM(data)
	return &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// Messages returns what each recipient received.
func (ts *Server) Messages() map[string][][]byte {
	ts.Mu.Lock()
	defer ts.Mu.Unlock()
	out := map[string][][]byte{}
	for k, v := range ts.Received {
		out[k] = append([][]byte(nil), v...)
	}
	return out
}

// NewSession implements smtp.Backend.
func (ts *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	ts.Mu.Lock()
	ts.Sessions++
	ts.Mu.Unlock()
	return &session{ts: ts}, nil
}

type session struct {
	ts    *Server
	authd bool
	to    []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != User || password != Password {
			return errors.New("invalid credentials")
		}
		s.authd = true
		s.ts.Mu.Lock()
		s.ts.Logins++
		s.ts.Mu.Unlock()
		return nil
	}), nil
}

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if !s.authd {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	return nil
}

func (s *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	if s.ts.Rcpt != nil {
		if err := s.ts.Rcpt(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	msg, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	for _, to := range s.to {
		if s.ts.Data != nil {
			if err := s.ts.Data(to, msg); err != nil {
				return err
			}
		}
		s.ts.Mu.Lock()
		s.ts.Received[to] = append(s.ts.Received[to], msg)
		s.ts.Mu.Unlock()
	}
	return nil
}

func (s *session) Reset()        { s.to = nil }
func (s *session) Logout() error { return nil }

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

// Reply is an SMTP reply for the server's hooks.
func Reply(code int, msg string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0}, Message: msg}
}

// Subscribers returns a subscribers CSV file of n readers of lists,
// reader0@example.net to reader(n-1)@example.net; the first has an
// international name.
func Subscribers(n int, lists string) string {
	var b strings.Builder
	b.WriteString("email,name,lists,status\n")
	for i := range n {
		name := "Reader " + strconv.Itoa(i)
		if i == 0 {
			name = "Zoë Ångström"
		}
		b.WriteString("reader" + strconv.Itoa(i) + "@example.net," + name + "," + lists + ",subscribed\n")
	}
	return b.String()
}
