package render

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/rounds-health/rounds/generator/output"
)

// The sitemaps protocol's limits on one file: 50,000 URLs, and 50 MB
// (52,428,800 bytes) before compression. A site past them gets a sitemap
// index at sitemap.xml, naming sitemap-1.xml, sitemap-2.xml and so on.
const (
	sitemapMaxURLs  = 50000
	sitemapMaxBytes = 50 << 20
)

// The sitemaps protocol's namespace, and the start and end of a sitemap
// and of a sitemap index.
const (
	sitemapNS    = "http://www.sitemaps.org/schemas/sitemap/0.9"
	urlsetOpen   = xml.Header + `<urlset xmlns="` + sitemapNS + `">` + "\n"
	urlsetClose  = "</urlset>\n"
	sitemapsOpen = xml.Header + `<sitemapindex xmlns="` + sitemapNS + `">` + "\n"
	sitemapsEnd  = "</sitemapindex>\n"
)

// A sitemapURL is a page a sitemap lists: its address and, for a note or
// an edition, the day it last changed.
type sitemapURL struct{ loc, mod string }

// sitemapURLs returns every published page a reader can land on.
func (w *writer) sitemapURLs() []sitemapURL {
	s := w.site
	cfg := s.Config
	urls := make([]sitemapURL, 0, len(s.Notes)+len(s.Editions)+len(s.Topics)+len(s.Audiences)+len(s.Pages)+8)
	add := func(p, mod string) { urls = append(urls, sitemapURL{cfg.AbsURL(p), mod}) }
	add("", "")
	add("archive/", "")
	add("notes/", "")
	for _, e := range s.Editions {
		add(e.Path(), e.Published.In(cfg.Location()).Format("2006-01-02"))
	}
	// A note is dated by what lists show of it, not by its body.
	for _, n := range s.Notes {
		mod := n.Published
		if n.LastReviewed.After(mod) {
			mod = n.LastReviewed
		}
		add(n.Path(), mod.In(cfg.Location()).Format("2006-01-02"))
	}
	add("topics/", "")
	for _, t := range s.Topics {
		add(t.Path(), "")
	}
	add("audiences/", "")
	for _, t := range s.Audiences {
		add(t.Path(), "")
	}
	for _, p := range s.Pages {
		add(p.Path(), "")
	}
	if len(s.Wire.Sources) > 0 {
		add("wire/", "")
	}
	if cfg.Subscribers.ServiceURL() != nil {
		add("subscribe/", "")
	}
	return urls
}

// planSitemaps schedules the sitemap, or past the protocol's limits the
// sitemap index and its sitemaps. A preview's plan (w.lazySitemaps) only
// keeps their first path: which sitemaps a site has is known from every
// page's address, which a rebuild under rounds serve would make again
// for every edit; Plan makes them when one is asked for.
func (w *writer) planSitemaps() {
	if w.lazySitemaps {
		w.seen["sitemap.xml"] = "the sitemap"
		return
	}
	for _, f := range w.sitemapFiles() {
		w.add(f, f.Path)
	}
}

// sitemapFiles returns the files of the site's sitemaps.
func (w *writer) sitemapFiles() []output.File {
	return sitemapFiles(w.sitemapURLs(), w.site.Config.AbsURL, sitemapMaxURLs, sitemapMaxBytes)
}

// isSitemap reports whether p is where a sitemap or the sitemap index is.
func isSitemap(p string) bool {
	if p == "sitemap.xml" {
		return true
	}
	n, ok := strings.CutPrefix(p, "sitemap-")
	if !ok {
		return false
	}
	if n, ok = strings.CutSuffix(n, ".xml"); !ok || n == "" {
		return false
	}
	_, err := strconv.Atoi(n)
	return err == nil && n[0] != '0' && n[0] != '-' && n[0] != '+'
}

// sitemapFiles returns the sitemap files of urls: sitemap.xml alone
// when it holds at most max URLs in at most size bytes; otherwise
// sitemap.xml is a sitemap index of sitemap-1.xml, sitemap-2.xml and so
// on, each within the limits. abs makes a site path an address.
func sitemapFiles(urls []sitemapURL, abs func(string) string, max, size int) []output.File {
	cuts := splitSitemap(urls, max, size)
	if len(cuts) == 1 {
		return []output.File{{Path: "sitemap.xml", Render: func(buf *output.Buffer) error {
			writeSitemap(buf, urls)
			return nil
		}}}
	}
	var files []output.File
	var index []sitemapURL
	for i, start := range cuts {
		end := len(urls)
		if i+1 < len(cuts) {
			end = cuts[i+1]
		}
		part := urls[start:end]
		name := "sitemap-" + strconv.Itoa(i+1) + ".xml"
		index = append(index, sitemapURL{abs(name), latest(part)})
		files = append(files, output.File{Path: name, Render: func(buf *output.Buffer) error {
			writeSitemap(buf, part)
			return nil
		}})
	}
	return append(files, output.File{Path: "sitemap.xml", Render: func(buf *output.Buffer) error {
		writeSitemapIndex(buf, index)
		return nil
	}})
}

// splitSitemap returns where each sitemap's URLs begin in urls: a new
// sitemap at max URLs, or before one would pass size bytes. It returns
// one start, 0, for a list that fits one sitemap, even an empty one.
func splitSitemap(urls []sitemapURL, max, size int) []int {
	// Most sites' URLs fit a sitemap every max URLs even at their
	// longest: XML escapes a byte into at most five. Then the cuts fall
	// every max URLs, and no entry need be written to be measured.
	cuts := []int{0}
	fits := true
	for start := 0; start < len(urls) && fits; start += max {
		bound := len(urlsetOpen) + len(urlsetClose)
		for _, u := range urls[start:min(start+max, len(urls))] {
			bound += len("  <url><loc></loc></url>\n") + 5*len(u.loc)
			if u.mod != "" {
				bound += len("<lastmod></lastmod>") + len(u.mod)
			}
		}
		fits = bound <= size
		if start > 0 {
			cuts = append(cuts, start)
		}
	}
	if fits {
		return cuts
	}
	return measureCuts(urls, max, size)
}

// measureCuts is splitSitemap measuring every entry as written.
func measureCuts(urls []sitemapURL, max, size int) []int {
	cuts := []int{0}
	var entry bytes.Buffer
	n, total := 0, len(urlsetOpen)+len(urlsetClose)
	for i, u := range urls {
		entry.Reset()
		writeEntry(&entry, "url", u)
		if n > 0 && (n == max || total+entry.Len() > size) {
			cuts = append(cuts, i)
			n, total = 0, len(urlsetOpen)+len(urlsetClose)
		}
		n++
		total += entry.Len()
	}
	return cuts
}

// latest returns the latest day of urls', "" when none has one.
func latest(urls []sitemapURL) string {
	day := ""
	for _, u := range urls {
		day = max(day, u.mod)
	}
	return day
}

// writeSitemap writes a sitemap of urls.
func writeSitemap(buf textWriter, urls []sitemapURL) {
	buf.WriteString(urlsetOpen)
	for _, u := range urls {
		writeEntry(buf, "url", u)
	}
	buf.WriteString(urlsetClose)
}

// writeSitemapIndex writes a sitemap index naming sitemaps.
func writeSitemapIndex(buf textWriter, sitemaps []sitemapURL) {
	buf.WriteString(sitemapsOpen)
	for _, u := range sitemaps {
		writeEntry(buf, "sitemap", u)
	}
	buf.WriteString(sitemapsEnd)
}

// A textWriter is where a sitemap is written: a file's buffer, or a
// scratch one that measures an entry.
type textWriter interface {
	io.Writer
	io.StringWriter
}

// writeEntry writes u as an element named tag, on a line of its own.
func writeEntry(buf textWriter, tag string, u sitemapURL) {
	fmt.Fprintf(buf, "  <%s><loc>", tag)
	xml.EscapeText(buf, []byte(u.loc))
	buf.WriteString("</loc>")
	if u.mod != "" {
		buf.WriteString("<lastmod>" + u.mod + "</lastmod>")
	}
	fmt.Fprintf(buf, "</%s>\n", tag)
}
