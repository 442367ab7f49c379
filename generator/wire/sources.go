package wire

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/rounds-health/rounds/feeds"
	"github.com/rounds-health/rounds/generator/config"
)

// An Import is what ImportOPML did: the sources it added to config.toml
// and the feeds it skipped because config.toml already follows them.
type Import struct {
	Added   []*config.SourceConfig
	Skipped []feeds.Subscription
}

// ImportOPML adds the feeds of the OPML file r to config.toml as
// [[source]] tables, after what is there, keeping the file's comments and
// layout. Folders and categories become topics. Feeds already followed
// (the same URL, give or take tracking parameters and "www.") are skipped.
// The new configuration is checked before it replaces the old one.
func ImportOPML(cfg *config.Config, r io.Reader) (*Import, error) {
	subs, err := feeds.ReadOPML(r)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	ids := map[string]bool{}
	for _, s := range cfg.Sources {
		have[feeds.URLKey(s.URL)] = true
		ids[s.ID] = true
	}
	var b bytes.Buffer
	res := &Import{}
	for _, sub := range subs {
		key := feeds.URLKey(sub.FeedURL)
		if key == "" || have[key] {
			res.Skipped = append(res.Skipped, sub)
			continue
		}
		have[key] = true
		s := &config.SourceConfig{Name: sub.Title, URL: sub.FeedURL, Site: sub.SiteURL, Kind: sub.Kind}
		if s.Name == "" {
			s.Name = sub.FeedURL
		}
		if _, ok := config.SourceKinds[s.Kind]; !ok {
			s.Kind = ""
		}
		s.ID = uniqueID(sub, s.Name, ids)
		ids[s.ID] = true
		for _, c := range sub.Categories {
			if t := feeds.IDFrom(c); t != "" && !slices.Contains(s.Topics, t) {
				s.Topics = append(s.Topics, t)
			}
		}
		writeSource(&b, s)
		res.Added = append(res.Added, s)
	}
	if len(res.Added) == 0 {
		return res, nil
	}
	data := bytes.TrimRight(cfg.Data(), "\n")
	data = append(append(append([]byte{}, data...), "\n"...), b.Bytes()...)
	if _, err := config.ParseConfig(cfg.File, data); err != nil {
		return nil, fmt.Errorf("the imported sources would not make a valid configuration: %w", err)
	}
	return res, replaceFile(cfg.File, data)
}

// uniqueID returns the id an imported source gets: the one an export of
// Rounds carried, so that its cache and its items' IDs survive the round
// trip, or else one made from its name; numbered when another source has
// it already.
func uniqueID(sub feeds.Subscription, name string, taken map[string]bool) string {
	if feeds.ValidID(sub.ID) && !taken[sub.ID] {
		return sub.ID
	}
	base := cmp.Or(feeds.IDFrom(name), "source")
	id := base
	for n := 2; taken[id]; n++ {
		suffix := "-" + strconv.Itoa(n)
		id = strings.TrimRight(base[:min(len(base), 80-len(suffix))], "-") + suffix
	}
	return id
}

// writeSource writes s as a [[source]] table.
func writeSource(b *bytes.Buffer, s *config.SourceConfig) {
	fmt.Fprintf(b, "\n[[source]]\nid = %s\nname = %s\nurl = %s\n", config.TOMLValue(s.ID), config.TOMLValue(s.Name), config.TOMLValue(s.URL))
	if s.Site != "" {
		fmt.Fprintf(b, "site = %s\n", config.TOMLValue(s.Site))
	}
	if s.Kind != "" {
		fmt.Fprintf(b, "kind = %s\n", config.TOMLValue(s.Kind))
	} else {
		b.WriteString("kind = \"other\"  # journal, preprint, registry, regulator, agency, database, news\n")
	}
	if len(s.Topics) > 0 {
		fmt.Fprintf(b, "topics = %s\n", config.TOMLValue(s.Topics))
	}
}

// replaceFile writes data to path atomically, keeping its permissions.
func replaceFile(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
