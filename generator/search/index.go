package search

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// A Field is a part of a document, weighted by how much a match in it
// says about the document.
type Field uint8

// The fields, from the least weight to the most.
const (
	Body    Field = iota // prose
	Meta                 // topics, audiences, design, evidence, source
	Heading              // the body's headings
	Summary
	Title
	ID // DOI, PMID, NCT number: found exactly
)

// weights are the fields' weights: a word in a title counts as six in
// the prose.
var weights = [...]uint16{Body: 1, Meta: 2, Heading: 3, Summary: 3, Title: 6, ID: 6}

// BM25's parameters: k1 bounds what repeating a term adds, b how much a
// long document's terms count for less.
const (
	k1 = 1.2
	b  = 0.75
)

// A Doc is a document to index. Docs are numbered in the order given;
// results with the same score show the higher number first, so give them
// oldest first.
type Doc struct {
	Title, Summary string
	// HTML is the body: headings weigh more than prose; code and
	// scripts are left out.
	HTML string
	// Meta are short texts about the document: its topics' names, its
	// audiences, study design, evidence grade, source's title and
	// publisher.
	Meta []string
	// IDs are identifiers a reader may type to find the document
	// exactly: a DOI, a PMID, an NCT number.
	IDs []string
	// Filters are the facets a reader may narrow results by, each
	// "name:value" (topic:vaccines, year:2026); a filter is the term
	// "~name:value".
	Filters []string
	// Record is what a result shows of the document, JSON-encoded.
	Record any
}

// Options tune an index.
type Options struct {
	// Synonyms are groups of phrases that find each other, as Synonyms
	// returns them.
	Synonyms []Group
	// Workers bounds the parallel work; 0 means one per CPU.
	Workers int
	// Cache keeps each document's terms from one build to the next, for
	// rounds serve; nil keeps nothing.
	Cache *Cache
}

// An Index is the files of a search index, by path under the index's
// folder. Only Meta's name is fixed by nothing: it is named after its
// contents, as every file but the page is, so that each may be cached
// for ever.
type Index struct {
	Files map[string][]byte
	// Meta is the path of the metadata file that names the others: the
	// search page loads it first.
	Meta string
	// Terms and Postings count the index's distinct terms and its
	// (term, document) pairs.
	Terms, Postings int
}

// A shard holds about this many bytes of postings before compression:
// a query fetches the shard of each of its terms.
const shardTarget = 24 << 10

// chunkSize is how many documents' records a file holds: a page of
// results fetches a file a result at most.
const chunkSize = 16

// Build indexes docs.
func Build(docs []Doc, opts *Options) (*Index, error) {
	if opts == nil {
		opts = &Options{}
	}
	phrases := phraseTable(opts.Synonyms)
	analysed := make([]*analysis, len(docs))
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	var next sync.Mutex
	i := 0
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var a analyser
			a.phrases = phrases
			for {
				next.Lock()
				j := i
				i++
				next.Unlock()
				if j >= len(docs) {
					return
				}
				analysed[j] = opts.Cache.get(&docs[j], &a)
			}
		}()
	}
	wg.Wait()
	opts.Cache.keep()

	// The postings of every term, in document order.
	type posting struct {
		doc uint32
		tf  uint16
	}
	ids := map[string]int{}
	var terms []string
	var postings [][]posting
	total := 0.0
	for d, an := range analysed {
		total += float64(an.length)
		for _, t := range an.terms {
			id, ok := ids[t.term]
			if !ok {
				id = len(terms)
				ids[t.term] = id
				terms = append(terms, t.term)
				postings = append(postings, nil)
			}
			postings[id] = append(postings[id], posting{uint32(d), t.tf})
		}
	}
	avg := max(total/float64(max(len(docs), 1)), 1)
	order := make([]int, len(terms))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(terms[a], terms[b]) })

	idx := &Index{Files: map[string][]byte{}, Terms: len(terms)}
	type shardRef struct{ First, File string }
	var shards []shardRef
	var buf, scratch []byte
	first, prev := "", ""
	cut := func() error {
		if len(buf) == 0 {
			return nil
		}
		name, err := idx.add("s/", buf)
		shards = append(shards, shardRef{first, name})
		buf = buf[:0]
		return err
	}
	n := float64(len(docs))
	for _, id := range order {
		term, ps := terms[id], postings[id]
		idx.Postings += len(ps)
		df := float64(len(ps))
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		scratch = scratch[:0]
		last := uint32(0)
		for k, p := range ps {
			gap := p.doc - last
			if k == 0 {
				gap = p.doc
			}
			last = p.doc
			tf := float64(p.tf)
			norm := tf * (k1 + 1) / (tf + k1*(1-b+b*float64(analysed[p.doc].length)/avg))
			q := max(1, min(255, int(math.Round(norm/(k1+1)*255))))
			scratch = binary.AppendUvarint(scratch, uint64(gap))
			scratch = append(scratch, byte(q))
		}
		if len(buf) == 0 {
			first, prev = term, ""
		}
		shared := commonPrefix(prev, term)
		buf = binary.AppendUvarint(buf, uint64(shared))
		buf = binary.AppendUvarint(buf, uint64(len(term)-shared))
		buf = append(buf, term[shared:]...)
		buf = binary.AppendUvarint(buf, uint64(math.Round(idf*1000)))
		buf = binary.AppendUvarint(buf, uint64(len(ps)))
		buf = append(buf, scratch...)
		prev = term
		if len(buf) >= shardTarget {
			if err := cut(); err != nil {
				return nil, err
			}
		}
	}
	if err := cut(); err != nil {
		return nil, err
	}

	var chunks []string
	var records bytes.Buffer
	for start := 0; start < len(docs); start += chunkSize {
		records.Reset()
		records.WriteByte('[')
		for j := start; j < min(start+chunkSize, len(docs)); j++ {
			if j > start {
				records.WriteByte(',')
			}
			r, err := json.Marshal(docs[j].Record)
			if err != nil {
				return nil, fmt.Errorf("search: the record of document %d: %w", j, err)
			}
			records.Write(r)
		}
		records.WriteByte(']')
		name, err := idx.add("d/", records.Bytes())
		if err != nil {
			return nil, err
		}
		chunks = append(chunks, name)
	}

	meta := struct {
		Version  int          `json:"version"`
		Docs     int          `json:"docs"`
		Chunk    int          `json:"chunk"`
		K1       float64      `json:"k1"`
		Stop     []string     `json:"stop"`
		Synonyms [][][]string `json:"synonyms"`
		Shards   [][2]string  `json:"shards"`
		Chunks   []string     `json:"chunks"`
	}{Version: 1, Docs: len(docs), Chunk: chunkSize, K1: k1, Stop: StopWords, Synonyms: [][][]string{}, Shards: [][2]string{}, Chunks: chunks}
	for _, g := range opts.Synonyms {
		meta.Synonyms = append(meta.Synonyms, g.stems)
	}
	for _, s := range shards {
		meta.Shards = append(meta.Shards, [2]string{s.First, s.File})
	}
	if meta.Chunks == nil {
		meta.Chunks = []string{}
	}
	data, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	idx.Meta = "meta." + hex.EncodeToString(sum[:6]) + ".json"
	idx.Files[idx.Meta] = data
	return idx, nil
}

// add compresses data into a file under dir named after its contents,
// and returns its path.
func (idx *Index) add(dir string, data []byte) (string, error) {
	var z bytes.Buffer
	w, err := gzip.NewWriterLevel(&z, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		return "", err
	}
	sum := sha256.Sum256(z.Bytes())
	name := dir + hex.EncodeToString(sum[:6]) + ".gz"
	idx.Files[name] = z.Bytes()
	return name, nil
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// A termTF is a term and how often a document has it, weighted by field.
type termTF struct {
	term string
	tf   uint16
}

// An analysis is what the index keeps of a document: its terms, sorted,
// and its length in weighted words.
type analysis struct {
	terms  []termTF
	length uint32
}

// An analyser turns documents into analyses, keeping its scratch space.
type analyser struct {
	phrases map[string][]phrase
	tf      map[string]uint16
	seq     []string
	length  uint32
}

// analyse returns the terms of d.
func (a *analyser) analyse(d *Doc) *analysis {
	if a.tf == nil {
		a.tf = map[string]uint16{}
	}
	clear(a.tf)
	a.length = 0
	a.field(Title, d.Title)
	a.field(Summary, d.Summary)
	for _, m := range d.Meta {
		a.field(Meta, m)
	}
	for _, id := range d.IDs {
		a.add(strings.ToLower(id), ID)
	}
	a.body(d.HTML)
	for _, f := range d.Filters {
		a.tf["~"+f] = 1
	}
	out := &analysis{terms: make([]termTF, 0, len(a.tf)), length: a.length}
	for t, n := range a.tf {
		out.terms = append(out.terms, termTF{t, n})
	}
	slices.SortFunc(out.terms, func(x, y termTF) int { return strings.Compare(x.term, y.term) })
	return out
}

// add counts term, found in field f.
func (a *analyser) add(term string, f Field) {
	w := weights[f]
	if n := a.tf[term]; n < math.MaxUint16-w {
		a.tf[term] = n + w
	}
	a.length += uint32(w)
}

// field counts the terms of text, a field of f, and the synonyms' phrases
// among them.
func (a *analyser) field(f Field, text string) {
	a.seq = a.seq[:0]
	Terms(text, func(t string) { a.seq = append(a.seq, t) })
	for _, t := range a.seq {
		a.add(t, f)
	}
	a.synonyms(f)
}

// synonyms counts the synonym groups whose phrases a.seq holds, each as
// its group's term, "~s" and its number.
func (a *analyser) synonyms(f Field) {
	if len(a.phrases) == 0 {
		return
	}
	for i, t := range a.seq {
		for _, p := range a.phrases[t] {
			if len(p.stems) <= len(a.seq)-i && slices.Equal(p.stems, a.seq[i:i+len(p.stems)]) {
				w := weights[f]
				term := "~s" + strconv.Itoa(p.group)
				if n := a.tf[term]; n < math.MaxUint16-w {
					a.tf[term] = n + w
				}
			}
		}
	}
}

// body counts the terms of an HTML body: text in headings as Heading,
// the rest as Body; pre, code, script and style are left out.
func (a *analyser) body(h string) {
	skip, heading := 0, 0
	var text strings.Builder
	f := Body
	flush := func() {
		if text.Len() == 0 {
			return
		}
		s := text.String()
		text.Reset()
		if strings.IndexByte(s, '&') >= 0 {
			s = html.UnescapeString(s)
		}
		a.field(f, s)
	}
	for len(h) > 0 {
		lt := strings.IndexByte(h, '<')
		if lt < 0 {
			if skip == 0 {
				text.WriteString(h)
			}
			break
		}
		if skip == 0 {
			text.WriteString(h[:lt])
		}
		h = h[lt:]
		gt := strings.IndexByte(h, '>')
		if gt < 0 {
			break
		}
		tag := h[1:gt]
		h = h[gt+1:]
		closing := strings.HasPrefix(tag, "/")
		name := strings.ToLower(strings.TrimPrefix(tag, "/"))
		if sp := strings.IndexAny(name, " \t\n/"); sp >= 0 {
			name = name[:sp]
		}
		switch name {
		case "pre", "code", "script", "style":
			if closing {
				skip = max(0, skip-1)
			} else {
				skip++
			}
		case "h1", "h2", "h3", "h4", "h5", "h6":
			flush()
			if closing {
				heading = max(0, heading-1)
			} else {
				heading++
			}
			f = Body
			if heading > 0 {
				f = Heading
			}
		case "p", "li", "td", "th", "br", "div", "section", "blockquote", "dd", "dt", "figcaption":
			text.WriteByte(' ') // words in two blocks are two words
		}
	}
	flush()
}

// Cache keeps documents' analyses from one build to the next, by their
// contents, so that rounds serve analyses only what an edit changed.
type Cache struct {
	mu   sync.Mutex
	prev map[string]*analysis
	next map[string]*analysis
}

// key returns what d's analysis depends on, as one string's hash.
func key(d *Doc) string {
	h := sha256.New()
	for _, s := range [...]string{d.Title, d.Summary, d.HTML} {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	for _, list := range [...][]string{d.Meta, d.IDs, d.Filters} {
		fmt.Fprintf(h, "%d|", len(list))
		for _, s := range list {
			fmt.Fprintf(h, "%d:%s", len(s), s)
		}
	}
	return string(h.Sum(nil))
}

// get returns d's analysis, from the cache when it has it.
func (c *Cache) get(d *Doc, a *analyser) *analysis {
	if c == nil {
		return a.analyse(d)
	}
	k := key(d)
	c.mu.Lock()
	an, ok := c.prev[k]
	c.mu.Unlock()
	if !ok {
		an = a.analyse(d)
	}
	c.mu.Lock()
	if c.next == nil {
		c.next = map[string]*analysis{}
	}
	c.next[k] = an
	c.mu.Unlock()
	return an
}

// keep makes this build's analyses the ones the next build looks up.
func (c *Cache) keep() {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.prev, c.next = c.next, nil
	c.mu.Unlock()
}

// Lookup returns the numbers of the documents that hold term, in an
// index's files (by path under its folder) whose metadata is at meta: the
// page's script's lookup, in Go, for tools and tests.
func Lookup(files map[string][]byte, meta, term string) ([]int, error) {
	var m struct {
		Shards [][2]string `json:"shards"`
	}
	if err := json.Unmarshal(files[meta], &m); err != nil {
		return nil, fmt.Errorf("search: %s: %w", meta, err)
	}
	i := sort.Search(len(m.Shards), func(i int) bool { return m.Shards[i][0] > term }) - 1
	if i < 0 {
		return nil, nil
	}
	z, err := gzip.NewReader(bytes.NewReader(files[m.Shards[i][1]]))
	if err != nil {
		return nil, fmt.Errorf("search: %s: %w", m.Shards[i][1], err)
	}
	data, err := io.ReadAll(z)
	if err != nil {
		return nil, fmt.Errorf("search: %s: %w", m.Shards[i][1], err)
	}
	r := bytes.NewReader(data)
	prev := ""
	for r.Len() > 0 {
		shared, _ := binary.ReadUvarint(r)
		n, _ := binary.ReadUvarint(r)
		suffix := make([]byte, n)
		if _, err := io.ReadFull(r, suffix); err != nil || shared > uint64(len(prev)) {
			return nil, fmt.Errorf("search: %s: corrupt", m.Shards[i][1])
		}
		t := prev[:shared] + string(suffix)
		prev = t
		binary.ReadUvarint(r) // idf
		df, _ := binary.ReadUvarint(r)
		var docs []int
		doc := 0
		for k := range df {
			gap, err := binary.ReadUvarint(r)
			if err != nil {
				return nil, fmt.Errorf("search: %s: corrupt", m.Shards[i][1])
			}
			if k == 0 {
				doc = int(gap)
			} else {
				doc += int(gap)
			}
			r.ReadByte() // the impact
			docs = append(docs, doc)
		}
		if t == term {
			return docs, nil
		}
	}
	return nil, nil
}
