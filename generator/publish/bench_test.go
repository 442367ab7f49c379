package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/rounds-health/rounds/generator/output"
	"github.com/rounds-health/rounds/generator/s3test"
)

// flatSite writes a built site of n small files, as a build of n notes
// leaves it (pages of 2–20 kB, a few assets), with its manifest, without
// running a build.
func flatSite(tb testing.TB, n int) string {
	tb.Helper()
	out := tb.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	m := output.Manifest{Version: 1}
	add := func(p string, data []byte) {
		full := filepath.Join(out, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			tb.Fatal(err)
		}
		sum := sha256.Sum256(data)
		m.Files = append(m.Files, output.Item{Path: p, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
	}
	para := strings.Repeat("<p>A sentence of a note on a study of hearts and lungs.</p>\n", 40)
	for i := range n {
		size := 2000 + r.IntN(18000)
		page := fmt.Sprintf("<!doctype html><title>Note %d</title>\n", i) + strings.Repeat(para, size/len(para)+1)
		switch {
		case i == 0:
			add("index.html", []byte(page[:size]))
		case i%500 == 0:
			add(fmt.Sprintf("img/figure-%05d.png", i), []byte(page[:size]))
		default:
			add(fmt.Sprintf("notes/note-%05d/index.html", i), []byte(page[:size]))
		}
	}
	data, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	add(output.ManifestFile, data)
	return out
}

// BenchmarkPublishFirst times the first full publish of 3,000 small files
// to an empty bucket of a versitygw on loopback, through NewClient as
// rounds publish makes it (checksums = "when_required").
func BenchmarkPublishFirst(b *testing.B) {
	benchPublish(b, flatSite(b, 3000), s3test.New(b).Endpoint)
}

// BenchmarkPublishBuild is BenchmarkPublishFirst for the build in
// $ROUNDS_BENCH_SITE (such as bench/out/public-rounds), to the store at
// $ROUNDS_BENCH_ENDPOINT (with s3test's credentials) or a versitygw of its
// own. It is skipped without a build.
func BenchmarkPublishBuild(b *testing.B) {
	out := os.Getenv("ROUNDS_BENCH_SITE")
	if out == "" {
		b.Skip("no $ROUNDS_BENCH_SITE")
	}
	endpoint := os.Getenv("ROUNDS_BENCH_ENDPOINT")
	if endpoint == "" {
		endpoint = s3test.New(b).Endpoint
	}
	benchPublish(b, out, endpoint)
}

// benchPublish publishes the build in out to a new bucket of the store at
// endpoint, b.N times.
func benchPublish(b *testing.B, out, endpoint string) {
	b.Setenv("AWS_ACCESS_KEY_ID", s3test.AccessKey)
	b.Setenv("AWS_SECRET_ACCESS_KEY", s3test.SecretKey)
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	ctx := context.Background()
	client, err := NewClient(ctx, Store{Endpoint: endpoint, Region: "us-east-1", PathStyle: true, Checksums: "when_required"})
	if err != nil {
		b.Fatal(err)
	}
	files := 0
	for b.Loop() {
		bucket := fmt.Sprintf("bench-%d", time.Now().UnixNano())
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			b.Fatal(err)
		}
		plan, err := Publish(ctx, client, Options{Dir: out, Bucket: bucket}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(plan.Deletes)+len(plan.Updates)+plan.Unchanged != 0 {
			b.Fatalf("not a first publish: %d deletes, %d updates, %d unchanged", len(plan.Deletes), len(plan.Updates), plan.Unchanged)
		}
		files += len(plan.Uploads)
	}
	b.ReportMetric(float64(files)/b.Elapsed().Seconds(), "files/s")
}
