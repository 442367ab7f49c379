package render

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rounds-health/rounds/generator/browsertest"
	"github.com/rounds-health/rounds/generator/output"
)

// TestSitemapLimits makes the sitemaps of 50,000 URLs (one sitemap, at
// the protocol's limit) and of 50,001 (a sitemap index of two), and of
// URLs too long for 50 MB in one file, and validates every file with
// xmllint against the protocol's schemas.
func TestSitemapLimits(t *testing.T) {
	t.Parallel()
	xmllint := browsertest.Tool(t, "xmllint", "--version")
	abs := func(p string) string { return "https://example.org/news/" + p }
	urls := func(n, pad int) []sitemapURL {
		list := make([]sitemapURL, n)
		for i := range list {
			list[i] = sitemapURL{abs(fmt.Sprintf("notes/%s%d/", strings.Repeat("x", pad), i)), fmt.Sprintf("2026-%02d-%02d", 1+i%12, 1+i%28)}
		}
		return list
	}
	for _, c := range []struct {
		name string
		urls []sitemapURL
		// want are the URLs of each sitemap; one means no index.
		want []int
	}{
		{"50,000 URLs", urls(50000, 0), []int{50000}},
		{"50,001 URLs", urls(50001, 0), []int{50000, 1}},
		{"100,001 URLs", urls(100001, 0), []int{50000, 50000, 1}},
		// Entries of about 1,100 bytes: 50 MB holds about 47,000.
		{"long URLs", urls(50000, 1000), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			files := sitemapFiles(c.urls, abs, sitemapMaxURLs, sitemapMaxBytes)
			got := map[string][]byte{}
			for _, f := range files {
				var buf output.Buffer
				if err := f.Render(&buf); err != nil {
					t.Fatal(err)
				}
				if buf.Len() > sitemapMaxBytes {
					t.Errorf("%s: %d bytes, more than 50 MB", f.Path, buf.Len())
				}
				got[f.Path] = buf.Bytes()
				if err := os.WriteFile(filepath.Join(dir, f.Path), buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			index := len(files) > 1
			counts := []int{}
			total := 0
			for i := range len(files) - btoi(index) {
				name := "sitemap.xml"
				if index {
					name = fmt.Sprintf("sitemap-%d.xml", i+1)
				}
				n := bytes.Count(got[name], []byte("<url>"))
				counts = append(counts, n)
				total += n
				xmlValid(t, xmllint, filepath.Join(dir, name), "sitemap.xsd")
			}
			if c.want != nil && fmt.Sprint(counts) != fmt.Sprint(c.want) {
				t.Errorf("URLs per sitemap: %v, want %v", counts, c.want)
			}
			if c.want == nil && len(counts) < 2 {
				t.Errorf("%d sitemaps for URLs past 50 MB", len(counts))
			}
			if total != len(c.urls) {
				t.Errorf("the sitemaps list %d URLs of %d", total, len(c.urls))
			}
			if index {
				xmlValid(t, xmllint, filepath.Join(dir, "sitemap.xml"), "siteindex.xsd")
				for i := range counts {
					loc := fmt.Sprintf("<loc>%s</loc>", abs(fmt.Sprintf("sitemap-%d.xml", i+1)))
					if !bytes.Contains(got["sitemap.xml"], []byte(loc)) {
						t.Errorf("the index does not name sitemap-%d.xml", i+1)
					}
				}
				if !bytes.Contains(got["sitemap.xml"], []byte("<lastmod>2026-12-28</lastmod>")) {
					t.Error("the index gives no sitemap's latest change")
				}
			}
		})
	}
}

// xmlValid validates the XML file at path with xmllint against a schema
// in testdata.
func xmlValid(t *testing.T, xmllint, path, schema string) {
	t.Helper()
	out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("testdata", schema), path).CombinedOutput()
	if err != nil {
		t.Errorf("xmllint %s: %v\n%.2000s", filepath.Base(path), err, out)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestSplitSitemapBound checks that the cuts splitSitemap makes from its
// bound on an entry's size, without writing it, are those made by
// measuring every entry, for URLs that escape to more bytes than they
// have, at limits around their size.
func TestSplitSitemapBound(t *testing.T) {
	t.Parallel()
	var urls []sitemapURL
	for i := range 200 {
		loc := fmt.Sprintf("https://example.org/notes/%d/", i)
		if i%7 == 0 {
			loc += "?a=1&b=<2>&c='3'"
		}
		mod := ""
		if i%3 == 0 {
			mod = "2026-11-28"
		}
		urls = append(urls, sitemapURL{loc, mod})
	}
	for _, max := range []int{1, 7, 50, 199, 200, 1000} {
		for _, size := range []int{200, 1000, 4000, 20000, 60000, 1 << 20} {
			got, want := splitSitemap(urls, max, size), measureCuts(urls, max, size)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("max %d, size %d: cuts %v, want %v", max, size, got, want)
			}
		}
	}
}

// TestIsSitemap checks the paths a preview's plan makes the sitemaps for.
func TestIsSitemap(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{
		"sitemap.xml": true, "sitemap-1.xml": true, "sitemap-12.xml": true,
		"sitemap-0.xml": false, "sitemap-01.xml": false, "sitemap-.xml": false, "sitemap-+1.xml": false,
		"sitemap-x.xml": false, "notes/sitemap.xml": false, "sitemap.xml.gz": false, "sitemaps.xml": false,
	} {
		if got := isSitemap(p); got != want {
			t.Errorf("isSitemap(%q) = %v, want %v", p, got, want)
		}
	}
}
