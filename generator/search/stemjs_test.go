package search

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/kljensen/snowball/english"

	"github.com/rounds-health/rounds/generator/browsertest"
)

// stemJSExtra are words of the site's own kind, the stemmer's special and
// exceptional words, and apostrophes' and y's odd cases, stemmed besides
// kljensen/snowball's vocabulary.
const stemJSExtra = `vaccinated vaccines vaccination immunisation immunised immunization
paediatric pediatric myocardial infarction influenza statins hypertension haemorrhage
randomised randomized cardiovascular generously communication arsenal skies dying news
innings succeeded proceeding exceeds herrings earring outing canning cannings cosmos
andes atlas bias howe
skis lying tying idly gently ugly early only singly sky inning outings herring earrings
proceed proceeds proceeded exceed exceeded exceeding succeed succeeds succeeding
' '' ''' ''s 's' dog's dogs' 'tis o'clock y' yy yyy ayyy sayyid yes eyes` +
	" dog\u2019s \u2018tis \u201btwas pedagogy demagogy caf\u00e9 caf\u00e9s na\u00efve fa\u00e7ade \u00e9' \u00f1s"

// TestStemJSMatchesGo stems kljensen/snowball's English vocabulary, and a
// few more words, with the theme's stem.js in headless Chromium and checks
// that every stem is the one Go's english.Stem(word, true) gives, the stem
// the search index holds.
func TestStemJSMatchesGo(t *testing.T) {
	t.Parallel()
	chromium := browsertest.Tool(t, "chromium", "--version")
	words := stemJSWords(t)

	script, err := os.ReadFile(filepath.Join("..", "..", "themes", "default", "static", "js", "stem.js"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'self'")
		switch r.URL.Path {
		case "/stem.js":
			w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
			w.Write(script)
		case "/":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><html lang="en"><title>stem</title><script src="/stem.js"></script></html>`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	page := browsertest.Open(t, chromium, srv.URL+"/")
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		v, err := page.Eval("typeof self.RoundsStem")
		if err == nil && v == "function" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("stem.js did not define self.RoundsStem (%q, %v)", v, err)
		}
	}

	var mismatches []string
	const batch = 2000
	for i := 0; i < len(words); i += batch {
		chunk := words[i:min(i+batch, len(words))]
		in, _ := json.Marshal(chunk)
		out, err := page.Eval(`(() => { try { return JSON.stringify(` + string(in) +
			`.map((w) => self.RoundsStem(w))); } catch (e) { return "error: " + e; } })()`)
		if err != nil {
			t.Fatal(err)
		}
		var stems []string
		if err := json.Unmarshal([]byte(out), &stems); err != nil || len(stems) != len(chunk) {
			t.Fatalf("stem.js on words %d to %d: %.200s (%v)", i, i+len(chunk), out, err)
		}
		for j, w := range chunk {
			if want := english.Stem(w, true); stems[j] != want {
				mismatches = append(mismatches, fmt.Sprintf("%q: Go %q, stem.js %q", w, want, stems[j]))
			}
		}
	}
	t.Logf("compared %d words", len(words))
	if len(mismatches) > 0 {
		shown := mismatches[:min(50, len(mismatches))]
		t.Errorf("stem.js stems %d of %d words unlike Go:\n%s", len(mismatches), len(words), strings.Join(shown, "\n"))
	}
}

// stemJSWords returns the input words of kljensen/snowball's English
// vocabulary test, then the extra words, each once.
func stemJSWords(t *testing.T) []string {
	t.Helper()
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/kljensen/snowball").Output()
	if err != nil {
		t.Fatalf("finding kljensen/snowball: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(dir)), "english_vocab", "vocab_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	var words []string
	seen := map[string]bool{}
	add := func(w string) {
		if !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	for _, m := range regexp.MustCompile(`\{"([^"\\]*)", "[^"\\]*"\}`).FindAllStringSubmatch(string(data), -1) {
		add(m[1])
	}
	if len(words) < 20000 {
		t.Fatalf("only %d words in kljensen/snowball's vocabulary test", len(words))
	}
	for _, w := range strings.Fields(stemJSExtra) {
		add(w)
	}
	return words
}

// TestStemKeepsFirstLetter checks what the page's script relies on to
// mark results quickly: a word's stem begins with the word's first
// letter, so a word whose letter begins no term of the query is not
// stemmed.
func TestStemKeepsFirstLetter(t *testing.T) {
	t.Parallel()
	n := 0
	for _, w := range stemJSWords(t) {
		// Only words as the index splits text: letters and digits.
		w = fold(w)
		if w == "" || strings.IndexFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }) >= 0 {
			continue
		}
		n++
		if s := Stem(w); s == "" || s[0] != w[0] {
			t.Errorf("Stem(%q) = %q: another first letter", w, s)
		}
	}
	if n < 20000 {
		t.Errorf("only %d words checked", n)
	}
}
