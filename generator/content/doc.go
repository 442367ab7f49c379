// Package content reads what a curator writes: notes, editions and pages,
// Markdown files with TOML (or YAML) front matter under content/.
//
// Parse turns one file into a Note, an Edition or a Page: the front
// matter checked key by key, with errors that name the file, the line and
// the key; the Markdown rendered to HTML, with links from the site's root
// and identifiers (DOI, PMID, PMCID, NCT) linked where they resolve;
// evidence read as an OCEBM level, a GRADE rating or a SORT grade. The
// types also hold what the site links to a note once every file is read
// (its editions, topic pages, wire story and retraction notice), so that
// themes find them on the note.
package content
