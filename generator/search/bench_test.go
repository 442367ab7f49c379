package search

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rounds-health/rounds/generator/corpus"
	"github.com/yuin/goldmark"
)

// BenchmarkBuild indexes the 10,000 notes of the benchmark corpus, their
// bodies as HTML, with the default theme's synonyms.
//
//	go test -run XXX -bench BenchmarkBuild ./generator/search
func BenchmarkBuild(b *testing.B) {
	dir := b.TempDir()
	theme := filepath.Join("..", "..", "themes", "default")
	if err := corpus.Write(dir, 10000, theme); err != nil {
		b.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "content", "notes", "*.md"))
	var docs []Doc
	size := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		size += len(data)
		parts := strings.SplitN(string(data), "+++", 3)
		if len(parts) < 3 {
			b.Fatalf("%s: no front matter", f)
		}
		var body bytes.Buffer
		if err := goldmark.Convert([]byte(parts[2]), &body); err != nil {
			b.Fatal(err)
		}
		d := Doc{HTML: body.String(), Record: filepath.Base(f)}
		for _, line := range strings.Split(parts[1], "\n") {
			k, v, _ := strings.Cut(line, " = ")
			switch k {
			case "title":
				d.Title = v
			case "summary":
				d.Summary = v
			case "topics", "evidence", "source":
				d.Meta = append(d.Meta, v)
			}
		}
		docs = append(docs, d)
	}
	table, err := os.ReadFile(filepath.Join(theme, "search", "synonyms.txt"))
	if err != nil {
		b.Fatal(err)
	}
	lists, err := ParseSynonyms("synonyms.txt", string(table))
	if err != nil {
		b.Fatal(err)
	}
	groups, err := Synonyms(lists)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	var idx *Index
	for b.Loop() {
		if idx, err = Build(slices.Clone(docs), &Options{Synonyms: groups}); err != nil {
			b.Fatal(err)
		}
	}
	total := 0
	for _, f := range idx.Files {
		total += len(f)
	}
	b.ReportMetric(float64(total)/float64(size)*100, "%-of-markdown")
}
