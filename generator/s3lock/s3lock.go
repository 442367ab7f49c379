// Package s3lock is a lease on an object of an S3 bucket: it keeps two
// processes, on any machines, from doing the same job at once. The lock
// object is written only if none exists (If-None-Match: *); its holder
// renews it while it works, and a lock whose holder died is taken over
// once it expires.
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
	Job     string    `json:"job"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Expires time.Time `json:"expires"`
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

// Acquire takes the lock at bucket/key for job, valid for ttl and renewed
// every ttl/3 until Release. now is the clock (nil: time.Now).
func Acquire(ctx context.Context, client *s3.Client, bucket, key, job string, ttl time.Duration, now func() time.Time) (*Lock, error) {
	if now == nil {
		now = time.Now
	}
	host, _ := os.Hostname()
	l := &Lock{client: client, bucket: bucket, key: key, ttl: ttl, now: now,
		info: Info{Job: job, Host: host, PID: os.Getpid(), Started: now().UTC()}}
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
		held, heldETag, rerr := read(ctx, client, bucket, key)
		if rerr != nil {
			return nil, rerr
		}
		if attempt > 0 || (heldETag != "" && held.Expires.After(now())) {
			return nil, fmt.Errorf("s3://%s/%s is %w: %s on %s, pid %d, since %s; wait for it to finish, or, if it crashed, until %s",
				bucket, key, ErrHeld, held.Job, held.Host, held.PID, held.Started.Format(time.RFC3339), held.Expires.Format(time.RFC3339))
		}
		// The holder died and its lease ran out: remove that very lock
		// (If-Match), so that whoever took it over meanwhile keeps it.
		if heldETag != "" {
			_, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key, IfMatch: aws.String(heldETag)})
			if err != nil && !IsStatus(err, 404) && !IsStatus(err, 412) {
				return nil, fmt.Errorf("removing an expired lock s3://%s/%s: %w", bucket, key, err)
			}
		}
	}
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

func read(ctx context.Context, client *s3.Client, bucket, key string) (Info, string, error) {
	var info Info
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		if IsStatus(err, 404) {
			return info, "", nil // released meanwhile
		}
		return info, "", fmt.Errorf("reading the lock s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	if err := json.NewDecoder(out.Body).Decode(&info); err != nil {
		return info, aws.ToString(out.ETag), fmt.Errorf("the lock s3://%s/%s is unreadable; delete it if nothing is running", bucket, key)
	}
	return info, aws.ToString(out.ETag), nil
}

// conflict reports whether a conditional write failed because the object
// exists (412 Precondition Failed, or 409 from some stores).
func conflict(err error) bool { return IsStatus(err, 412) || IsStatus(err, 409) }

// IsStatus reports whether err is an S3 response with the HTTP status code.
func IsStatus(err error, code int) bool {
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == code
}
