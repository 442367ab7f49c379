package config

import (
	"bytes"
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rounds-health/rounds/feeds"
)

// SourceConfig is one [[source]] table of config.toml: a feed the wire
// follows.
type SourceConfig struct {
	// ID names the source in the cache and in item IDs; by default made
	// from the name (see feeds.IDFrom). Changing it starts the source's
	// cache afresh.
	ID   string `toml:"id"`
	Name string `toml:"name"`
	URL  string `toml:"url"`
	// Site is the source's home page.
	Site string `toml:"site"`
	// Kind is one of SourceKinds.
	Kind     string   `toml:"kind"`
	Topics   []string `toml:"topics"`
	Audience []string `toml:"audience"`
	MaxItems int      `toml:"max_items"`
	// Enabled = false keeps a source in the configuration without
	// fetching or showing it.
	Enabled *bool `toml:"enabled"`

	line int // of its [[source]] header
}

// On reports whether the source is enabled.
func (s *SourceConfig) On() bool { return s.Enabled == nil || *s.Enabled }

// SourceKinds are the kinds a source may be, with what the wire says of
// their items.
var SourceKinds = map[string]string{
	"journal":   "Journal",
	"preprint":  "Preprint: not peer reviewed",
	"registry":  "Trial registry",
	"regulator": "Regulator",
	"agency":    "Public-health agency",
	"database":  "Literature search",
	"news":      "News",
	"other":     "Other",
}

// WireConfig is the [wire] table: where the fetched items are kept and
// how the wire is fetched and shown.
type WireConfig struct {
	// Cache is the folder the sources' items are kept in, relative to
	// config.toml; git-ignored, so builds read the wire offline.
	Cache string `toml:"cache"`
	// Days is how many days back from the build's present the wire pages
	// show.
	Days int `toml:"days"`
	// Health publishes the feed-health page, sources/.
	Health *bool `toml:"health"`
	// Fetching.
	Workers   int    `toml:"workers"`
	PerHost   int    `toml:"per_host"`
	Timeout   string `toml:"timeout"` // a Go duration, such as "20s"
	MaxBytes  int64  `toml:"max_bytes"`
	UserAgent string `toml:"user_agent"`
	// AllowPrivate lets the wire follow feeds inside the network: true
	// for every address, or a list of networks ("10.1.0.0/16"). By
	// default a feed, or a redirect, that leads to a loopback, private or
	// link-local address is refused, so a feed cannot have Rounds fetch
	// and publish a page of the network it runs in.
	AllowPrivate any `toml:"allow_private"`

	timeout  time.Duration
	allowAll bool
	allow    []netip.Prefix
}

func defaultWire() WireConfig {
	return WireConfig{Cache: ".cache/wire", Days: 14, Workers: 16, PerHost: 2, Timeout: "20s", MaxBytes: 10 << 20}
}

// ShowHealth reports whether the feed-health page is published.
func (w *WireConfig) ShowHealth() bool { return w.Health == nil || *w.Health }

// Private returns what AllowPrivate lets the wire reach: every address,
// or the networks listed.
func (w *WireConfig) Private() (all bool, nets []netip.Prefix) { return w.allowAll, w.allow }

// TimeoutDuration is Timeout, parsed.
func (w *WireConfig) TimeoutDuration() time.Duration { return w.timeout }

// CacheDir is the absolute path of the wire's cache.
func (c *Config) CacheDir() string {
	if filepath.IsAbs(c.Wire.Cache) {
		return c.Wire.Cache
	}
	return filepath.Join(c.Dir, c.Wire.Cache)
}

// checkWire checks the [[source]] and [wire] tables, naming the line of
// each problem.
func (c *Config) checkWire(data []byte) ErrorList {
	var errs ErrorList
	wire := section(data, "[wire]")
	wbad := func(key, fix, format string, args ...any) {
		errs = append(errs, Errorf(c.File, wire.line(key), "wire."+key, fix, format, args...))
	}
	if strings.TrimSpace(c.Wire.Cache) == "" {
		wbad("cache", `use a folder such as ".cache/wire"`, "empty")
	}
	if c.Wire.Days < 1 {
		wbad("days", "use a whole number of at least 1", "%d days", c.Wire.Days)
	}
	if c.Wire.Workers < 1 || c.Wire.Workers > 256 {
		wbad("workers", "use a whole number from 1 to 256", "%d workers", c.Wire.Workers)
	}
	if c.Wire.PerHost < 1 {
		wbad("per_host", "use a whole number of at least 1", "%d requests per host", c.Wire.PerHost)
	}
	if c.Wire.MaxBytes < 1024 {
		wbad("max_bytes", "use at least 1024", "%d bytes", c.Wire.MaxBytes)
	}
	if d, err := time.ParseDuration(c.Wire.Timeout); err != nil || d <= 0 {
		wbad("timeout", `use a duration such as "20s" or "1m"`, "%q is not a duration", c.Wire.Timeout)
	} else {
		c.Wire.timeout = d
	}

	switch v := c.Wire.AllowPrivate.(type) {
	case nil:
	case bool:
		c.Wire.allowAll = v
	case []any:
		for _, e := range v {
			str, _ := e.(string)
			p, err := netip.ParsePrefix(strings.TrimSpace(str))
			if err != nil {
				wbad("allow_private", `list networks such as ["10.1.0.0/16", "fd00:1::/48"], or write true for every address`, "%q is not a network", fmt.Sprint(e))
				continue
			}
			c.Wire.allow = append(c.Wire.allow, p.Masked())
		}
	default:
		wbad("allow_private", `write true, or a list of networks such as ["10.1.0.0/16"]`, "want true, false or a list, got %s", Describe(v))
	}

	starts := headerLines(data, "[[source]]")
	ids := map[string]*SourceConfig{}
	urls := map[string]*SourceConfig{}
	for i, s := range c.Sources {
		var sec tomlSection
		s.line, sec = c.arrayTableAt(data, "source", starts, i)
		s.Name = strings.TrimSpace(s.Name)
		// A problem is told of the source by its name, as the user wrote
		// it, rather than by an id the user may never have written.
		field := "source."
		if s.Name != "" {
			field = fmt.Sprintf("source %q: ", s.Name)
		}
		badAt := func(at int, key, fix, format string, args ...any) {
			if at == 0 {
				at = s.line
			}
			errs = append(errs, Errorf(c.File, at, field+key, fix, format, args...))
		}
		bad := func(key, fix, format string, args ...any) { badAt(sec.line(key), key, fix, format, args...) }
		if s.Name == "" {
			bad("name", `add name = "CDC MMWR"`, "missing")
		}
		// An id the user did not write is made from the name, and a
		// problem with it is put to the name's line and says so.
		fromName := s.ID == ""
		idLine, idWords := sec.line("id"), fmt.Sprintf("%q", s.ID)
		if fromName {
			s.ID = feeds.IDFrom(s.Name)
			idLine, idWords = sec.line("name"), fmt.Sprintf("%q, made from name %q,", s.ID, s.Name)
		}
		switch other, dup := ids[s.ID]; {
		case fromName && s.ID == "" && s.Name != "":
			badAt(idLine, "id", `add an id such as id = "my-source": lower-case letters, digits and dashes`, "no id can be made from name %q, which has no letter or digit", s.Name)
		case fromName && s.ID == "":
			// The missing name is reported above.
		case !feeds.ValidID(s.ID):
			badAt(idLine, "id", `use lower-case letters, digits and dashes, such as id = "cdc-mmwr"`, "%s cannot name a source", idWords)
		case dup:
			fix := "give one of them a different id"
			if fromName {
				fix = fmt.Sprintf("give this one an id of its own, such as id = %q", s.ID+"-2")
			}
			badAt(idLine, "id", fix, "%s is also the id of %s", idWords, other.describe())
		default:
			ids[s.ID] = s
		}
		if u, err := url.Parse(s.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("url", `use the feed's absolute http(s) URL`, "%q is not a feed URL", s.URL)
		} else if other, dup := urls[feeds.URLKey(s.URL)]; dup {
			bad("url", "remove one of the two sources", "%s has the same URL", other.describe())
		} else {
			urls[feeds.URLKey(s.URL)] = s
		}
		if s.Site != "" {
			if u, err := url.Parse(s.Site); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad("site", "use the source's absolute http(s) home page, or remove the key", "%q is not a URL", s.Site)
			}
		}
		if s.Kind == "" {
			s.Kind = "other"
		}
		if _, ok := SourceKinds[s.Kind]; !ok {
			bad("kind", "use one of "+strings.Join(slices.Sorted(maps.Keys(SourceKinds)), ", "), "unknown kind %q", s.Kind)
		}
		for _, a := range s.Audience {
			if !slices.Contains(Audiences, a) {
				bad("audience", "use "+strings.Join(Audiences, ", "), "unknown audience %q", a)
			}
		}
		for _, t := range s.Topics {
			if Slugify(t) != t {
				bad("topics", "use topic slugs: lower-case letters, digits and dashes", "%q is not a topic slug", t)
			}
		}
		if s.MaxItems < 0 || s.MaxItems > 10000 {
			bad("max_items", "use a whole number from 1 to 10000, or 0 for the default", "%d", s.MaxItems)
		}
	}
	return errs
}

// describe names a source in a message about another: by its name and
// the line of its table.
func (s *SourceConfig) describe() string {
	if s.Name == "" {
		return fmt.Sprintf("the source at line %d", s.line)
	}
	return fmt.Sprintf("source %q (line %d)", s.Name, s.line)
}

// arrayTableAt finds the i-th [[name]] table of data, whose headers are
// on lines starts, and returns its line and its section.
func (c *Config) arrayTableAt(data []byte, name string, starts []int, i int) (int, tomlSection) {
	if i < len(starts) {
		return starts[i], sectionAt(data, starts[i])
	}
	return 0, section(data, "[["+name+"]]")
}

// arrayTable finds the i-th [[name]] table of data, whose headers are on
// lines starts, and returns its line and a function that reports a
// problem with one of its keys at that key's line.
func (c *Config) arrayTable(data []byte, name string, starts []int, i int, errs *ErrorList) (int, func(key, fix, format string, args ...any)) {
	line, sec := c.arrayTableAt(data, name, starts, i)
	return line, func(key, fix, format string, args ...any) {
		at := sec.line(key)
		if at == 0 {
			at = line
		}
		*errs = append(*errs, Errorf(c.File, at, name+"."+key, fix, format, args...))
	}
}

// A tomlSection is the part of a TOML document from a table header to
// the next header.
type tomlSection struct {
	data  []byte
	start int // line of the header; 0 for the top of the file
}

// line returns the line where key is set in the section, or 0.
func (s tomlSection) line(key string) int {
	if l := KeyLine(s.data, key); l > 0 {
		return s.start + l - 1
	}
	return 0
}

// headerLines returns the lines where header (such as "[[source]]") is.
func headerLines(data []byte, header string) []int {
	var lines []int
	for i, l := range bytes.Split(data, []byte("\n")) {
		if string(bytes.TrimSpace(l)) == header {
			lines = append(lines, i+1)
		}
	}
	return lines
}

// section returns the first section headed header, or an empty one.
func section(data []byte, header string) tomlSection {
	if l := headerLines(data, header); len(l) > 0 {
		return sectionAt(data, l[0])
	}
	return tomlSection{}
}

// sectionAt returns the section whose header is on line start.
func sectionAt(data []byte, start int) tomlSection {
	lines := bytes.Split(data, []byte("\n"))
	end := len(lines)
	for i := start; i < len(lines); i++ {
		if t := bytes.TrimSpace(lines[i]); len(t) > 0 && t[0] == '[' {
			end = i
			break
		}
	}
	return tomlSection{data: bytes.Join(lines[start-1:end], []byte("\n")), start: start}
}
