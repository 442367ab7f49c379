// Package leak finds subscribers' e-mail addresses in what is about to be
// published: a page, a feed, a sitemap, an asset. A subscriber's address
// on the site, or in its bucket, is a leak of who reads a newsletter that
// may be about their health, so a build or a publish that finds one stops.
//
// A Guard knows the addresses and looks for each as a whole token, in any
// case, also where it is written in another form: percent-encoded in a
// link's query (a%40b.test), as HTML or XML character references
// (a&#64;b.test, &commat;), or as a JSON escape (a\u0040b.test), and
// followed by punctuation, in quotes or in markup.
package leak

import (
	"bytes"
	"fmt"
	"html"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A Guard holds the addresses to keep out of the site. The zero Guard,
// and a nil one, hold none.
type Guard struct {
	// locals holds the local parts of the addresses at each domain, all
	// in lower case.
	locals map[string]map[string]bool
	n      int
}

// New returns a Guard for the addresses. Anything without an "@" is
// ignored; case does not matter.
func New(addrs []string) *Guard {
	g := &Guard{locals: map[string]map[string]bool{}}
	for _, a := range addrs {
		a = strings.ToLower(strings.TrimSpace(a))
		at := strings.LastIndexByte(a, '@')
		if at <= 0 || at == len(a)-1 {
			continue
		}
		local, domain := a[:at], strings.TrimSuffix(a[at+1:], ".")
		if g.locals[domain] == nil {
			g.locals[domain] = map[string]bool{}
		}
		if !g.locals[domain][local] {
			g.locals[domain][local] = true
			g.n++
		}
	}
	return g
}

// Len is the number of addresses the guard holds.
func (g *Guard) Len() int {
	if g == nil {
		return 0
	}
	return g.n
}

// Find returns the first address of the guard's that data holds, or "".
func (g *Guard) Find(data []byte) string {
	if g.Len() == 0 {
		return ""
	}
	if a := g.plain(data); a != "" {
		return a
	}
	// An address whose "@" is written in another form: the text around
	// each such form is decoded and looked at again.
	for _, start := range []byte{'%', '&', '\\'} {
		for i := 0; ; i++ {
			j := bytes.IndexByte(data[i:], start)
			if j < 0 {
				break
			}
			i += j
			if !encodedAt(data[i:]) {
				continue
			}
			lo, hi := max(0, i-window), min(len(data), i+window)
			if a := g.plain(decode(data[lo:hi])); a != "" {
				return a
			}
		}
	}
	return ""
}

// plain returns the first address of the guard's written with a plain
// "@" in data, or "".
func (g *Guard) plain(data []byte) string {
	for i := 0; ; i++ {
		j := bytes.IndexByte(data[i:], '@')
		if j < 0 {
			return ""
		}
		i += j
		if a := g.at(data, i); a != "" {
			return a
		}
	}
}

// Check returns an error when the file at path (its name or its bytes)
// holds one of the guard's addresses, saying which, masked; the caller
// names the file. It is a build writer's check and publish's.
func (g *Guard) Check(path string, data []byte) error {
	where := "its name holds"
	a := g.Find([]byte(path))
	if a == "" {
		where, a = "holds", g.Find(data)
	}
	if a != "" {
		return fmt.Errorf("%s the address of a subscriber (%s); subscriber data is never published: take it out of the content", where, Mask(a))
	}
	return nil
}

// Mask hides most of an address for logs and messages:
// "j***@example.org".
func Mask(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if local == "" {
		return "***"
	}
	r, _ := utf8.DecodeRuneInString(local)
	if !ok {
		return string(r) + "***"
	}
	return string(r) + "***@" + domain
}

// window is how far around an encoded "@" the text is decoded: more than
// an address's longest local part or domain, even with every byte of it
// encoded.
const window = 3 * 256

// encodedAt reports whether b starts with an "@" written in one of the
// forms of URLs, HTML, XML, JSON and JavaScript: %40 (or %2540, encoded
// twice), &#64; &#x40; &#064; &commat; \u0040 or \x40.
func encodedAt(b []byte) bool {
	if len(b) < 3 {
		return false
	}
	switch b[0] {
	case '%':
		return string(b[1:3]) == "40" || len(b) >= 5 && string(b[1:5]) == "2540"
	case '\\':
		return len(b) >= 6 && (b[1] == 'u' || b[1] == 'U') && string(b[2:6]) == "0040" || len(b) >= 4 && (b[1] == 'x' || b[1] == 'X') && string(b[2:4]) == "40"
	case '&':
		if b[1] != '#' {
			return len(b) >= 8 && bytes.EqualFold(b[1:8], []byte("commat;"))
		}
		base, digits := 10, b[2:]
		if digits[0] == 'x' || digits[0] == 'X' {
			base, digits = 16, digits[1:]
		}
		n := 0
		for n < len(digits) && n < 10 && (digits[n] >= '0' && digits[n] <= '9' || base == 16 && strings.IndexByte("abcdefABCDEF", digits[n]) >= 0) {
			n++
		}
		v, err := strconv.ParseUint(string(digits[:n]), base, 32)
		return err == nil && v == '@'
	}
	return false
}

// at returns the guard's address whose "@" is at data[i], or "". The
// domain is the run of domain bytes after the "@", or any part of it
// that ends before a dot: an address at the end of a sentence, or in a
// file's name (a@b.test.png), is found. The local part is the run of
// address bytes before the "@", or any part of that run that starts
// after a byte that rarely starts an address (email=a@b.test, 'a@b.test',
// mailto:a@b.test), never a part cut out of a word: xa@b.test is not
// a@b.test.
func (g *Guard) at(data []byte, i int) string {
	end := i + 1
	for end < len(data) && end-i <= 255 && isDomainByte(data[end]) {
		end++
	}
	run := lower(data[i+1 : end])
	for d := 0; d <= len(run); d++ {
		if d < len(run) && run[d] != '.' {
			continue
		}
		domain := string(run[:d])
		if locals := g.locals[domain]; locals != nil {
			if local := localIn(data, i, locals); local != "" {
				return local + "@" + domain
			}
		}
	}
	return ""
}

// localIn returns the local part of locals that ends at data[i], or "".
func localIn(data []byte, i int, locals map[string]bool) string {
	start := i
	for start > 0 && i-start < 64 && isLocalByte(data[start-1]) {
		start--
	}
	for s := start; s < i; s++ {
		if s > start && isPlainLocalByte(data[s-1]) {
			continue // inside a word
		}
		if local := string(lower(data[s:i])); locals[local] {
			return local
		}
	}
	return ""
}

// isDomainByte reports whether b may be in a domain: letters, digits,
// dots, dashes, and the bytes of internationalized names.
func isDomainByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '-' || b >= 0x80
}

// isLocalByte reports whether b may be in the local part of an address
// (RFC 5322's atext, dots, and UTF-8).
func isLocalByte(b byte) bool {
	return isPlainLocalByte(b) || b >= 0x80 || strings.IndexByte("!#$%&'*/=?^`{|}~", b) >= 0
}

// isPlainLocalByte reports whether b is one of the bytes that most local
// parts are made of: a run of them is one word.
func isPlainLocalByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '_' || b == '+' || b == '-'
}

// lower returns b with its ASCII letters in lower case, as a new slice.
func lower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}

// decode undoes the encodings of text an address may be written in:
// percent-encoding, HTML and XML character references and JSON and
// JavaScript escapes, until nothing changes (at most three rounds, for
// text encoded twice or thrice).
func decode(b []byte) []byte {
	s := string(b)
	for range 3 {
		t := unescapePercent(html.UnescapeString(unescapeJS(s)))
		if t == s {
			break
		}
		s = t
	}
	return []byte(s)
}

// unescapePercent decodes the valid %XX escapes of s and leaves the rest
// as it is (url.PathUnescape gives up on the whole string at one bad
// escape).
func unescapePercent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(v))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unescapeJS decodes the \uXXXX and \xXX escapes of s.
func unescapeJS(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			n := 0
			switch s[i+1] {
			case 'u', 'U':
				n = 4
			case 'x', 'X':
				n = 2
			}
			if n > 0 && i+2+n <= len(s) {
				if v, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32); err == nil {
					b.WriteRune(rune(v))
					i += 1 + n
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
