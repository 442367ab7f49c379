// Package publish puts a built site on S3 or an S3-compatible store: it
// plans (what to upload, what headers to update, what to delete) from the
// build's manifest and a listing of the bucket, prints the plan, runs the
// caller's check over the bytes to upload, then acts in safe phases:
// assets, then pages and feeds, then header updates, then deletes, so
// that a run that fails part-way has removed nothing. A lock object in the
// bucket keeps two publishes apart (see package s3lock); a person can
// break it with Options.ForceUnlock. It knows a folder and its manifest,
// nothing of notes or themes.
package publish

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strings"
)

// contentTypes maps file extensions to Content-Type. Text types carry
// their charset.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".htm":         "text/html; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".json":        "application/json; charset=utf-8",
	".xml":         "application/xml; charset=utf-8",
	".rss":         "application/rss+xml; charset=utf-8",
	".atom":        "application/atom+xml; charset=utf-8",
	".opml":        "text/x-opml; charset=utf-8",
	".txt":         "text/plain; charset=utf-8",
	".md":          "text/markdown; charset=utf-8",
	".csv":         "text/csv; charset=utf-8",
	".webmanifest": "application/manifest+json; charset=utf-8",
	".svg":         "image/svg+xml; charset=utf-8",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".gif":         "image/gif",
	".webp":        "image/webp",
	".avif":        "image/avif",
	".ico":         "image/vnd.microsoft.icon",
	".woff":        "font/woff",
	".woff2":       "font/woff2",
	".ttf":         "font/ttf",
	".otf":         "font/otf",
	".pdf":         "application/pdf",
	".mp3":         "audio/mpeg",
	".mp4":         "video/mp4",
	".wasm":        "application/wasm",
	// Built compressed, as the search index's files are: uploaded as
	// they are, with Content-Encoding: gzip (see precompressed).
	".gz": "application/octet-stream",
}

// precompressed reports whether a built file is gzip-compressed already,
// as the search index's are. It is uploaded as it is, with
// Content-Encoding: gzip, so that browsers inflate it as it arrives; a
// host that serves it without that header serves the compressed bytes,
// which the search page's script inflates itself.
func precompressed(p string) bool { return path.Ext(p) == ".gz" }

// feedNames are the files that are feeds whatever their extension says.
var feedNames = map[string]string{
	"feed.xml":  "application/rss+xml; charset=utf-8",
	"atom.xml":  "application/atom+xml; charset=utf-8",
	"feed.json": "application/feed+json; charset=utf-8",
}

// contentType returns the Content-Type of the file at p, from extra (an
// extension's configured type) or the table, or an error for an unknown
// extension.
func contentType(p string, extra map[string]string) (string, error) {
	if t, ok := feedNames[path.Base(p)]; ok {
		return t, nil
	}
	ext := strings.ToLower(path.Ext(p))
	if t, ok := extra[ext]; ok {
		return t, nil
	}
	if t, ok := contentTypes[ext]; ok {
		return t, nil
	}
	return "", fmt.Errorf("%s: no content type for %q; add it under [publish.types] in config.toml, such as %q = \"application/octet-stream\"", p, ext, strings.TrimPrefix(ext, "."))
}

// isText reports whether a content type is worth compressing.
func isText(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "charset=utf-8") || strings.Contains(ct, "+xml") || strings.HasSuffix(ct, "json")
}

// A Rule sets the Cache-Control of the files whose path matches Pattern.
// Patterns are slash-separated globs where "*" matches within a path
// segment and "**" matches any number of segments.
type Rule struct {
	Pattern      string
	CacheControl string
}

// fingerprinted are the names of files named after their contents
// (style.1a2b3c4d5e.css, or 1a2b3c4d5e.gz), which never change.
var fingerprinted = [...]string{"**/*.[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f].*", "**/[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f].*"}

// DefaultRules cache fingerprinted assets for a year and pages and feeds
// briefly.
var DefaultRules = []Rule{
	{Pattern: fingerprinted[0], CacheControl: "public, max-age=31536000, immutable"},
	{Pattern: fingerprinted[1], CacheControl: "public, max-age=31536000, immutable"},
	{Pattern: "**/*.html", CacheControl: "public, max-age=300, must-revalidate"},
	{Pattern: "**/*.{xml,json,opml,txt}", CacheControl: "public, max-age=900"},
	{Pattern: "**", CacheControl: "public, max-age=3600"},
}

// cacheControl returns the Cache-Control of the first rule p matches.
func cacheControl(p string, rules []Rule) string {
	for _, r := range rules {
		if match(r.Pattern, p) {
			return r.CacheControl
		}
	}
	return ""
}

// match reports whether the slash-separated path p matches pattern: "**"
// matches any number of segments, "{a,b}" either alternative, and the rest
// is path.Match within a segment.
func match(pattern, p string) bool {
	// The common forms, quickly: "**" and "**/NAME".
	if pattern == "**" {
		return true
	}
	if rest, ok := strings.CutPrefix(pattern, "**/"); ok && !strings.Contains(rest, "/") && !strings.Contains(rest, "**") {
		return match(rest, path.Base(p))
	}
	if i := strings.IndexByte(pattern, '{'); i >= 0 {
		if j := strings.IndexByte(pattern[i:], '}'); j > 0 {
			for _, alt := range strings.Split(pattern[i+1:i+j], ",") {
				if match(pattern[:i]+alt+pattern[i+j+1:], p) {
					return true
				}
			}
			return false
		}
	}
	return matchSegments(strings.Split(pattern, "/"), strings.Split(p, "/"))
}

func matchSegments(pat, segs []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(segs); i++ {
				if matchSegments(pat[1:], segs[i:]) {
					return true
				}
			}
			return false
		}
		if len(segs) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], segs[0]); !ok {
			return false
		}
		pat, segs = pat[1:], segs[1:]
	}
	return len(segs) == 0
}

// gzipBytes compresses data the same way every time: no name, no time.
func gzipBytes(data []byte) []byte {
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// headersDigest names the headers an object is stored with, so that a
// change of rules shows without asking the store for them.
func headersDigest(contentType, cacheControl, encoding string) string {
	sum := sha256.Sum256([]byte(contentType + "\n" + cacheControl + "\n" + encoding))
	return hex.EncodeToString(sum[:8])
}
