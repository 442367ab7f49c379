// Package wire is what the sources a curator follows publish: the
// [[source]] tables of config.toml fetched (through package feeds) into
// the feed cache, read back as stories, matched to the notes that curate
// them, and listed by day, topic and source for the wire's pages and for
// rounds inbox. It also imports sources from OPML into config.toml and
// drafts a note about a wire item (rounds new note --from).
//
// A build reads the wire from the cache only, offline: the same cache
// builds the same site, and a failing source never fails a build.
package wire
