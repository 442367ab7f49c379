// Package generator builds a newsletter's site: load → model → render →
// write.
//
// The flow of Build, each step a package:
//   - load: the configuration comes loaded (package config); the content
//     files (notes, editions, pages) are read within the project's bounds,
//     parsed (package content: front matter, Markdown, evidence grades,
//     identifiers) and scanned for what may identify a patient (package
//     phi) as they are read, in parallel; the theme (package theme) loads
//     meanwhile;
//   - model: package site links them: what is visible at the build's
//     "now", topics and audiences, the notes each edition carries,
//     retraction notices, and the wire (package wire: the items fetched
//     from the sources) matched to the notes that curate them;
//   - render: package render plans every output file (pages through the
//     theme's layouts, RSS, Atom and JSON feeds, the sitemap, the theme's
//     assets) with the notes each file shows, so that rounds serve
//     re-renders only what an edit touches;
//   - write: package output renders the files on every CPU, writes them
//     into a work folder and swaps it with the output in one step, leaving
//     a manifest with the verdict of the patient-identifier scan, which
//     publishing reads.
//
// Check loads the site and theme as Build does, writing nothing; package
// check turns a site loaded with its drafts into rounds check's findings.
package generator
