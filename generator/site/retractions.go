package site

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rounds-health/rounds/generator/content"
)

// loadRetractions reads a Retraction Watch CSV file and returns its
// notices by "doi:…" and "pmid:…" of the original paper.
func loadRetractions(path string) (map[string]*content.Retraction, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; download the Retraction Watch data or remove [check] retractions", path, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s:1: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	if _, ok := col["originalpaperdoi"]; !ok {
		return nil, fmt.Errorf("%s:1: no OriginalPaperDOI column; is this the Retraction Watch CSV?", path)
	}
	out := map[string]*content.Retraction{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line, _ := r.FieldPos(0)
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		n := &content.Retraction{Nature: get(rec, "retractionnature"), Date: rwDate(get(rec, "retractiondate")), Notice: get(rec, "retractiondoi"), Reason: get(rec, "reason")}
		if n.Nature == "" {
			n.Nature = "Retraction"
		}
		if doi, err := content.NormalizeID("doi", get(rec, "originalpaperdoi")); err == nil {
			out["doi:"+strings.ToLower(doi)] = n
		}
		if pmid, err := content.NormalizeID("pmid", get(rec, "originalpaperpubmedid")); err == nil {
			out["pmid:"+pmid] = n
		}
	}
	return out, nil
}

// retractionOf returns the notice about the paper a note cites, or nil.
func retractionOf(n *content.Note, notices map[string]*content.Retraction) *content.Retraction {
	if n.Source.DOI != "" {
		if r := notices["doi:"+strings.ToLower(n.Source.DOI)]; r != nil {
			return r
		}
	}
	if n.Source.PMID != "" {
		return notices["pmid:"+n.Source.PMID]
	}
	return nil
}

// rwDate turns Retraction Watch's dates ("3/4/2026 0:00", month first)
// into "4 March 2026"; others are kept as they are.
func rwDate(s string) string {
	for _, layout := range []string{"1/2/2006 15:04", "1/2/2006", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format("2 January 2006")
		}
	}
	return s
}
