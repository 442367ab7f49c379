package nightly

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// A progressLine shows, at a terminal, how far long work has got: one
// line, "fetching 12/40: nejm", written over and over in place. It is
// rewritten at most every tenth of a second, and whenever the work is
// done, so that 100,000 files written cost the terminal a few hundred
// lines, not 100,000. Its methods may be called from several goroutines
// at once. A nil *progressLine shows nothing.
type progressLine struct {
	w     io.Writer
	now   func() time.Time
	mu    sync.Mutex
	last  time.Time // when the line was last written
	shown bool      // the line holds something to clear
}

// progressEvery is how often a progress line is rewritten, at most.
const progressEvery = 100 * time.Millisecond

// newProgress returns a progress line on w when w is a terminal, and nil
// (no progress) otherwise: a log has a line for each thing done instead,
// or nothing.
func newProgress(w io.Writer) *progressLine {
	if !IsTerminal(w) {
		return nil
	}
	return &progressLine{w: w, now: time.Now}
}

// show says that done of total are done at what verb names ("writing"),
// with detail, if any, after it.
func (p *progressLine) show(verb string, done, total int, detail string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.shown && done < total && now.Sub(p.last) < progressEvery {
		return
	}
	p.last, p.shown = now, true
	if detail != "" {
		detail = ": " + detail
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s %d/%d%s", verb, done, total, detail)
}

// counter returns a function that shows done of total at verb, for an
// option such as site.Options.Reading.
func (p *progressLine) counter(verb string) func(done, total int) {
	if p == nil {
		return nil
	}
	return func(done, total int) { p.show(verb, done, total, "") }
}

// clear takes the line away, before a command reports what it did.
func (p *progressLine) clear() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}
