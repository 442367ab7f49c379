package generator_test

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rounds-health/rounds/generator"
	"github.com/rounds-health/rounds/generator/check"
	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/corpus"
	"github.com/rounds-health/rounds/generator/site"
)

// BenchmarkBuild times a full, cold build of a synthetic newsletter of
// 10,000 notes over 20 topics (1,000 with -short). The corpus is written
// once, untimed; each iteration builds into a new, empty folder. Nothing
// is deleted until the benchmark ends: on ext4 without a journal, inodes
// freed in the last minutes make every new file and folder slower to
// create, which would time the file system rather than the build.
//
//	go test -run XXX -bench BenchmarkBuild -benchmem ./generator
func BenchmarkBuild(b *testing.B) {
	dir, n := benchCorpus(b)
	files := 0
	for i := 0; b.Loop(); i++ {
		// Each build loads config.toml, as rounds build does.
		cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
		if err != nil {
			b.Fatal(err)
		}
		res, err := generator.Build(cfg, &generator.Options{
			Options: site.Options{Now: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)},
			Out:     filepath.Join(dir, "out", strconv.Itoa(i)),
		})
		if err != nil {
			b.Fatal(err)
		}
		if res.Notes != n {
			b.Fatalf("built %d notes, want %d", res.Notes, n)
		}
		files = res.Files
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "notes/s")
	b.ReportMetric(float64(files), "files")
}

// BenchmarkCheck times rounds check over the same corpus: every content
// file scanned for patient identifiers, reviews, pages, alt text and
// reading grade.
//
//	go test -run XXX -bench BenchmarkCheck ./generator
func BenchmarkCheck(b *testing.B) {
	dir, n := benchCorpus(b)
	cfg, err := config.LoadConfig(filepath.Join(dir, "config.toml"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := check.Run(cfg, time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), check.Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "notes/s")
}

// benchCorpus writes the benchmarks' synthetic newsletter, untimed, and
// returns its folder and its number of notes: 10,000, or 1,000 with
// -short.
func benchCorpus(b *testing.B) (string, int) {
	b.Helper()
	n := 10000
	if testing.Short() {
		n = 1000
	}
	dir := b.TempDir()
	if err := corpus.Write(dir, n, filepath.Join("..", "themes", "default")); err != nil {
		b.Fatal(err)
	}
	return dir, n
}
