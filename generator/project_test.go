package generator

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/internal/testproject"
	"github.com/rounds-health/rounds/generator/render"
	"github.com/rounds-health/rounds/generator/site"
)

// build builds the project in dir as of testproject.Now into dir/public.
func build(t testing.TB, dir string, mod ...func(*Options)) (*render.Result, error) {
	t.Helper()
	opts := &Options{Options: site.Options{Now: testproject.Now}}
	for _, m := range mod {
		m(opts)
	}
	return buildFile(t, filepath.Join(dir, "config.toml"), opts)
}

// buildFile builds the project whose config.toml is file.
func buildFile(t testing.TB, file string, opts *Options) (*render.Result, error) {
	t.Helper()
	cfg, err := config.LoadConfig(file)
	if err != nil {
		return nil, err
	}
	return Build(cfg, opts)
}

// mustBuild builds and fails the test on error.
func mustBuild(t testing.TB, dir string, mod ...func(*Options)) *render.Result {
	t.Helper()
	res, err := build(t, dir, mod...)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return res
}

// read returns the output file p of the build in dir.
func read(t testing.TB, dir, p string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "public", filepath.FromSlash(p)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func exists(dir, p string) bool {
	_, err := os.Stat(filepath.Join(dir, "public", filepath.FromSlash(p)))
	return err == nil
}

// tree returns every file under dir with its bytes.
func tree(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTree fails unless a and b hold the same files with the same bytes.
func sameTree(t testing.TB, a, b map[string][]byte) {
	t.Helper()
	if len(a) != len(b) {
		t.Errorf("trees have %d and %d files", len(a), len(b))
	}
	for p, data := range a {
		if other, ok := b[p]; !ok {
			t.Errorf("%s: only in the first tree", p)
		} else if !bytes.Equal(data, other) {
			t.Errorf("%s: differs", p)
		}
	}
}
