// Package site links a newsletter's content into the model every page,
// feed and email is made from, as it stands at a given present.
//
// Load reads the content files (in parallel, within the project's
// bounds), parses them (package content) and scans each for what may
// identify a patient (package phi) as it is read. It then keeps what is
// visible at Options.Now (drafts, scheduled and expired content only
// when asked), links editions to the notes they carry, groups notes by
// topic and audience, labels notes whose paper has a retraction notice,
// and matches the wire's stories (package wire) to the notes that curate
// them. A ContentCache keeps parsed files between loads, so that rounds
// serve and rounds nightly parse only what changed; told which files
// changed (Update), it edits a note in place when it stays where it was,
// and takes a note that moves, comes or goes out of and into the last
// site's lists, rather than linking every note again.
package site
