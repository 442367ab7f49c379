// Package feeds moves feeds in and out of Rounds: it writes the site's
// RSS 2.0, Atom 1.0 and JSON Feed 1.1 feeds from plain channel data.
//
// The package knows nothing of notes, editions or themes; the generator
// turns those into a Channel and hands it here.
package feeds
