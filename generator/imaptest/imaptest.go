// Package imaptest runs a real IMAP server on loopback for tests: go-imap
// v2's server over its in-memory backend, with one user, plain or behind
// TLS (from the first byte or by STARTTLS), so that a bounce mailbox can
// be read as it is in production.
package imaptest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// The credentials the server accepts.
const User, Password = "bounces", "a test password"

// Received is when the server says it received every message appended
// with Append.
var Received = time.Date(2024, 6, 11, 3, 0, 0, 0, time.UTC)

// Security is how the server's connections are protected.
type Security int

// The kinds of connection security.
const (
	// Plain is no TLS, with logins allowed in the clear.
	Plain Security = iota
	// StartTLS offers STARTTLS on a plain connection.
	StartTLS
	// ImplicitTLS is TLS from the first byte.
	ImplicitTLS
)

// loopbackCert is the standard library's test certificate for
// 127.0.0.1, and a pool that trusts it.
var loopbackCert = sync.OnceValues(func() (tls.Certificate, *x509.CertPool) {
	srv := httptest.NewUnstartedServer(nil)
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return srv.TLS.Certificates[0], pool
})

// A Server is an IMAP server on loopback with one user, User, whose INBOX
// starts empty. It stops when the test ends.
type Server struct {
	// Addr is the server's host and port.
	Addr string
	// RootCAs trusts the server's certificate, for a client's TLS.
	RootCAs *x509.CertPool
	// User is the server's user: its mailboxes, to create, fill and
	// look at behind the client's back.
	User *imapmemserver.User
}

// New starts a server for the test, protected as security says.
func New(t testing.TB, security Security) *Server {
	t.Helper()
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(User, Password)
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	cert, pool := loopbackCert()
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapMove: {}},
		InsecureAuth: security == Plain,
		Logger:       log.New(io.Discard, "", 0),
	}
	if security == StartTLS {
		opts.TLSConfig = tlsConfig
	}
	srv := imapserver.New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if security == ImplicitTLS {
		ln = tls.NewListener(ln, tlsConfig)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &Server{Addr: ln.Addr().String(), RootCAs: pool, User: user}
}

// Append adds a message to a mailbox, received at Received, with CRLF
// line ends as IMAP has them.
func (s *Server) Append(t testing.TB, mailbox, msg string) {
	t.Helper()
	msg = strings.ReplaceAll(strings.ReplaceAll(msg, "\r\n", "\n"), "\n", "\r\n")
	if _, err := s.User.Append(mailbox, bytes.NewReader([]byte(msg)), &imap.AppendOptions{Time: Received}); err != nil {
		t.Fatal(err)
	}
}

// Count returns the number of messages in a mailbox, and of unseen ones.
func (s *Server) Count(t testing.TB, mailbox string) (all, unseen uint32) {
	t.Helper()
	st, err := s.User.Status(mailbox, &imap.StatusOptions{NumMessages: true, NumUnseen: true})
	if err != nil {
		t.Fatal(err)
	}
	return *st.NumMessages, *st.NumUnseen
}
