package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

type lockInfo struct {
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Expires time.Time `json:"expires"`
}

// lock takes the bucket's publish lock: an object written only if none
// exists (If-None-Match: *), so two publishes cannot both hold it. A lock
// left by a crashed publish is taken over once it expires.
func lock(ctx context.Context, client *s3.Client, opts Options) (func(), error) {
	key := opts.Prefix + lockKey
	host, _ := os.Hostname()
	now := opts.Now()
	info := lockInfo{Host: host, PID: os.Getpid(), Started: now.UTC(), Expires: now.Add(opts.LockTTL).UTC()}
	data, _ := json.Marshal(info)
	for attempt := 0; ; attempt++ {
		out, err := client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &opts.Bucket, Key: &key, Body: bytes.NewReader(data),
			IfNoneMatch: aws.String("*"), ContentType: aws.String("application/json"), CacheControl: aws.String("no-store"),
		})
		if err == nil {
			etag := aws.ToString(out.ETag)
			return func() {
				// Remove only our own lock.
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				defer cancel()
				client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &opts.Bucket, Key: &key, IfMatch: aws.String(etag)})
			}, nil
		}
		if !isStatus(err, 412) && !isStatus(err, 409) {
			return nil, fmt.Errorf("taking the publish lock s3://%s/%s: %w", opts.Bucket, key, explain(err))
		}
		held, heldETag, rerr := readLock(ctx, client, opts.Bucket, key)
		if rerr != nil {
			return nil, rerr
		}
		if attempt > 0 || held.Expires.After(now) {
			return nil, fmt.Errorf("another publish holds s3://%s/%s (%s, pid %d, since %s); wait for it, or, if it crashed, until %s",
				opts.Bucket, key, held.Host, held.PID, held.Started.Format(time.RFC3339), held.Expires.Format(time.RFC3339))
		}
		// The holder crashed and its lock expired: remove that very lock
		// (If-Match), so a publish that took it over meanwhile keeps it.
		if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &opts.Bucket, Key: &key, IfMatch: aws.String(heldETag)}); err != nil && !isStatus(err, 404) && !isStatus(err, 412) {
			return nil, fmt.Errorf("removing an expired publish lock: %w", explain(err))
		}
	}
}

func readLock(ctx context.Context, client *s3.Client, bucket, key string) (lockInfo, string, error) {
	var info lockInfo
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		if isStatus(err, 404) {
			return info, "", nil // released meanwhile: expired in effect
		}
		return info, "", fmt.Errorf("reading the publish lock: %w", explain(err))
	}
	defer out.Body.Close()
	if err := json.NewDecoder(out.Body).Decode(&info); err != nil {
		return info, aws.ToString(out.ETag), errors.New("the publish lock is unreadable; delete " + key + " if no publish is running")
	}
	return info, aws.ToString(out.ETag), nil
}
