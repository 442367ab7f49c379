package content

import (
	"bytes"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/rounds-health/rounds/generator/config"

	"github.com/pelletier/go-toml/v2"
	"go.yaml.in/yaml/v3"
)

// A document is a content file split into its front matter and body.
type document struct {
	file     string
	front    []byte // the front matter, without its delimiters
	body     []byte // the Markdown after the front matter
	bodyLine int    // the file's line the body starts on
	format   string // "toml" or "yaml"
}

// splitDocument splits a content file into front matter and body. TOML front
// matter is fenced by "+++" lines, YAML by "---" lines.
func splitDocument(file string, data []byte) (*document, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	d := &document{file: file}
	first, rest, _ := bytes.Cut(data, []byte("\n"))
	switch string(bytes.TrimRight(first, " \t\r")) {
	case "+++":
		d.format = "toml"
	case "---":
		d.format = "yaml"
	default:
		return nil, config.Errorf(file, 1, "", `start the file with a "+++" line, TOML keys such as title = "…", and another "+++" line`, "no front matter")
	}
	fence := string(bytes.TrimRight(first, " \t\r"))
	line := 2
	for off := 0; off <= len(rest); {
		end := bytes.IndexByte(rest[off:], '\n')
		l := rest[off:]
		if end >= 0 {
			l = rest[off : off+end]
		}
		if string(bytes.TrimRight(l, " \t\r")) == fence {
			d.front = rest[:off]
			if end >= 0 {
				d.body = rest[off+end+1:]
			}
			d.bodyLine = line + 1
			return d, nil
		}
		if end < 0 {
			break
		}
		off += end + 1
		line++
	}
	return nil, config.Errorf(file, 1, "", fmt.Sprintf("close the front matter with a %q line", fence), "front matter is never closed")
}

// yamlLine is the line number in a YAML error's message, which Rounds
// finds itself (see yamlErrorLine).
var yamlLine = regexp.MustCompile(`line \d+: `)

// yamlErrorLine returns the line of YAML front matter that makes it
// invalid: the line after the longest run of lines from the top that
// parses. The YAML parser's own line numbers count from 0 for some errors
// and from 1 for others, and point at where a construct began rather
// than where it broke.
func yamlErrorLine(front []byte) int {
	lines := bytes.Split(bytes.TrimSuffix(front, []byte("\n")), []byte("\n"))
	for n := len(lines) - 1; n > 0; n-- {
		var m map[string]any
		if yaml.Unmarshal(bytes.Join(lines[:n], []byte("\n")), &m) == nil {
			return n + 1
		}
	}
	return 1
}

// fields reads typed values out of decoded front matter, recording an Error
// with file and line for each bad value and remembering which keys it read.
type fields struct {
	doc  *document
	m    map[string]any
	loc  *time.Location
	used map[string]bool
	errs *config.ErrorList
}

// decodeFields decodes d's front matter.
func decodeFields(d *document, loc *time.Location, errs *config.ErrorList) (*fields, bool) {
	m := map[string]any{}
	switch d.format {
	case "toml":
		if err := toml.Unmarshal(d.front, &m); err != nil {
			*errs = append(*errs, config.AsList(config.TOMLErrors(d.file, d.front, 1, err, "TOML front matter looks like title = \"…\""))...)
			return nil, false
		}
	case "yaml":
		if err := yaml.Unmarshal(d.front, &m); err != nil {
			msg := yamlLine.ReplaceAllString(strings.TrimPrefix(err.Error(), "yaml: "), "")
			msg = strings.Join(strings.Fields(msg), " ")
			*errs = append(*errs, config.Errorf(d.file, 1+yamlErrorLine(d.front), "", "fix the YAML front matter syntax", "%s", msg))
			return nil, false
		}
		if m == nil {
			m = map[string]any{}
		}
	}
	return &fields{doc: d, m: m, loc: loc, used: map[string]bool{}, errs: errs}, true
}

// line is the file line that sets key, or the front matter's first line.
func (f *fields) line(key string) int {
	if n := config.KeyLine(f.doc.front, key); n > 0 {
		return n + 1
	}
	return 1
}

func (f *fields) bad(key, fix, format string, args ...any) {
	*f.errs = append(*f.errs, config.Errorf(f.doc.file, f.line(key), key, fix, format, args...))
}

func (f *fields) get(key string) (any, bool) {
	f.used[key] = true
	v, ok := f.m[key]
	return v, ok && v != nil
}

// str reads a string.
func (f *fields) str(key string) string {
	v, ok := f.get(key)
	if !ok {
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		f.bad(key, fmt.Sprintf("quote it: %s = \"…\"", key), "want text, got %s", config.Describe(v))
		return ""
	}
	return strings.TrimSpace(s)
}

// strs reads a list of strings; a single string is a list of one.
func (f *fields) strs(key string) []string {
	v, ok := f.get(key)
	if !ok {
		return nil
	}
	switch v := v.(type) {
	case string:
		return []string{strings.TrimSpace(v)}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, isStr := e.(string)
			if !isStr {
				f.bad(key, fmt.Sprintf(`write a list of quoted names: %s = ["a", "b"]`, key), "want a list of text, found %s", config.Describe(e))
				return nil
			}
			out = append(out, strings.TrimSpace(s))
		}
		return out
	}
	f.bad(key, fmt.Sprintf(`write a list of quoted names: %s = ["a", "b"]`, key), "want a list of text, got %s", config.Describe(v))
	return nil
}

// boolean reads true or false.
func (f *fields) boolean(key string) bool {
	v, ok := f.get(key)
	if !ok {
		return false
	}
	b, isBool := v.(bool)
	if !isBool {
		f.bad(key, fmt.Sprintf("write %s = true or %s = false, unquoted", key, key), "want true or false, got %s", config.Describe(v))
	}
	return b
}

// integer reads a whole number.
func (f *fields) integer(key string) int {
	v, ok := f.get(key)
	if !ok {
		return 0
	}
	switch n := v.(type) {
	case int64:
		return int(n)
	case int:
		return n
	}
	f.bad(key, fmt.Sprintf("write a whole number: %s = 10", key), "want a whole number, got %s", config.Describe(v))
	return 0
}

const dateFix = "use RFC 3339, e.g. 2026-11-02T09:00:00Z, or a date such as 2026-11-02"

// time reads a date or date-time; values without an offset are in the
// site's time zone.
func (f *fields) time(key string) time.Time {
	v, ok := f.get(key)
	if !ok {
		return time.Time{}
	}
	t, err := toTime(v, f.loc)
	if err != nil {
		f.bad(key, dateFix, "%v", err)
	}
	return t
}

// url reads an absolute http(s) URL.
func (f *fields) url(key string, v any) string {
	s, ok := v.(string)
	if !ok {
		f.bad(key, fmt.Sprintf(`quote it: %s = "https://…"`, key), "want a URL, got %s", config.Describe(v))
		return ""
	}
	s = strings.TrimSpace(s)
	if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		f.bad(key, `use an absolute URL starting with https://`, "%q is not an absolute http(s) URL", s)
		return ""
	}
	return s
}

// rest returns the keys that were not read, for templates to reach.
func (f *fields) rest() map[string]any {
	var out map[string]any
	for _, k := range slices.Sorted(maps.Keys(f.m)) {
		v := f.m[k]
		if !f.used[k] {
			if known := f.resembles(k); known != "" {
				f.bad(k, fmt.Sprintf("rename it %s; a theme's own key needs a name further from Rounds' keys", known), "unknown key %q, close to %s", k, known)
				continue
			}
			if out == nil {
				out = map[string]any{}
			}
			out[k] = plain(v, f.loc)
		}
	}
	return out
}

// plain converts TOML local dates to time.Time so templates can format them.
func plain(v any, loc *time.Location) any {
	switch v := v.(type) {
	case toml.LocalDate, toml.LocalDateTime:
		t, _ := toTime(v, loc)
		return t
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = plain(e, loc)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = plain(e, loc)
		}
		return out
	}
	return v
}

var timeLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02"}

func toTime(v any, loc *time.Location) (time.Time, error) {
	switch t := v.(type) {
	case time.Time:
		return t, nil
	case toml.LocalDate:
		return t.AsTime(loc), nil
	case toml.LocalDateTime:
		return t.AsTime(loc), nil
	case string:
		s := strings.TrimSpace(t)
		for _, layout := range timeLayouts {
			if tt, err := time.ParseInLocation(layout, s, loc); err == nil {
				return tt, nil
			}
		}
		return time.Time{}, fmt.Errorf("cannot read %q as a date", s)
	}
	return time.Time{}, fmt.Errorf("want a date, got %s", config.Describe(v))
}

// resembles returns the known key that key is a misspelling of: within
// one edit (two for keys of six letters or more), a swap of neighbours
// counting as one; "" if none.
func (f *fields) resembles(key string) string {
	best, bestD := "", 3
	for known := range f.used {
		if _, present := f.m[known]; present {
			continue // both keys are there: a parameter of its own
		}
		limit := 1
		if len(known) >= 6 {
			limit = 2
		}
		if d := editDistance(strings.ToLower(key), known); d <= limit && (d < bestD || d == bestD && known < best) {
			best, bestD = known, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b:
// insertions, deletions, substitutions and swaps of neighbours.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}
