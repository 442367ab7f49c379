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
	for _, e := range tk.terms(text, nil) {
		emit(e.term)
	}
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
	postings
}

// A tokenizer splits texts into terms, keeping the entries of the words
// it has met (nil for a word that is no term) and its scratch space.
type tokenizer struct {
	words map[string]*known
	// recent keeps words the map found, by a cheap hash: most words of
	// a text are common ones, found here without hashing them whole. An
	// analyser has one; a tokenizer for one text (Terms) does without.
	recent *[1 << 12]known
	byTerm map[string]*entry
	buf    []byte
}

// A known is a word a tokenizer has met and its entry (nil for a
// word that is no term).
type known struct {
	word string
	e    *entry
}

// recentSlot returns the slot of a word of ASCII letters and digits in
// a tokenizer's recent words: from its length and three of its letters.
func recentSlot(w string) uint32 {
	h := uint32(len(w))<<24 ^ uint32(w[0])<<16 ^ uint32(w[len(w)/2])<<8 ^ uint32(w[len(w)-1])
	return h * 0x9e3779b1 >> 20
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

// The kinds of an ASCII byte, for splitting text into words.
const (
	space = iota // ends a word
	lower        // a small letter or a digit
	upper        // a capital letter
)

var kinds = func() (k [utf8.RuneSelf]uint8) {
	for c := '0'; c <= '9'; c++ {
		k[c] = lower
	}
	for c := 'a'; c <= 'z'; c++ {
		k[c] = lower
		k[c-'a'+'A'] = upper
	}
	return k
}()

// wordRune reports the size of the rune at the start of s when it is a
// letter, a number or an accent (which folding takes off), and 0 when it
// ends a word.
func wordRune(s string) int {
	r, size := utf8.DecodeRuneInString(s)
	if unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mn, r) {
		return size
	}
	return 0
}

// terms appends the entry of each term of text to seq, as Terms finds
// them, and returns it.
func (tk *tokenizer) terms(text string, seq []*entry) []*entry {
	if strings.Contains(text, "10.") {
		if locs := doiPattern.FindAllStringSubmatchIndex(text, -1); len(locs) > 0 {
			b := []byte(text)
			for _, m := range locs {
				doi := trimDOI(text[m[2]:m[3]])
				seq = append(seq, tk.entry(fold(doi)))
				for i := m[0]; i < m[2]+len(doi); i++ {
					b[i] = ' '
				}
			}
			text = string(b)
		}
	}
	if tk.words == nil {
		tk.words = map[string]*known{}
	}
	for i := 0; i < len(text); {
		// A word is a run of ASCII letters and digits, and of other
		// letters, numbers and accents.
		j, kind := i, uint8(lower)
		for j < len(text) {
			if c := text[j]; c < utf8.RuneSelf {
				k := kinds[c]
				if k == space {
					break
				}
				kind |= k
				j++
			} else if size := wordRune(text[j:]); size > 0 {
				kind |= 4
				j += size
			} else {
				break
			}
		}
		if j == i {
			if text[i] < utf8.RuneSelf {
				i++
			} else {
				_, size := utf8.DecodeRuneInString(text[i:])
				i += size
			}
			continue
		}
		word := text[i:j]
		i = j
		// The word as the index spells it, lower case and without
		// accents, in tk.buf.
		var slot *known
		switch kind {
		case lower:
			if tk.recent != nil {
				if slot = &tk.recent[recentSlot(word)]; slot.word == word {
					if slot.e != nil {
						seq = append(seq, slot.e)
					}
					continue
				}
			}
			tk.buf = append(tk.buf[:0], word...)
		case lower | upper:
			tk.buf = append(tk.buf[:0], word...)
			for k, c := range tk.buf {
				if kinds[c] == upper {
					tk.buf[k] = c + 'a' - 'A'
				}
			}
		default:
			if word = fold(word); word == "" {
				continue
			}
			tk.buf = append(tk.buf[:0], word...)
		}
		w, ok := tk.words[string(tk.buf)]
		if !ok {
			w = &known{word: string(tk.buf)}
			if !(utf8.RuneCountInString(w.word) == 1 && !(w.word[0] >= '0' && w.word[0] <= '9') || stopSet[w.word]) {
				w.e = tk.entry(Stem(w.word))
			}
			tk.words[w.word] = w
		}
		if slot != nil {
			*slot = *w
		}
		if w.e != nil {
			seq = append(seq, w.e)
		}
	}
	return seq
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
