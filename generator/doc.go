// Package generator builds a newsletter's site: load → model → render →
// write.
//
// The flow of Build:
//   - load: the configuration comes loaded (package config); the content
//     files (notes, editions, pages) are read within the project's bounds,
//     parsed (front matter, Markdown, evidence grades, identifiers) and
//     scanned for what may identify a patient (package phi) as they are
//     read, in parallel; the theme loads meanwhile;
//   - model: the Site links them: what is visible at the build's "now",
//     topics and audiences, the notes each edition carries, retraction
//     notices, and the wire (the items fetched from the sources, package
//     feeds) matched to the notes that curate them;
//   - render: every output file is planned (pages through the theme's
//     layouts, RSS, Atom and JSON feeds, the sitemap, the theme's assets),
//     with the notes each file shows, so that rounds serve re-renders only
//     what an edit touches (RenderFiles);
//   - write: package output renders the files on every CPU, writes them
//     into a work folder and swaps it with the output in one step, leaving
//     a manifest with the verdict of the patient-identifier scan, which
//     publishing reads.
//
// Check runs the same loading for rounds check, whose findings add
// reviews, required pages, alt text, reading grade and retractions.
package generator
