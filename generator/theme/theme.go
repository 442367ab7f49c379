// Package theme loads a newsletter's theme: the layouts and partials of
// its pages, written with the standard library's html/template, its email
// templates, and its static files, CSS and JS fingerprinted with their
// subresource integrity. A theme other than "default" overrides the
// default theme file by file. It gives templates their functions (dates,
// URLs, Markdown, identifier links, sanitized feed HTML), renders a
// note's partials once, however many pages show them, and tells where its
// layouts may read a field (Reads), so that a build knows what it can let
// go.
package theme

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf16"

	"github.com/rounds-health/rounds/feeds"
	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/search"
)

// Layouts are the page layouts a theme provides. base.html holds the page
// skeleton; each layout defines the blocks base.html leaves open.
var Layouts = []string{"home", "note", "edition", "list", "topic", "page", "404", "wire", "sources", "subscribe", "service", "search"}

// A Theme is a set of layouts and static files. A theme other than
// "default" overrides the default theme file by file.
type Theme struct {
	Name    string
	layouts map[string]*template.Template
	files   map[string]string // template name → project-relative file, for errors
	// static maps each output path to the file it is copied from.
	static map[string]string
	// assets maps a static path ("css/style.css") to its fingerprinted
	// output path ("css/style.1a2b3c4d5e.css"), with its SRI integrity.
	assets    map[string]string
	integrity map[string]string
	content   map[string][]byte // fingerprinted files' bytes
	// synonyms are the search's synonym groups, the default theme's
	// table then this theme's (search/synonyms.txt).
	synonyms [][]string

	partials *template.Template // base and partials, for partialCached
	cache    sync.Map           // partialKey → template.HTML
	// partialIndex numbers the templates partialCached can render, for
	// the partials kept for notes; memos holds those, by Note.Serial.
	partialIndex map[string]int
	memos        atomic.Pointer[[]atomic.Pointer[noteMemo]]
	grow         sync.Mutex
	// funcTypes are the result types of the templates' functions, for
	// Reads; nil for a function that returns an interface.
	funcTypes map[string]reflect.Type
}

type partialKey struct {
	name string
	data any
}

// themeDirs returns the folders a theme is read from, default first.
func themeDirs(cfg *config.Config) ([]string, error) {
	root := filepath.Join(cfg.Dir, "themes")
	var dirs []string
	for _, name := range []string{"default", cfg.Theme} {
		if len(dirs) > 0 && name == "default" {
			continue
		}
		dir := filepath.Join(root, name)
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			dirs = append(dirs, dir)
		} else if name == cfg.Theme {
			var have []string
			entries, _ := os.ReadDir(root)
			for _, e := range entries {
				if st, err := os.Stat(filepath.Join(root, e.Name())); err == nil && st.IsDir() {
					have = append(have, e.Name())
				}
			}
			fix := "create themes/" + name + "/ or set theme to one of: " + strings.Join(have, ", ")
			if len(have) == 0 {
				fix = "create themes/" + name + "/ with layouts/ and static/"
			}
			return nil, config.ErrorList{config.Errorf(cfg.Rel(cfg.File), cfg.ThemeLine(), "theme", fix, "no theme %q in themes/", name)}
		}
	}
	return dirs, nil
}

// Load reads the theme cfg names, with the default theme beneath it.
func Load(cfg *config.Config) (*Theme, error) {
	dirs, err := themeDirs(cfg)
	if err != nil {
		return nil, err
	}
	t := &Theme{
		Name:      cfg.Theme,
		layouts:   map[string]*template.Template{},
		files:     map[string]string{},
		static:    map[string]string{},
		assets:    map[string]string{},
		integrity: map[string]string{},
		content:   map[string][]byte{},
	}
	sources := map[string][]byte{} // template name → text
	for _, dir := range dirs {
		if err := cfg.WalkFiles(filepath.Join(dir, "layouts"), func(rel, abs string) error {
			if filepath.Ext(rel) != ".html" {
				return nil
			}
			data, _, err := config.ReadFile(abs, 0)
			if err != nil {
				return config.Problem(cfg.Rel(abs), err)
			}
			sources[rel] = data
			t.files[rel] = cfg.Rel(abs)
			return nil
		}); err != nil {
			return nil, err
		}
		if abs := filepath.Join(dir, "search", "synonyms.txt"); fileExists(abs) {
			data, _, err := config.ReadFile(abs, 0)
			if err != nil {
				return nil, config.Problem(cfg.Rel(abs), err)
			}
			groups, err := search.ParseSynonyms(cfg.Rel(abs), string(data))
			if err != nil {
				return nil, err
			}
			t.synonyms = append(t.synonyms, groups...)
		}
		if err := cfg.WalkFiles(filepath.Join(dir, "static"), func(rel, abs string) error {
			t.static[rel] = abs
			return nil
		}); err != nil {
			return nil, err
		}
	}
	if err := t.fingerprint(); err != nil {
		return nil, err
	}

	asset := t.Asset
	if base := cfg.AssetBase; base != "" {
		asset = func(rel string) (string, error) {
			out, err := t.Asset(rel)
			if _, own := t.content[out]; own {
				out = base + out
			}
			return out, err
		}
	}
	var errs config.ErrorList
	fm := funcs(cfg)
	maps.Copy(fm, template.FuncMap{
		"asset":         asset,
		"integrity":     t.Integrity,
		"partialCached": t.partialCached,
	})
	t.funcTypes = make(map[string]reflect.Type, len(fm))
	for name, fn := range fm {
		if ft := reflect.TypeOf(fn); ft.NumOut() > 0 {
			t.funcTypes[name] = known(ft.Out(0))
		}
	}
	root := template.New("").Funcs(fm)
	for _, name := range slices.Sorted(maps.Keys(sources)) {
		if name == "base.html" || strings.HasPrefix(name, "partials/") {
			if _, err := root.New(name).Parse(string(sources[name])); err != nil {
				errs = append(errs, t.templateError(err, name))
			}
		}
	}
	if _, ok := sources["base.html"]; !ok {
		errs = append(errs, config.Errorf("themes/"+cfg.Theme+"/layouts/base.html", 0, "", "add the file, or use a theme built on the default theme", "missing"))
	}
	if len(errs) > 0 {
		return nil, errs.Err()
	}
	if t.partials, err = root.Clone(); err != nil {
		return nil, err
	}
	t.partialIndex = map[string]int{}
	for _, p := range t.partials.Templates() {
		t.partialIndex[p.Name()] = len(t.partialIndex)
	}
	for _, layout := range Layouts {
		name := layout + ".html"
		src, ok := sources[name]
		if !ok {
			errs = append(errs, config.Errorf("themes/"+cfg.Theme+"/layouts/"+name, 0, "", "add the layout; every theme needs "+strings.Join(Layouts, ", "), "missing"))
			continue
		}
		tmpl, err := root.Clone()
		if err == nil {
			_, err = tmpl.New(name).Parse(string(src))
		}
		if err != nil {
			errs = append(errs, t.templateError(err, name))
			continue
		}
		t.layouts[layout] = tmpl.Lookup("base.html")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

// fingerprint names each CSS and JS file after a hash of its bytes, so that
// it can be cached for ever, and records its subresource integrity.
func (t *Theme) fingerprint() error {
	for _, rel := range slices.Sorted(maps.Keys(t.static)) {
		ext := path.Ext(rel)
		if ext != ".css" && ext != ".js" {
			continue
		}
		data, _, err := config.ReadFile(t.static[rel], 0)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		out := strings.TrimSuffix(rel, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		sri := sha512.Sum384(data)
		t.assets[rel] = out
		t.integrity[rel] = "sha384-" + base64.StdEncoding.EncodeToString(sri[:])
		t.content[out] = data
		delete(t.static, rel)
	}
	return nil
}

// Asset returns the output path of a static file, fingerprinted where it is
// CSS or JS. It is the template function "asset".
func (t *Theme) Asset(rel string) (string, error) {
	rel = strings.TrimPrefix(rel, "/")
	if out, ok := t.assets[rel]; ok {
		return out, nil
	}
	if _, ok := t.static[rel]; ok {
		return rel, nil
	}
	return "", fmt.Errorf("no static file %q in the theme", rel)
}

// partialCached renders the partial template name with data once per
// build and returns the same HTML for every later call with the same
// data. Lists show each note many times (home, edition, topics, all
// notes); its card is rendered once. data must be comparable, such as a
// pointer; anything else is rendered every time. The HTML is returned
// boxed in an any, boxed once however often it is shown.
func (t *Theme) partialCached(name string, data any) (any, error) {
	// A note's partials are kept in a table by its serial number: a site
	// has thousands, and a lookup in a map that large misses the
	// processor's caches.
	if n, ok := data.(*content.Note); ok && n != nil && n.Serial > 0 {
		if i, ok := t.partialIndex[name]; ok {
			slot := t.noteSlot(n, i)
			if h := slot.Load(); h != nil {
				return *h, nil
			}
			h, err := t.partial(name, data)
			if err != nil {
				return nil, err
			}
			slot.Store(&h)
			return h, nil
		}
	}
	comparable := data == nil || reflect.TypeOf(data).Comparable()
	key := partialKey{name, data}
	if comparable {
		if h, ok := t.cache.Load(key); ok {
			return h, nil
		}
	}
	h, err := t.partial(name, data)
	if err != nil {
		return nil, err
	}
	if comparable {
		t.cache.Store(key, h)
	}
	return h, nil
}

// partial renders the partial template name with data: a template.HTML,
// in an any so that it is boxed once, however often it is shown.
func (t *Theme) partial(name string, data any) (any, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	if err := t.partials.ExecuteTemplate(buf, name, data); err != nil {
		return nil, err
	}
	return template.HTML(buf.String()), nil
}

// bufPool keeps the buffers partials are rendered into.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// A noteMemo holds the partials the theme rendered for one note.
type noteMemo struct {
	note *content.Note
	html []atomic.Pointer[any] // template.HTML, by t.partialIndex
}

// noteSlot returns where the partial numbered i is kept for n.
func (t *Theme) noteSlot(n *content.Note, i int) *atomic.Pointer[any] {
	memo := t.memo(n.Serial)
	m := memo.Load()
	// A slot holds the partials of the note last rendered with its serial
	// number: an edited note is a new Note, and gets fresh ones.
	for m == nil || m.note != n {
		fresh := &noteMemo{note: n, html: make([]atomic.Pointer[any], len(t.partialIndex))}
		if memo.CompareAndSwap(m, fresh) {
			return &fresh.html[i]
		}
		m = memo.Load()
	}
	return &m.html[i]
}

// Forget drops what the theme's partials made of note n, which was
// edited in place, so that they are made again from it.
func (t *Theme) Forget(n *content.Note) {
	if n.Serial > 0 {
		t.memo(n.Serial).Store(nil)
	}
	t.cache.Range(func(k, _ any) bool {
		if key, ok := k.(partialKey); ok && key.data == any(n) {
			t.cache.Delete(k)
		}
		return true
	})
}

// ForgetAll drops everything the theme's partials made: for a site linked
// again, whose data the partials would otherwise be kept for. Nothing may
// render meanwhile.
func (t *Theme) ForgetAll() {
	t.cache.Clear()
	t.memos.Store(nil)
}

// memo returns the slot of the note numbered serial, growing the table
// when the content cache has numbered more notes than it holds.
func (t *Theme) memo(serial int) *atomic.Pointer[noteMemo] {
	if tab := t.memos.Load(); tab != nil && serial < len(*tab) {
		return &(*tab)[serial]
	}
	t.grow.Lock()
	defer t.grow.Unlock()
	tab := t.memos.Load()
	if tab == nil || serial >= len(*tab) {
		// Slots are pointers to memos, so the old table's stay valid for
		// whoever holds one; the new table starts with the same memos.
		size := max(2*serial, 1024)
		bigger := make([]atomic.Pointer[noteMemo], size)
		if tab != nil {
			for i := range *tab {
				bigger[i].Store((*tab)[i].Load())
			}
		}
		tab = &bigger
		t.memos.Store(tab)
	}
	return &(*tab)[serial]
}

// Integrity returns the SRI hash of a fingerprinted asset, or "".
func (t *Theme) Integrity(rel string) string {
	return t.integrity[strings.TrimPrefix(rel, "/")]
}

var templateErrRE = regexp.MustCompile(`template: ([^:]+):(\d+)(?::\d+)?: `)

// templateError turns an html/template error into an Error naming the
// theme file and line.
func (t *Theme) templateError(err error, name string) *config.Error {
	msg := err.Error()
	line := 0
	if m := templateErrRE.FindStringSubmatch(msg); m != nil {
		name = m[1]
		line, _ = strconv.Atoi(m[2])
		msg = strings.TrimPrefix(msg, m[0])
	}
	msg = strings.TrimPrefix(msg, "template: ")
	return config.Errorf(t.file(name), line, "", "fix the template", "%s", msg)
}

// Execute renders layout with data into w.
func (t *Theme) Execute(w io.Writer, layout string, data any) error {
	tmpl := t.layouts[layout]
	if tmpl == nil {
		return fmt.Errorf("no layout %q", layout)
	}
	if err := tmpl.Execute(w, data); err != nil {
		return t.templateError(err, layout+".html")
	}
	return nil
}

// File returns the path of the file rel (such as "email/digest.html")
// in the theme cfg names, or in the default theme beneath it, and its path
// relative to the project for messages.
func File(cfg *config.Config, rel string) (abs, name string, err error) {
	dirs, err := themeDirs(cfg)
	if err != nil {
		return "", "", err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		p := filepath.Join(dirs[i], filepath.FromSlash(rel))
		if _, err := os.Stat(p); err == nil {
			return p, cfg.Rel(p), nil
		}
	}
	return "", "", config.ErrorList{config.Errorf("themes/"+cfg.Theme+"/"+rel, 0, "", "add the file, or use a theme built on the default theme", "missing")}
}

// Funcs are the functions every theme template can call, pages' and
// emails', besides "asset", "integrity" and "partialCached", which the
// theme adds to its layouts.
func Funcs(cfg *config.Config) template.FuncMap { return funcs(cfg) }

// Static returns the theme's files that are copied as they are, by output
// path.
func (t *Theme) Static() map[string]string { return t.static }

// Synonyms returns the theme's synonym groups for search: the default
// theme's, then this theme's.
func (t *Theme) Synonyms() [][]string { return t.synonyms }

// fileExists reports whether a file is at path.
func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// Assets returns the fingerprinted CSS and JS files' bytes, by output path.
func (t *Theme) Assets() map[string][]byte { return t.content }

// funcs are the template functions every layout has, besides
// "asset" and "integrity" which the theme adds.
func funcs(cfg *config.Config) template.FuncMap {
	return template.FuncMap{
		"relURL": cfg.RelURL,
		"absURL": cfg.AbsURL,
		"date": func(layout string, t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(cfg.Location()).Format(layout)
		},
		"isoDate": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(cfg.Location()).Format(time.RFC3339)
		},
		"markdownify": func(s string) (template.HTML, error) {
			h, err := content.Markdown(cfg, []byte(s))
			// One paragraph is inlined so it can sit inside the caller's markup.
			t := strings.TrimSpace(string(h))
			if strings.Count(t, "<p>") == 1 && strings.HasPrefix(t, "<p>") && strings.HasSuffix(t, "</p>") {
				t = t[3 : len(t)-4]
			}
			return template.HTML(t), err
		},
		"topicTitle": cfg.TopicTitle,
		"join":       strings.Join,
		"doiURL":     func(doi string) string { return content.IDLink("doi", doi) },
		"pmidURL":    func(pmid string) string { return content.IDLink("pmid", pmid) },
		"pmcidURL":   func(pmcid string) string { return content.IDLink("pmcid", pmcid) },
		"nctURL":     func(nct string) string { return content.IDLink("nct", nct) },
		// feedHTML shows HTML that came from a feed. It was sanitized when
		// it was fetched; it is sanitized again here, so a cache edited
		// or poisoned by hand cannot put anything unsafe on a page.
		"feedHTML": func(s string) template.HTML { return template.HTML(feeds.Sanitize(nil, s)) },
		// excerpt is the first n words of a feed's HTML, as plain text.
		"excerpt":   func(n int, s string) string { return feeds.Excerpt(s, n) },
		"pageTitle": PageTitle,
	}
}

// MaxTitle is the most characters a page's <title> has: search engines
// and browsers' tabs cut longer ones where they please.
const MaxTitle = 70

// PageTitle is the <title> of a page titled title on the site named
// site: "title · site" when that fits in MaxTitle characters, else the
// page's title alone, cut at a word and ended with "…" if it is longer
// still. With no title (the home page) it is the site's name, cut alike. Characters are counted as browsers count a string's length, in
// UTF-16 code units.
func PageTitle(title, site string) string {
	title, site = strings.Join(strings.Fields(title), " "), strings.Join(strings.Fields(site), " ")
	if title == "" {
		title, site = site, ""
	}
	if site != "" && utf16Len(title+" · "+site) <= MaxTitle {
		return title + " · " + site
	}
	if utf16Len(title) <= MaxTitle {
		return title
	}
	// Cut to MaxTitle-1 characters, leaving room for "…", at the last
	// space before the cut if there is one in the second half.
	n, cut := 0, 0
	for i, r := range title {
		if n+utf16.RuneLen(r) > MaxTitle-1 {
			cut = i
			break
		}
		n += utf16.RuneLen(r)
	}
	short := title[:cut]
	if sp := strings.LastIndexByte(short, ' '); title[cut] != ' ' && sp > len(short)/2 {
		short = short[:sp]
	}
	// A title cut after "the" or "and" reads as broken: end on a word
	// that carries meaning.
	for {
		short = strings.TrimRight(short, " ,;:·–—-")
		sp := strings.LastIndexByte(short, ' ')
		if sp <= len(short)/2 || !danglingWords[strings.ToLower(short[sp+1:])] {
			break
		}
		short = short[:sp]
	}
	return short + "…"
}

// danglingWords are the words a cut title does not end on.
var danglingWords = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "but": true, "nor": true,
	"of": true, "to": true, "in": true, "on": true, "at": true, "by": true, "for": true,
	"from": true, "with": true, "about": true, "as": true, "into": true, "than": true,
	"is": true, "are": true, "was": true, "were": true, "be": true, "that": true, "which": true,
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
