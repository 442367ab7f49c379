// Package s3lock is a lease on an object of an S3 bucket: it keeps two
// processes, on any machines, from doing the same job at once. The lock
// object is written only if none exists (If-None-Match: *); its holder
// renews it while it works. A lock whose holder died is taken over once
// it expires or, sooner, as soon as it is seen from the holder's own host
// that its process is gone (see Acquire). Break removes a lock whatever
// its state, for a person who knows its holder is gone.
package s3lock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Info is what a lock object says of its holder.
type Info struct {
	Job  string `json:"job"`
	Host string `json:"host"`
	PID  int    `json:"pid"`
	// ProcStart is when the holder's process started, in its system's
	// units (on Linux, clock ticks since boot: field 22 of
	// /proc/PID/stat), so that a later process given the same PID is not
	// taken for the holder; 0 where unknown, as in older lock objects.
	ProcStart uint64 `json:"proc_start,omitempty"`
	// PIDNamespace names the holder's PID namespace (on Linux, the link
	// /proc/self/ns/pid), so that a container sharing the host's name but
	// not its processes leaves the holder's PID alone; "" where unknown.
	PIDNamespace string    `json:"pid_namespace,omitempty"`
	Started      time.Time `json:"started"`
	Expires      time.Time `json:"expires"`
}

// A Lock is a held lease.
type Lock struct {
	client *s3.Client
	bucket string
	key    string
	info   Info
	ttl    time.Duration
	now    func() time.Time

	mu   sync.Mutex
	etag string
	stop chan struct{}
	done chan struct{}
}

// ErrHeld is returned when another process holds the lock.
var ErrHeld = errors.New("held by another process")

// ErrUnreadable is wrapped by the errors about a lock object that is not
// a lock's JSON.
var ErrUnreadable = errors.New("unreadable")

// Acquire takes the lock at bucket/key for job, valid for ttl and renewed
// every ttl/3 until Release. now is the clock (nil: time.Now).
//
// A lock held by someone else is taken over when it has expired, or when
// it names this host and the process it names is gone: no process has its
// PID, or the one that has it started at another time than the lock says
// (the PID was reused). A holder on another host, or in another PID
// namespace of this one, is never taken over before its lock expires.
// Otherwise Acquire fails with an error wrapping ErrHeld that names the
// holder.
func Acquire(ctx context.Context, client *s3.Client, bucket, key, job string, ttl time.Duration, now func() time.Time) (*Lock, error) {
	if now == nil {
		now = time.Now
	}
	me := self()
	me.Job, me.Started = job, now().UTC()
	l := &Lock{client: client, bucket: bucket, key: key, ttl: ttl, now: now, info: me}
	for attempt := 0; ; attempt++ {
		etag, err := l.put(ctx, "")
		if err == nil {
			l.etag = etag
			l.stop, l.done = make(chan struct{}), make(chan struct{})
			go l.renew()
			return l, nil
		}
		if !conflict(err) {
			return nil, fmt.Errorf("taking the lock s3://%s/%s: %w", bucket, key, err)
		}
		held, heldETag, err := read(ctx, client, bucket, key)
		if err != nil {
			return nil, err
		}
		if held == nil {
			if attempt < 3 {
				continue // released meanwhile
			}
			return nil, fmt.Errorf("s3://%s/%s is %w: it was taken and released %d times while this process tried to take it", bucket, key, ErrHeld, attempt+1)
		}
		if attempt >= 3 || held.Expires.After(now()) && !crashedHere(held, me) {
			return nil, fmt.Errorf("s3://%s/%s is %w: %s on %s, pid %d, since %s; wait for it to finish, or, if it crashed, until %s",
				bucket, key, ErrHeld, held.Job, held.Host, held.PID, held.Started.Format(time.RFC3339), held.Expires.Format(time.RFC3339))
		}
		// The holder died: remove that very lock (If-Match), so that
		// whoever took it over meanwhile keeps it, and try again.
		if err := remove(ctx, client, bucket, key, heldETag); err != nil && !IsStatus(err, 404) && !IsStatus(err, 412) {
			return nil, fmt.Errorf("removing the lock of a dead holder s3://%s/%s: %w", bucket, key, err)
		}
	}
}

// crashedHere reports whether held names a process of this host (me's)
// that is gone.
func crashedHere(held *Info, me Info) bool {
	if me.Host == "" || held.Host != me.Host || held.PID <= 0 {
		return false
	}
	if held.PIDNamespace != "" && held.PIDNamespace != me.PIDNamespace {
		return false // its processes are not ours to see
	}
	start, exists := process(held.PID)
	return !exists || held.ProcStart != 0 && start != 0 && start != held.ProcStart
}

// self is this process as a lock names it, without Job and times.
var self = sync.OnceValue(func() Info {
	host, _ := os.Hostname()
	start, _ := process(os.Getpid())
	return Info{Host: host, PID: os.Getpid(), ProcStart: start, PIDNamespace: pidNamespace()}
})

// Break removes the lock at bucket/key whatever its state, live or
// expired, and returns what it said of its holder, or nil if there was no
// lock. A holder still at work is not told, and another process may then
// take the lock: Break is for a person who knows the holder is gone. An
// unreadable lock object is removed too: Break then returns nil and an
// error wrapping ErrUnreadable, and any other error means the lock may
// still be there.
func Break(ctx context.Context, client *s3.Client, bucket, key string) (*Info, error) {
	for range 5 {
		held, etag, err := read(ctx, client, bucket, key)
		if err != nil && !errors.Is(err, ErrUnreadable) {
			return nil, err
		}
		if held == nil && err == nil {
			return nil, nil
		}
		// Only the object read: one that replaced it meanwhile is read
		// again, so that what Break returns is what it removed.
		derr := remove(ctx, client, bucket, key, etag)
		if derr == nil {
			return held, err
		}
		if !IsStatus(derr, 404) && !IsStatus(derr, 412) {
			return nil, fmt.Errorf("removing the lock s3://%s/%s: %w", bucket, key, derr)
		}
	}
	return nil, fmt.Errorf("removing the lock s3://%s/%s: it changed every time it was read", bucket, key)
}

// remove deletes the lock object if its ETag is still etag ("": whatever
// it is).
func remove(ctx context.Context, client *s3.Client, bucket, key, etag string) error {
	in := &s3.DeleteObjectInput{Bucket: &bucket, Key: &key}
	if etag != "" {
		in.IfMatch = aws.String(etag)
	}
	_, err := client.DeleteObject(ctx, in)
	return err
}

// put writes the lock object: new (If-None-Match) or, with etag, over our
// own (If-Match).
func (l *Lock) put(ctx context.Context, etag string) (string, error) {
	info := l.info
	info.Expires = l.now().Add(l.ttl).UTC()
	data, _ := json.Marshal(info)
	in := &s3.PutObjectInput{Bucket: &l.bucket, Key: &l.key, Body: bytes.NewReader(data),
		ContentType: aws.String("application/json"), CacheControl: aws.String("no-store")}
	if etag == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(etag)
	}
	out, err := l.client.PutObject(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ETag), nil
}

// renew extends the lease every ttl/3 until Release.
func (l *Lock) renew() {
	defer close(l.done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
			l.mu.Lock()
			etag, err := l.put(ctx, l.etag)
			if err == nil {
				l.etag = etag
			}
			l.mu.Unlock()
			cancel()
		}
	}
}

// Release stops renewing the lease and removes the lock, if it is still
// ours.
func (l *Lock) Release() {
	close(l.stop)
	<-l.done
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &l.bucket, Key: &l.key, IfMatch: aws.String(l.etag)})
}

// read returns the lock object at bucket/key and its ETag; nil and ""
// if there is none. An unreadable one gives its ETag and an error wrapping
// ErrUnreadable.
func read(ctx context.Context, client *s3.Client, bucket, key string) (*Info, string, error) {
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		if IsStatus(err, 404) {
			return nil, "", nil
		}
		return nil, "", fmt.Errorf("reading the lock s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	etag := aws.ToString(out.ETag)
	var info Info
	if err := json.NewDecoder(out.Body).Decode(&info); err != nil {
		return nil, etag, fmt.Errorf("the lock s3://%s/%s is %w (%v); delete it if nothing is running", bucket, key, ErrUnreadable, err)
	}
	return &info, etag, nil
}

// conflict reports whether a conditional write failed because the object
// exists (412 Precondition Failed, or 409 from some stores).
func conflict(err error) bool { return IsStatus(err, 412) || IsStatus(err, 409) }

// IsStatus reports whether err is an S3 response with the HTTP status code.
func IsStatus(err error, code int) bool {
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == code
}
