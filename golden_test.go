package main

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from today's build of the example")

// TestGolden builds the bundled example newsletter as published and as
// previewed (drafts and scheduled notes shown), and compares every file
// with the copy kept in testdata/golden, byte for byte: a change to the
// engine's shape must not change the site. A change meant to change the
// site rewrites the copy with
//
//	go test -run TestGolden -update .
//
// and the diff of testdata/golden shows, in review, what readers will see.
func TestGolden(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"published", nil},
		{"preview", []string{"--drafts", "--future"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A copy of the example, so that no feed cache a fetch left in
			// the work tree reaches the build.
			dir := t.TempDir()
			for _, p := range []string{"content", "themes"} {
				copyTree(t, filepath.Join(dir, p), p)
			}
			cfg, err := os.ReadFile("config.toml")
			if err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, "config.toml"), string(cfg))
			out := filepath.Join(dir, "public")
			args := append([]string{"build", "--config", filepath.Join(dir, "config.toml"), "--out", out, "--now", "2026-12-01T12:00:00Z"}, tc.flags...)
			if code, _, stderr := rounds(args...); code != 0 {
				t.Fatalf("rounds %v: exit %d\n%s", args, code, stderr)
			}
			want := filepath.Join("testdata", "golden", tc.name)
			if *update {
				if err := os.RemoveAll(want); err != nil {
					t.Fatal(err)
				}
				copyTree(t, want, out)
				return
			}
			got, exp := files(t, out), files(t, want)
			for _, p := range sortedNames(exp) {
				g, ok := got[p]
				switch {
				case !ok:
					t.Errorf("%s: missing from the build", p)
				case !bytes.Equal(g, exp[p]):
					t.Errorf("%s: differs from %s (%d bytes, want %d)%s", p, filepath.Join(want, p), len(g), len(exp[p]), firstDiff(g, exp[p]))
				}
			}
			for _, p := range sortedNames(got) {
				if _, ok := exp[p]; !ok {
					t.Errorf("%s: built, but not in %s", p, want)
				}
			}
		})
	}
}

// files reads every file below dir, keyed by its slash path.
func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		m[p], err = os.ReadFile(filepath.Join(dir, p))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sortedNames(m map[string][]byte) []string {
	names := make([]string, 0, len(m))
	for p := range m {
		names = append(names, p)
	}
	slices.Sort(names)
	return names
}

// firstDiff shows the first line where got and want part.
func firstDiff(got, want []byte) string {
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := range min(len(g), len(w)) {
		if !bytes.Equal(g[i], w[i]) {
			return fmt.Sprintf("\n  line %d\n  got:  %s\n  want: %s", i+1, clip(g[i]), clip(w[i]))
		}
	}
	return "\n  one ends before the other"
}

func clip(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}
