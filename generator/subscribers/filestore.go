package subscribers

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// FileStore is a Store in a local folder, needing nothing installed: the
// log is a run of append-only JSON Lines files, seg-000001.jsonl,
// seg-000002.jsonl, …, each written with O_APPEND and synced before Append
// returns. A new segment begins once the last passes SegmentSize.
//
// Appends take an flock(2) on the folder's lock file, so the service and
// the CLI can append at once from several processes; reads take no lock.
// A line an append left half-written when its process died is cut off by
// the next append (its append never returned) and ignored by reads.
//
// Compact writes snap-N.jsonl, the log up to segment N without what
// erasures remove, then deletes the files it replaces; a read takes the
// newest snapshot and the segments after it.
type FileStore struct {
	dir string

	// Appends made at once in this process are written together: one
	// write and one sync for all (a group commit).
	mu         sync.Mutex
	queue      []*pendingAppend
	committing bool
}

// A pendingAppend is an Append waiting for the next commit.
type pendingAppend struct {
	data []byte
	done chan error
}

// SegmentSize is the size past which a FileStore begins a new segment.
const SegmentSize = 64 << 20

// OpenFileStore opens the store in dir, creating the folder if needed.
func OpenFileStore(dir string) (*FileStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("subscribers: %w", err)
	}
	return &FileStore{dir: dir}, nil
}

// files are a FileStore's snapshot (0 if none) and segment numbers.
type files struct {
	snap int
	segs []int // sorted
}

// live returns the paths of the files a read takes, in order.
func (s *FileStore) live(f files) []string {
	var paths []string
	if f.snap > 0 {
		paths = append(paths, s.path("snap", f.snap))
	}
	for _, n := range f.segs {
		if n > f.snap {
			paths = append(paths, s.path("seg", n))
		}
	}
	return paths
}

func (s *FileStore) path(kind string, n int) string {
	return filepath.Join(s.dir, fmt.Sprintf("%s-%06d.jsonl", kind, n))
}

// list returns the store's files.
func (s *FileStore) list() (files, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return files{}, fmt.Errorf("subscribers: %w", err)
	}
	var f files
	for _, e := range entries {
		kind, num, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".jsonl"), "-")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n <= 0 || !strings.HasSuffix(e.Name(), ".jsonl") {
			continue
		}
		switch kind {
		case "snap":
			f.snap = max(f.snap, n)
		case "seg":
			f.segs = append(f.segs, n)
		}
	}
	slices.Sort(f.segs)
	return f, nil
}

// lock takes the store's lock, waiting for it until ctx is done, and
// returns its release.
func (s *FileStore) lock(ctx context.Context) (func(), error) {
	path := filepath.Join(s.dir, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("subscribers: %w", err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("subscribers: locking %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("subscribers: waiting for the lock %s: %w", path, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// lockAndList takes the lock and lists the files, which stay as they are
// until unlock.
func (s *FileStore) lockAndList(ctx context.Context) (f files, unlock func(), err error) {
	unlock, err = s.lock(ctx)
	if err != nil {
		return f, nil, err
	}
	if f, err = s.list(); err != nil {
		unlock()
		return f, nil, err
	}
	return f, unlock, nil
}

// Append writes the events at the end of the last segment, in one write,
// and syncs it. Appends that come while one is being written wait, and
// are then written and synced together, each still all or none.
func (s *FileStore) Append(ctx context.Context, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	data, err := encode(events)
	if err != nil {
		return fmt.Errorf("subscribers: appending: %w", err)
	}
	p := &pendingAppend{data: data, done: make(chan error, 1)}
	s.mu.Lock()
	s.queue = append(s.queue, p)
	if s.committing {
		// The append being written writes this one next.
		s.mu.Unlock()
		return <-p.done
	}
	s.committing = true
	commitCtx := ctx
	for len(s.queue) > 0 {
		batch := s.queue
		s.queue = nil
		s.mu.Unlock()
		var all []byte
		for _, q := range batch {
			all = append(all, q.data...)
		}
		err := s.commit(commitCtx, all)
		for _, q := range batch {
			q.done <- err
		}
		// The appends of others are not bound by this caller's context.
		commitCtx = context.WithoutCancel(ctx)
		s.mu.Lock()
	}
	s.committing = false
	s.mu.Unlock()
	return <-p.done
}

// commit writes data at the end of the last segment, under the lock.
func (s *FileStore) commit(ctx context.Context, data []byte) error {
	f, unlock, err := s.lockAndList(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	n := 0
	if len(f.segs) > 0 && f.segs[len(f.segs)-1] > f.snap {
		n = f.segs[len(f.segs)-1]
		if fi, err := os.Stat(s.path("seg", n)); err == nil && fi.Size() >= SegmentSize {
			n = 0
		}
	}
	if n == 0 {
		last := f.snap
		if len(f.segs) > 0 {
			last = max(last, f.segs[len(f.segs)-1])
		}
		n = last + 1
	}
	return s.appendTo(s.path("seg", n), data)
}

// appendTo appends data to the segment at path, first cutting off a line
// a crash left half-written; on an error it leaves the file as it was.
func (s *FileStore) appendTo(path string, data []byte) error {
	_, statErr := os.Stat(path)
	fd, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("subscribers: %w", err)
	}
	defer fd.Close()
	if errors.Is(statErr, fs.ErrNotExist) {
		if err := syncDir(s.dir); err != nil {
			return err
		}
	}
	size, err := cutTorn(fd)
	if err != nil {
		return fmt.Errorf("subscribers: %s: %w", path, err)
	}
	if _, err := fd.Write(data); err != nil {
		fd.Truncate(size)
		return fmt.Errorf("subscribers: appending to %s: %w", path, err)
	}
	if err := unix.Fdatasync(int(fd.Fd())); err != nil {
		fd.Truncate(size)
		return fmt.Errorf("subscribers: syncing %s: %w", path, err)
	}
	return nil
}

// cutTorn cuts off the file's last line if it has no newline (an append
// that died half-way) and returns the file's size.
func cutTorn(f *os.File) (int64, error) {
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return 0, err
	}
	size := fi.Size()
	tail := make([]byte, min(size, MaxEventSize+1))
	if _, err := f.ReadAt(tail, size-int64(len(tail))); err != nil {
		return 0, err
	}
	if tail[len(tail)-1] == '\n' {
		return size, nil
	}
	i := bytes.LastIndexByte(tail, '\n')
	if i < 0 && int64(len(tail)) < size {
		return 0, fmt.Errorf("its last line is longer than %d bytes; the log is damaged, restore it from a backup", MaxEventSize)
	}
	cut := size - int64(len(tail)) + int64(i+1)
	return cut, f.Truncate(cut)
}

// syncDir syncs the folder, so that a file made in it lasts a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("subscribers: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("subscribers: syncing %s: %w", dir, err)
	}
	return nil
}

// Read streams the newest snapshot, then the segments after it.
func (s *FileStore) Read(ctx context.Context, fn func(*Event) error) error {
	f, err := s.list()
	if err != nil {
		return err
	}
	return s.read(ctx, s.live(f), fn)
}

// read streams the files at paths; the last may end in a line being
// written.
func (s *FileStore) read(ctx context.Context, paths []string, fn func(*Event) error) error {
	for i, p := range paths {
		fd, err := os.Open(p)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("subscribers: %s: %w", p, ErrChanged)
		}
		if err != nil {
			return fmt.Errorf("subscribers: %w", err)
		}
		err = decode(ctx, p, fd, 1, i == len(paths)-1, fn)
		fd.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// Compact rewrites the log as one snapshot without the addresses and
// consent records of erased subscribers (see Erased), then deletes the
// files it replaces. It holds the lock: appends wait for it.
func (s *FileStore) Compact(ctx context.Context) error {
	f, unlock, err := s.lockAndList(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	paths := s.live(f)
	if len(paths) == 0 {
		return nil
	}
	top := f.snap
	if len(f.segs) > 0 {
		top = max(top, f.segs[len(f.segs)-1])
	}
	final := s.path("snap", top)
	tmp := final + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("subscribers: %w", err)
	}
	defer os.Remove(tmp)
	w := bufio.NewWriterSize(out, 1<<20)
	err = compact(w, func(fn func(*Event) error) error { return s.read(ctx, paths, fn) })
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("subscribers: compacting into %s: %w", final, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return fmt.Errorf("subscribers: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		return err
	}
	// The snapshot replaces these: a crash before they are gone leaves
	// them to the next compaction, and reads skip them.
	var errs []error
	for _, n := range f.segs {
		if n <= top {
			errs = append(errs, os.Remove(s.path("seg", n)))
		}
	}
	if f.snap > 0 && f.snap != top {
		errs = append(errs, os.Remove(s.path("snap", f.snap)))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("subscribers: removing compacted segments: %w", err)
	}
	return nil
}

// compact writes to w the events read streams, without those that
// erasures remove: every event of an erased subscriber before their last
// Erased event. (What follows it, a new subscription of their own, stays.)
// It reads the log twice: once to find the erasures, once to copy.
func compact(w io.Writer, read func(fn func(*Event) error) error) error {
	erasures := map[string]int{}
	if err := read(func(e *Event) error {
		if e.Kind == Erased {
			erasures[e.Key]++
		}
		return nil
	}); err != nil {
		return err
	}
	seen := map[string]int{}
	return read(func(e *Event) error {
		if n := erasures[e.Key]; n > 0 {
			if e.Kind == Erased {
				seen[e.Key]++
			}
			if seen[e.Key] < n {
				return nil
			}
		}
		data, err := encode([]Event{*e})
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	})
}
