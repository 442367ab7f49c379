package content

import "strings"

// A Retraction is a notice that a paper was withdrawn, from the Retraction
// Watch database.
type Retraction struct {
	Nature string // "Retraction", "Expression of concern", "Correction"…
	Date   string // as the database gives it
	Notice string // the DOI of the retraction notice, if any
	Reason string
}

// Retracted reports whether the notice withdraws the paper.
func (r *Retraction) Retracted() bool { return strings.EqualFold(r.Nature, "Retraction") }
