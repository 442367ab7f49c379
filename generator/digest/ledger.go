package digest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sys/unix"
)

// State is where a delivery stands in the ledger.
type State string

// The states of a delivery. A message is "committing" from just before
// the final dot of its DATA until the server's reply is recorded: a send
// that finds one, after a crash, cannot know whether the message was
// accepted, and marks it unknown rather than risk sending it twice.
const (
	Committing State = "committing"
	Sent       State = "sent"
	Failed     State = "failed"   // a 5xx reply: never retried
	Deferred   State = "deferred" // 4xx replies past the retries: tried again next run
	Unknown    State = "unknown"  // interrupted after the final dot
)

// A Record is one line of a ledger: the state of the delivery to one
// subscriber, who is named by a hash of their address (and a masked form
// for people), so that the ledger holds no address.
type Record struct {
	Key    string    `json:"key"`
	Masked string    `json:"to"`
	State  State     `json:"state"`
	Code   int       `json:"code,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Time   time.Time `json:"time"`
}

// Key is the ledger's name for an address.
func Key(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:16])
}

// A Ledger records the deliveries of one edition to one list. Append
// returns once its records are durable.
type Ledger interface {
	// Load returns the latest record of each subscriber, by key.
	Load() (map[string]Record, error)
	Append(recs ...Record) error
	// Close releases the ledger and its lock.
	Close() error
}

// FileLedger is a ledger kept in a local folder: one append-only JSON
// Lines file per edition and list, synced to disk before Append returns,
// and a lock file that keeps two sends of the same edition and list from
// running at once. Appends from several goroutines share syncs.
//
// The lock is an flock(2) on the lock file: the system releases it when
// the process holding it dies, however it dies, so a crashed send leaves
// no lock behind and there is nothing to break (unlike an S3 ledger's;
// see BreakLedgerLock). The lock file itself stays, and is harmless.
type FileLedger struct {
	path string
	f    *os.File
	lock *os.File
	// torn is where a line torn by a crash starts, to be cut off before
	// the next append; -1 when there is none.
	torn int64

	batcher batcher
}

// OpenFileLedger opens (creating) the ledger of the edition and list in
// dir and takes its lock.
func OpenFileLedger(dir, edition, list string) (*FileLedger, error) {
	d := filepath.Join(dir, edition)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return nil, err
	}
	path := filepath.Join(d, list+".jsonl")
	lock, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: another send of this edition to this list is running; wait for it to finish", path)
		}
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		lock.Close()
		return nil, err
	}
	l := &FileLedger{path: path, f: f, lock: lock, torn: -1}
	if data, err := os.ReadFile(path); err == nil && len(data) > 0 && data[len(data)-1] != '\n' {
		l.torn = int64(bytes.LastIndexByte(data, '\n') + 1)
	}
	return l, nil
}

// Load reads the ledger. A last line cut short by a crash is ignored: its
// append never returned, so nothing was done on its strength.
func (l *FileLedger) Load() (map[string]Record, error) {
	data, err := os.ReadFile(l.path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	lines := bytes.Split(data, []byte("\n"))
	lines = lines[:len(lines)-1] // the torn last line, or "" after the final newline
	latest := map[string]Record{}
	for n, line := range lines {
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w; the ledger is damaged, repair or move it before sending again", l.path, n+1, err)
		}
		latest[r.Key] = r
	}
	return latest, nil
}

// Append writes the records and syncs the file; concurrent appends are
// written together and share one sync. The first cuts off a line torn by
// a crash, so that its records start on a line of their own: until then
// (in a dry run, say) the file is left as it was.
func (l *FileLedger) Append(recs ...Record) error {
	return l.batcher.append(recs, func(batch []byte) error {
		if l.torn >= 0 { // only the batcher's one writer touches it
			if err := l.f.Truncate(l.torn); err != nil {
				return fmt.Errorf("%s: cutting off a line torn by a crash: %w", l.path, err)
			}
			l.torn = -1
		}
		if _, err := l.f.Write(batch); err != nil {
			return err
		}
		return unix.Fdatasync(int(l.f.Fd()))
	})
}

// A batcher makes appends durable in groups: while one batch of records
// is being written, the appends that come in wait together for the next,
// so many senders share one sync (or one object).
type batcher struct {
	mu      sync.Mutex
	pending [][]byte
	waiting []chan error
	busy    bool
}

// append adds the records to the next batch, written by write, and
// returns once that batch is written.
func (b *batcher) append(recs []Record, write func(batch []byte) error) error {
	var lines []byte
	for _, r := range recs {
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		lines = append(append(lines, line...), '\n')
	}
	done := make(chan error, 1)
	b.mu.Lock()
	b.pending = append(b.pending, lines)
	b.waiting = append(b.waiting, done)
	if !b.busy {
		b.busy = true
		go b.flush(write)
	}
	b.mu.Unlock()
	return <-done
}

// flush writes what is pending until nothing is.
func (b *batcher) flush(write func(batch []byte) error) {
	for {
		b.mu.Lock()
		if len(b.pending) == 0 {
			b.busy = false
			b.mu.Unlock()
			return
		}
		batch, waiting := bytes.Join(b.pending, nil), b.waiting
		b.pending, b.waiting = nil, nil
		b.mu.Unlock()
		err := write(batch)
		for _, w := range waiting {
			w <- err
		}
	}
}

// Close closes the ledger and releases its lock.
func (l *FileLedger) Close() error {
	return errors.Join(l.f.Close(), l.lock.Close())
}

// OpenLedger opens the ledger of the edition and list at loc: a folder,
// or a location in a private bucket ("s3://bucket/ledgers/") reached with
// client. An S3 ledger's lock lasts ttl past the last sign of life.
func OpenLedger(ctx context.Context, client func() (*s3.Client, error), loc, edition, list string, ttl time.Duration) (Ledger, error) {
	if !strings.HasPrefix(loc, "s3://") {
		return OpenFileLedger(loc, edition, list)
	}
	c, err := client()
	if err != nil {
		return nil, err
	}
	return OpenS3Ledger(ctx, c, loc, edition, list, ttl)
}
