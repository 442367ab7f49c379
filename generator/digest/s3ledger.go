package digest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/rounds-health/rounds/generator/s3lock"
)

// S3Ledger is a ledger kept in a private S3 bucket, so that a stateless
// nightly job can resume a send: each Append writes one small object of
// records (appends made together share it), Close folds them into one,
// and a lock object keeps two sends of an edition to a list apart.
type S3Ledger struct {
	client *s3.Client
	bucket string
	prefix string // ".../EDITION/LIST/"
	run    string
	lock   *s3lock.Lock

	seq     int
	batcher batcher
}

// ParseS3 splits "s3://bucket/prefix" into its bucket and key prefix.
func ParseS3(loc string) (bucket, key string, err error) {
	u, err := url.Parse(loc)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return "", "", fmt.Errorf("%q: write an S3 location as s3://bucket/path", loc)
	}
	return u.Host, strings.TrimPrefix(u.Path, "/"), nil
}

// lockName is the name of an S3 ledger's lock object, under its prefix.
const lockName = "lock"

// s3LedgerAt returns the bucket of the S3 ledger of the edition and list
// under the S3 location base, and the prefix of its objects
// (".../EDITION/LIST/").
func s3LedgerAt(base, edition, list string) (bucket, prefix string, err error) {
	bucket, prefix, err = ParseS3(base)
	if err != nil {
		return "", "", err
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return bucket, prefix + edition + "/" + list + "/", nil
}

// OpenS3Ledger opens the ledger of the edition and list under the S3
// location base ("s3://bucket/ledgers/") and takes its lock, held for
// ttl and renewed while the send runs.
func OpenS3Ledger(ctx context.Context, client *s3.Client, base, edition, list string, ttl time.Duration) (*S3Ledger, error) {
	bucket, prefix, err := s3LedgerAt(base, edition, list)
	if err != nil {
		return nil, err
	}
	lock, err := s3lock.Acquire(ctx, client, bucket, prefix+lockName, "rounds send "+edition+" to "+list, ttl, nil)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 4)
	rand.Read(id)
	return &S3Ledger{client: client, bucket: bucket, prefix: prefix, run: hex.EncodeToString(id), lock: lock}, nil
}

// BreakLedgerLock removes the lock of the S3 ledger of the edition and
// list under base, the one OpenS3Ledger takes, whatever its state, and
// returns what it said of its holder: nil if there was no lock. It is for
// a curator who knows the send holding it is dead and will not wait for
// its lease to run out; a send still running is not told, and a second
// one could then run beside it. An unreadable lock is removed too, and
// its error wraps s3lock.ErrUnreadable. A FileLedger has nothing to
// break: its lock goes with the process that held it.
func BreakLedgerLock(ctx context.Context, client *s3.Client, base, edition, list string) (*s3lock.Info, error) {
	bucket, prefix, err := s3LedgerAt(base, edition, list)
	if err != nil {
		return nil, err
	}
	info, err := s3lock.Break(ctx, client, bucket, prefix+lockName)
	if err != nil {
		return nil, fmt.Errorf("breaking the ledger lock of %s to %s: %w", edition, list, err)
	}
	return info, nil
}

// Load reads every record object and returns the latest state of each
// subscriber.
func (l *S3Ledger) Load() (map[string]Record, error) {
	ctx := context.Background()
	keys, err := l.records(ctx)
	if err != nil {
		return nil, err
	}
	var all []Record
	for _, k := range keys {
		out, err := l.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &l.bucket, Key: aws.String(k)})
		if err != nil {
			return nil, fmt.Errorf("reading the ledger s3://%s/%s: %w", l.bucket, k, err)
		}
		data, err := io.ReadAll(out.Body)
		out.Body.Close()
		if err != nil {
			return nil, err
		}
		for _, line := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			var r Record
			if err := json.Unmarshal(line, &r); err != nil {
				return nil, fmt.Errorf("the ledger s3://%s/%s is damaged: %w", l.bucket, k, err)
			}
			all = append(all, r)
		}
	}
	return latest(all), nil
}

// latest returns the last record of each key, in time order; a record
// that ends a delivery wins over a "committing" one of the same instant.
func latest(all []Record) map[string]Record {
	sort.SliceStable(all, func(i, j int) bool {
		if !all[i].Time.Equal(all[j].Time) {
			return all[i].Time.Before(all[j].Time)
		}
		return all[i].State == Committing && all[j].State != Committing
	})
	out := map[string]Record{}
	for _, r := range all {
		out[r.Key] = r
	}
	return out
}

// records lists the ledger's record objects, oldest first.
func (l *S3Ledger) records(ctx context.Context) ([]string, error) {
	var keys []string
	p := s3.NewListObjectsV2Paginator(l.client, &s3.ListObjectsV2Input{Bucket: &l.bucket, Prefix: aws.String(l.prefix + "records/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing the ledger s3://%s/%s: %w", l.bucket, l.prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// Append writes the records as one object; appends made while one is
// being written go together into the next.
func (l *S3Ledger) Append(recs ...Record) error {
	return l.batcher.append(recs, func(batch []byte) error {
		l.seq++ // only the batcher's one writer touches it
		key := fmt.Sprintf("%srecords/%020d-%s-%06d.jsonl", l.prefix, time.Now().UnixNano(), l.run, l.seq)
		_, err := l.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &l.bucket, Key: &key, Body: bytes.NewReader(batch)})
		return err
	})
}

// Close folds the record objects into one, so the next Load reads one
// object, and releases the lock. The folded object is written before the
// others are deleted, so a crash in between loses nothing. A ledger this
// run appended nothing to (in a dry run, say) is left as it was.
func (l *S3Ledger) Close() error {
	defer l.lock.Release()
	if l.seq == 0 { // Append has returned, if it was called at all
		return nil
	}
	ctx := context.Background()
	keys, err := l.records(ctx)
	if err != nil || len(keys) < 2 {
		return err
	}
	state, err := l.Load()
	if err != nil {
		return err
	}
	var b bytes.Buffer
	recs := make([]Record, 0, len(state))
	for _, r := range state {
		recs = append(recs, r)
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Key < recs[j].Key })
	for _, r := range recs {
		line, _ := json.Marshal(r)
		b.Write(line)
		b.WriteByte('\n')
	}
	// Named after the last object it covers, so it sorts among them.
	folded := strings.TrimSuffix(keys[len(keys)-1], ".jsonl") + "-folded.jsonl"
	if _, err := l.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &l.bucket, Key: &folded, Body: bytes.NewReader(b.Bytes())}); err != nil {
		return fmt.Errorf("folding the ledger: %w", err)
	}
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		var ids []types.ObjectIdentifier
		for _, k := range keys[:n] {
			ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
		}
		if _, err := l.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &l.bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}}); err != nil {
			return fmt.Errorf("folding the ledger: %w", err)
		}
		keys = keys[n:]
	}
	return nil
}
