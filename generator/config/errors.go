package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// An Error is one problem with the site's input: the file and line it is in,
// the field it concerns, what is wrong and how to fix it.
type Error struct {
	File  string // path as the user wrote it or relative to the project
	Line  int    // 1-based; 0 when the problem has no line
	Field string // front matter key, config key or template name; may be empty
	Err   error  // what is wrong
	Fix   string // how to fix it; may be empty
}

// Error says where the problem is, what it is and how to fix it, as
// file:line: field: problem; fix.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	if e.Fix != "" {
		b.WriteString("; ")
		b.WriteString(e.Fix)
	}
	return b.String()
}

// Unwrap returns what is wrong.
func (e *Error) Unwrap() error { return e.Err }

// ErrorList is every problem a build found, sorted by file and line.
// A build reports all of them together rather than stopping at the first.
type ErrorList []*Error

// Error returns the problems one a line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Err returns l sorted, or nil when l is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	return l
}

// Errorf returns an *Error for file and line with a formatted message.
func Errorf(file string, line int, field, fix, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Field: field, Err: fmt.Errorf(format, args...), Fix: fix}
}

// AsList returns the problems in err: every *Error of an ErrorList, or
// err itself as an Error; nil for a nil err.
func AsList(err error) ErrorList {
	if err == nil {
		return nil
	}
	var l ErrorList
	if errors.As(err, &l) {
		return l
	}
	var e *Error
	if errors.As(err, &e) {
		return ErrorList{e}
	}
	return ErrorList{{Err: err}}
}
