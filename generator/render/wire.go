package render

import (
	"fmt"

	"github.com/rounds-health/rounds/feeds"
	"github.com/rounds-health/rounds/generator/output"
	"github.com/rounds-health/rounds/generator/site"
	"github.com/rounds-health/rounds/generator/wire"
)

// planWire schedules the wire's pages: the latest stories, by day and
// source, for the whole wire and for each topic its sources cover; the
// feed-health page; and sources.opml.
func (w *writer) planWire(pg func(*PageData)) {
	s := w.site
	wr, cfg := s.Wire, s.Config
	if len(wr.Sources) == 0 {
		return
	}
	since := s.Now.AddDate(0, 0, -cfg.Wire.Days)
	loc := cfg.Location()
	desc := fmt.Sprintf("What %d sources published in the last %d days, as their feeds carry it: not yet curated, not endorsed.", len(wr.Sources), cfg.Wire.Days)
	pg(&PageData{Kind: "wire", Path: "wire/", Title: "Wire", Description: desc, WireDays: wr.Days(wr.Since(since, ""), loc)})
	for _, t := range wr.TopicList() {
		topic := site.NewTopic(cfg, "wire", t, cfg.TopicTitle(t))
		pg(&PageData{Kind: "wire", Path: topic.Path(), Title: "Wire: " + topic.Title, Topic: topic,
			Description: fmt.Sprintf("What the sources on %s published in the last %d days.", topic.Title, cfg.Wire.Days),
			WireDays:    wr.Days(wr.Since(since, t), loc)})
	}
	if cfg.Wire.ShowHealth() {
		pg(&PageData{Kind: "sources", Path: "sources/", Title: "Sources", Description: "The feeds " + cfg.Title + " follows, and how each answered its last fetch.", Sources: wr.Sources})
	}
	w.render("sources.opml", func(buf *output.Buffer) error {
		return feeds.WriteOPML(buf, cfg.Title+": sources", wire.Subscriptions(cfg))
	})
}
