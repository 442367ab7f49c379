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

// Build indexes docs. It lets go of each document's fields once it is
// done with them, so that a large index need not hold them all: docs is
// not to be used again.
func Build(docs []Doc, opts *Options) (*Index, error) {
	if opts == nil {
		opts = &Options{}
	}
	phrases := phraseTable(opts.Synonyms)
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(docs)))
	// The records, JSON in chunks, are written and compressed on one
	// goroutine while the workers index the documents.
	var chunks []*file
	var recordErr error
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		for start := 0; start < len(docs); start += chunkSize {
			var records bytes.Buffer
			records.Grow(chunkSize * 512)
			enc := json.NewEncoder(&records) // a record is encoded in place, not copied
			records.WriteByte('[')
			for j := start; j < min(start+chunkSize, len(docs)); j++ {
				if j > start {
					records.WriteByte(',')
				}
				if err := enc.Encode(docs[j].Record); err != nil {
					recordErr = fmt.Errorf("search: the record of document %d: %w", j, err)
					return
				}
				docs[j].Record = nil
				records.Truncate(records.Len() - 1) // Encode's newline
			}
			records.WriteByte(']')
			chunks = append(chunks, &file{dir: "d/", raw: records.Bytes()})
		}
		// Records repeat their keys and labels: they are compressed
		// with matching, where postings are not worth it.
		compress(chunks, 1, gzip.BestSpeed)
	}()
	// Each worker indexes a run of documents, into postings of its own:
	// a term's postings are then its workers', one run after the other.
	lengths := make([]uint32, len(docs))
	parts := make([]*analyser, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := newAnalyser(phrases)
			parts[w] = a
			for d := len(docs) * w / workers; d < len(docs)*(w+1)/workers; d++ {
				lengths[d] = opts.Cache.index(&docs[d], a, uint32(d))
				// The records' goroutine has the record; the rest is done.
				doc := &docs[d]
				doc.Title, doc.Summary, doc.HTML, doc.Meta, doc.IDs, doc.Filters = "", "", "", nil, nil, nil
			}
			a.sort()
		}()
	}
	wg.Wait()
	opts.Cache.keep()

	total := 0.0
	for _, l := range lengths {
		total += float64(l)
	}
	avg := max(total/float64(max(len(docs), 1)), 1)

	idx := &Index{Files: map[string][]byte{}}
	// The shards, each about shardTarget bytes of terms in order.
	var shards []*file
	var firsts []string
	var buf, scratch []byte
	first, prev := "", ""
	cut := func() {
		if len(buf) > 0 {
			shards = append(shards, &file{dir: "s/", raw: buf})
			firsts = append(firsts, first)
			buf = nil
		}
	}
	nd := float64(len(docs))
	// The workers' terms, each in order, merged: a term's postings are
	// its workers', one run after the other, each run's documents
	// numbered from 0. Each is let go once in its shard.
	at := make([]int, len(parts))
	runs := make([]*entry, 0, len(parts))
	for {
		term, found := "", false
		for w, a := range parts {
			if at[w] < len(a.sorted) && (!found || a.sorted[at[w]].term < term) {
				term, found = a.sorted[at[w]].term, true
			}
		}
		if !found {
			break
		}
		runs = runs[:0]
		var count uint32
		for w, a := range parts {
			if at[w] < len(a.sorted) && a.sorted[at[w]].term == term {
				e := a.sorted[at[w]]
				a.sorted[at[w]] = nil
				at[w]++
				runs = append(runs, e)
				count += e.df
			}
		}
		idx.Terms++
		idx.Postings += int(count)
		df := float64(count)
		idf := math.Log(1 + (nd-df+0.5)/(df+0.5))
		scratch = scratch[:0]
		last := uint64(0)
		for _, e := range runs {
			doc, p := uint64(0), e.data
			for range e.df {
				gap, n := binary.Uvarint(p)
				tf, m := binary.Uvarint(p[n:])
				p = p[n+m:]
				doc += gap
				norm := float64(tf) * (k1 + 1) / (float64(tf) + k1*(1-b+b*float64(lengths[doc])/avg))
				q := max(1, min(255, int(math.Round(norm/(k1+1)*255))))
				scratch = binary.AppendUvarint(scratch, doc-last)
				scratch = append(scratch, byte(q))
				last = doc
			}
		}
		if len(buf) == 0 {
			first, prev = term, ""
			buf = make([]byte, 0, shardTarget+shardTarget/4) // a shard ends past the target
		}
		shared := commonPrefix(prev, term)
		buf = binary.AppendUvarint(buf, uint64(shared))
		buf = binary.AppendUvarint(buf, uint64(len(term)-shared))
		buf = append(buf, term[shared:]...)
		buf = binary.AppendUvarint(buf, uint64(math.Round(idf*1000)))
		buf = binary.AppendUvarint(buf, uint64(count))
		buf = binary.AppendUvarint(buf, uint64(len(scratch)))
		buf = append(buf, scratch...)
		prev = term
		if len(buf) >= shardTarget {
			cut()
		}
	}
	cut()

	// Postings are varints: Huffman coding alone makes them as small as
	// matching does (0.2% larger on the benchmark corpus), in half the
	// time.
	compress(shards, workers, gzip.HuffmanOnly)
	<-recorded
	if recordErr != nil {
		return nil, recordErr
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
	}{Version: 1, Docs: len(docs), Chunk: chunkSize, K1: k1, Stop: StopWords, Synonyms: [][][]string{}, Shards: [][2]string{}, Chunks: []string{}}
	for _, g := range opts.Synonyms {
		meta.Synonyms = append(meta.Synonyms, g.stems)
	}
	for i, f := range shards {
		meta.Shards = append(meta.Shards, [2]string{firsts[i], f.name})
		idx.Files[f.name] = f.data
	}
	for _, f := range chunks {
		meta.Chunks = append(meta.Chunks, f.name)
		idx.Files[f.name] = f.data
	}
	data, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	idx.Meta = "meta." + hex.EncodeToString(sum[:5]) + ".json"
	idx.Files[idx.Meta] = data
	return idx, nil
}

// A file is a file of the index: its contents, compressed, and its name
// under the index's folder, from them.
type file struct {
	dir       string
	raw, data []byte
	name      string
}

// compress compresses the files on workers goroutines, at gzip's level,
// and names each after its compressed contents. Level 4 made the index of
// the benchmark corpus 7% smaller than the fastest, for more CPU time
// than the build could spare.
func compress(files []*file, workers, level int) {
	var wg sync.WaitGroup
	next := make(chan *file)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var z bytes.Buffer
			w, _ := gzip.NewWriterLevel(&z, level)
			for f := range next {
				z.Reset()
				w.Reset(&z)
				w.Write(f.raw)
				w.Close()
				f.data, f.raw = bytes.Clone(z.Bytes()), nil
				sum := sha256.Sum256(f.data)
				f.name = f.dir + hex.EncodeToString(sum[:5]) + ".gz"
			}
		}()
	}
	for _, f := range files {
		next <- f
	}
	close(next)
	wg.Wait()
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

// An analysis is what rounds serve's cache keeps of a document: its
// terms, in no order, and its length in weighted words.
type analysis struct {
	terms  []termTF
	length uint32
}

// An analyser turns documents into analyses, keeping its scratch space.
type analyser struct {
	phrases map[string][]phrase
	tk      tokenizer
	seq     []*entry // the terms of the field at hand
	touched []*entry // the terms the document has
	sorted  []*entry // the terms the analyser found, in order, once it is done
	length  uint32
}

// newAnalyser returns an analyser that counts the synonym groups whose
// phrases it meets, from phraseTable.
func newAnalyser(phrases map[string][]phrase) *analyser {
	a := &analyser{phrases: phrases}
	a.tk.recent = new([1 << 12]known)
	for first := range phrases {
		a.tk.entry(first).phrase = true
	}
	return a
}

// sort puts the entries of the terms a has found in a.sorted, in order.
func (a *analyser) sort() {
	for _, e := range a.tk.byTerm {
		if e.df > 0 {
			a.sorted = append(a.sorted, e)
		}
	}
	slices.SortFunc(a.sorted, func(x, y *entry) int { return strings.Compare(x.term, y.term) })
}

// analyse counts the terms of d, into a.touched, and returns its length
// in weighted words.
func (a *analyser) analyse(d *Doc) uint32 {
	a.length = 0
	a.field(Title, d.Title)
	a.field(Summary, d.Summary)
	for _, m := range d.Meta {
		a.field(Meta, m)
	}
	for _, id := range d.IDs {
		a.seq = append(a.seq[:0], a.tk.entry(strings.ToLower(id)))
		a.count(ID)
	}
	a.body(d.HTML)
	for _, f := range d.Filters {
		a.add(a.tk.entry("~"+f), 1)
	}
	return a.length
}

// post adds the postings of the document a analysed, number doc, to its
// terms'; keep, if not nil, is given the terms first.
func (a *analyser) post(doc uint32, keep *analysis) {
	for _, e := range a.touched {
		if keep != nil {
			keep.terms = append(keep.terms, termTF{e.term, e.tf})
		}
		e.post(doc, e.tf)
		e.tf, e.seen = 0, false
	}
	a.touched = a.touched[:0]
}

// postings are the documents a term is in, in order, each with how often
// it has the term, weighted by field: as varints, each document's gap
// from the one before (from 0 for the first) and its frequency. Varints
// keep them small: an index builds tens of megabytes of them otherwise,
// and paging in fresh memory costs more than the encoding.
type postings struct {
	data     []byte
	last, df uint32 // the last document, and how many
}

// post adds document doc, which has the term tf times, after the others.
// The slice doubles when full, where append would grow a long one by a
// quarter, copying a common term's postings again and again.
func (ps *postings) post(doc uint32, tf uint16) {
	if cap(ps.data)-len(ps.data) < 2*binary.MaxVarintLen32 {
		ps.data = slices.Grow(ps.data, max(16, len(ps.data)))
	}
	ps.data = binary.AppendUvarint(ps.data, uint64(doc-ps.last))
	ps.data = binary.AppendUvarint(ps.data, uint64(tf))
	ps.last = doc
	ps.df++
}

// add counts the term of e w times more.
func (a *analyser) add(e *entry, w uint16) {
	if !e.seen {
		e.seen = true
		a.touched = append(a.touched, e)
	}
	if e.tf < math.MaxUint16-w {
		e.tf += w
	}
}

// field counts the terms of text, a field of f.
func (a *analyser) field(f Field, text string) {
	a.seq = a.seq[:0]
	a.seq = a.tk.terms(text, a.seq)
	a.count(f)
}

// count counts the terms of a.seq, found in field f, and the synonym
// groups whose phrases it holds, each as its group's term: "~s" and its
// number.
func (a *analyser) count(f Field) {
	w := weights[f]
	for i, e := range a.seq {
		a.add(e, w)
		if !e.phrase {
			continue
		}
		for _, p := range a.phrases[e.term] {
			if len(p.stems) <= len(a.seq)-i && a.holds(p.stems, i) {
				a.add(a.tk.entry("~s"+strconv.Itoa(p.group)), w)
			}
		}
	}
	a.length += uint32(len(a.seq)) * uint32(w)
}

// holds reports whether a.seq holds the terms stems from i on.
func (a *analyser) holds(stems []string, i int) bool {
	for k, s := range stems {
		if a.seq[i+k].term != s {
			return false
		}
	}
	return true
}

// body counts the terms of an HTML body: text in headings as Heading,
// the rest as Body; pre, code, script and style are left out. A
// heading's terms are counted when it ends, the prose's at the end.
func (a *analyser) body(h string) {
	skip, heading := 0, 0
	var prose []*entry
	text := func(s string) {
		if skip > 0 || s == "" {
			return
		}
		if strings.IndexByte(s, '&') >= 0 {
			s = html.UnescapeString(s)
		}
		a.seq = a.tk.terms(s, a.seq)
	}
	a.seq = a.seq[:0]
	for len(h) > 0 {
		lt := strings.IndexByte(h, '<')
		if lt < 0 {
			text(h)
			break
		}
		text(h[:lt])
		h = h[lt:]
		gt := strings.IndexByte(h, '>')
		if gt < 0 {
			break
		}
		tag := h[1:gt]
		h = h[gt+1:]
		closing := strings.HasPrefix(tag, "/")
		name := strings.TrimPrefix(tag, "/")
		if sp := strings.IndexAny(name, " \t\n/"); sp >= 0 {
			name = name[:sp]
		}
		switch strings.ToLower(name) {
		case "pre", "code", "script", "style":
			if closing {
				skip = max(0, skip-1)
			} else {
				skip++
			}
		case "h1", "h2", "h3", "h4", "h5", "h6":
			if closing {
				a.count(Heading)
				a.seq = prose
				heading = max(0, heading-1)
			} else if heading == 0 {
				prose = a.seq
				a.seq = nil
				heading++
			}
		}
	}
	if heading > 0 {
		a.count(Heading)
		a.seq = prose
	}
	a.count(Body)
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

// index adds the postings of d, number doc, to a's terms, from the
// cache's analysis of it when it has one, and returns d's length.
func (c *Cache) index(d *Doc, a *analyser, doc uint32) uint32 {
	if c == nil {
		length := a.analyse(d)
		a.post(doc, nil)
		return length
	}
	k := key(d)
	c.mu.Lock()
	an, ok := c.prev[k]
	c.mu.Unlock()
	if ok {
		for _, t := range an.terms {
			e := a.tk.entry(t.term)
			e.post(doc, t.tf)
		}
	} else {
		an = &analysis{length: a.analyse(d)}
		a.post(doc, an)
	}
	c.mu.Lock()
	if c.next == nil {
		c.next = map[string]*analysis{}
	}
	c.next[k] = an
	c.mu.Unlock()
	return an.length
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
		size, _ := binary.ReadUvarint(r)
		if size > uint64(r.Len()) {
			return nil, fmt.Errorf("search: %s: corrupt", m.Shards[i][1])
		}
		if t != term {
			r.Seek(int64(size), io.SeekCurrent) // the postings of another term
			continue
		}
		var docs []int
		doc := 0
		for range df {
			gap, err := binary.ReadUvarint(r)
			if err != nil {
				return nil, fmt.Errorf("search: %s: corrupt", m.Shards[i][1])
			}
			doc += int(gap)
			r.ReadByte() // the impact
			docs = append(docs, doc)
		}
		return docs, nil
	}
	return nil, nil
}
