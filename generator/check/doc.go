// Package check is rounds check: what a health newsletter must not
// publish or must fix, found in a site loaded with its drafts, scheduled
// and expired content.
//
// Its findings (content.Finding) are the identifiers of patients the site
// found as it read each file, reviews that are overdue or due soon, the
// pages every health newsletter publishes and this one lacks, images
// without alt text, notes for patients above the reading grade, unknown
// study designs and papers with a retraction notice. Findings of
// severity "error" block publishing; PHIError says so for the identifier
// findings a strict build or a publish refuses.
package check
