package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Config is a newsletter's configuration, read from config.toml.
type Config struct {
	Title       string `toml:"title"`
	Description string `toml:"description"`
	BaseURL     string `toml:"base_url"`
	Language    string `toml:"language"`
	Timezone    string `toml:"timezone"`
	Theme       string `toml:"theme"`
	Paginate    int    `toml:"paginate"`
	Copyright   string `toml:"copyright"`
	// Disclaimer is the medical disclaimer shown in every page's footer
	// and every email, in Markdown.
	Disclaimer string `toml:"disclaimer"`

	// Topics maps topic slugs to display names; unnamed topics get their
	// slug with the first letter raised and dashes as spaces.
	Topics map[string]string `toml:"topics"`

	Author Author      `toml:"author"`
	Feeds  FeedsConfig `toml:"feeds"`
	// Sources are the feeds the wire follows, as [[source]] tables.
	Sources []*SourceConfig `toml:"source"`
	Wire    WireConfig      `toml:"wire"`
	// Email configures the digests; Lists are the mailing lists, as
	// [[list]] tables.
	Email EmailConfig   `toml:"email"`
	Lists []*ListConfig `toml:"list"`
	// Subscribers configures the service readers sign up and leave
	// through.
	Subscribers SubscribersConfig `toml:"subscribers"`
	// Publish says where rounds publish puts the site.
	Publish PublishConfig `toml:"publish"`
	Check   CheckConfig   `toml:"check"`
	Build   BuildConfig   `toml:"build"`
	// Search says what the site's search index holds.
	Search SearchConfig `toml:"search"`
	// Params holds anything else a theme wants, as [params].
	Params map[string]any `toml:"params"`

	// Dir is the folder config.toml is in; content and themes are found
	// relative to it.
	Dir string `toml:"-"`
	// File is the path config.toml was read from.
	File string `toml:"-"`
	// AbsoluteLinks makes RelURL return absolute URLs, for pages served
	// from another origin than the site's: the subscribers service's.
	AbsoluteLinks bool `toml:"-"`
	// AssetBase, when set, is the absolute URL the theme's fingerprinted
	// stylesheets and scripts are linked from, instead of the site: the
	// subscribers service serves them itself, since a stylesheet with an
	// integrity hash loads from another origin only with CORS.
	AssetBase string `toml:"-"`

	base     *url.URL
	location *time.Location
	source   []byte
	// realDir is Dir after links, against which links in the project are
	// judged.
	realDir string
}

// BuildConfig is the [build] table: what a build reads.
type BuildConfig struct {
	// MaxNoteBytes caps the size of a content file (a note, an edition,
	// a page); a larger one is an error.
	MaxNoteBytes int64 `toml:"max_note_bytes"`
	// FollowSymlinks lets content and theme files be links to files
	// outside the project, which are then read and published (a theme
	// shared by several newsletters, say).
	FollowSymlinks bool `toml:"follow_symlinks"`
}

// Author names who writes the newsletter, for feeds and pages.
type Author struct {
	Name  string `toml:"name"`
	Email string `toml:"email"`
	URL   string `toml:"url"`
}

// FeedsConfig sets what the outbound feeds carry.
type FeedsConfig struct {
	// Content is "full" (each entry carries the note's HTML) or "summary".
	Content string `toml:"content"`
	// Limit caps the entries of each feed, newest first.
	Limit int `toml:"limit"`
}

// LoadConfig reads and checks the configuration file at path.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; pass --config with the path of your config.toml", path, err)
	}
	return ParseConfig(path, data)
}

// ParseConfig parses and checks configuration data read from file.
func ParseConfig(file string, data []byte) (*Config, error) {
	c := &Config{
		Language:    "en",
		Timezone:    "UTC",
		Theme:       "default",
		Paginate:    50,
		Feeds:       FeedsConfig{Content: "full", Limit: 50},
		Wire:        defaultWire(),
		Email:       defaultEmail(),
		Subscribers: defaultSubscribers(),
		Publish:     defaultPublish(),
		Check:       CheckConfig{ReadingGrade: 8},
		Search:      SearchConfig{Enabled: true},
		Build:       BuildConfig{MaxNoteBytes: 1 << 20},
		File:        file,
		Dir:         filepath.Dir(file),
		source:      data,
	}
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return nil, TOMLErrors(file, data, 0, err, "see the configuration reference in README.md")
	}
	var errs ErrorList
	bad := func(key, fix, format string, args ...any) {
		errs = append(errs, Errorf(file, KeyLine(data, key), key, fix, format, args...))
	}
	if strings.TrimSpace(c.Title) == "" {
		bad("title", `add title = "Your newsletter"`, "missing")
	}
	if c.BaseURL == "" {
		bad("base_url", `add base_url = "https://example.org/"`, "missing")
	} else if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("base_url", `use an absolute URL such as "https://example.org/newsletter/"`, "%q is not an absolute http(s) URL", c.BaseURL)
	} else {
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		u.RawQuery, u.Fragment = "", ""
		c.base = u
		c.BaseURL = u.String()
	}
	if loc, err := time.LoadLocation(c.Timezone); err != nil {
		bad("timezone", `use an IANA name such as "UTC" or "Europe/London"`, "unknown time zone %q", c.Timezone)
	} else {
		c.location = loc
	}
	if strings.TrimSpace(c.Disclaimer) == "" {
		// Without it every footer and email would lose it, silently.
		bad("disclaimer", `add disclaimer = "Not medical advice: …" at the top of config.toml; every page and email shows it`, "missing: a health newsletter shows its medical disclaimer")
	}
	if c.Paginate < 1 {
		bad("paginate", "use a whole number of at least 1", "%d notes a page", c.Paginate)
	}
	if c.Feeds.Content != "full" && c.Feeds.Content != "summary" {
		bad("content", `use "full" or "summary"`, "feeds content %q", c.Feeds.Content)
	}
	if c.Feeds.Limit < 1 {
		bad("limit", "use a whole number of at least 1", "feeds limit %d", c.Feeds.Limit)
	}
	if c.Theme == "" || strings.ContainsAny(c.Theme, `/\`) || c.Theme == "." || c.Theme == ".." {
		bad("theme", "name a folder under themes/", "bad theme name %q", c.Theme)
	}
	if c.Build.MaxNoteBytes < 1024 {
		errs = append(errs, Errorf(file, section(data, "[build]").line("max_note_bytes"), "build.max_note_bytes", "use at least 1024", "%d bytes", c.Build.MaxNoteBytes))
	}
	c.realDir = c.Dir
	if real, err := filepath.EvalSymlinks(c.Dir); err == nil {
		c.realDir = real
	}
	errs = append(errs, c.checkWire(data)...)
	errs = append(errs, c.checkEmail(data)...)
	errs = append(errs, c.checkSubscribers(data)...)
	errs = append(errs, c.checkPublish(data)...)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// Location is the time zone dates without an offset are read in.
func (c *Config) Location() *time.Location { return c.location }

// Base is the site's base URL, always ending in a slash.
func (c *Config) Base() *url.URL { return c.base }

// AbsURL returns the absolute URL of a site path such as "notes/x/".
func (c *Config) AbsURL(path string) string {
	if strings.Contains(path, "://") {
		return path // absolute already
	}
	return c.BaseURL + strings.TrimPrefix(path, "/")
}

// RelURL returns the root-relative URL of a site path, keeping the base
// URL's sub-path: "notes/x/" under https://example.org/nl/ is "/nl/notes/x/".
func (c *Config) RelURL(path string) string {
	if c.AbsoluteLinks || strings.Contains(path, "://") {
		return c.AbsURL(path)
	}
	return c.base.Path + strings.TrimPrefix(path, "/")
}

// ThemeLine is the line of config.toml that names the theme, or 0.
func (c *Config) ThemeLine() int { return KeyLine(c.source, "theme") }

// Line returns the line of config.toml that sets the dotted key, or 0.
func (c *Config) Line(key string) int { return KeyLine(c.source, key) }

// Data returns the bytes config.toml was read from.
func (c *Config) Data() []byte { return c.source }

// TOMLErrors turns a go-toml error into Errors that name file and line,
// offset by the line the TOML document starts after.
func TOMLErrors(file string, doc []byte, offset int, err error, fix string) error {
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		var l ErrorList
		for _, e := range strict.Errors {
			row, _ := e.Position()
			l = append(l, Errorf(file, row+offset, strings.Join(e.Key(), "."), "remove it or correct its spelling; "+fix, "unknown key"))
		}
		return l.Err()
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		field := strings.Join(de.Key(), ".")
		if field == "" {
			field = lineKey(doc, row)
		}
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		return ErrorList{Errorf(file, row+offset, field, "fix the TOML syntax ("+fix+")", "%s", msg)}
	}
	return ErrorList{Errorf(file, offset, "", fix, "%s", strings.TrimPrefix(err.Error(), "toml: "))}
}

// KeyLine returns the 1-based line of data where key is first set at the
// start of a line (`key = ...` or `key: ...`), or 0 if it is not found.
func KeyLine(data []byte, key string) int {
	line := 1
	for len(data) > 0 {
		l := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			l, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		l = bytes.TrimLeft(l, " \t")
		if bytes.HasPrefix(l, []byte(key)) {
			rest := bytes.TrimLeft(l[len(key):], " \t")
			if len(rest) > 0 && (rest[0] == '=' || rest[0] == ':') {
				return line
			}
		}
		line++
	}
	return 0
}

// lineKey returns the key set on line n (1-based) of data, or "".
func lineKey(data []byte, n int) string {
	lines := bytes.SplitN(data, []byte("\n"), n+1)
	if n < 1 || n > len(lines) {
		return ""
	}
	k, _, ok := bytes.Cut(lines[n-1], []byte("="))
	k = bytes.TrimSpace(k)
	if !ok || len(k) == 0 || bytes.ContainsAny(k, " \t\"'[") {
		return ""
	}
	return string(k)
}

// TopicTitle returns a topic's display name: its name in [topics], or the
// slug with dashes as spaces and its first letter raised.
func (c *Config) TopicTitle(slug string) string {
	if t := c.Topics[slug]; t != "" {
		return t
	}
	return TitleCase(strings.ReplaceAll(slug, "-", " "))
}
