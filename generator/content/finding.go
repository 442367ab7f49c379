package content

import (
	"cmp"
	"fmt"
)

// A Finding is something rounds check reports: where, what kind, how bad.
type Finding struct {
	File     string `json:"file"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Kind     string `json:"kind"`     // phi, review, disclosure, pages, alt, readability
	Severity string `json:"severity"` // error, warning, info
	Message  string `json:"message"`
	// Grade is a readability finding's Flesch-Kincaid grade.
	Grade float64 `json:"grade,omitempty"`
}

// String says where the finding is and what it is, as
// file:line:column: severity: kind: message.
func (f Finding) String() string {
	pos := f.File
	if f.Line > 0 {
		pos += fmt.Sprintf(":%d", f.Line)
		if f.Column > 0 {
			pos += fmt.Sprintf(":%d", f.Column)
		}
	}
	return fmt.Sprintf("%s: %s: %s: %s", pos, f.Severity, f.Kind, f.Message)
}

// Compare orders findings by file, line, column and kind.
func (f Finding) Compare(g Finding) int {
	return cmp.Or(cmp.Compare(f.File, g.File), cmp.Compare(f.Line, g.Line), cmp.Compare(f.Column, g.Column), cmp.Compare(f.Kind, g.Kind))
}
