package feeds

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rawServer serves each connection to a loopback address with handle,
// once it has read a request if request is set, and returns the address.
func rawServer(t *testing.T, request bool, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if !request {
					handle(c)
				} else if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					handle(c)
				}
			}()
		}
	}()
	return l.Addr().String()
}

// unsafe matches what a published error must not hold: an IPv4 or IPv6
// address, a port, a host name of the test network, Go's dial and
// look-up errors, a server's own words, a control character.
var unsafe = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+|::|:\d|(?i:dial|tcp|udp|lookup|example\.test|localhost|evil|secret)|[\x00-\x1f\x7f-\x9f]`)

func TestFetchErrorsArePublic(t *testing.T) {
	t.Parallel()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := closed.Addr().String()
	closed.Close()

	evil := rawServer(t, true, func(c net.Conn) {
		io.WriteString(c, "HTTP/1.1 404 Evil secret at 10.0.0.5:8080 \x1b[2J\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	})
	hangup := rawServer(t, true, func(net.Conn) {})
	ssh := rawServer(t, false, func(c net.Conn) {
		io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n")
		io.Copy(io.Discard, c) // until the client hangs up: a reset could come before the banner
	})
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(silent.Close)
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(testdata(t, "bmj.xml"))
	}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes refused
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(testdata(t, "bmj.xml"))
	}))
	t.Cleanup(plain.Close)
	// A parser's error quotes the feed: a long name with a control
	// character in it.
	badName := "a\u0085" + strings.Repeat("b", 300)
	malformed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><`+badName+`/></item></channel></rss>`)
	}))
	t.Cleanup(malformed.Close)
	// A custom client that trusts the TLS server's certificate and always
	// dials it, whatever the URL's host: a name the certificate is not
	// for gets as far as the host name check.
	trusting := tlsSrv.Client()
	tr := trusting.Transport.(*http.Transport).Clone()
	tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, tlsSrv.Listener.Addr().String())
	}
	trusting.Transport = tr
	res := testResolver(t, map[string]netip.Addr{"feeds.example.test.": netip.MustParseAddr("127.0.0.1")})

	for _, tc := range []struct {
		name, url, want string
		client          *http.Client
		private         bool // AllowPrivate
		is              error
		timeout         time.Duration // 10 s if zero
	}{
		{name: "refused", url: "http://" + refused + "/feed", want: "could not connect (connection refused)", private: true, is: syscall.ECONNREFUSED},
		{name: "no such host", url: "http://nowhere.example.test/feed", want: "the host name does not resolve", private: true},
		{name: "not public", url: "http://feeds.example.test:" + port(plain.URL) + "/feed", want: ErrNotPublic.Error(), is: ErrNotPublic},
		{name: "status text", url: "http://" + evil + "/feed", want: "HTTP 404 Not Found; check the source's URL", private: true},
		{name: "hang-up", url: "http://" + hangup + "/feed", want: "the server closed the connection before its answer was complete", private: true, is: io.EOF},
		{name: "timeout", url: silent.URL + "/feed", want: "no answer within 300ms", private: true, is: context.DeadlineExceeded, timeout: 300 * time.Millisecond},
		{name: "unknown authority", url: tlsSrv.URL + "/feed", want: "TLS handshake failed (certificate signed by an unknown authority)", private: true},
		{name: "wrong host", url: "https://feeds.example.test/feed", client: trusting, want: "TLS handshake failed (certificate not valid for the host)"},
		{name: "HTTP not HTTPS", url: "https://" + plain.Listener.Addr().String() + "/feed", want: "the server answers HTTP, not HTTPS; check the source's URL", private: true, is: http.ErrSchemeMismatch},
		{name: "not TLS", url: "https://" + ssh + "/feed", want: "TLS handshake failed (the server does not speak TLS)", private: true},
		{name: "parser", url: malformed.URL + "/feed", want: ("malformed feed: XML syntax error on line 1: invalid XML name: ab" + strings.Repeat("b", 300))[:maxErrorBytes], private: true},
		{name: "not a URL", url: "ftp://" + refused + "/feed", want: "the source's URL is not an http or https URL"},
	} {
		f := &Fetcher{Now: newClock().now, Client: tc.client, AllowPrivate: tc.private, Resolver: res, Timeout: cmp.Or(tc.timeout, 10*time.Second)}
		cache := &Cache{Dir: t.TempDir()}
		reports, err := f.Fetch(context.Background(), cache, []Source{{ID: "s", URL: tc.url}})
		if err != nil {
			t.Fatal(err)
		}
		r := reports[0]
		if r.Status != Failed || r.Err == nil {
			t.Errorf("%s: %s, %v; want a failure", tc.name, r.Status, r.Err)
			continue
		}
		st, _ := state(t, cache, "s")
		if r.Err.Error() != tc.want || st.LastError != tc.want {
			t.Errorf("%s: reported %q, recorded %q; want %q", tc.name, r.Err, st.LastError, tc.want)
		}
		if m := unsafe.FindString(st.LastError); m != "" {
			t.Errorf("%s: the recorded error %q holds %q", tc.name, st.LastError, m)
		}
		if tc.is != nil && !errors.Is(r.Err, tc.is) {
			t.Errorf("%s: %v does not wrap %v", tc.name, r.Err, tc.is)
		}
	}
}

// port returns the port of the URL of an httptest.Server.
func port(rawURL string) string {
	_, p, _ := net.SplitHostPort(rawURL[len("http://"):])
	return p
}

// TestFetchErrorsStandardText checks a server's reason phrase is not what
// is recorded even when it looks harmless: the status's standard text is.
func TestFetchErrorsStandardText(t *testing.T) {
	t.Parallel()
	srv := rawServer(t, true, func(c net.Conn) {
		io.WriteString(c, "HTTP/1.1 503 Back soon\r\nRetry-After: 60\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	})
	f := &Fetcher{Now: newClock().now, AllowPrivate: true}
	reports, err := f.Fetch(context.Background(), &Cache{Dir: t.TempDir()}, []Source{{ID: "s", URL: "http://" + srv + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := reports[0].Err; got == nil || got.Error() != "HTTP 503 Service Unavailable" {
		t.Errorf("error %v, want %q", got, "HTTP 503 Service Unavailable")
	}
}
