package publish

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rounds-health/rounds/generator"
	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/corpus"
	"github.com/rounds-health/rounds/generator/output"
	"github.com/rounds-health/rounds/generator/s3test"
	"github.com/rounds-health/rounds/generator/site"
)

var testNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// newsletter writes a synthetic newsletter of n notes and builds it; it returns
// the project folder and the built folder.
func newsletter(t testing.TB, n int) (string, string) {
	t.Helper()
	dir := t.TempDir()
	theme, _ := filepath.Abs(filepath.Join("..", "..", "themes", "default"))
	if err := corpus.Write(dir, n, theme); err != nil {
		t.Fatal(err)
	}
	return dir, rebuild(t, dir)
}

func rebuild(t testing.TB, dir string, mod ...func(*generator.Options)) string {
	t.Helper()
	opts := &generator.Options{Options: site.Options{Now: testNow}}
	for _, m := range mod {
		m(opts)
	}
	cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := generator.Build(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res.Out
}

// bucketState returns every object of the bucket with its bytes.
func bucketState(t testing.TB, c *s3.Client, bucket string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for key := range listing(t, c, bucket) {
		obj, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		out[key] = data
	}
	return out
}

// listing returns the bucket's keys with their ETags.
func listing(t testing.TB, c *s3.Client, bucket string) map[string]string {
	t.Helper()
	out := map[string]string{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			out[aws.ToString(o.Key)] = aws.ToString(o.ETag)
		}
	}
	return out
}

// sameAsSite fails unless the bucket holds exactly the site's public files
// (and the publish record), byte for byte.
func sameAsSite(t testing.TB, c *s3.Client, bucket, out string) {
	t.Helper()
	state := bucketState(t, c, bucket)
	m, err := output.ReadManifest(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range m.Files {
		data, _ := os.ReadFile(filepath.Join(out, filepath.FromSlash(f.Path)))
		if got, ok := state[f.Path]; !ok {
			t.Errorf("%s is not in the bucket", f.Path)
		} else if !bytes.Equal(got, data) {
			t.Errorf("%s differs in the bucket", f.Path)
		}
		delete(state, f.Path)
	}
	delete(state, recordKey)
	for k := range state {
		t.Errorf("%s is in the bucket but not in the site", k)
	}
}

func opts(out, bucket string) Options {
	return Options{Dir: out, Bucket: bucket, MaxDeletes: 256, Workers: 8, Now: func() time.Time { return testNow }}
}

func TestPublish(t *testing.T) {
	t.Parallel()
	srv := s3test.New(t)
	c := srv.Bucket(t, "site")
	dir, out := newsletter(t, 40)
	ctx := context.Background()

	var log strings.Builder
	plan, err := Publish(ctx, c, opts(out, "site"), &log)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := output.ReadManifest(out)
	if len(plan.Uploads) != len(m.Files) || len(plan.Deletes) != 0 {
		t.Errorf("first publish: %d uploads for %d files", len(plan.Uploads), len(m.Files))
	}
	if !strings.Contains(log.String(), fmt.Sprintf("plan: %d uploads", len(m.Files))) {
		t.Errorf("plan not printed: %q", log.String())
	}
	sameAsSite(t, c, "site", out)
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("site"), Key: aws.String(output.ManifestFile)}); err == nil {
		t.Error("the private manifest was uploaded")
	}
	// Headers.
	var css string
	for _, f := range m.Files {
		if strings.HasPrefix(f.Path, "css/style.") {
			css = f.Path
		}
	}
	for key, want := range map[string][2]string{
		"index.html":                 {"text/html; charset=utf-8", "public, max-age=300, must-revalidate"},
		css:                          {"text/css; charset=utf-8", "public, max-age=31536000, immutable"},
		"feed.xml":                   {"application/rss+xml; charset=utf-8", "public, max-age=900"},
		"feed.json":                  {"application/feed+json; charset=utf-8", "public, max-age=900"},
		"topics/cardiology/atom.xml": {"application/atom+xml; charset=utf-8", "public, max-age=900"},
	} {
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("site"), Key: aws.String(key)})
		if err != nil {
			t.Errorf("%s: %v", key, err)
			continue
		}
		if aws.ToString(h.ContentType) != want[0] || aws.ToString(h.CacheControl) != want[1] {
			t.Errorf("%s: Content-Type %q, Cache-Control %q; want %q", key, aws.ToString(h.ContentType), aws.ToString(h.CacheControl), want)
		}
		if len(h.Metadata["sha256"]) != 64 {
			t.Errorf("%s: metadata %v", key, h.Metadata)
		}
	}

	// The search index's files, built compressed, are stored as they
	// are, with Content-Encoding: gzip, for browsers to inflate (and
	// sameAsSite found their bytes the built ones).
	shards := 0
	for _, f := range m.Files {
		if !strings.HasSuffix(f.Path, ".gz") {
			continue
		}
		shards++
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("site"), Key: aws.String(f.Path)})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(h.ContentEncoding) != "gzip" || aws.ToString(h.ContentType) != "application/octet-stream" || aws.ToInt64(h.ContentLength) != f.Size {
			t.Errorf("%s: Content-Encoding %q, Content-Type %q, %d bytes; want gzip, application/octet-stream, %d bytes", f.Path, aws.ToString(h.ContentEncoding), aws.ToString(h.ContentType), aws.ToInt64(h.ContentLength), f.Size)
		}
	}
	if shards == 0 {
		t.Error("the site has no search index")
	}

	// Nothing changed: nothing to do.
	plan, err = Publish(ctx, c, opts(out, "site"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Uploads)+len(plan.Updates)+len(plan.Deletes) != 0 || plan.Unchanged != len(m.Files) {
		t.Errorf("republish of the same build: %d uploads, %d updates, %d deletes", len(plan.Uploads), len(plan.Updates), len(plan.Deletes))
	}

	// One note changed: exactly the files whose bytes changed go up.
	note := filepath.Join(dir, "content", "notes", "note-00007.md")
	data, _ := os.ReadFile(note)
	os.WriteFile(note, bytes.Replace(data, []byte("## Why it matters"), []byte("## Why it matters\n\nA sentence the curator added."), 1), 0o644)
	out = rebuild(t, dir)
	m2, _ := output.ReadManifest(out)
	var changed []string
	old := map[string]string{}
	for _, f := range m.Files {
		old[f.Path] = f.SHA256
	}
	for _, f := range m2.Files {
		if old[f.Path] != f.SHA256 && !private(f.Path) {
			changed = append(changed, f.Path)
		}
	}
	plan, err = Publish(ctx, c, opts(out, "site"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var uploaded []string
	for _, o := range plan.Uploads {
		uploaded = append(uploaded, o.Path)
	}
	sort.Strings(uploaded)
	if len(changed) == 0 || !slices.Equal(uploaded, changed) {
		t.Errorf("after a one-note change: uploaded %v, want the changed files %v", uploaded, changed)
	}
	sameAsSite(t, c, "site", out)

	// A rule change updates headers without uploading bytes.
	o := opts(out, "site")
	o.Rules = append([]Rule{{Pattern: "**/*.html", CacheControl: "public, max-age=60"}}, DefaultRules...)
	before, _ := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("site"), Key: aws.String("index.html")})
	plan, err = Publish(ctx, c, o, nil)
	if err != nil {
		t.Fatal(err)
	}
	html := 0
	for _, f := range m2.Files {
		if strings.HasSuffix(f.Path, ".html") {
			html++
		}
	}
	if len(plan.Uploads) != 0 || len(plan.Updates) != html {
		t.Errorf("a Cache-Control change: %d uploads, %d header updates; want 0 and %d", len(plan.Uploads), len(plan.Updates), html)
	}
	after, _ := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("site"), Key: aws.String("index.html")})
	if aws.ToString(after.CacheControl) != "public, max-age=60" || aws.ToString(after.ETag) != aws.ToString(before.ETag) {
		t.Errorf("after the header update: Cache-Control %q, ETag %s (was %s)", aws.ToString(after.CacheControl), aws.ToString(after.ETag), aws.ToString(before.ETag))
	}
	sameAsSite(t, c, "site", out)
	if plan, _ := Publish(ctx, c, o, nil); len(plan.Updates)+len(plan.Uploads) != 0 {
		t.Error("the header update does not stick")
	}
}

func TestPublishDeletes(t *testing.T) {
	t.Parallel()
	srv := s3test.New(t)
	c := srv.Bucket(t, "site")
	dir, out := newsletter(t, 30)
	ctx := context.Background()
	if _, err := Publish(ctx, c, opts(out, "site"), nil); err != nil {
		t.Fatal(err)
	}
	m1, _ := output.ReadManifest(out)
	// Files outside the site: one under an excluded prefix, one not.
	for _, k := range []string{"uploads/report.pdf", "old-page/index.html"} {
		c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("site"), Key: aws.String(k), Body: strings.NewReader("x")})
	}
	for i := 1; i <= 20; i++ {
		os.Remove(filepath.Join(dir, "content", "notes", fmt.Sprintf("note-%05d.md", i)))
	}
	out = rebuild(t, dir)
	o := opts(out, "site")
	o.MaxDeletes, o.Exclude = 5, []string{"uploads/"}
	plan, err := Publish(ctx, c, o, nil)
	if err == nil || !strings.Contains(err.Error(), "more than max_deletes (5)") {
		t.Fatalf("over the delete cap: %v", err)
	}
	m2, _ := output.ReadManifest(out)
	kept := map[string]bool{}
	for _, f := range m2.Files {
		kept[f.Path] = true
	}
	want := []string{"old-page/index.html"}
	for _, f := range m1.Files {
		if !kept[f.Path] && !private(f.Path) {
			want = append(want, f.Path)
		}
	}
	sort.Strings(want)
	if !slices.Equal(plan.Deletes, want) {
		t.Errorf("deletes planned: %v\nwant the dropped pages and the stray one: %v", plan.Deletes, want)
	}
	state := bucketState(t, c, "site")
	if _, ok := state["notes/note-00001/index.html"]; !ok {
		t.Error("something was deleted over the cap")
	}
	o.Confirm = true
	if _, err := Publish(ctx, c, o, nil); err != nil {
		t.Fatal(err)
	}
	state = bucketState(t, c, "site")
	if _, ok := state["uploads/report.pdf"]; !ok {
		t.Error("an excluded prefix was deleted")
	}
	delete(state, "uploads/report.pdf")
	c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("site"), Key: aws.String("uploads/report.pdf")})
	sameAsSite(t, c, "site", out)
}

func TestPublishRefuses(t *testing.T) {
	t.Parallel()
	srv := s3test.New(t)
	c := srv.Bucket(t, "site")
	dir, out := newsletter(t, 5)
	ctx := context.Background()

	// Bad credentials: a clear error, nothing changed.
	bad := srv.Client(s3test.AccessKey, "wrong-secret")
	if _, err := Publish(ctx, bad, opts(out, "site"), nil); err == nil || !strings.Contains(err.Error(), "check the credentials") {
		t.Errorf("bad credentials: %v", err)
	}
	if n := len(bucketState(t, c, "site")); n != 0 {
		t.Errorf("bad credentials left %d objects", n)
	}
	// A preview build.
	preview := rebuild(t, dir, func(o *generator.Options) { o.Out = filepath.Join(t.TempDir(), "preview"); o.Drafts = true })
	if _, err := Publish(ctx, c, opts(preview, "site"), nil); err == nil || !strings.Contains(err.Error(), "preview") {
		t.Errorf("a preview build: %v", err)
	}
	// A build whose manifest says its content may identify a patient
	// (rounds build writes none; an older one did), and one that records
	// no scan at all: refused on the build's own verdict.
	phi := filepath.Join(t.TempDir(), "phi")
	os.CopyFS(phi, os.DirFS(out))
	data, _ := os.ReadFile(filepath.Join(phi, output.ManifestFile))
	os.WriteFile(filepath.Join(phi, output.ManifestFile), bytes.Replace(data, []byte(`"phi":0`), []byte(`"phi":1`), 1), 0o644)
	if _, err := Publish(ctx, c, opts(phi, "site"), nil); err == nil || !strings.Contains(err.Error(), "1 finding that may identify a patient") || !strings.Contains(err.Error(), "nothing was published") {
		t.Errorf("a build with a patient's phone number: %v", err)
	}
	unscanned := filepath.Join(t.TempDir(), "unscanned")
	os.CopyFS(unscanned, os.DirFS(out))
	manifest := filepath.Join(unscanned, output.ManifestFile)
	data, _ = os.ReadFile(manifest)
	os.WriteFile(manifest, regexp.MustCompile(`"check":\{[^}]*\},`).ReplaceAll(data, nil), 0o644)
	if _, err := Publish(ctx, c, opts(unscanned, "site"), nil); err == nil || !strings.Contains(err.Error(), "not scanned for patient identifiers") {
		t.Errorf("a build whose manifest has no verdict: %v", err)
	}
	if n := len(bucketState(t, c, "site")); n != 0 {
		t.Errorf("refused builds left %d objects", n)
	}
	// No build at all.
	if _, err := Publish(ctx, c, opts(t.TempDir(), "site"), nil); err == nil || !strings.Contains(err.Error(), "run rounds build") {
		t.Errorf("an empty folder: %v", err)
	}
	// An unknown file type is an error unless configured.
	if _, err := contentType("files/data.xyz", nil); err == nil || !strings.Contains(err.Error(), "[publish.types]") {
		t.Errorf("an unknown extension: %v", err)
	}
	if ct, err := contentType("files/data.xyz", map[string]string{".xyz": "chemical/x-xyz"}); err != nil || ct != "chemical/x-xyz" {
		t.Errorf("a configured extension: %q %v", ct, err)
	}

	// The lock: a live one stops the publish; an expired one is taken over.
	lockBody := fmt.Sprintf(`{"host":"ci","pid":1,"started":%q,"expires":%q}`, testNow.Format(time.RFC3339), testNow.Add(time.Minute).Format(time.RFC3339))
	c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("site"), Key: aws.String(lockKey), Body: strings.NewReader(lockBody)})
	if _, err := Publish(ctx, c, opts(out, "site"), nil); err == nil || !strings.Contains(err.Error(), "is held by another process") {
		t.Errorf("a held lock: %v", err)
	}
	late := opts(out, "site")
	late.Now = func() time.Time { return testNow.Add(2 * time.Minute) }
	if _, err := Publish(ctx, c, late, nil); err != nil {
		t.Errorf("an expired lock: %v", err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("site"), Key: aws.String(lockKey)}); err == nil {
		t.Error("the lock was not released")
	}
}

func TestPublishGzip(t *testing.T) {
	t.Parallel()
	srv := s3test.New(t)
	c := srv.Bucket(t, "site")
	_, out := newsletter(t, 5)
	o := opts(out, "site")
	o.Gzip, o.Prefix = true, "news/"
	if _, err := Publish(context.Background(), c, o, nil); err != nil {
		t.Fatal(err)
	}
	obj, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("site"), Key: aws.String("news/index.html")})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	if aws.ToString(obj.ContentEncoding) != "gzip" {
		t.Fatalf("Content-Encoding %q", aws.ToString(obj.ContentEncoding))
	}
	raw, _ := io.ReadAll(obj.Body)
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		// Some clients decode transparently; the bytes are then the page.
		raw2, _ := os.ReadFile(filepath.Join(out, "index.html"))
		if !bytes.Equal(raw, raw2) {
			t.Fatal(err)
		}
		return
	}
	got, _ := io.ReadAll(zr)
	want, _ := os.ReadFile(filepath.Join(out, "index.html"))
	if !bytes.Equal(got, want) {
		t.Error("the gzipped object is not the page")
	}
}

func TestCollapse(t *testing.T) {
	t.Parallel()
	paths := []string{"/index.html", "/feed.xml", "/notes/a/index.html", "/notes/b/index.html", "/topics/x/index.html", "/topics/x/page/2/index.html"}
	if got := Collapse(paths, 20); len(got) != 11 || !slices.Contains(got, "/notes/a/") || !slices.Contains(got, "/") {
		t.Errorf("Collapse within the limit = %v", got)
	}
	got := Collapse(paths, 5)
	want := []string{"/", "/feed.xml", "/index.html", "/notes/*", "/topics/*"}
	if !slices.Equal(got, want) {
		t.Errorf("Collapse to 5 = %v, want %v", got, want)
	}
	if got := Collapse(paths, 1); !slices.Equal(got, []string{"/*"}) {
		t.Errorf("Collapse to 1 = %v", got)
	}
}

// fakeCDN records invalidations.
type fakeCDN struct{ paths [][]string }

func (f *fakeCDN) Invalidate(_ context.Context, paths []string) error {
	f.paths = append(f.paths, paths)
	return nil
}

func TestPublishInvalidates(t *testing.T) {
	t.Parallel()
	srv := s3test.New(t)
	c := srv.Bucket(t, "site")
	_, out := newsletter(t, 5)
	cdn := &fakeCDN{}
	o := opts(out, "site")
	o.Invalidator = cdn
	if _, err := Publish(context.Background(), c, o, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Publish(context.Background(), c, o, nil); err != nil {
		t.Fatal(err)
	}
	if len(cdn.paths) != 2 || len(cdn.paths[0]) == 0 || len(cdn.paths[0]) > 15 || len(cdn.paths[1]) != 0 {
		t.Errorf("invalidations %v", cdn.paths)
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pattern, path string
		want          bool
	}{
		{"**/*.html", "index.html", true},
		{"**/*.html", "notes/a/index.html", true},
		{"notes/*", "notes/a/index.html", false},
		{"notes/**", "notes/a/index.html", true},
		{"**/*.{xml,json}", "topics/x/feed.json", true},
		{DefaultRules[0].Pattern, "css/style.0123456789.css", true},
		{DefaultRules[0].Pattern, "css/style.css", false},
		{DefaultRules[0].Pattern, "search/meta.0123456789.json", true},
		{DefaultRules[1].Pattern, "search/s/0123456789.gz", true},
		{DefaultRules[1].Pattern, "search/index.html", false},
	} {
		if got := match(tc.pattern, tc.path); got != tc.want {
			t.Errorf("match(%q, %q) = %v", tc.pattern, tc.path, got)
		}
	}
	// Files named after their contents go up before the pages that name
	// them.
	for p, want := range map[string]int{"search/meta.0123456789.json": 0, "search/d/0123456789.gz": 0, "search/index.html": 1, "feed.json": 1} {
		if got := phase(p); got != want {
			t.Errorf("phase(%q) = %d, want %d", p, got, want)
		}
	}
}
