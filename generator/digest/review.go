package digest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/site"
)

// reviewer is the recipient of the messages written for review.
var reviewer = &Subscriber{Email: "reader@example.invalid", Name: "A Reader", Status: "subscribed"}

// Lists returns the configured lists, or, when there are none, one list
// that carries every note.
func Lists(cfg *config.Config) []*config.ListConfig {
	if len(cfg.Lists) > 0 {
		return cfg.Lists
	}
	return []*config.ListConfig{{ID: "all", Name: cfg.Title}}
}

// Edition returns the published edition with the slug, or the latest one
// when slug is empty.
func Edition(s *site.Site, slug string) (*content.Edition, error) {
	if slug == "" {
		if ed := s.LatestEdition(); ed != nil {
			return ed, nil
		}
		return nil, fmt.Errorf("no published edition; write one with rounds new edition")
	}
	for _, ed := range s.Editions {
		if ed.Slug == slug {
			return ed, nil
		}
	}
	var have []string
	for _, ed := range s.Editions {
		have = append(have, ed.Slug)
	}
	return nil, fmt.Errorf("no published edition %q; the editions are: %s", slug, strings.Join(have, ", "))
}

// WriteReview writes the digest's HTML, its text and a complete message
// (to a placeholder reader, dated as the edition) into dir, as
// LIST.html, LIST.txt and LIST.eml, and returns their paths.
func WriteReview(c *Composer, d *Digest, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	msg, err := c.Compose(d, reviewer, d.Edition.Published)
	if err != nil {
		return nil, err
	}
	htmlPart, textPart := d.Personal(c.unsubscribeLink(d.List.ID, reviewer, d.Edition.Published))
	var paths []string
	for _, f := range []struct{ ext, data string }{{".html", htmlPart}, {".txt", textPart}, {".eml", string(msg)}} {
		p := filepath.Join(dir, d.List.ID+f.ext)
		if err := os.WriteFile(p, []byte(f.data), 0o644); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}
