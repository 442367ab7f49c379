// Package output writes a build into its folder. The files are rendered
// on every CPU and written by one goroutine into a work folder beside the
// output, which is then exchanged with the output in one atomic step, so a
// failed build never damages the previous one; the previous build stays
// as the next one's work folder, and a file whose bytes did not change is
// not written again. The manifest the build leaves in the folder lists
// every file with its size and SHA-256, for publishing to diff against a
// bucket without reading the files again.
package output

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	Check *Verdict `json:"check,omitempty"`
	Files []Item   `json:"files"`
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

// An Item is one output file.
type Item struct {
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

// A File is one output file, made by Render or copied from Src.
type File struct {
	Path   string                  // slash-separated, relative to the output folder
	Render func(buf *Buffer) error // writes the file's bytes
	Src    string                  // or: the file to copy
}

// Make writes the file's bytes into buf.
func (f *File) Make(buf *Buffer) error {
	if f.Render != nil {
		return f.Render(buf)
	}
	return readInto(buf, f.Src)
}

// Bytes makes the file and returns its bytes, in a slice of their size:
// for a caller that keeps them, as a preview does.
func (f *File) Bytes() ([]byte, error) {
	var buf Buffer
	if err := f.Make(&buf); err != nil {
		return nil, err
	}
	return buf.Clone(), nil
}

// Later is work whose files are known only when it is done, such as a
// search index whose files are named by their contents: it runs while the
// other files render, and its files are written after them.
type Later struct {
	// Dir is the folder (slash-separated, ending in a slash) that holds
	// every file of the work and no other file.
	Dir string
	// Files does the work and returns its files.
	Files func() ([]File, error)
}

// start runs l's work on a goroutine of its own, and returns a function
// that waits for its files. The files must be under l.Dir, and none of
// known, the others, may be. A nil Later has no files.
func (l *Later) start(known map[string]bool) func() ([]File, error) {
	if l == nil {
		return func() ([]File, error) { return nil, nil }
	}
	for p := range known {
		if l.under(p) {
			err := fmt.Errorf("%s: under %s, which is kept for files made later", p, l.Dir)
			return func() ([]File, error) { return nil, err }
		}
	}
	var files []File
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		if files, err = l.Files(); err != nil {
			return
		}
		for _, f := range files {
			if !strings.HasPrefix(f.Path, l.Dir) || known[f.Path] {
				err = fmt.Errorf("%s: not a file of its own under %s", f.Path, l.Dir)
				return
			}
		}
		slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	}()
	return func() ([]File, error) {
		<-done
		return files, err
	}
}

// paths returns the paths of files, as a set.
func paths(files []File) map[string]bool {
	set := make(map[string]bool, len(files))
	for _, f := range files {
		set[f.Path] = true
	}
	return set
}

// under reports whether p is in l's folder.
func (l *Later) under(p string) bool { return l != nil && strings.HasPrefix(p, l.Dir) }

// Options say how Write writes.
type Options struct {
	Workers int // files rendered at once; 0 means one per CPU
	// Later, if set, makes more files while the others render.
	Later *Later
	// Check, if set, vets each file's bytes before anything is written.
	Check func(path string, data []byte) error
	// Preview marks a build with drafts, scheduled or expired content,
	// which publishing refuses.
	Preview bool
	// Verdict is the scan of the content the build was made from.
	Verdict Verdict
	// First, if set, picks the files rendered before the others: pages
	// whose data is let go once they are made, before the pages that
	// pile up data of their own (lists, feeds).
	First func(path string) bool
	// Progress, if set, is told how many of the files are written (or
	// found unchanged) as each is, from one goroutine at a time; the
	// total grows once Later's files are known.
	Progress func(done, total int)
}

// A FileError is a file that could not be made or written.
type FileError struct {
	Path string
	Err  error
}

// Error says which file and what went wrong.
func (e *FileError) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap returns what went wrong.
func (e *FileError) Unwrap() error { return e.Err }

// Errors are the files a build could not make.
type Errors []*FileError

// Error returns the files' errors one a line.
func (l Errors) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Write writes files into the folder out and returns its manifest. It
// writes into a work folder beside out and replaces out only when every
// file was written, so a failed build leaves the previous one untouched.
// A file that cannot be made fails the build with Errors.
func Write(out string, files []File, opts Options) (*Manifest, error) {
	if err := CheckReplaceable(out); err != nil {
		return nil, err
	}
	parent := filepath.Dir(filepath.Clean(out))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	// The swapped-out previous build stays as the next build's work
	// folder: files whose bytes did not change are not written again, and
	// nothing is deleted but what the site dropped.
	work := filepath.Join(parent, "."+filepath.Base(out)+".work")
	unlock, err := lock(work + ".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	prev, err := prepareWork(work)
	if err != nil {
		return nil, err
	}
	m, err := run(work, files, opts, prev)
	if err != nil {
		return nil, err
	}
	if err := replaceDir(work, out); err != nil {
		return nil, fmt.Errorf("replacing %s: %w", out, err)
	}
	return m, nil
}

// Render makes files into memory, and later's, on workers goroutines,
// for a preview server: what Write would write, but for the manifest.
func Render(files []File, later *Later, workers int) (map[string][]byte, error) {
	wait := later.start(paths(files))
	out := make(map[string][]byte, len(files))
	var mu sync.Mutex
	render := func(files []File) error {
		errs := make([]error, len(files))
		Parallel(len(files), workers, func(i int) {
			data, err := files[i].Bytes()
			if err != nil {
				errs[i] = err
				return
			}
			mu.Lock()
			out[files[i].Path] = data
			mu.Unlock()
		})
		return collect(files, errs)
	}
	err := render(files)
	late, lateErr := wait()
	if err != nil {
		return nil, err
	}
	if lateErr != nil {
		return nil, lateErr
	}
	if err := render(late); err != nil {
		return nil, err
	}
	return out, nil
}

// collect returns the errors of files, by file.
func collect(files []File, errs []error) error {
	var list Errors
	for i, err := range errs {
		if err != nil {
			list = append(list, &FileError{Path: files[i].Path, Err: err})
		}
	}
	if len(list) == 0 {
		return nil
	}
	return list
}

// Parallel calls fn(i) for i in [0, n) on at most workers goroutines, in
// about the order of i. Each goroutine takes the next i from a shared
// counter: cheaper than a channel for thousands of small calls. Workers
// of 0 or less means one per CPU.
func Parallel(n, workers int, fn func(i int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers > n {
		workers = n
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		})
	}
	wg.Wait()
}

// pooledChunks is how many of the buffers' chunks a build keeps for its
// next files: a few megabytes, more than the files rendered and waiting
// to be written hold but for the largest.
const pooledChunks = 256

// run writes files into dir, and those of opts.Later, and returns the
// manifest. prev is the manifest of the build already in dir, if any: its
// files whose bytes are unchanged are kept, and those the site no longer
// has are deleted.
func run(dir string, files []File, opts Options, prev map[string]Item) (*Manifest, error) {
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	known := paths(files)
	wait := opts.Later.start(known)
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Rendering runs on every CPU; one goroutine makes the folders and
	// files. Creating entries in the same folder from several threads
	// contends on the folder's lock and, on ext4, has been measured to
	// take twice as long as from one.
	type rendered struct {
		item Item
		buf  *Buffer
		err  *error // where a failure to write it goes
		// stale, when set, says the later files are known: the
		// previous build's others under their folder are removed.
		stale map[string]bool
	}
	written := make(chan rendered, 8*workers)
	// The buffers' chunks go round between the workers and the writer.
	// They are kept here rather than in a sync.Pool, which a collection
	// empties.
	pool := newChunkPool(pooledChunks)
	get := func() *Buffer { return &Buffer{pool: pool} }
	put := func(b *Buffer) { b.Reset() }
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
		removeStale(dir, prev, known, func(p string) bool { return !opts.Later.under(p) })
		done, total := 0, len(files)
		for r := range written {
			if r.stale != nil {
				removeStale(dir, prev, r.stale, opts.Later.under)
				total += len(r.stale)
				continue
			}
			p := r.item.Path
			if !unchanged(dir, prev, r.item) {
				err := mkdir(path.Dir(p))
				if err == nil {
					err = out.writeFile(p, r.buf.Chunks())
				}
				if err != nil {
					*r.err = err
				}
			}
			put(r.buf)
			if done++; opts.Progress != nil {
				opts.Progress(done, total)
			}
		}
	})
	// A batch is files rendered together, with their items and the
	// items as JSON, made by the workers.
	type batch struct {
		files []File
		items []Item
		lines [][]byte
		errs  []error
	}
	render := func(files []File, first func(string) bool) *batch {
		b := &batch{files: files, items: make([]Item, len(files)), lines: make([][]byte, len(files)), errs: make([]error, len(files))}
		order := renderOrder(files, first)
		Parallel(len(files), workers, func(k int) {
			i := k
			if order != nil {
				i = order[k]
			}
			f := &files[i]
			buf := get()
			err := f.Make(buf)
			if err == nil && opts.Check != nil {
				err = opts.Check(f.Path, buf.Bytes())
			}
			if err != nil {
				b.errs[i] = err
				put(buf)
				return
			}
			sum := buf.sum()
			b.items[i] = Item{Path: f.Path, Size: int64(buf.Len()), SHA256: hex.EncodeToString(sum[:])}
			if b.lines[i], err = json.Marshal(b.items[i]); err != nil {
				b.errs[i] = err
				put(buf)
				return
			}
			written <- rendered{item: b.items[i], buf: buf, err: &b.errs[i]}
		})
		return b
	}
	batches := []*batch{render(files, opts.First)}
	late, lateErr := wait()
	if lateErr == nil && len(late) > 0 {
		written <- rendered{stale: paths(late)}
		batches = append(batches, render(late, nil))
	}
	close(written)
	io.Wait()
	for _, b := range batches {
		if err := collect(b.files, b.errs); err != nil {
			return nil, err
		}
	}
	if lateErr != nil {
		return nil, lateErr
	}
	// The manifest lists the files by path. The later ones, sorted and
	// all under their folder, sort together where their folder would
	// among the others.
	items, lines := batches[0].items, batches[0].lines
	if len(batches) > 1 {
		at, _ := slices.BinarySearchFunc(files, opts.Later.Dir, func(f File, dir string) int { return strings.Compare(f.Path, dir) })
		items = slices.Insert(items, at, batches[1].items...)
		lines = slices.Insert(lines, at, batches[1].lines...)
	}
	verdict := opts.Verdict
	m := &Manifest{Version: 1, Preview: opts.Preview, Check: &verdict, Files: items}
	// One file a line: readable, and far cheaper than indenting.
	buf := bytes.NewBufferString(`{"version":1,`)
	buf.Grow(len(lines) * 128)
	if opts.Preview {
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

// renderOrder returns the indexes of files in the order they are
// rendered: those first picks, then the others, each in path order. A nil
// first renders them all in path order, and needs no indexes.
func renderOrder(files []File, first func(string) bool) []int {
	if first == nil {
		return nil
	}
	order := make([]int, 0, len(files))
	for i := range files {
		if first(files[i].Path) {
			order = append(order, i)
		}
	}
	for i := range files {
		if !first(files[i].Path) {
			order = append(order, i)
		}
	}
	return order
}

// prepareWork readies the work folder for a build and returns the
// manifest of the build it holds, by path. A work folder without a
// manifest is what a failed or interrupted build left: it is emptied.
// The manifest is removed before anything is written, so that a build
// that stops half-way never leaves a manifest that does not match.
func prepareWork(work string) (map[string]Item, error) {
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
	prev := make(map[string]Item, len(m.Files))
	for _, f := range m.Files {
		prev[f.Path] = f
	}
	return prev, nil
}

// unchanged reports whether the file it describes is already in dir with
// the same bytes, as the previous manifest records them and its size
// confirms.
func unchanged(dir string, prev map[string]Item, it Item) bool {
	old, ok := prev[it.Path]
	if !ok || old != it {
		return false
	}
	st, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(it.Path)))
	return err == nil && st.Mode().IsRegular() && st.Size() == it.Size
}

// removeStale deletes from dir the files of the previous build that this
// one does not write, of those only accepts, then the folders that leaves
// empty.
func removeStale(dir string, prev map[string]Item, keep map[string]bool, accepts func(p string) bool) {
	var dirs []string
	for p := range prev {
		if !keep[p] && accepts(p) {
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
	if err := CheckReplaceable(dir); err != nil {
		return err
	}
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return os.Rename(work, dir)
	}
	return exchange(work, dir)
}

// CheckReplaceable refuses to replace a folder a build did not write, so a
// mistyped --out never deletes someone's files.
func CheckReplaceable(dir string) error {
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
func readInto(buf *Buffer, name string) error {
	// A named pipe is opened without waiting, and refused.
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return err
	} else if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", name)
	}
	_, err = buf.ReadFrom(f)
	return err
}

// pathError is os.PathError, for errors of direct system calls.
type pathError = fs.PathError
