package generator

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// ManifestFile is where a build records its output, inside the output
// folder. It is private: publishing reads it and never uploads it.
const ManifestFile = ".rounds/manifest.json"

// A Manifest lists every file a build wrote, for publishing to diff
// against a bucket without hashing the files again.
type Manifest struct {
	Version int `json:"version"`
	// Preview is set on a build that shows drafts, scheduled or expired
	// content: never to be published.
	Preview bool `json:"preview,omitempty"`
	// Check is the verdict of the scan for patient identifiers over the
	// content the build was made from; publishing refuses a build without
	// one, or with findings.
	Check *Verdict       `json:"check,omitempty"`
	Files []ManifestItem `json:"files"`
}

// A Verdict is what the scan for patient identifiers found in the content
// files of a build, drafts included.
type Verdict struct {
	// Content is a digest of the files scanned, their paths and bytes.
	Content string `json:"content"`
	// Rules is the version of the rules they were scanned by (phi.Rules).
	Rules int `json:"rules"`
	// PHI counts the findings that may identify a patient.
	PHI int `json:"phi"`
}

// A ManifestItem is one output file.
type ManifestItem struct {
	Path   string `json:"path"` // slash-separated, relative to the output folder
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex
}

// ReadManifest reads the manifest of the build in dir.
func ReadManifest(dir string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestFile, err)
	}
	return &m, nil
}

// A job makes one output file.
type job struct {
	path string
	fn   func(buf *bytes.Buffer) error // renders the file's bytes
	src  string                        // or: the file to copy
	// deps are the notes the file shows; a file with all set depends on
	// every note. An incremental rebuild re-renders the files whose notes
	// changed.
	deps []*Note
	all  bool
	// bodyDeps are the notes whose body the file shows.
	bodyDeps []*Note
	// page is what a page's layout executes with; nil for other files.
	page *PageData
}

// writer gathers a build's output files and writes them in parallel.
type writer struct {
	site  *Site
	theme *Theme
	jobs  []job
	seen  map[string]string // output path → what made it, to catch clashes
	errs  ErrorList
	// check, if set, vets each file's bytes before it is written.
	check func(path string, data []byte) error
	// preview marks a build with drafts, scheduled or expired content.
	preview bool
}

// newWriter returns a writer for the site's files, rendered with theme.
func (s *Site) newWriter(theme *Theme, opts *Options) *writer {
	// A page a note, and some more for lists and feeds: made to size, as
	// a rebuild under rounds serve makes it again for every edit.
	files := len(s.Notes) + len(s.Notes)/8 + 256
	return &writer{site: s, theme: theme, jobs: make([]job, 0, files), seen: make(map[string]string, files), preview: opts.Drafts || opts.Future || opts.Expired}
}

// render schedules the file at p, made by fn.
func (w *writer) render(p string, fn func(buf *bytes.Buffer) error) {
	w.add(job{path: p, fn: fn}, p)
}

// copy schedules the file at p, copied from src.
func (w *writer) copy(p, src string) { w.add(job{path: p, src: src}, src) }

func (w *writer) add(j job, from string) {
	if prev, dup := w.seen[j.path]; dup {
		w.errs = append(w.errs, errorf(from, 0, "", "rename one of them", "writes %s, which %s also writes", j.path, prev))
		return
	}
	w.seen[j.path] = from
	w.jobs = append(w.jobs, j)
}

// page schedules an HTML page at its path.
func (w *writer) page(d *PageData) {
	p := d.Path + "index.html"
	if d.Kind == "404" {
		p = "404.html"
	}
	j := job{path: p, fn: func(buf *bytes.Buffer) error { return w.theme.execute(buf, d.Kind, d) }, page: d}
	if d.Note != nil {
		j.deps = append(j.deps, d.Note)
		j.bodyDeps = []*Note{d.Note}
	}
	j.deps = append(j.deps, d.Notes...)
	if d.Edition != nil {
		j.deps = append(j.deps, d.Edition.Notes...)
	}
	// Wire pages name the notes that curate their stories.
	if d.Kind == "wire" {
		j.deps = w.site.Notes
	}
	w.add(j, p)
}

// run writes every scheduled file into dir and returns the manifest. prev
// is the manifest of the build already in dir, if any: its files whose
// bytes are unchanged are kept, and those the site no longer has are
// deleted.
func (w *writer) run(dir string, workers int, prev map[string]ManifestItem) (*Manifest, error) {
	if err := w.errs.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(w.jobs, func(a, b job) int { return strings.Compare(a.path, b.path) })
	items := make([]ManifestItem, len(w.jobs))
	lines := make([][]byte, len(w.jobs)) // items as JSON, made by the workers
	errs := make([]error, len(w.jobs))
	// Rendering runs on every CPU; one goroutine makes the folders and
	// files. Creating entries in the same folder from several threads
	// contends on the folder's lock and, on ext4, has been measured to
	// take twice as long as from one.
	type rendered struct {
		i   int
		buf *bytes.Buffer
	}
	written := make(chan rendered, 8*workers)
	// Page buffers go round between the workers and the writer. They are
	// kept here rather than in a sync.Pool, which a collection empties:
	// a new buffer grows, copying and clearing, to the size of a page.
	free := make(chan *bytes.Buffer, cap(written)+2*workers)
	get := func() *bytes.Buffer {
		select {
		case b := <-free:
			b.Reset()
			return b
		default:
			return new(bytes.Buffer)
		}
	}
	put := func(b *bytes.Buffer) {
		select {
		case free <- b:
		default:
		}
	}
	var io sync.WaitGroup
	out, err := openOut(dir)
	if err != nil {
		return nil, err
	}
	defer out.close()
	io.Go(func() {
		dirs := map[string]bool{".": true}
		var mkdir func(d string) error
		// mkdir makes the output folder d and its parents, each once,
		// without the Stat that os.MkdirAll makes first.
		mkdir = func(d string) error {
			if dirs[d] {
				return nil
			}
			if err := mkdir(path.Dir(d)); err != nil {
				return err
			}
			err := out.mkdir(d)
			if err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			dirs[d] = true
			return nil
		}
		removeStale(dir, prev, w.seen)
		for r := range written {
			p := w.jobs[r.i].path
			if unchanged(dir, prev, items[r.i]) {
				put(r.buf)
				continue
			}
			err := mkdir(path.Dir(p))
			if err == nil {
				err = out.writeFile(p, r.buf.Bytes())
			}
			if err != nil {
				errs[r.i] = err
			}
			put(r.buf)
		}
	})
	parallel(len(w.jobs), workers, func(i int) {
		j := w.jobs[i]
		buf := get()
		var err error
		if j.fn != nil {
			err = j.fn(buf)
		} else {
			err = readInto(buf, j.src)
		}
		if err == nil && w.check != nil {
			err = w.check(j.path, buf.Bytes())
		}
		if err != nil {
			errs[i] = err
			put(buf)
			return
		}
		sum := sha256.Sum256(buf.Bytes())
		items[i] = ManifestItem{Path: j.path, Size: int64(buf.Len()), SHA256: hex.EncodeToString(sum[:])}
		if lines[i], err = json.Marshal(items[i]); err != nil {
			errs[i] = err
			put(buf)
			return
		}
		written <- rendered{i, buf}
	})
	close(written)
	io.Wait()
	var list ErrorList
	seen := map[string]bool{}
	for i, err := range errs {
		if err == nil {
			continue
		}
		e, ok := err.(*Error)
		if !ok {
			e = errorf(w.jobs[i].path, 0, "", "", "%v", err)
		}
		// A template error repeats on every page of its layout; say it once.
		if key := e.Error(); !seen[key] {
			seen[key] = true
			list = append(list, e)
		}
	}
	if err := list.Err(); err != nil {
		return nil, err
	}
	verdict := w.site.Checked
	m := &Manifest{Version: 1, Preview: w.preview, Check: &verdict, Files: items}
	// One file a line: readable, and far cheaper than indenting.
	buf := bytes.NewBufferString(`{"version":1,`)
	buf.Grow(len(lines) * 128)
	if w.preview {
		buf.WriteString(`"preview":true,`)
	}
	check, err := json.Marshal(m.Check)
	if err != nil {
		return nil, err
	}
	buf.WriteString(`"check":`)
	buf.Write(check)
	buf.WriteString(",")
	buf.WriteString(`"files":[`)
	for i, line := range lines {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n")
		buf.Write(line)
	}
	buf.WriteString("\n]}\n")
	if err := os.MkdirAll(filepath.Join(dir, path.Dir(ManifestFile)), 0o755); err != nil {
		return nil, err
	}
	return m, os.WriteFile(filepath.Join(dir, ManifestFile), buf.Bytes(), 0o644)
}

// prepareWork readies the work folder for a build and returns the
// manifest of the build it holds, by path. A work folder without a
// manifest is what a failed or interrupted build left: it is emptied.
// The manifest is removed before anything is written, so that a build
// that stops half-way never leaves a manifest that does not match.
func prepareWork(work string) (map[string]ManifestItem, error) {
	m, err := ReadManifest(work)
	if err != nil {
		if err := os.RemoveAll(work); err != nil {
			return nil, err
		}
		return nil, os.Mkdir(work, 0o755)
	}
	if err := os.Remove(filepath.Join(work, ManifestFile)); err != nil {
		return nil, err
	}
	prev := make(map[string]ManifestItem, len(m.Files))
	for _, f := range m.Files {
		prev[f.Path] = f
	}
	return prev, nil
}

// unchanged reports whether the file it describes is already in dir with
// the same bytes, as the previous manifest records them and its size
// confirms.
func unchanged(dir string, prev map[string]ManifestItem, it ManifestItem) bool {
	old, ok := prev[it.Path]
	if !ok || old != it {
		return false
	}
	st, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(it.Path)))
	return err == nil && st.Mode().IsRegular() && st.Size() == it.Size
}

// removeStale deletes from dir the files of the previous build that this
// one does not write, then the folders that leaves empty.
func removeStale(dir string, prev map[string]ManifestItem, keep map[string]string) {
	var dirs []string
	for p := range prev {
		if _, ok := keep[p]; !ok {
			os.Remove(filepath.Join(dir, filepath.FromSlash(p)))
			for d := path.Dir(p); d != "."; d = path.Dir(d) {
				dirs = append(dirs, d)
			}
		}
	}
	// Deepest first; a folder that still has files stays.
	slices.SortFunc(dirs, func(a, b string) int {
		return cmp.Or(cmp.Compare(strings.Count(b, "/"), strings.Count(a, "/")), strings.Compare(a, b))
	})
	for _, d := range slices.Compact(dirs) {
		os.Remove(filepath.Join(dir, filepath.FromSlash(d)))
	}
}

// replaceDir puts the finished build in work where dir was. The previous
// dir stays whole until the new one is complete; on Linux the two are
// exchanged in one atomic step, and the previous build is left in work.
func replaceDir(work, dir string) error {
	if err := checkReplaceable(dir); err != nil {
		return err
	}
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return os.Rename(work, dir)
	}
	return exchange(work, dir)
}

// checkReplaceable refuses to replace a folder a build did not write, so a
// mistyped --out never deletes someone's files.
func checkReplaceable(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err != nil {
		return fmt.Errorf("%s: the folder exists and was not written by rounds (no %s); empty it, remove it, or choose another --out", dir, ManifestFile)
	}
	return nil
}

// readInto appends the file at name to buf.
func readInto(buf *bytes.Buffer, name string) error {
	f, err := openRegular(name)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = buf.ReadFrom(f)
	return err
}

// pathError is os.PathError, for errors of direct system calls.
type pathError = fs.PathError
