package content

import (
	"bytes"
	"regexp"
	"strings"
)

// A SiteLink is a link in a content file's Markdown to a page of the site
// itself: a destination that begins with one slash.
type SiteLink struct {
	// Path is the site path linked to, without its leading slash, query
	// or fragment: "notes/x/".
	Path string
	// Line is the file's line the link is on.
	Line int
}

var (
	// inlineDest matches the destination of an inline link or image,
	// "](/path …)" or "](</path>)"; not "](//host/…)", which is another
	// site's.
	inlineDest = regexp.MustCompile(`\]\(\s*<?(/(?:[^/\s)>][^\s)>]*)?)(?:[\s)>]|$)`)
	// refDef matches a link reference definition, "[x]: /path".
	refDef = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s*<?(/(?:[^/\s>][^\s>]*)?)(?:[\s>]|$)`)
)

// SiteLinks returns the links to the site's own pages in body, Markdown
// that begins on the file's line bodyLine, outside code.
func SiteLinks(body []byte, bodyLine int) []SiteLink {
	if !mayLinkSite(body) {
		return nil
	}
	return scanSiteLinks(body, bodyLine)
}

// mayLinkSite reports whether body may hold a link to the site's own
// pages: a reference definition ("]:"), or an inline link whose
// destination, after spaces and a "<", begins with "/". Most notes link
// only elsewhere, and are not split into lines and matched line by line.
func mayLinkSite(body []byte) bool {
	if bytes.Contains(body, []byte("]:")) {
		return true
	}
	for {
		i := bytes.Index(body, []byte("]("))
		if i < 0 {
			return false
		}
		body = bytes.TrimLeft(body[i+2:], " \t\n\f\r<")
		if len(body) > 0 && body[0] == '/' {
			return true
		}
	}
}

// scanSiteLinks is SiteLinks, line by line.
func scanSiteLinks(body []byte, bodyLine int) []SiteLink {
	var out []SiteLink
	fence := ""
	for i, line := range strings.Split(string(body), "\n") {
		t := strings.TrimLeft(line, " ")
		if fence != "" {
			if strings.HasPrefix(t, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			fence = t[:3]
			continue
		}
		if strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "\t") {
			continue // an indented code block, or a list's continuation: not a link's place
		}
		line = stripCodeSpans(line)
		var dests []string
		for _, m := range inlineDest.FindAllStringSubmatch(line, -1) {
			dests = append(dests, m[1])
		}
		if m := refDef.FindStringSubmatch(line); m != nil {
			dests = append(dests, m[1])
		}
		for _, d := range dests {
			d, _, _ = strings.Cut(d, "#")
			d, _, _ = strings.Cut(d, "?")
			out = append(out, SiteLink{Path: strings.TrimPrefix(d, "/"), Line: bodyLine + i})
		}
	}
	return out
}

// stripCodeSpans blanks the code spans of a line.
func stripCodeSpans(line string) string {
	if !strings.Contains(line, "`") {
		return line
	}
	var b strings.Builder
	in := false
	for _, r := range line {
		if r == '`' {
			in = !in
			continue
		}
		if !in {
			b.WriteRune(r)
		}
	}
	return b.String()
}
