package search

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func terms(text string) []string {
	var out []string
	Terms(text, func(t string) { out = append(out, t) })
	return out
}

func TestTerms(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		text string
		want []string
	}{
		{"Vaccinations and vaccines", []string{"vaccin", "vaccin"}},
		{"Randomised, randomized; analysed, analyzed", []string{"randomis", "randomis", "analys", "analys"}},
		{"Paediatric DÉXAMÉTHASONE naïve", []string{"paediatr", "dexamethason", "naiv"}},
		{"See doi:10.1056/NEJMoa2021436.", []string{"10.1056/nejmoa2021436", "see"}},
		{"https://doi.org/10.1001/jama.2021.6238, later", []string{"10.1001/jama.2021.6238", "later"}},
		{"Organized organised organization organisation size", []string{"organis", "organis", "organis", "organis", "sise"}},
		{"PMID 33368142 and NCT04368728", []string{"33368142", "nct04368728"}},
		{"Type 2 diabetes, a b c", []string{"type", "2", "diabet"}},
		{"COVID-19 women's health", []string{"covid", "19", "women", "health"}},
		{"<p>", []string{"p"}[:0]},
	} {
		if got := terms(c.text); !slices.Equal(got, c.want) {
			t.Errorf("Terms(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestSynonyms(t *testing.T) {
	t.Parallel()
	theme, err := ParseSynonyms("synonyms.txt", "# comment\nheart attack, myocardial infarction\nflu, influenza # the season\n")
	if err != nil {
		t.Fatal(err)
	}
	groups, err := Synonyms(theme, [][]string{{"MI", "Heart attacks"}, {"grippe", "Influenza"}, {"COPD", "emphysema"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, g := range groups {
		got = append(got, strings.Join(g.Phrases, "|"))
	}
	want := []string{"heart attack|myocardial infarction|MI", "flu|influenza|grippe", "COPD|emphysema"}
	if !slices.Equal(got, want) {
		t.Errorf("groups %q, want %q", got, want)
	}
	for _, bad := range []string{"flu\n", "flu, the\n"} {
		if _, err := ParseSynonyms("themes/x/search/synonyms.txt", "# one\n"+bad); err == nil || !strings.HasPrefix(err.Error(), "themes/x/search/synonyms.txt:2: ") {
			t.Errorf("%q: error %v, want one naming the file and line 2", bad, err)
		}
	}
}

// unzip returns the contents of a compressed index file.
func unzip(t *testing.T, data []byte) []byte {
	t.Helper()
	z, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(z)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBuild(t *testing.T) {
	t.Parallel()
	groups, err := Synonyms([][]string{{"heart attack", "myocardial infarction"}})
	if err != nil {
		t.Fatal(err)
	}
	docs := []Doc{
		{Title: "Statins after a heart attack", Summary: "Fewer second events.", HTML: "<h2>What it is</h2><p>A trial of statins.</p><pre><code>zebracode</code></pre>", IDs: []string{"10.1056/NEJMoa1", "12345678"}, Filters: []string{"topic:cardiology", "year:2025"}, Record: map[string]string{"u": "/notes/statins/"}},
		{Title: "Aspirin", Summary: "After myocardial infarction, aspirin.", HTML: "<p>Aspirin &amp; bleeding.</p>", Filters: []string{"topic:cardiology", "year:2026"}, Record: map[string]string{"u": "/notes/aspirin/"}},
		{Title: "Flu vaccines", HTML: "<p>Vaccination in autumn.</p>", Filters: []string{"topic:vaccines", "year:2026"}, Record: map[string]string{"u": "/notes/flu/"}},
	}
	idx, err := Build(slices.Clone(docs), &Options{Synonyms: groups, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	for term, want := range map[string][]int{
		"statin":             {0},
		"aspirin":            {1},
		"bleed":              {1},
		"vaccin":             {2},
		"~s0":                {0, 1}, // heart attack, myocardial infarction
		"10.1056/nejmoa1":    {0},
		"12345678":           {0},
		"~topic:cardiology":  {0, 1},
		"~year:2026":         {1, 2},
		"zebracod":           nil, // code is left out
		"zebracode":          nil,
		"the":                nil,
		"~topic:nonexistent": nil,
	} {
		got, err := Lookup(idx.Files, idx.Meta, term)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: documents %v, want %v", term, got, want)
		}
	}
	// The records are each document's, in order, in chunks.
	var meta struct {
		Chunks []string `json:"chunks"`
		Docs   int      `json:"docs"`
	}
	if err := json.Unmarshal(idx.Files[idx.Meta], &meta); err != nil {
		t.Fatal(err)
	}
	var recs []map[string]string
	if err := json.Unmarshal(unzip(t, idx.Files[meta.Chunks[0]]), &recs); err != nil {
		t.Fatal(err)
	}
	if meta.Docs != 3 || len(recs) != 3 || recs[2]["u"] != "/notes/flu/" {
		t.Errorf("records %v of %d documents", recs, meta.Docs)
	}
	// The same documents make the same files, byte for byte, and a
	// cache gives what no cache gives.
	var cache Cache
	for i := range 3 {
		again, err := Build(slices.Clone(docs), &Options{Synonyms: groups, Workers: 1 + i%2, Cache: &cache})
		if err != nil {
			t.Fatal(err)
		}
		if again.Meta != idx.Meta || !maps.EqualFunc(again.Files, idx.Files, bytes.Equal) {
			t.Fatalf("build %d made other files", i+2)
		}
	}
	// An edit changes the index.
	docs[2].HTML = "<p>Vaccination in autumn, and zebrafish.</p>"
	edited, err := Build(slices.Clone(docs), &Options{Synonyms: groups, Cache: &cache})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := Lookup(edited.Files, edited.Meta, "zebrafish"); !slices.Equal(got, []int{2}) {
		t.Errorf("after an edit, zebrafish is in %v", got)
	}
}

// TestShards indexes enough documents for many shards, and finds every
// term in the shard the metadata names for it.
func TestShards(t *testing.T) {
	t.Parallel()
	var docs []Doc
	for i := range 8000 {
		docs = append(docs, Doc{Title: fmt.Sprintf("word%d common", i), HTML: fmt.Sprintf("<p>shared%d text</p>", i%7), Record: i})
	}
	idx, err := Build(slices.Clone(docs), nil)
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Shards [][2]string `json:"shards"`
	}
	json.Unmarshal(idx.Files[idx.Meta], &meta)
	if len(meta.Shards) < 3 {
		t.Fatalf("%d shards", len(meta.Shards))
	}
	for _, i := range []int{0, 1, 1234, 7999} {
		if got, _ := Lookup(idx.Files, idx.Meta, fmt.Sprintf("word%d", i)); !slices.Equal(got, []int{i}) {
			t.Errorf("word%d: %v", i, got)
		}
	}
	if got, _ := Lookup(idx.Files, idx.Meta, "common"); len(got) != 8000 {
		t.Errorf("common: %d documents", len(got))
	}
	var shared3 []int
	for i := 3; i < 8000; i += 7 {
		shared3 = append(shared3, i)
	}
	if got, _ := Lookup(idx.Files, idx.Meta, "shared3"); !slices.Equal(got, shared3) {
		t.Errorf("shared3: %d documents, want %d, in order", len(got), len(shared3))
	}
	// Any number of workers makes the same files: each indexes a run of
	// the documents, and a term's postings are gathered run by run.
	for _, workers := range []int{1, 3} {
		again, err := Build(slices.Clone(docs), &Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if again.Meta != idx.Meta || !maps.EqualFunc(again.Files, idx.Files, bytes.Equal) {
			t.Errorf("%d workers made other files than %d", workers, runtime.GOMAXPROCS(0))
		}
	}
}
