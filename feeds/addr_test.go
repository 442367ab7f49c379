package feeds

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

func TestPublicAddr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr   string
		public bool
	}{
		{"127.0.0.1", false}, {"127.255.255.254", false}, {"::1", false},
		{"0.0.0.0", false}, {"0.1.2.3", false}, {"::", false},
		{"10.0.0.5", false}, {"172.16.0.1", false}, {"172.31.255.255", false}, {"192.168.1.1", false},
		{"169.254.169.254", false}, {"fe80::1", false}, {"fe80::1%eth0", false}, {"febf::1", false},
		{"100.64.0.1", false}, {"100.127.255.254", false},
		{"224.0.0.1", false}, {"239.255.255.250", false}, {"ff02::1", false}, {"ff0e::1", false},
		{"255.255.255.255", false}, {"240.0.0.1", false},
		{"192.0.0.8", false}, {"192.0.2.1", false}, {"192.88.99.1", false}, {"198.18.0.1", false},
		{"198.19.255.254", false}, {"198.51.100.7", false}, {"203.0.113.9", false},
		{"fc00::1", false}, {"fd12:3456::1", false}, {"fec0::1", false}, {"feff::1", false},
		{"2001:db8::1", false}, {"3fff::1", false}, {"100::1", false},
		// IPv4 inside IPv6.
		{"::ffff:127.0.0.1", false}, {"::ffff:10.0.0.1", false}, {"::ffff:169.254.169.254", false},
		{"::127.0.0.1", false}, {"::8.8.8.8", false}, // IPv4-compatible, deprecated
		{"64:ff9b::a00:1", false}, {"64:ff9b::7f00:1", false}, {"64:ff9b::a9fe:a9fe", false}, // NAT64
		{"64:ff9b:1::a00:1", false},                                                     // local-use NAT64
		{"2002:7f00:1::", false}, {"2002:a00:1::1", false}, {"2002:c0a8:101::1", false}, // 6to4
		{"2001::1", false}, {"2001:0:4136:e378:8000:63bf:3fff:fdd2", false}, // Teredo
		{"2001:2::1", false}, // benchmarking
		// Public, some at the edge of a refused range.
		{"8.8.8.8", true}, {"1.1.1.1", true}, {"93.184.215.14", true}, {"11.0.0.1", true},
		{"172.15.255.255", true}, {"172.32.0.1", true}, {"100.63.255.255", true}, {"100.128.0.0", true},
		{"192.169.0.1", true}, {"198.17.255.255", true}, {"198.20.0.1", true}, {"223.255.255.255", true},
		{"2606:4700::1111", true}, {"2001:4860:4860::8888", true}, {"2a00:1450:4001::1", true},
		{"2001:200::1", true}, {"::ffff:8.8.8.8", true}, {"64:ff9b::808:808", true}, {"2002:808:808::1", true},
	} {
		addr := netip.MustParseAddr(tc.addr)
		if got := PublicAddr(addr); got != tc.public {
			t.Errorf("PublicAddr(%s) = %v, want %v", tc.addr, got, tc.public)
		}
		if got := (&Fetcher{}).Allowed(addr); got != tc.public {
			t.Errorf("a default Fetcher allows %s: %v, want %v", tc.addr, got, tc.public)
		}
		if !(&Fetcher{AllowPrivate: true}).Allowed(addr) {
			t.Errorf("AllowPrivate refuses %s", tc.addr)
		}
	}
	if PublicAddr(netip.Addr{}) {
		t.Error("the zero Addr is public")
	}

	f := &Fetcher{Allow: []netip.Prefix{netip.MustParsePrefix("10.1.2.0/24"), netip.MustParsePrefix("fd00:1::/32")}}
	for addr, want := range map[string]bool{
		"10.1.2.3": true, "::ffff:10.1.2.3": true, "fd00:1::5": true, "8.8.8.8": true,
		"10.1.3.1": false, "127.0.0.1": false, "fd00:2::5": false, "169.254.169.254": false,
	} {
		if got := f.Allowed(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Allow %v: Allowed(%s) = %v, want %v", f.Allow, addr, got, want)
		}
	}
}

// serveOn starts an HTTP server listening on addr, such as 127.0.0.2:0;
// it skips the test where the system cannot listen there.
func serveOn(t *testing.T, addr string, h http.Handler) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// secretFeed is an internal page that must never reach the wire.
const secretFeed = `<?xml version="1.0"?><rss version="2.0"><channel><title>Intranet</title>
<item><title>INTERNAL-SECRET payroll</title><link>https://intranet.example/payroll</link></item></channel></rss>`

func TestFetchRefusesRedirectToPrivate(t *testing.T) {
	t.Parallel()
	var internalHits, publicHits atomic.Int64
	internal := serveOn(t, "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internalHits.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, secretFeed)
	}))
	// The "public" feed is on 127.0.0.2, which Linux routes to the
	// loopback like all of 127/8, and the fetcher allows that one address.
	public := serveOn(t, "127.0.0.2:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		publicHits.Add(1)
		http.Redirect(w, r, internal.URL+"/internal", http.StatusFound)
	}))
	src := []Source{{ID: "redirect", URL: public.URL + "/feed.xml"}}
	fetch := func(allow ...string) (Report, *State, []*Item) {
		t.Helper()
		f := &Fetcher{Now: newClock().now}
		for _, p := range allow {
			f.Allow = append(f.Allow, netip.MustParsePrefix(p))
		}
		cache := &Cache{Dir: t.TempDir()}
		reports, err := f.Fetch(context.Background(), cache, src)
		if err != nil {
			t.Fatal(err)
		}
		st, items := state(t, cache, "redirect")
		return reports[0], st, items
	}

	r, st, items := fetch("127.0.0.2/32")
	if r.Status != Failed || r.Err == nil || r.Err.Error() != ErrNotPublic.Error() || !errors.Is(r.Err, ErrNotPublic) {
		t.Errorf("a redirect to 127.0.0.1: %s, %v; want failed with %q", r.Status, r.Err, ErrNotPublic)
	}
	if st.LastError != ErrNotPublic.Error() {
		t.Errorf("recorded error %q, want %q", st.LastError, ErrNotPublic)
	}
	kept, _ := json.Marshal(items)
	if strings.Contains(string(kept), "INTERNAL-SECRET") {
		t.Errorf("the internal page was kept: %s", kept)
	}
	if publicHits.Load() != 1 || internalHits.Load() != 0 {
		t.Errorf("%d requests to the allowed server (want 1), %d to the internal one (want 0)", publicHits.Load(), internalHits.Load())
	}

	// Not allowed, the first hop is refused before a byte is sent.
	if r, _, _ := fetch(); r.Status != Failed || !errors.Is(r.Err, ErrNotPublic) || publicHits.Load() != 1 {
		t.Errorf("a feed on 127.0.0.2 with nothing allowed: %s, %v, %d requests", r.Status, r.Err, publicHits.Load())
	}

	// Allowed both hops, the same fetch reaches the internal page: what
	// refused it above was the address check.
	r, _, items = fetch("127.0.0.0/8")
	if r.Status != Updated || len(items) != 1 || !strings.Contains(items[0].Title, "INTERNAL-SECRET") || internalHits.Load() != 1 {
		t.Errorf("with 127/8 allowed: %s, %v, %d items, %d internal requests", r.Status, r.Err, len(items), internalHits.Load())
	}
}

// testResolver starts a DNS server on loopback UDP that answers A queries
// for the names given (fully qualified, lower case) and NXDOMAIN for
// every other name, and returns a resolver that asks only it.
func testResolver(t *testing.T, names map[string]netip.Addr) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			m := dnsmessage.Message{
				Header:    dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired},
				Questions: []dnsmessage.Question{q},
			}
			addr, ok := names[strings.ToLower(q.Name.String())]
			switch {
			case !ok:
				m.RCode = dnsmessage.RCodeNameError
			case q.Type == dnsmessage.TypeA && addr.Is4():
				m.Answers = []dnsmessage.Resource{{
					Header: dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 60},
					Body:   &dnsmessage.AResource{A: addr.As4()},
				}}
			}
			out, err := m.Pack()
			if err == nil {
				pc.WriteTo(out, from)
			}
		}
	}()
	server := pc.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", server)
		},
	}
}

func TestFetchChecksResolvedAddress(t *testing.T) {
	t.Parallel()
	srv := newFeedServer(t, nil)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	res := testResolver(t, map[string]netip.Addr{"feeds.example.test.": netip.MustParseAddr("127.0.0.1")})
	src := []Source{{ID: "named", URL: "http://feeds.example.test:" + port + "/bmj.xml"}}
	for _, tc := range []struct {
		allow string
		want  Status
	}{
		{"", Failed},
		{"127.0.0.2/32", Failed},
		{"127.0.0.1/32", Updated},
	} {
		f := &Fetcher{Now: newClock().now, Resolver: res}
		if tc.allow != "" {
			f.Allow = []netip.Prefix{netip.MustParsePrefix(tc.allow)}
		}
		reports, err := f.Fetch(context.Background(), &Cache{Dir: t.TempDir()}, src)
		if err != nil {
			t.Fatal(err)
		}
		r := reports[0]
		if r.Status != tc.want || tc.want == Failed && !errors.Is(r.Err, ErrNotPublic) {
			t.Errorf("a name resolving to 127.0.0.1, allowed %q: %s, %v; want %s", tc.allow, r.Status, r.Err, tc.want)
		}
	}
	if n := srv.requests.Load(); n != 1 {
		t.Errorf("the server had %d requests, want 1 (the allowed fetch)", n)
	}
}
