package feeds

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"mime"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// ErrNotFeed is returned for a response that is a web page, not a feed:
// a bot challenge, a login wall or an error page served with status 200.
var ErrNotFeed = errors.New("the server sent a web page, not a feed (a bot challenge or an error page?); check the URL in a browser")

// looksLikeHTML reports whether body is an HTML page rather than a feed.
func looksLikeHTML(contentType string, body []byte) bool {
	head := bytes.ToLower(bytes.TrimSpace(bomless(body)))
	if len(head) > 1024 {
		head = head[:1024]
	}
	if bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.HasPrefix(head, []byte("<html")) {
		return true
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "text/html" {
		// Some servers call every feed text/html; trust the body then.
		return !bytes.Contains(head, []byte("<rss")) && !bytes.Contains(head, []byte("<feed")) &&
			!bytes.Contains(head, []byte("<rdf:rdf")) && !bytes.HasPrefix(head, []byte("{"))
	}
	return false
}

func bomless(b []byte) []byte {
	return bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
}

var xmlDecl = regexp.MustCompile(`^\s*<\?xml[^>]*?\?>`)
var declEncoding = regexp.MustCompile(`(?i)encoding\s*=\s*["']([^"']*)["']`)

// toUTF8 returns an XML feed's bytes as UTF-8, whatever its encoding and
// whatever its HTTP header and XML declaration claim, with its declaration
// saying so. Valid UTF-8 wins over a declaration (a feed declared ISO-8859-1
// whose bytes are valid UTF-8 with non-ASCII letters is UTF-8 that lies);
// otherwise the declared single-byte encoding is used, or windows-1252, the
// superset of ISO-8859-1 that undeclared Western feeds are written in.
func toUTF8(contentType string, body []byte) ([]byte, string, error) {
	var used string
	switch {
	case bytes.HasPrefix(body, []byte("\xfe\xff")), bytes.HasPrefix(body, []byte("\xff\xfe")):
		dec := unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewDecoder()
		out, err := dec.Bytes(body)
		if err != nil {
			return nil, "", fmt.Errorf("decoding UTF-16: %w", err)
		}
		body, used = out, "utf-16"
	case utf8.Valid(body):
		body, used = bomless(body), "utf-8"
	default:
		label := declared(contentType, body)
		enc, name := charset.Lookup(label)
		if enc == nil || name == "utf-8" || strings.HasPrefix(name, "utf-16") {
			enc, name = charmap.Windows1252, "windows-1252"
		}
		out, err := enc.NewDecoder().Bytes(body)
		if err != nil {
			return nil, "", fmt.Errorf("decoding %s: %w", name, err)
		}
		body, used = out, name
	}
	if loc := xmlDecl.FindIndex(body); loc != nil {
		decl := declEncoding.ReplaceAll(body[loc[0]:loc[1]], []byte(`encoding="utf-8"`))
		body = append(append(append([]byte{}, body[:loc[0]]...), decl...), body[loc[1]:]...)
	}
	return body, used, nil
}

// declared returns the charset named by the HTTP Content-Type, else by the
// XML declaration, else "".
func declared(contentType string, body []byte) string {
	if _, params, err := mime.ParseMediaType(contentType); err == nil && params["charset"] != "" {
		return params["charset"]
	}
	if d := xmlDecl.Find(body); d != nil {
		if m := declEncoding.FindSubmatch(d); m != nil {
			return string(m[1])
		}
	}
	return ""
}

// xmlEntities are the only named entities XML knows without a DTD.
var xmlEntities = map[string]bool{"amp": true, "lt": true, "gt": true, "quot": true, "apos": true}

// repairXML escapes the ampersands that start no entity ("R&D", "?a=1&b=2"),
// turns HTML's named entities (&nbsp;, &eacute;), which XML does not
// define, into numeric references, and drops the control characters XML
// forbids, written as they are or as references (an escape sequence in a
// title): a parser would refuse the whole feed for one of them. CDATA
// sections and comments are otherwise copied as they are.
func repairXML(b []byte) []byte {
	if bytes.IndexByte(b, '&') < 0 && !slices.ContainsFunc(b, illegalXMLByte) {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/64)
	for i := 0; i < len(b); {
		if illegalXMLByte(b[i]) {
			i++
			continue
		}
		if end := verbatim(b[i:]); end != 0 {
			if end < 0 {
				end = len(b) - i
			}
			for _, c := range b[i : i+end] {
				if !illegalXMLByte(c) {
					out = append(out, c)
				}
			}
			i += end
			continue
		}
		if b[i] == '&' {
			var n int
			out, n = appendEntity(out, b[i:])
			i += n
			continue
		}
		out = append(out, b[i])
		i++
	}
	return out
}

// verbatim returns the length of the CDATA section or comment that b
// starts with, -1 if it is not closed, or 0 if b starts with neither.
func verbatim(b []byte) int {
	for _, d := range [][2]string{{"<![CDATA[", "]]>"}, {"<!--", "-->"}} {
		if bytes.HasPrefix(b, []byte(d[0])) {
			end := bytes.Index(b, []byte(d[1]))
			if end < 0 {
				return -1
			}
			return end + len(d[1])
		}
	}
	return 0
}

func isEntityByte(c byte) bool {
	return c == '#' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// appendEntity appends the repaired form of the reference that s starts
// with (s[0] is '&') and returns how many bytes of s it stands for: a
// known reference is copied, an HTML one becomes "&#N;" and a lone
// ampersand becomes "&amp;".
func appendEntity(out, s []byte) ([]byte, int) {
	n := 1
	for n < len(s) && n < 40 && isEntityByte(s[n]) {
		n++
	}
	if n > 1 && n < len(s) && s[n] == ';' {
		name := string(s[1:n])
		ref := s[:n+1]
		switch {
		case name[0] == '#':
			if r, ok := charRef(name[1:]); ok {
				if !legalXMLChar(r) {
					return out, len(ref)
				}
				return append(out, ref...), len(ref)
			}
		case xmlEntities[name]:
			return append(out, ref...), len(ref)
		default:
			if u := html.UnescapeString(string(ref)); u != string(ref) {
				for _, r := range u {
					out = fmt.Appendf(out, "&#%d;", r)
				}
				return out, len(ref)
			}
		}
	}
	return append(out, "&amp;"...), 1
}

// charRef returns the character of a numeric reference's digits ("65",
// "x41"), and whether they are digits.
func charRef(s string) (rune, bool) {
	base := 10
	if s != "" && (s[0] == 'x' || s[0] == 'X') {
		base, s = 16, s[1:]
	}
	if s == "" {
		return 0, false
	}
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || base == 16 && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, base, 32)
	if err != nil || v > utf8.MaxRune {
		return utf8.RuneError, true
	}
	return rune(v), true
}

// illegalXMLByte reports whether b is a control character XML 1.0 does
// not allow in a document (all of C0 but tab, line feed and carriage
// return).
func illegalXMLByte(b byte) bool { return b < 0x20 && b != '\t' && b != '\n' && b != '\r' }

// legalXMLChar reports whether XML 1.0 allows r in a document.
func legalXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= utf8.MaxRune
}
