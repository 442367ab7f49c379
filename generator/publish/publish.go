package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/rounds-health/rounds/generator/output"
	"github.com/rounds-health/rounds/generator/phi"
	"github.com/rounds-health/rounds/generator/s3lock"
)

// Options say what to publish where, and how.
type Options struct {
	// Dir is the built site, with its manifest.
	Dir    string
	Bucket string
	// Prefix is the folder of the bucket the site goes in: "" or "site/".
	Prefix string
	// Rules set Cache-Control, first match wins; nil means DefaultRules.
	Rules []Rule
	// Types adds content types by extension (".foo").
	Types map[string]string
	// Gzip stores text files compressed, with Content-Encoding: gzip.
	Gzip bool
	// MaxDeletes caps the deletions of a run unless Confirm is set.
	MaxDeletes int
	Confirm    bool
	// DryRun plans and acts on nothing.
	DryRun bool
	// Exclude lists key prefixes (under Prefix) that are never deleted.
	Exclude []string
	Workers int
	// LockTTL is how long a lock left by a crashed publish holds. One
	// left on this host by a process that is gone is taken over at once
	// (see s3lock.Acquire).
	LockTTL time.Duration
	// ForceUnlock removes the publish lock before taking it, whoever
	// holds it, and says on the plan writer whose it was: for a publish
	// killed on another machine, whose lock holds until it expires. A dry
	// run leaves the lock alone.
	ForceUnlock bool
	// Check, if set, is run on the bytes of every file to upload (the
	// plan's Uploads, as built, before compression), from several
	// goroutines at once, after the plan is made and before the first
	// upload, in a dry run too. If it fails on any file, Publish changes
	// nothing and returns an error naming each. The bytes checked are the
	// bytes uploaded: each file is read once.
	Check func(path string, data []byte) error
	// Invalidator, if set, is told the changed paths after a run.
	Invalidator Invalidator
	// Progress, if set, is called after each upload.
	Progress func(done, total int)
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// An Object is a file of the site as it is to be stored.
type Object struct {
	Path         string // in the built folder
	Key          string
	Size         int64 // of the stored bytes
	SHA256       string
	ContentType  string
	CacheControl string
	Encoding     string
	headers      string
}

// A Plan is what a publish does.
type Plan struct {
	// Uploads are objects whose bytes are new or changed, assets first.
	Uploads []Object
	// Updates are objects whose bytes are stored but whose headers change.
	Updates []Object
	// Deletes are keys the site no longer has.
	Deletes   []string
	Unchanged int
	// UploadBytes totals the bytes to upload.
	UploadBytes int64
}

// Print writes the plan, one line an object, then its totals.
func (p *Plan) Print(w io.Writer, verbose bool) {
	if verbose {
		for _, o := range p.Uploads {
			fmt.Fprintf(w, "upload  %s (%d bytes, %s, %s)\n", o.Key, o.Size, o.ContentType, o.CacheControl)
		}
		for _, o := range p.Updates {
			fmt.Fprintf(w, "headers %s (%s, %s)\n", o.Key, o.ContentType, o.CacheControl)
		}
		for _, k := range p.Deletes {
			fmt.Fprintf(w, "delete  %s\n", k)
		}
	}
	fmt.Fprintf(w, "plan: %d uploads (%d bytes), %d header updates, %d deletes, %d unchanged\n",
		len(p.Uploads), p.UploadBytes, len(p.Updates), len(p.Deletes), p.Unchanged)
}

// recordKey is the publisher's record of what it stored: for each key,
// the SHA-256 of the file and the digest of its headers, with the ETag
// the store gave it. A listing of the bucket (keys, sizes, ETags) checks
// that the record still describes each object, so nothing is re-hashed
// and no object is asked for its headers one by one. The record holds
// nothing that is not public on the site anyway.
const recordKey = ".rounds-publish.json"

// lockKey is the object that keeps two publishes apart.
const lockKey = ".rounds-publish.lock"

type recordEntry struct {
	SHA256  string `json:"sha256"`
	Headers string `json:"headers"`
	ETag    string `json:"etag"`
}

// Publish plans the publish of opts.Dir to the bucket and, unless
// opts.DryRun, carries it out. It returns the plan; with an error, the
// plan tells what was meant.
func Publish(ctx context.Context, client *s3.Client, opts Options, planOut io.Writer) (*Plan, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rules == nil {
		opts.Rules = DefaultRules
	}
	if opts.Workers <= 0 {
		opts.Workers = 16
	}
	if opts.LockTTL <= 0 {
		opts.LockTTL = 10 * time.Minute
	}
	objects, err := desired(opts)
	if err != nil {
		return nil, err
	}
	if err := CheckCredentials(ctx, client); err != nil {
		return nil, err
	}
	if !opts.DryRun {
		if opts.ForceUnlock {
			if err := breakLock(ctx, client, opts, planOut); err != nil {
				return nil, err
			}
		}
		l, err := s3lock.Acquire(ctx, client, opts.Bucket, opts.Prefix+lockKey, "rounds publish", opts.LockTTL, opts.Now)
		if err != nil {
			return nil, explainLock(err)
		}
		defer l.Release()
	}
	// The record is read while the bucket is listed.
	var record map[string]recordEntry
	var recordErr error
	recordRead := make(chan struct{})
	go func() {
		defer close(recordRead)
		record, recordErr = readRecord(ctx, client, opts.Bucket, opts.Prefix)
	}()
	stored, err := listRanges(ctx, client, opts.Bucket, opts.Prefix, objects, opts.Workers)
	<-recordRead
	if err != nil {
		return nil, err
	}
	if recordErr != nil {
		return nil, recordErr
	}
	plan := &Plan{}
	want := map[string]bool{}
	next := map[string]recordEntry{}
	for _, o := range objects {
		want[o.Key] = true
		st, inBucket := stored[o.Key]
		rec, known := record[o.Key]
		switch {
		case inBucket && known && rec.ETag == st.etag && rec.SHA256 == o.SHA256 && rec.Headers == o.headers:
			plan.Unchanged++
			next[o.Key] = rec
		case inBucket && known && rec.ETag == st.etag && rec.SHA256 == o.SHA256:
			plan.Updates = append(plan.Updates, o)
		default:
			plan.Uploads = append(plan.Uploads, o)
			plan.UploadBytes += o.Size
		}
	}
	for key := range stored {
		rel := strings.TrimPrefix(key, opts.Prefix)
		if want[key] || rel == recordKey || rel == lockKey || excluded(rel, opts.Exclude) {
			continue
		}
		plan.Deletes = append(plan.Deletes, key)
	}
	sort.Strings(plan.Deletes)
	// Assets first, so that no page is live before what it links to.
	sort.SliceStable(plan.Uploads, func(i, j int) bool { return phase(plan.Uploads[i].Path) < phase(plan.Uploads[j].Path) })
	if planOut != nil {
		plan.Print(planOut, opts.DryRun)
	}
	// With a check, the bytes of each upload are read here once, checked
	// and kept for the upload.
	var bodies [][]byte
	if opts.Check != nil {
		if bodies, err = check(ctx, opts, plan.Uploads); err != nil {
			return plan, err
		}
	}
	if opts.DryRun {
		return plan, nil
	}
	var mu sync.Mutex
	var done atomic.Int64
	total := len(plan.Uploads) + len(plan.Updates)
	put := func(o Object, etag string) {
		mu.Lock()
		next[o.Key] = recordEntry{SHA256: o.SHA256, Headers: o.headers, ETag: etag}
		mu.Unlock()
		if opts.Progress != nil {
			opts.Progress(int(done.Add(1)), total)
		}
	}
	// Uploads are sorted by phase: assets, then the rest.
	assets, _ := slices.BinarySearchFunc(plan.Uploads, 1, func(o Object, ph int) int { return phase(o.Path) - ph })
	for _, batch := range [][2]int{{0, assets}, {assets, len(plan.Uploads)}} {
		if err := each(ctx, opts.Workers, batch[1]-batch[0], func(ctx context.Context, i int) error {
			i += batch[0]
			o := plan.Uploads[i]
			var data []byte
			if bodies != nil {
				data, bodies[i] = bodies[i], nil
			}
			etag, err := upload(ctx, client, opts, o, data)
			if err == nil {
				put(o, etag)
			}
			return err
		}); err != nil {
			return plan, err
		}
	}
	if err := each(ctx, opts.Workers, len(plan.Updates), func(ctx context.Context, i int) error {
		o := plan.Updates[i]
		etag, err := updateHeaders(ctx, client, opts.Bucket, o)
		if err == nil {
			put(o, etag)
		}
		return err
	}); err != nil {
		return plan, err
	}
	if len(plan.Uploads)+len(plan.Updates)+len(plan.Deletes) > 0 || len(record) != len(next) {
		if err := writeRecord(ctx, client, opts.Bucket, opts.Prefix, next); err != nil {
			return plan, err
		}
	}
	if len(plan.Deletes) > opts.MaxDeletes && !opts.Confirm {
		return plan, fmt.Errorf("uploaded everything, deleted nothing: the plan deletes %d objects, more than max_deletes (%d); check the plan with --dry-run, then run again with --confirm", len(plan.Deletes), opts.MaxDeletes)
	}
	if err := deleteKeys(ctx, client, opts.Bucket, plan.Deletes); err != nil {
		return plan, err
	}
	if opts.Invalidator != nil {
		if err := opts.Invalidator.Invalidate(ctx, Collapse(plan.changedPaths(opts.Prefix), 15)); err != nil {
			return plan, fmt.Errorf("invalidating the CDN (the bucket is up to date): %w", err)
		}
	}
	return plan, nil
}

// desired reads the manifest of opts.Dir and returns the objects to store.
func desired(opts Options) ([]Object, error) {
	m, err := output.ReadManifest(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("%s: no build to publish (%w); run rounds build first", opts.Dir, err)
	}
	if m.Preview {
		return nil, fmt.Errorf("%s was built with drafts or scheduled content (a preview); build it again without --drafts and --future", opts.Dir)
	}
	// The build scanned its content for patient identifiers; its verdict
	// decides, so nothing is scanned again here.
	switch v := m.Check; {
	case v == nil || v.Rules != phi.Rules:
		return nil, fmt.Errorf("%s was not scanned for patient identifiers by this version of Rounds; build it again (rounds build), then publish", opts.Dir)
	case v.PHI > 0:
		what := "findings"
		if v.PHI == 1 {
			what = "finding"
		}
		return nil, fmt.Errorf("%s was built from content with %d %s that may identify a patient (rounds check lists them); nothing was published: remove what may identify a patient, or mark a reviewed line with <!-- %s -->, then build again",
			opts.Dir, v.PHI, what, phi.Marker)
	}
	var objects []Object
	index := false
	var errs []error
	for _, f := range m.Files {
		if private(f.Path) {
			continue
		}
		index = index || f.Path == "index.html"
		ct, err := contentType(f.Path, opts.Types)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		o := Object{Path: f.Path, Key: opts.Prefix + f.Path, Size: f.Size, SHA256: f.SHA256, ContentType: ct, CacheControl: cacheControl(f.Path, opts.Rules)}
		if precompressed(f.Path) || opts.Gzip && isText(ct) {
			o.Encoding = "gzip"
		}
		o.headers = headersDigest(o.ContentType, o.CacheControl, o.Encoding)
		objects = append(objects, o)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(objects) == 0 || !index {
		return nil, fmt.Errorf("%s has no index.html: refusing to publish an empty or broken site", opts.Dir)
	}
	return objects, nil
}

// private reports whether a built file must never be published: the
// manifest and anything else hidden.
func private(p string) bool {
	return strings.HasPrefix(p, ".") || strings.Contains(p, "/.") || p == output.ManifestFile
}

// phase orders uploads: assets (0), and any file named after its
// contents, before pages and feeds (1), which may name them.
func phase(p string) int {
	if match(fingerprinted[0], p) || match(fingerprinted[1], p) {
		return 0
	}
	switch strings.ToLower(path.Ext(p)) {
	case ".html", ".xml", ".json", ".txt", ".opml", ".rss", ".atom":
		return 1
	}
	return 0
}

func excluded(rel string, prefixes []string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return p != "" && strings.HasPrefix(rel, p) })
}

// changedPaths are the site paths the run changed, for a CDN.
func (p *Plan) changedPaths(prefix string) []string {
	var out []string
	for _, o := range append(append([]Object{}, p.Uploads...), p.Updates...) {
		out = append(out, "/"+o.Path)
	}
	for _, k := range p.Deletes {
		out = append(out, "/"+strings.TrimPrefix(k, prefix))
	}
	sort.Strings(out)
	return out
}

// each runs fn(i) for i in [0, n) with at most workers at once, and
// returns the first error, after which it starts nothing new.
func each(ctx context.Context, workers, n int, fn func(context.Context, int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	jobs := make(chan int)
	for range min(workers, max(n, 1)) {
		wg.Go(func() {
			for i := range jobs {
				if err := fn(ctx, i); err != nil {
					once.Do(func() { first = err; cancel() })
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// check reads every object to upload and runs opts.Check on its bytes. It
// returns the bytes, or an error naming every file that could not be read
// or failed the check.
func check(ctx context.Context, opts Options, objs []Object) ([][]byte, error) {
	bodies := make([][]byte, len(objs))
	failed := make([]error, len(objs))
	err := each(ctx, opts.Workers, len(objs), func(_ context.Context, i int) error {
		data, err := readFile(opts.Dir, objs[i])
		if err == nil {
			if err = opts.Check(objs[i].Path, data); err != nil {
				err = fmt.Errorf("%s: %w", objs[i].Path, err)
			}
		}
		bodies[i], failed[i] = data, err
		return nil
	})
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, err := range failed {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		errs = append(errs, fmt.Errorf("%d of the %d files to upload failed the check: nothing was published", len(errs), len(objs)))
		return nil, errors.Join(errs...)
	}
	return bodies, nil
}

// readFile returns the bytes of an object's file, checking that the file
// still has the size the manifest gives it.
func readFile(dir string, o Object) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(o.Path)))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w; build again", o.Path, err)
	}
	if int64(len(data)) != o.Size {
		return nil, fmt.Errorf("%s has changed since the build (%d bytes, %d in the manifest); build again", o.Path, len(data), o.Size)
	}
	return data, nil
}

// upload stores one file, from data if it was read already, and returns
// its ETag.
func upload(ctx context.Context, client *s3.Client, opts Options, o Object, data []byte) (string, error) {
	if data == nil {
		var err error
		if data, err = readFile(opts.Dir, o); err != nil {
			return "", err
		}
	}
	var optFns []func(*s3.Options)
	if o.Encoding == "gzip" && !precompressed(o.Path) {
		data = gzipBytes(data)
	} else {
		// The manifest has the SHA-256 of the bytes: the SDK need not
		// hash them again to sign the request (over plain HTTP), and
		// the store checks them against it.
		optFns = append(optFns, withPayloadHash(o.SHA256))
	}
	in := &s3.PutObjectInput{
		Bucket:       &opts.Bucket,
		Key:          &o.Key,
		Body:         bytes.NewReader(data), // seekable, so the SDK can retry
		ContentType:  &o.ContentType,
		CacheControl: &o.CacheControl,
		Metadata:     map[string]string{"sha256": o.SHA256, "rounds-headers": o.headers},
	}
	if o.Encoding != "" {
		in.ContentEncoding = &o.Encoding
	}
	out, err := client.PutObject(ctx, in, optFns...)
	if err != nil {
		return "", fmt.Errorf("uploading %s: %w", o.Key, explain(err))
	}
	return aws.ToString(out.ETag), nil
}

// withPayloadHash gives a request's signer the hex SHA-256 of its body.
func withPayloadHash(sum string) func(*s3.Options) {
	return func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("RoundsPayloadHash",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					return next.HandleInitialize(v4.SetPayloadHash(ctx, sum), in)
				}), middleware.After)
		})
	}
}

// updateHeaders replaces an object's headers without sending its bytes.
func updateHeaders(ctx context.Context, client *s3.Client, bucket string, o Object) (string, error) {
	in := &s3.CopyObjectInput{
		Bucket:            &bucket,
		Key:               &o.Key,
		CopySource:        aws.String(bucket + "/" + escapeKey(o.Key)),
		MetadataDirective: types.MetadataDirectiveReplace,
		ContentType:       &o.ContentType,
		CacheControl:      &o.CacheControl,
		Metadata:          map[string]string{"sha256": o.SHA256, "rounds-headers": o.headers},
	}
	if o.Encoding != "" {
		in.ContentEncoding = &o.Encoding
	}
	out, err := client.CopyObject(ctx, in)
	if err != nil {
		return "", fmt.Errorf("updating the headers of %s: %w", o.Key, explain(err))
	}
	if out.CopyObjectResult != nil && out.CopyObjectResult.ETag != nil {
		return aws.ToString(out.CopyObjectResult.ETag), nil
	}
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &o.Key})
	if err != nil {
		return "", fmt.Errorf("updating the headers of %s: %w", o.Key, explain(err))
	}
	return aws.ToString(head.ETag), nil
}

func escapeKey(k string) string {
	parts := strings.Split(k, "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "%", "%25"), " ", "%20")
	}
	return strings.Join(parts, "/")
}

// listRanges lists the objects under prefix in parallel: the keys the
// site should have, sorted, cut the key space into ranges, and each range
// is listed on its own from the key before it. Keys outside the site's
// (to delete) fall in one range or another, so nothing is missed.
func listRanges(ctx context.Context, client *s3.Client, bucket, prefix string, objects []Object, workers int) (map[string]listed, error) {
	keys := make([]string, len(objects))
	for i, o := range objects {
		keys[i] = o.Key
	}
	sort.Strings(keys)
	// A range is a page: the keys after bounds[i] up to bounds[i+1]. The
	// first starts at the prefix, the last runs to its end; keys the site
	// does not have only make a range take another page.
	const page = 1000
	n := (len(keys) + page - 1) / page
	if n <= 1 {
		return list(ctx, client, bucket, prefix)
	}
	bounds := make([]string, n+1)
	for i := 1; i < n; i++ {
		bounds[i] = keys[i*page-1]
	}
	parts := make([]map[string]listed, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(workers, 1))
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			in := &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix, MaxKeys: aws.Int32(page)}
			if i > 0 {
				in.StartAfter = aws.String(bounds[i])
			}
			part := map[string]listed{}
			p := s3.NewListObjectsV2Paginator(client, in)
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					errs[i] = fmt.Errorf("listing s3://%s/%s: %w", bucket, prefix, explain(err))
					return
				}
				for _, o := range page.Contents {
					k := aws.ToString(o.Key)
					if i < n-1 && k > bounds[i+1] {
						parts[i] = part
						return
					}
					part[k] = listed{etag: aws.ToString(o.ETag), size: aws.ToInt64(o.Size)}
					if i < n-1 && k == bounds[i+1] {
						parts[i] = part
						return
					}
				}
			}
			parts[i] = part
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := map[string]listed{}
	for _, p := range parts {
		maps.Copy(out, p)
	}
	return out, nil
}

type listed struct {
	etag string
	size int64
}

// list returns every object under prefix.
func list(ctx context.Context, client *s3.Client, bucket, prefix string) (map[string]listed, error) {
	out := map[string]listed{}
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing s3://%s/%s: %w", bucket, prefix, explain(err))
		}
		for _, o := range page.Contents {
			out[aws.ToString(o.Key)] = listed{etag: aws.ToString(o.ETag), size: aws.ToInt64(o.Size)}
		}
	}
	return out, nil
}

func readRecord(ctx context.Context, client *s3.Client, bucket, prefix string) (map[string]recordEntry, error) {
	rec := map[string]recordEntry{}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String(prefix + recordKey)})
	if err != nil {
		var nk *types.NoSuchKey
		if errors.As(err, &nk) || s3lock.IsStatus(err, 404) {
			return rec, nil
		}
		return nil, fmt.Errorf("reading the publish record: %w", explain(err))
	}
	defer out.Body.Close()
	if err := json.NewDecoder(out.Body).Decode(&rec); err != nil {
		// A damaged record only costs re-uploads.
		return map[string]recordEntry{}, nil
	}
	return rec, nil
}

func writeRecord(ctx context.Context, client *s3.Client, bucket, prefix string, rec map[string]recordEntry) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &bucket, Key: aws.String(prefix + recordKey), Body: bytes.NewReader(data),
		ContentType: aws.String("application/json"), CacheControl: aws.String("no-store"),
	})
	if err != nil {
		return fmt.Errorf("writing the publish record: %w", explain(err))
	}
	return nil
}

// deleteKeys deletes keys in batches, checking each key's result.
func deleteKeys(ctx context.Context, client *s3.Client, bucket string, keys []string) error {
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		var ids []types.ObjectIdentifier
		for _, k := range keys[:n] {
			ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
		}
		out, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
		if err != nil {
			return fmt.Errorf("deleting: %w", explain(err))
		}
		var errs []error
		for _, e := range out.Errors {
			errs = append(errs, fmt.Errorf("deleting %s: %s %s", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message)))
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// breakLock removes the publish lock, for opts.ForceUnlock, and says
// whose it was on w.
func breakLock(ctx context.Context, client *s3.Client, opts Options, w io.Writer) error {
	held, err := s3lock.Break(ctx, client, opts.Bucket, opts.Prefix+lockKey)
	var line string
	switch {
	case errors.Is(err, s3lock.ErrUnreadable):
		line = "broke an unreadable lock"
	case err != nil:
		return fmt.Errorf("breaking the publish lock: %w", explain(err))
	case held == nil:
		line = "no lock to break"
	default:
		line = fmt.Sprintf("broke the lock of %s on %s, pid %d, since %s", held.Job, held.Host, held.PID, held.Started.Format(time.RFC3339))
	}
	if w != nil {
		fmt.Fprintln(w, line)
	}
	return nil
}

// explainLock adds what to do to the errors of taking the lock.
func explainLock(err error) error {
	if errors.Is(err, s3lock.ErrHeld) || errors.Is(err, s3lock.ErrUnreadable) {
		return fmt.Errorf("%w; if no publish is running, --force-unlock removes the lock", err)
	}
	return explain(err)
}

// explain adds what to do to the errors people can fix.
func explain(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "XAmzContentSHA256Mismatch", "BadDigest":
			return fmt.Errorf("%w; a file changed since the build: build again", err)
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "Forbidden":
			return fmt.Errorf("%w; check the credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the profile) and the bucket's permissions", err)
		case "NoSuchBucket":
			return fmt.Errorf("%w; check [publish] bucket in config.toml or --bucket", err)
		}
	}
	return err
}
