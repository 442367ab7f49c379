package subscribers

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/rounds-health/rounds/generator/s3lock"
)

// S3Store is a Store under a prefix of a private S3 bucket, for stateless
// CI and Lambda. Each Append is a new object, events/TIME-HASH.jsonl,
// named by its first event's time and its content's hash and written only
// if no object has that name (If-None-Match: *): two writers never
// overwrite each other, and a retried append finds its object already
// there.
//
// A read lists the objects and reads them in name order, so a log of many
// appends costs a request each. Compact folds them into one snapshot,
// snapshots/N.jsonl, whose first line names the objects it covers
// (events and the previous snapshot); a read takes the newest snapshot and
// the events it does not cover, so an append made during a compaction is
// never lost. Compact then deletes what the snapshot covers. It holds a
// lock (compact.lock, see s3lock) so that two compactions never race.
type S3Store struct {
	client *s3.Client
	bucket string
	prefix string // "" or ending in "/"
}

// Limits of an S3Store.
const (
	// MaxObject is the largest events object read or appended at once.
	MaxObject = 64 << 20
	// maxCovers bounds a snapshot's first line.
	maxCovers = 64 << 20
)

// OpenS3Store returns the store at loc, "s3://bucket/prefix/", reached
// with client.
func OpenS3Store(client *s3.Client, loc string) (*S3Store, error) {
	u, err := url.Parse(loc)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("subscribers: %q: write an S3 location as s3://bucket/path/", loc)
	}
	prefix := strings.TrimPrefix(u.Path, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return &S3Store{client: client, bucket: u.Host, prefix: prefix}, nil
}

func (s *S3Store) url(key string) string { return "s3://" + s.bucket + "/" + s.prefix + key }

// Append writes the events as one new object.
func (s *S3Store) Append(ctx context.Context, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	data, err := encode(events)
	if err != nil {
		return fmt.Errorf("subscribers: appending: %w", err)
	}
	if len(data) > MaxObject {
		return fmt.Errorf("subscribers: appending %d events: %d bytes, more than %d in one object; append fewer at once", len(events), len(data), MaxObject)
	}
	sum := sha256.Sum256(data)
	// Named by the time of the append, not of the events (which a caller
	// may set, and set alike): the log keeps the order of its appends, so
	// an erasure read back comes after what it erases. A retried append
	// may store its events twice; Apply counts each event ID once.
	key := "events/" + time.Now().UTC().Format("20060102T150405.000000000") + "-" + hex.EncodeToString(sum[:8]) + ".jsonl"
	if err := s.put(ctx, key, bytes.NewReader(data)); err != nil && !conflict(err) {
		return fmt.Errorf("subscribers: appending to %s: %w", s.url(key), err)
	}
	// A conflict is this very content already there: a retried append.
	return nil
}

// put writes the object key, only if there is none.
func (s *S3Store) put(ctx context.Context, key string, body io.ReadSeeker) error {
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.bucket, Key: aws.String(s.prefix + key), Body: body,
		IfNoneMatch: aws.String("*"), ContentType: aws.String("application/jsonl"),
	})
	return err
}

// conflict reports whether a conditional write failed because the object
// exists (412, or 409 from some stores).
func conflict(err error) bool { return s3lock.IsStatus(err, 412) || s3lock.IsStatus(err, 409) }

// listing is what a read takes: the newest snapshot ("" if none), what it
// covers, and the events objects it does not, in order.
type listing struct {
	snapshot string
	all      []string // every object of the log, snapshots included
	events   []string
}

// list lists the log's objects, and reads the newest snapshot's first line.
func (s *S3Store) list(ctx context.Context) (listing, error) {
	var l listing
	var snaps, events []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: aws.String(s.prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return l, fmt.Errorf("subscribers: listing %s: %w", s.url(""), err)
		}
		for _, o := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(o.Key), s.prefix)
			switch {
			case strings.HasPrefix(key, "events/") && strings.HasSuffix(key, ".jsonl"):
				events = append(events, key)
			case strings.HasPrefix(key, "snapshots/") && strings.HasSuffix(key, ".jsonl"):
				snaps = append(snaps, key)
			}
		}
	}
	slices.Sort(events)
	slices.Sort(snaps)
	l.all = append(slices.Clone(snaps), events...)
	l.events = events
	if len(snaps) > 0 {
		l.snapshot = snaps[len(snaps)-1]
	}
	return l, nil
}

// snapshotHeader is a snapshot's first line.
type snapshotHeader struct {
	// Covers are the objects the snapshot replaces, relative to the
	// store's prefix.
	Covers []string `json:"covers"`
}

// Read streams the newest snapshot, then every events object it does not
// cover, fetching a few ahead.
func (s *S3Store) Read(ctx context.Context, fn func(*Event) error) error {
	l, err := s.list(ctx)
	if err != nil {
		return err
	}
	return s.read(ctx, l, fn)
}

// read streams what the listing names.
func (s *S3Store) read(ctx context.Context, l listing, fn func(*Event) error) error {
	events := l.events
	if l.snapshot != "" {
		body, err := s.get(ctx, l.snapshot)
		if err != nil {
			return err
		}
		br := bufio.NewReaderSize(body, 1<<20)
		h, err := readHeader(br)
		if err != nil {
			err = fmt.Errorf("subscribers: %s:%w", s.url(l.snapshot), err)
		} else {
			covered := map[string]bool{}
			for _, k := range h.Covers {
				covered[k] = true
			}
			events = slices.DeleteFunc(slices.Clone(events), func(k string) bool { return covered[k] })
			err = decode(ctx, s.url(l.snapshot), br, 2, false, fn)
		}
		body.Close()
		if err != nil {
			return err
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type fetched struct {
		data []byte
		err  error
	}
	ahead := make(chan chan fetched, 8)
	go func() {
		defer close(ahead)
		for _, k := range events {
			ch := make(chan fetched, 1)
			select {
			case ahead <- ch:
			case <-ctx.Done():
				return
			}
			go func() {
				body, err := s.get(ctx, k)
				if err != nil {
					ch <- fetched{err: err}
					return
				}
				defer body.Close()
				data, err := io.ReadAll(io.LimitReader(body, MaxObject+1))
				if err == nil && len(data) > MaxObject {
					err = fmt.Errorf("%s: larger than %d bytes; the log is damaged", s.url(k), MaxObject)
				}
				ch <- fetched{data, err}
			}()
		}
	}()
	i := 0
	for ch := range ahead {
		f := <-ch
		if f.err != nil {
			return f.err
		}
		if err := decode(ctx, s.url(events[i]), bytes.NewReader(f.data), 1, false, fn); err != nil {
			return err
		}
		i++
	}
	return ctx.Err()
}

// get opens the object key; a missing one (deleted by a compaction since
// it was listed) gives an error wrapping ErrChanged.
func (s *S3Store) get(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: aws.String(s.prefix + key)})
	if err != nil {
		if s3lock.IsStatus(err, 404) {
			return nil, fmt.Errorf("subscribers: %s: %w", s.url(key), ErrChanged)
		}
		return nil, fmt.Errorf("subscribers: reading %s: %w", s.url(key), err)
	}
	return out.Body, nil
}

// readHeader reads a snapshot's first line.
func readHeader(br *bufio.Reader) (snapshotHeader, error) {
	var line []byte
	for {
		part, err := br.ReadSlice('\n')
		line = append(line, part...)
		if len(line) > maxCovers {
			return snapshotHeader{}, fmt.Errorf("1: longer than %d bytes; the snapshot is damaged", maxCovers)
		}
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			return snapshotHeader{}, fmt.Errorf("1: %w; the snapshot is damaged", err)
		}
	}
	var h snapshotHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return h, fmt.Errorf("1: %w; the snapshot is damaged", err)
	}
	return h, nil
}

// Compact writes a snapshot of the log without the addresses and consent
// records of erased subscribers (see Erased), then deletes what it covers.
// Appends go on meanwhile; what they add is read after the snapshot.
func (s *S3Store) Compact(ctx context.Context) error {
	lock, err := s3lock.Acquire(ctx, s.client, s.bucket, s.prefix+"compact.lock", "rounds subscribers compact", 2*time.Minute, nil)
	if err != nil {
		return fmt.Errorf("subscribers: compacting %s: %w", s.url(""), err)
	}
	defer lock.Release()
	l, err := s.list(ctx)
	if err != nil {
		return err
	}
	if len(l.all) == 0 {
		return nil
	}
	tmp, err := os.CreateTemp("", "rounds-subscribers-*.jsonl")
	if err != nil {
		return fmt.Errorf("subscribers: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	w := bufio.NewWriterSize(tmp, 1<<20)
	header, _ := json.Marshal(snapshotHeader{Covers: l.all})
	w.Write(append(header, '\n'))
	err = compact(w, func(fn func(*Event) error) error { return s.read(ctx, l, fn) })
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		_, err = tmp.Seek(0, io.SeekStart)
	}
	if err != nil {
		return fmt.Errorf("subscribers: compacting %s: %w", s.url(""), err)
	}
	n := 1
	if l.snapshot != "" {
		fmt.Sscanf(strings.TrimPrefix(l.snapshot, "snapshots/"), "%d", &n)
		n++
	}
	key := fmt.Sprintf("snapshots/%012d.jsonl", n)
	if err := s.put(ctx, key, tmp); err != nil {
		return fmt.Errorf("subscribers: writing the snapshot %s: %w", s.url(key), err)
	}
	for keys := l.all; len(keys) > 0; {
		batch := keys[:min(len(keys), 1000)]
		keys = keys[len(batch):]
		ids := make([]types.ObjectIdentifier, len(batch))
		for i, k := range batch {
			ids[i] = types.ObjectIdentifier{Key: aws.String(s.prefix + k)}
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &s.bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err == nil && len(out.Errors) > 0 {
			err = errors.New(aws.ToString(out.Errors[0].Message))
		}
		if err != nil {
			// The snapshot covers them: reads skip them, and the next
			// compaction deletes them.
			return fmt.Errorf("subscribers: deleting the objects %s covers: %w", s.url(key), err)
		}
	}
	return nil
}
