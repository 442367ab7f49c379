// Package feeds moves feeds in and out of Rounds. It fetches the sources
// a newsletter follows into a Cache, parses RSS, Atom and JSON Feed into
// Items whose HTML is sanitized, groups them into stories, and writes the
// site's own RSS 2.0, Atom 1.0 and JSON Feed 1.1 feeds from plain channel
// data.
//
// Everything a feed says is untrusted, and so is where it leads. A
// Fetcher refuses to connect to an address that is not public (loopback,
// private, link-local, carrier-grade NAT, multicast, reserved and
// documentation ranges, and the IPv6 forms that carry such an IPv4
// address; see PublicAddr), checked when each connection is made, after
// the host's name is resolved: otherwise a feed that redirects to
// http://127.0.0.1/ or to 169.254.169.254, or a name that resolves there,
// would have Rounds fetch a page of its own network or a cloud's
// credentials and publish them on the wire. A curator who follows a feed
// inside their network allows it by range (Fetcher.Allow) or at all
// (Fetcher.AllowPrivate). The default client goes direct, never through
// an environment's proxy, so the address checked is the real peer's.
//
// What a failed fetch records (State.LastError, Report.Err) is published
// on the site's sources page, so it describes the failure without the
// addresses, ports and host names of the network error, which would let
// anyone probe the network Rounds runs in. The text taken from a feed
// carries no control character (see Printable), so printing it cannot
// command a terminal, and one entry's text is capped (MaxContentBytes
// and its siblings) as the whole feed is (Fetcher.MaxBytes).
//
// The package knows nothing of notes, editions or themes; the generator
// turns those into a Channel and hands it here.
package feeds
