package search

import (
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/kljensen/snowball/english"
	"golang.org/x/text/unicode/norm"
)

// StopWords are the words too common to search for: the Snowball
// English stop list, and the words that only label an identifier (doi,
// pmid). The index leaves them out, and the page's script drops them from
// queries, from the list the index's metadata carries.
var StopWords = strings.Fields(`a about above after again against all am an and any are as at be because been before
being below between both but by can did do does doing don down during each few for from further had has have having he
her here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
off on once only or other our ours ourselves out over own s same she should so some such t than that the their theirs
them themselves then there these they this those through to too under until up very was we were what when where which
while who whom why will with you your yours yourself yourselves doi pmid pmcid`)

var stopSet = func() map[string]bool {
	m := make(map[string]bool, len(StopWords))
	for _, w := range StopWords {
		m[w] = true
	}
	return m
}()

// doiPattern finds a DOI in text, which is indexed whole, with the
// resolver's address before it, which is not.
var doiPattern = regexp.MustCompile(`(?i)(?:(?:https?://)?(?:dx\.)?doi\.org/)?(10\.\d{4,9}/[^\t\n\f\r "<>]+)`)

// trimDOI drops the punctuation that ends a sentence or closes a bracket
// after a DOI.
func trimDOI(s string) string { return strings.TrimRight(s, ".,;:)]}'\"’”") }

// fold lower-cases s and takes the accents off its letters (é → e), as
// the page's script does with normalize("NFD") and \p{Mn}.
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// stems caches the stems of words: a newsletter has some tens of
// thousands of distinct words, and a word is stemmed once per build.
var stems sync.Map

// Stem returns the term a word of letters is indexed by: its Snowball
// English stem, with American -ize and -yze spelt as British -ise and
// -yse first (randomized → randomised → randomis). A word with a digit is
// its own term.
func Stem(word string) string {
	for i := 0; i < len(word); i++ {
		if word[i] >= '0' && word[i] <= '9' {
			return word
		}
	}
	if s, ok := stems.Load(word); ok {
		return s.(string)
	}
	s := english.Stem(british(word), true)
	stems.Store(strings.Clone(word), s)
	return s
}

// Terms calls emit with each term of text, in order: a DOI whole, then
// every word of letters and digits (folded, stemmed) that is not a stop
// word. A word of one letter (in any alphabet) is no term. The page's
// script splits a query the same way.
func Terms(text string, emit func(term string)) {
	var tk tokenizer
	tk.terms(text, func(e *entry) { emit(e.term) })
}

// An entry is a term a tokenizer has met, with what an analyser counts
// of it in the document at hand.
type entry struct {
	term string
	// phrase is set when a synonym's phrase starts with the term.
	phrase bool
	tf     uint16 // in the document, weighted by field
	seen   bool   // tf is the document's, not a previous one's
	// postings are the documents the term is in, of those an analyser
	// indexed.
	postings []posting
}

// A tokenizer splits texts into terms, keeping the entries of the words
// it has met (nil for a word that is no term) and its scratch space.
type tokenizer struct {
	words  map[string]*entry
	byTerm map[string]*entry
	buf    []byte
}

// entry returns the entry of term.
func (tk *tokenizer) entry(term string) *entry {
	if tk.byTerm == nil {
		tk.byTerm = map[string]*entry{}
	}
	e, ok := tk.byTerm[term]
	if !ok {
		e = &entry{term: term}
		tk.byTerm[term] = e
	}
	return e
}

// terms calls emit with the entry of each term of text, as Terms does.
func (tk *tokenizer) terms(text string, emit func(*entry)) {
	if strings.Contains(text, "10.") {
		if locs := doiPattern.FindAllStringSubmatchIndex(text, -1); len(locs) > 0 {
			b := []byte(text)
			for _, m := range locs {
				doi := trimDOI(text[m[2]:m[3]])
				emit(tk.entry(fold(doi)))
				for i := m[0]; i < m[2]+len(doi); i++ {
					b[i] = ' '
				}
			}
			text = string(b)
		}
	}
	if tk.words == nil {
		tk.words = map[string]*entry{}
	}
	buf, ascii := tk.buf[:0], true
	flush := func() {
		if len(buf) == 0 {
			return
		}
		w := buf
		if !ascii {
			w = []byte(fold(string(buf)))
		}
		buf, ascii = buf[:0], true
		e, ok := tk.words[string(w)]
		if !ok {
			word := string(w)
			if !(utf8.RuneCountInString(word) == 1 && !(word[0] >= '0' && word[0] <= '9') || stopSet[word]) {
				e = tk.entry(Stem(word))
			}
			tk.words[word] = e
		}
		if e != nil {
			emit(e)
		}
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				buf = append(buf, c)
			case 'A' <= c && c <= 'Z':
				buf = append(buf, c+'a'-'A')
			default:
				flush()
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case unicode.Is(unicode.Mn, r):
			// An accent, which folding takes off.
		case unicode.IsLetter(r) || unicode.IsNumber(r):
			buf = append(buf, text[i:i+size]...)
			ascii = false
		default:
			flush()
		}
		i += size
	}
	flush()
	tk.buf = buf
}

// american are the endings spelt -iz-/-yz- in American English and
// -is-/-ys- in British, after the i or y.
var american = []string{"zations", "zation", "zing", "zers", "zer", "zed", "zes", "ze"}

// british spells a word's American -ize or -yze ending as the British
// -ise or -yse, as the page's script does.
func british(w string) string {
	for _, end := range american {
		if len(w) > len(end)+1 && strings.HasSuffix(w, end) {
			if c := w[len(w)-len(end)-1]; c == 'i' || c == 'y' {
				return w[:len(w)-len(end)] + "s" + end[1:]
			}
			return w
		}
	}
	return w
}
