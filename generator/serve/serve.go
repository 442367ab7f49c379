// Package serve is rounds serve: a preview server that keeps the site's
// content in memory and makes each page when it is asked for, watches
// the project with fsnotify, loads again on save what the save changed,
// and tells the browser to reload over Server-Sent Events. A failed
// rebuild shows its errors over the page and keeps the pages made before
// it.
//
// A rebuild plans the site's files and makes none: the page the browser
// asks for next is made then, and kept until the next rebuild. A site of
// 100,000 notes is previewed without rendering 100,000 pages first, or
// holding them; the search index is made when the search page is first
// asked for.
package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/rounds-health/rounds/generator/config"
	"github.com/rounds-health/rounds/generator/content"
	"github.com/rounds-health/rounds/generator/render"
	"github.com/rounds-health/rounds/generator/search"
	"github.com/rounds-health/rounds/generator/site"
	"github.com/rounds-health/rounds/generator/theme"
)

// A Server builds a site in memory and serves it.
type Server struct {
	// Config is the path of config.toml.
	Config string
	// Now is the clock of each build; nil means time.Now.
	Now func() time.Time
	// Debounce is how long the project must be quiet after a change
	// before a rebuild starts; bursts of changes make one rebuild.
	Debounce time.Duration
	// Rebuilt, if set, is called after each rebuild with how long it took
	// and whether it was incremental.
	Rebuilt func(took time.Duration, incremental bool, err error)

	// Subscribers, when set and config.toml sets [subscribers] url, runs
	// the subscribers service beside the preview, at ServicePath under
	// the site's base path, so that a curator can sign up on the preview:
	// its sign-up forms post there and the service's links lead there.
	// It is called once, with the configuration that says so.
	Subscribers func(cfg *config.Config) (http.Handler, error)
	// Origin is the preview's scheme and host, such as
	// "http://127.0.0.1:1313", which the service's links need.
	Origin string

	service http.Handler

	mu      sync.RWMutex
	pages   *pages
	base    string // the site's base path, such as "/rounds/"
	lastErr error
	version int

	// building is held to make a page, and taken whole to load and plan
	// the site: a rebuild changes the notes that pages are made from.
	building sync.RWMutex

	cfg   *config.Config
	cache *site.ContentCache
	// search keeps the search index's analyses of notes, so that an edit
	// analyses only the notes it changed.
	search *search.Cache
	site   *site.Site
	theme  *theme.Theme
	// planned is the site the served plan was made from.
	planned *site.Site

	subsMu sync.Mutex
	subs   map[chan event]bool

	noop bool // the last update changed nothing
}

type event struct {
	name string // "reload" or "failed"
	data string
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) opts() *site.Options {
	return &site.Options{Now: s.now(), Drafts: true, Future: true}
}

// PreviewStore is the folder of the preview's subscribers service's
// record: in the cache, apart from the real one, and not watched.
func PreviewStore(cfg *config.Config) string {
	return filepath.Join(cfg.Dir, ".cache", "preview-subscribers")
}

// ServicePath is where the preview runs the subscribers service, under
// the site's base path.
const ServicePath = "_subscribers/"

// loadConfig reads config.toml, pointing [subscribers] url at the
// preview's service when it runs one.
func (s *Server) loadConfig() (*config.Config, error) {
	cfg, err := config.LoadConfig(s.Config)
	if err != nil {
		return nil, err
	}
	if s.Subscribers != nil && cfg.Subscribers.URL != "" {
		if err := cfg.Subscribers.SetURL(s.Origin + cfg.Base().Path + ServicePath); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// Build makes the first build, and starts the subscribers service when
// there is one. Its error is a bad configuration, which nothing can be
// served without; content errors are shown in the page.
func (s *Server) Build() error {
	cfg, err := s.loadConfig()
	if err != nil {
		return err
	}
	if s.Subscribers != nil && cfg.Subscribers.URL != "" {
		h, err := s.Subscribers(cfg)
		if err != nil {
			return fmt.Errorf("the subscribers service: %w", err)
		}
		s.service = http.StripPrefix(strings.TrimSuffix(cfg.Base().Path+ServicePath, "/"), h)
	}
	s.cfg = cfg
	s.base = cfg.Base().Path
	s.subs = map[chan event]bool{}
	s.rebuild(true, nil)
	return nil
}

// Files makes every file of the site as the server serves it, and
// returns them by path, or the error of one that cannot be made.
func (s *Server) Files() (map[string][]byte, error) {
	s.building.RLock()
	defer s.building.RUnlock()
	s.mu.RLock()
	pg := s.pages
	s.mu.RUnlock()
	if pg == nil {
		return nil, errors.New("serve: no site built")
	}
	return pg.plan.All(0)
}

// Err returns the last rebuild's error, or nil.
func (s *Server) Err() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lastErr
}

// rebuild brings the site up to date with the project; full reloads the
// configuration and the theme too. paths, if not nil, are the only
// content files that may have changed.
func (s *Server) rebuild(full bool, paths []string) {
	start := time.Now()
	incremental, err := s.update(full, paths)
	s.mu.Lock()
	unchanged := err == nil && s.lastErr == nil && incremental && s.noop
	s.lastErr = err
	if !unchanged {
		s.version++
	}
	version := s.version
	s.mu.Unlock()
	if unchanged {
		return // an editor's swap file, a save without changes: nothing to reload
	}
	if err != nil {
		// A save that is not atomic (truncate, then write) can fail the
		// rebuild that catches it half-written, and the next one mends
		// it: the error shows only if no rebuild follows within a moment.
		time.AfterFunc(150*time.Millisecond, func() {
			s.mu.RLock()
			current := s.version == version
			s.mu.RUnlock()
			if current {
				s.broadcast(event{"failed", err.Error()})
			}
		})
	} else {
		s.broadcast(event{"reload", fmt.Sprint(s.version)})
	}
	if s.Rebuilt != nil {
		s.Rebuilt(time.Since(start), incremental, err)
	}
}

// update loads again what changed and plans the site anew, and reports
// whether the rebuild was incremental: only notes changed, each placed as
// it was, so that the theme's partials of the others still hold.
func (s *Server) update(full bool, paths []string) (bool, error) {
	s.building.Lock()
	defer s.building.Unlock()
	opts := s.opts()
	if full || s.theme == nil {
		cfg, err := s.loadConfig()
		if err != nil {
			return false, err
		}
		theme, err := theme.Load(cfg)
		if err != nil {
			return false, err
		}
		s.cfg, s.theme, s.cache, s.search = cfg, theme, new(site.ContentCache), new(search.Cache)
		s.base = cfg.Base().Path
	}
	prev := s.site
	s.noop = false
	next, changed, err := s.cache.Update(s.cfg, opts, paths)
	if err != nil {
		return false, err
	}
	s.site = next
	incremental := !full && prev != nil
	var edited []*content.Note
	for _, p := range changed {
		if !incremental {
			break
		}
		slug := strings.TrimSuffix(path.Base(p), ".md")
		n, old := next.Note(slug), prev.Note(slug)
		incremental = strings.HasPrefix(p, "content/notes/") && n != nil && old != nil && site.SameShape(old, n) && n.Slug == slug
		edited = append(edited, n)
	}
	s.noop = incremental && len(changed) == 0
	if s.noop {
		return true, nil // nothing changed: a touch, an editor's swap file
	}
	if incremental && next == prev && s.planned == next && s.pages != nil {
		// The cache edited the notes in place: the plan stands, but for
		// their pages and what their texts go into.
		for _, n := range edited {
			s.theme.Forget(n)
		}
		s.pages.plan.Refresh()
		s.mu.Lock()
		s.pages = &pages{plan: s.pages.plan}
		s.mu.Unlock()
		return true, nil
	}
	if !incremental {
		// No partial made for the old site stays.
		s.theme.ForgetAll()
	}
	s.planned = nil
	plan, err := render.NewPlan(next, s.theme, &render.Options{Search: s.search})
	if err != nil {
		return incremental, err
	}
	s.planned = next
	s.mu.Lock()
	s.pages = &pages{plan: plan}
	s.mu.Unlock()
	return incremental, nil
}

// pages are the files of one plan of the site, each made when first
// asked for and kept, up to maxKept bytes in all.
type pages struct {
	plan *render.Plan
	mu   sync.Mutex
	made map[string][]byte
	size int
}

// maxKept bounds the bytes of the pages a plan keeps once made: a
// curator browses a few, a crawler of the preview all of them.
const maxKept = 256 << 20

// get returns the file at p, made if it is not kept, and whether the
// site has it. The caller holds building for reading.
func (pg *pages) get(p string) ([]byte, bool, error) {
	pg.mu.Lock()
	data, ok := pg.made[p]
	pg.mu.Unlock()
	if ok {
		return data, true, nil
	}
	data, ok, err := pg.plan.Make(p)
	if !ok || err != nil {
		return nil, ok, err
	}
	pg.mu.Lock()
	defer pg.mu.Unlock()
	if pg.size+len(data) <= maxKept {
		if pg.made == nil {
			pg.made = map[string][]byte{}
		}
		pg.made[p] = data
		pg.size += len(data)
	}
	return data, true, nil
}

// Watch watches the project and rebuilds on every change until ctx is
// done: content/, the themes, config.toml and the wire's cache, with
// folders made after the start. Bursts of events (an editor's atomic
// save, a git checkout) make one rebuild once the project is quiet for
// Debounce; none is missed, since each rebuild rereads what changed.
func (s *Server) Watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	dir := s.cfg.Dir
	roots := []string{filepath.Join(dir, "content"), filepath.Join(dir, "themes"), s.cfg.CacheDir()}
	for _, r := range roots {
		addTree(w, r)
	}
	if err := w.Add(dir); err != nil { // config.toml, and content/ or themes/ made later
		return err
	}
	debounce := s.Debounce
	if debounce <= 0 {
		debounce = 5 * time.Millisecond
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	pending, full := false, false
	// paths are the content files events named; nil after an event that
	// could hide others (an overflow, a folder), so that all are looked at.
	paths := []string{}
	configName := filepath.Base(s.Config)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-w.Errors:
			slog.Warn("serve: watching", "err", err)
			paths, pending = nil, true
			timer.Reset(debounce)
		case ev := <-w.Events:
			name := ev.Name
			if ev.Has(fsnotify.Create) {
				if info, err := os.Stat(name); err == nil && info.IsDir() {
					addTree(w, name)
				}
			}
			rel, _ := filepath.Rel(dir, name)
			rel = filepath.ToSlash(rel)
			switch {
			case strings.HasPrefix(name, PreviewStore(s.cfg)):
				continue // the preview's sign-ups, not the site's
			case rel == configName || strings.HasPrefix(rel, "themes/") || rel == "themes" || strings.HasPrefix(name, s.cfg.CacheDir()):
				full = true
			case strings.HasPrefix(rel, "content/") || rel == "content":
				if paths != nil {
					paths = append(paths, name)
				}
			default:
				continue // not the project's
			}
			pending = true
			timer.Reset(debounce)
		case <-timer.C:
			if pending {
				s.rebuild(full, paths)
				pending, full, paths = false, false, []string{}
			}
		}
	}
}

// addTree watches dir and every folder in it.
func addTree(w *fsnotify.Watcher, dir string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && p != dir {
				return filepath.SkipDir
			}
			w.Add(p)
		}
		return nil
	})
}

// ServeHTTP serves the site from memory under its base path, with the
// live-reload script in every page, and the reload events.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/_rounds/events":
		s.events(w, r)
		return
	case "/_rounds/live.js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write([]byte(liveJS))
		return
	}
	s.mu.RLock()
	base := s.base
	s.mu.RUnlock()
	if s.service != nil && strings.HasPrefix(r.URL.Path, base+ServicePath) {
		s.service.ServeHTTP(w, r)
		return
	}
	if !strings.HasPrefix(r.URL.Path, base) {
		http.Redirect(w, r, base, http.StatusFound)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, base)
	if p == "" || strings.HasSuffix(p, "/") {
		p += "index.html"
	}
	// The page is made with the site as it stands: a rebuild waits for
	// it, and this for a rebuild under way.
	s.building.RLock()
	s.mu.RLock()
	pg, lastErr, version := s.pages, s.lastErr, s.version
	s.mu.RUnlock()
	status := http.StatusOK
	var data []byte
	ok, err := false, error(nil)
	if pg != nil {
		data, ok, err = pg.get(p)
		if !ok && !strings.Contains(path.Base(p), ".") && pg.plan.Has(p+"/index.html") {
			s.building.RUnlock()
			http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
			return
		}
		if !ok {
			status, p = http.StatusNotFound, "404.html"
			data, _, err = pg.get(p)
		}
	}
	s.building.RUnlock()
	if err != nil {
		// A page the theme cannot make: its error, over an empty page.
		status, p, data = http.StatusInternalServerError, "error.html", []byte("<!DOCTYPE html>\n<title>rounds serve: error</title>\n<body></body>\n")
		lastErr = errors.Join(lastErr, err)
	}
	ct := mime.TypeByExtension(path.Ext(p))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-store")
	if strings.HasPrefix(ct, "text/html") {
		data = inject(data, version, lastErr)
	}
	w.WriteHeader(status)
	w.Write(data)
}

// inject puts the live-reload script, and the last error if any, at the
// end of a page. Only the preview server does this; built files never
// carry it.
func inject(page []byte, version int, lastErr error) []byte {
	state := fmt.Sprintf("window.__roundsVersion = %d;", version)
	if lastErr != nil {
		msg, _ := json.Marshal(lastErr.Error())
		state += " window.__roundsError = " + string(msg) + ";"
	}
	snippet := "<script>" + state + `</script><script src="/_rounds/live.js"></script>`
	if i := bytes.LastIndex(page, []byte("</body>")); i >= 0 {
		return slices.Concat(page[:i], []byte(snippet), page[i:])
	}
	return append(slices.Clone(page), snippet...)
}

// events streams reload and error events to one browser.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	ch := make(chan event, 4)
	s.subsMu.Lock()
	s.subs[ch] = true
	s.subsMu.Unlock()
	defer func() {
		s.subsMu.Lock()
		delete(s.subs, ch)
		s.subsMu.Unlock()
	}()
	// The state now, so that a page loaded just before a rebuild, whose
	// event it missed, catches up.
	s.mu.RLock()
	hello := fmt.Sprint(s.version)
	if s.lastErr != nil {
		hello += "\n" + s.lastErr.Error()
	}
	s.mu.RUnlock()
	fmt.Fprint(w, "retry: 500\n: connected\n\n")
	fmt.Fprint(w, "event: hello\n")
	for _, line := range strings.Split(hello, "\n") {
		fmt.Fprintf(w, "data: %s\n", line)
	}
	fmt.Fprint(w, "\n")
	flusher.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case ev := <-ch:
			fmt.Fprintf(w, "event: %s\n", ev.name)
			for _, line := range strings.Split(ev.data, "\n") {
				fmt.Fprintf(w, "data: %s\n", line)
			}
			fmt.Fprint(w, "\n")
			flusher.Flush()
		}
	}
}

func (s *Server) broadcast(ev event) {
	s.subsMu.Lock()
	defer s.subsMu.Unlock()
	for ch := range s.subs {
		select {
		case ch <- ev:
		default: // a browser that does not keep up reloads anyway
		}
	}
}

// liveJS reloads the page after each successful rebuild and shows the
// errors of a failed one over the page.
const liveJS = `(function () {
  function overlay(msg) {
    var o = document.getElementById("rounds-error");
    if (!o) {
      o = document.createElement("pre");
      o.id = "rounds-error";
      o.setAttribute("role", "alert");
      o.style.cssText = "position:fixed;inset:0;margin:0;padding:1.5rem;overflow:auto;z-index:2147483647;background:rgba(24,8,8,.94);color:#ffd7d7;font:14px/1.5 ui-monospace,monospace;white-space:pre-wrap";
      document.body.appendChild(o);
    }
    o.textContent = "rounds serve: the last rebuild failed; this is the last good page.\n\n" + msg;
  }
  if (window.__roundsError) overlay(window.__roundsError);
  var es = new EventSource("/_rounds/events");
  es.addEventListener("hello", function (e) {
    var lines = e.data.split("\n"), version = lines.shift();
    if (lines.length) overlay(lines.join("\n"));
    else if (String(window.__roundsVersion) !== version) location.reload();
  });
  es.addEventListener("reload", function () { location.reload(); });
  es.addEventListener("failed", function (e) { overlay(e.data); });
})();
`

// Base is the path the site is served under, such as "/rounds/".
func (s *Server) Base() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.base
}
