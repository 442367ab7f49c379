package feeds

import (
	"fmt"
	"net/netip"
	"syscall"
)

// ErrNotPublic is the error, wrapped with the address refused, of a
// fetch that would have connected to an address that is not public. A
// feed that redirects, or whose name resolves, to a loopback, private or
// link-local address would otherwise have Rounds fetch, and publish, a
// page of the network it runs in.
var ErrNotPublic error = &fetchError{msg: "refused: the feed's address is not public (set [wire] allow_private to follow feeds inside your network)", problem: ProblemRefused}

// notPublic are the IPv4 ranges, and the IPv6 ranges within the global
// unicast range 2000::/3, where no feed of the public internet lives.
var notPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"; 0.0.0.0 is unspecified
	netip.MustParsePrefix("10.0.0.0/8"),      // private
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local, where clouds serve instance credentials
	netip.MustParsePrefix("172.16.0.0/12"),   // private
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation (TEST-NET-1)
	netip.MustParsePrefix("192.88.99.0/24"),  // 6to4 relay anycast, deprecated
	netip.MustParsePrefix("192.168.0.0/16"),  // private
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation (TEST-NET-2)
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation (TEST-NET-3)
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and 255.255.255.255, the broadcast
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments: Teredo 2001::/32, benchmarking, ORCHID
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("3fff::/20"),       // documentation
}

var (
	globalUnicast = netip.MustParsePrefix("2000::/3")
	nat64         = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour     = netip.MustParsePrefix("2002::/16")
)

// PublicAddr reports whether addr is an address of the public internet,
// one a feed may be fetched from without further leave.
//
// It is false for IPv4's loopback 127.0.0.0/8, "this network" 0.0.0.0/8
// (0.0.0.0, unspecified, among it), the private 10.0.0.0/8, 172.16.0.0/12
// and 192.168.0.0/16, link-local 169.254.0.0/16 (where clouds serve an
// instance's credentials, at 169.254.169.254), carrier-grade NAT
// 100.64.0.0/10, multicast 224.0.0.0/4, reserved 240.0.0.0/4 (the
// broadcast 255.255.255.255 among it), the IETF's 192.0.0.0/24, the
// documentation ranges 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24,
// benchmarking 198.18.0.0/15 and the deprecated 6to4 relays 192.88.99.0/24.
//
// An IPv6 address is public only in the global unicast range 2000::/3,
// which leaves out loopback ::1, unspecified ::, IPv4-compatible ::/96,
// unique local fc00::/7, link-local fe80::/10, site-local fec0::/10 and
// multicast ff00::/8; and within it, not in the IETF's 2001::/23 (Teredo
// 2001::/32 and benchmarking among it) or the documentation ranges
// 2001:db8::/32 and 3fff::/20. The forms that carry an IPv4 address are
// judged by that address: IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96
// and 6to4 2002::/16.
func PublicAddr(addr netip.Addr) bool {
	addr = addr.WithZone("").Unmap()
	switch {
	case !addr.IsValid():
		return false
	case addr.Is6() && nat64.Contains(addr):
		b := addr.As16()
		return PublicAddr(netip.AddrFrom4([4]byte(b[12:])))
	case addr.Is6() && sixToFour.Contains(addr):
		b := addr.As16()
		return PublicAddr(netip.AddrFrom4([4]byte(b[2:6])))
	case addr.Is6() && !globalUnicast.Contains(addr):
		return false
	}
	for _, p := range notPublic {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// Allowed reports whether f may connect to addr: a public address (see
// PublicAddr), an address in one of f.Allow's ranges, or any address at
// all when f.AllowPrivate is set.
func (f *Fetcher) Allowed(addr netip.Addr) bool {
	if f.AllowPrivate || PublicAddr(addr) {
		return true
	}
	addr = addr.WithZone("").Unmap()
	for _, p := range f.Allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// control is the default client's dialer's Control: it refuses, once the
// name is resolved and before a byte is sent, a connection to an address
// that f does not allow. Checking the address really dialed covers every
// redirect and a name whose address changes between two look-ups.
func (f *Fetcher) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s is not an address and port", ErrNotPublic, address)
	}
	if !f.Allowed(ap.Addr()) {
		return fmt.Errorf("%w: %s", ErrNotPublic, ap.Addr())
	}
	return nil
}
