package config

import (
	"errors"
	"strings"
	"testing"
)

// TestParseConfig reads a minimal configuration, its defaults filled in,
// and configurations with a mistake, each named by line and key.
func TestParseConfig(t *testing.T) {
	t.Parallel()
	c, err := ParseConfig("site/config.toml", []byte("title = \"T\"\nbase_url = \"https://example.org/news\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL != "https://example.org/news/" || c.Dir != "site" || c.Theme != "default" || c.Build.MaxNoteBytes != 1<<20 || c.Location().String() != "UTC" {
		t.Errorf("defaults: base %q, dir %q, theme %q, max note bytes %d, location %v", c.BaseURL, c.Dir, c.Theme, c.Build.MaxNoteBytes, c.Location())
	}
	if got := c.RelURL("notes/a/"); got != "/news/notes/a/" {
		t.Errorf("RelURL: %q", got)
	}
	for _, tc := range []struct{ config, want string }{
		{"title = \"T\"\nbase_url = \"example.org\"\n", `config.toml:2: base_url: "example.org" is not an absolute http(s) URL`},
		{"title = \"T\"\nbase_url = \"https://example.org/\"\ntitel = \"x\"\n", "config.toml:3: titel: unknown key"},
		{"base_url = \"https://example.org/\"\ntimezone = \"Mars/Olympus\"\n", "config.toml:2: timezone: unknown time zone"},
		{"title = \"T\"\nbase_url = \"https://example.org/\"\n\n[wire]\ntimeout = \"soon\"\n", "config.toml:5: "},
	} {
		_, err := ParseConfig("config.toml", []byte(tc.config))
		var list ErrorList
		if !errors.As(err, &list) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("config %q:\ngot  %v\nwant an ErrorList with %s", tc.config, err, tc.want)
		}
	}
}
