package generator

import (
	"bytes"
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
	Version int            `json:"version"`
	Files   []ManifestItem `json:"files"`
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
}

// writer gathers a build's output files and writes them in parallel.
type writer struct {
	site  *Site
	theme *Theme
	jobs  []job
	seen  map[string]string // output path → what made it, to catch clashes
	errs  ErrorList
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
	w.render(p, func(buf *bytes.Buffer) error { return w.theme.execute(buf, d.Kind, d) })
}

// run writes every scheduled file into dir and returns the manifest.
func (w *writer) run(dir string, workers int) (*Manifest, error) {
	if err := w.errs.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(w.jobs, func(a, b job) int { return strings.Compare(a.path, b.path) })
	items := make([]ManifestItem, len(w.jobs))
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
	var io sync.WaitGroup
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
			err := os.Mkdir(filepath.Join(dir, filepath.FromSlash(d)), 0o755)
			if err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			dirs[d] = true
			return nil
		}
		for r := range written {
			p := w.jobs[r.i].path
			err := mkdir(path.Dir(p))
			if err == nil {
				err = writeFile(filepath.Join(dir, filepath.FromSlash(p)), r.buf.Bytes())
			}
			if err != nil {
				errs[r.i] = err
			}
			bufPool.Put(r.buf)
		}
	})
	parallel(len(w.jobs), workers, func(i int) {
		j := w.jobs[i]
		buf := bufPool.Get().(*bytes.Buffer)
		buf.Reset()
		var err error
		if j.fn != nil {
			err = j.fn(buf)
		} else {
			err = readInto(buf, j.src)
		}
		if err != nil {
			errs[i] = err
			bufPool.Put(buf)
			return
		}
		sum := sha256.Sum256(buf.Bytes())
		items[i] = ManifestItem{Path: j.path, Size: int64(buf.Len()), SHA256: hex.EncodeToString(sum[:])}
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
	m := &Manifest{Version: 1, Files: items}
	// One file a line: readable, and far cheaper than indenting.
	buf := bytes.NewBufferString(`{"version":1,"files":[`)
	for i, it := range items {
		line, err := json.Marshal(it)
		if err != nil {
			return nil, err
		}
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

// replaceDir puts the finished build in tmp where dir was. The previous
// dir stays whole until the new one is complete; on Linux the two are
// exchanged in one atomic step.
func replaceDir(tmp, dir string) error {
	if err := checkReplaceable(dir); err != nil {
		return err
	}
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return os.Rename(tmp, dir)
	}
	if err := exchange(tmp, dir); err != nil {
		return err
	}
	return os.RemoveAll(tmp) // now the previous build
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
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = buf.ReadFrom(f)
	return err
}

// pathError is os.PathError, for errors of direct system calls.
type pathError = fs.PathError
