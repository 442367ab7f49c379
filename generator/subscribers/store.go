package subscribers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
)

// A Store keeps the log of events. Append adds events durably; Read
// streams every event, in the order they were appended (for an S3Store,
// the order of their objects' names, which begin with the time of their append). A
// store never changes an event it holds: only Compact drops the events of
// erased subscribers.
type Store interface {
	// Append adds the events to the log, all or none, and returns once
	// they are durable. Appending again events that were appended (a retry
	// after an error) is harmless: Apply counts each event ID once.
	Append(ctx context.Context, events ...Event) error
	// Read calls fn with every event of the log, in order, and stops at
	// the first error fn returns. fn must not keep e. A read that a
	// compaction overtook fails with an error wrapping ErrChanged; Load
	// reads again then.
	Read(ctx context.Context, fn func(e *Event) error) error
}

// ErrChanged is wrapped by a Read that a compaction changed the log
// under: reading again reads the compacted log.
var ErrChanged = errors.New("the log was compacted during the read; read it again")

// Load reads the store's log and folds it into a State.
func Load(ctx context.Context, s Store) (*State, error) {
	for attempt := 1; ; attempt++ {
		st := NewState()
		err := s.Read(ctx, func(e *Event) error {
			st.Apply(e)
			return nil
		})
		if err == nil {
			return st, nil
		}
		if !errors.Is(err, ErrChanged) || attempt == 3 {
			return nil, err
		}
	}
}

// encode returns the events as JSON Lines, checking each.
func encode(events []Event) ([]byte, error) {
	var b bytes.Buffer
	for i := range events {
		if err := events[i].Validate(); err != nil {
			return nil, fmt.Errorf("event %d (%s): %w", i+1, events[i].Kind, err)
		}
		line, err := json.Marshal(&events[i])
		if err != nil {
			return nil, err
		}
		if len(line) > MaxEventSize {
			return nil, fmt.Errorf("event %d (%s): %d bytes, more than %d", i+1, events[i].Kind, len(line), MaxEventSize)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// chunkSize is how many bytes of lines each decoding worker takes at once.
const chunkSize = 256 << 10

// A chunk is a run of whole lines of a file, decoded by a worker.
type chunk struct {
	data  []byte
	first int // the number of its first line
	out   chan decoded
}

type decoded struct {
	events []Event
	err    error
}

// decode reads the JSON Lines of r, named name in errors, its first line
// numbered first, and calls fn with each event in order. The lines are
// decoded on every CPU while fn runs. A line longer than MaxEventSize, or one that is not a valid event,
// stops the read with an error naming the line: the log is damaged, and a
// subscriber's unsubscribe must never be skipped. A last line with no
// newline (an append cut short by a crash, or still being written) is
// ignored if tornOK, and an error otherwise.
func decode(ctx context.Context, name string, r io.Reader, first int, tornOK bool, fn func(*Event) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers := runtime.GOMAXPROCS(0)
	work := make(chan *chunk, workers)
	order := make(chan *chunk, 2*workers)
	var readErr error // set before order is closed

	go func() {
		defer close(order)
		defer close(work)
		torn := false
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), MaxEventSize+1)
		sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				return i + 1, data[:i+1], nil
			}
			if atEOF && len(data) > 0 {
				torn = true
				return len(data), data, nil
			}
			return 0, nil, nil
		})
		line := first
		c := &chunk{first: line, data: make([]byte, 0, chunkSize+MaxEventSize)}
		send := func() bool {
			c.out = make(chan decoded, 1)
			for _, ch := range []chan *chunk{order, work} {
				select {
				case ch <- c:
				case <-ctx.Done():
					return false
				}
			}
			c = &chunk{first: line, data: make([]byte, 0, chunkSize+MaxEventSize)}
			return true
		}
		for sc.Scan() {
			if torn {
				if !tornOK {
					readErr = fmt.Errorf("%s:%d: the last line is cut short; the log is damaged, restore the object from a backup or remove the line", name, line)
				}
				break
			}
			c.data = append(c.data, sc.Bytes()...)
			line++
			if len(c.data) >= chunkSize && !send() {
				return
			}
		}
		if err := sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				err = fmt.Errorf("a line longer than %d bytes; the log is damaged, restore it from a backup or remove the line", MaxEventSize)
			}
			readErr = fmt.Errorf("%s:%d: %w", name, line, err)
		}
		if len(c.data) > 0 {
			send()
		}
	}()

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			in := &interner{strs: map[string]string{}, lists: map[string][]string{}}
			for {
				select {
				case c, ok := <-work:
					if !ok {
						return
					}
					c.out <- c.decode(name, in)
				case <-ctx.Done():
					return
				}
			}
		})
	}
	defer wg.Wait()
	defer cancel()

	for c := range order {
		d := <-c.out
		if d.err != nil {
			return d.err
		}
		for i := range d.events {
			if err := fn(&d.events[i]); err != nil {
				return err
			}
		}
		clear(d.events) // let go of the strings fn did not keep
		eventsPool.Put(&d.events)
	}
	if readErr != nil {
		return readErr
	}
	return ctx.Err()
}

// eventsPool holds the slices of events that chunks are decoded into,
// for the next chunks once fn has seen them.
var eventsPool = sync.Pool{New: func() any { return new([]Event) }}

// decode decodes the chunk's lines, sharing strings through in.
func (c *chunk) decode(name string, in *interner) decoded {
	events := (*eventsPool.Get().(*[]Event))[:0]
	data, line := c.data, c.first
	for len(data) > 0 {
		end := bytes.IndexByte(data, '\n')
		if end < 0 {
			end = len(data)
		}
		text := bytes.TrimSpace(data[:end])
		data = data[min(end+1, len(data)):]
		if len(text) > 0 {
			events = append(events, Event{})
			e := &events[len(events)-1]
			if err := in.unmarshal(text, e); err != nil {
				return decoded{err: fmt.Errorf("%s:%d: %v; the log is damaged, restore it from a backup or remove the line", name, line, err)}
			}
			if err := e.check(); err != nil {
				return decoded{err: fmt.Errorf("%s:%d: %v; the log is damaged, restore it from a backup or remove the line", name, line, err)}
			}
		}
		line++
	}
	return decoded{events: events}
}
