package config

import (
	"strings"
)

// PublishConfig is the [publish] table: where the site goes and how.
// Credentials never go here: the AWS SDK's default chain supplies them.
type PublishConfig struct {
	Bucket    string `toml:"bucket"`
	Prefix    string `toml:"prefix"`
	Endpoint  string `toml:"endpoint"`
	Region    string `toml:"region"`
	PathStyle bool   `toml:"path_style"`
	// Checksums is "when_required" for stores that reject the SDK's
	// default checksums, or "when_supported".
	Checksums  string   `toml:"checksums"`
	MaxDeletes int      `toml:"max_deletes"`
	Exclude    []string `toml:"exclude"`
	Gzip       bool     `toml:"gzip"`
	Workers    int      `toml:"workers"`
	// Cache lists Cache-Control rules, first match wins, before the
	// defaults.
	Cache []CacheRule `toml:"cache"`
	// Types adds content types by extension: xyz = "chemical/x-xyz".
	Types map[string]string `toml:"types"`
	// CloudFront, if set, is the distribution to invalidate after a run.
	CloudFront string `toml:"cloudfront"`
}

// CacheRule is one [[publish.cache]] table.
type CacheRule struct {
	Pattern      string `toml:"pattern"`
	CacheControl string `toml:"cache_control"`
}

func defaultPublish() PublishConfig {
	return PublishConfig{MaxDeletes: 256, Workers: 16, Checksums: "when_supported"}
}

// checkPublish checks the [publish] table.
func (c *Config) checkPublish(data []byte) ErrorList {
	var errs ErrorList
	p := &c.Publish
	sec := section(data, "[publish]")
	bad := func(key, fix, format string, args ...any) {
		errs = append(errs, Errorf(c.File, sec.line(key), "publish."+key, fix, format, args...))
	}
	if p.Prefix != "" && (strings.HasPrefix(p.Prefix, "/") || !strings.HasSuffix(p.Prefix, "/")) {
		bad("prefix", `write it as a folder, such as "newsletter/"`, "%q", p.Prefix)
	}
	if p.MaxDeletes < 0 {
		bad("max_deletes", "use a whole number", "%d", p.MaxDeletes)
	}
	if p.Workers < 1 || p.Workers > 256 {
		bad("workers", "use 1 to 256", "%d", p.Workers)
	}
	if p.Checksums != "when_supported" && p.Checksums != "when_required" {
		bad("checksums", `use "when_supported", or "when_required" for stores that reject the SDK's checksums`, "%q", p.Checksums)
	}
	for i, r := range p.Cache {
		if r.Pattern == "" || r.CacheControl == "" {
			errs = append(errs, Errorf(c.File, sec.line("pattern"), "publish.cache", "give each [[publish.cache]] a pattern and a cache_control", "rule %d is incomplete", i+1))
		}
	}
	for ext, t := range p.Types {
		if strings.ContainsAny(ext, "./") || t == "" || !strings.Contains(t, "/") {
			bad("types", `write extension = "type/subtype", such as xyz = "chemical/x-xyz"`, "%s = %q", ext, t)
		}
	}
	return errs
}
