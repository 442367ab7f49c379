package feeds

import (
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
)

// A fetchError is why a fetch failed, told so that it can be published:
// the site's sources page shows it to anyone, so its message names no
// address, port or host, which would let a reader probe the network that
// Rounds runs in, and holds no control character. The error it wraps
// is the detail, for the curator's eyes only.
type fetchError struct {
	msg string
	err error
	// problem is the failure's kind, when it is not ProblemUnreachable.
	problem string
}

func (e *fetchError) Error() string { return e.msg }
func (e *fetchError) Unwrap() error { return e.err }

// maxErrorBytes caps the message of a failure whose text comes from the
// feed, such as a parser's.
const maxErrorBytes = 200

// failure returns err as the error of a failed fetch, with a message fit
// to publish and err wrapped: the message of the fetchError err holds, if
// any, else a description of err by its kind alone.
func (f *Fetcher) failure(err error) error {
	if fe, ok := errors.AsType[*fetchError](err); ok {
		if fe == err {
			return err
		}
		return &fetchError{msg: fe.msg, err: err, problem: fe.problem}
	}
	return &fetchError{msg: f.describe(err), err: err}
}

// outside returns err, whose message comes from a feed, as the error of a
// failed fetch: on one line, without control characters, short.
func outside(err error) error {
	return &fetchError{msg: clip(Printable(err.Error()), maxErrorBytes), err: err, problem: ProblemInvalid}
}

// describe tells what went wrong in err, a network or HTTP client error,
// without the addresses and names its own message holds.
func (f *Fetcher) describe(err error) string {
	var (
		dns      *net.DNSError
		op       *net.OpError
		hostname x509.HostnameError
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
		alert    tls.AlertError
		verify   *tls.CertificateVerificationError
		timeout  interface{ Timeout() bool }
	)
	switch {
	case errors.Is(err, context.Canceled):
		return "the fetch was interrupted"
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "the host name does not resolve"
		}
		if dns.IsTimeout {
			return "the host name could not be resolved in time"
		}
		return "the host name could not be resolved"
	case errors.As(err, &hostname):
		return "TLS handshake failed (certificate not valid for the host)"
	case errors.As(err, &unknown):
		return "TLS handshake failed (certificate signed by an unknown authority)"
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired {
			return "TLS handshake failed (certificate expired or not yet valid)"
		}
		return "TLS handshake failed (certificate not valid)"
	case errors.As(err, &verify):
		return "TLS handshake failed (certificate not valid)"
	case errors.As(err, &record):
		return "TLS handshake failed (the server does not speak TLS)"
	case errors.As(err, &alert):
		return "TLS handshake failed (the server refused it)"
	case errors.Is(err, http.ErrSchemeMismatch):
		return "the server answers HTTP, not HTTPS; check the source's URL"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "could not connect (connection refused)"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "could not connect (no route to the host)"
	case errors.Is(err, syscall.ETIMEDOUT):
		return "could not connect (timed out)"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "the server reset the connection"
	case errors.As(err, &timeout) && timeout.Timeout() || errors.Is(err, context.DeadlineExceeded):
		if errors.As(err, &op) && op.Op == "dial" {
			return "could not connect (timed out)"
		}
		return fmt.Sprintf("no answer within %s", f.Timeout)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the server closed the connection before its answer was complete"
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.As(err, new(flate.CorruptInputError)):
		return "the server's compressed answer is corrupt"
	case errors.As(err, &op) && op.Op == "dial":
		return "could not connect"
	}
	return "the fetch failed"
}

// statusError is the failure of a response with status code: told by
// the status's standard text, never by the server's own, whose words are
// the server's to choose.
func statusError(code int) error {
	msg := fmt.Sprintf("HTTP %d %s", code, http.StatusText(code))
	if http.StatusText(code) == "" {
		msg = fmt.Sprintf("HTTP %d", code)
	}
	if code >= 400 && code < 500 && code != http.StatusTooManyRequests {
		msg += "; check the source's URL"
	}
	return &fetchError{msg: msg, problem: ProblemRefused}
}

// problem returns the kind of a failed fetch's error.
func problem(err error) string {
	if fe, ok := errors.AsType[*fetchError](err); ok && fe.problem != "" {
		return fe.problem
	}
	return ProblemUnreachable
}
