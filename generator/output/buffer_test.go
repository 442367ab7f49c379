package output

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

// TestBuffer writes the same random pieces, of every size around a
// chunk's, to a Buffer and to a bytes.Buffer, in each of the ways a file
// is made, and checks that the Buffer holds the same bytes, in full
// chunks but the last, with the same length and SHA-256; and that,
// reset, it gives its chunks back to its pool and holds the next file
// alone.
func TestBuffer(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	pool := newChunkPool(8)
	for round := range 40 {
		b := &Buffer{pool: pool}
		var want bytes.Buffer
		for range r.IntN(12) {
			sizes := []int{0, 1, 7, chunkSize - 1, chunkSize, chunkSize + 1, 3*chunkSize + 5, r.IntN(2 * chunkSize)}
			p := make([]byte, sizes[r.IntN(len(sizes))])
			for i := range p {
				p[i] = byte(r.Uint32())
			}
			switch r.IntN(4) {
			case 0:
				b.Write(p)
			case 1:
				b.WriteString(string(p))
			case 2:
				for _, c := range p[:min(len(p), 100)] {
					b.WriteByte(c)
				}
				p = p[:min(len(p), 100)]
			case 3:
				// A reader that returns a byte at a time: every read
				// ends short of the chunk.
				if _, err := b.ReadFrom(iotest.OneByteReader(bytes.NewReader(p[:min(len(p), 5000)]))); err != nil {
					t.Fatal(err)
				}
				p = p[:min(len(p), 5000)]
			}
			want.Write(p)
		}
		if b.Len() != want.Len() || !bytes.Equal(b.Bytes(), want.Bytes()) {
			t.Fatalf("round %d: the Buffer holds %d bytes, not the %d written", round, b.Len(), want.Len())
		}
		for i, c := range b.Chunks() {
			if i < len(b.Chunks())-1 && len(c) != chunkSize {
				t.Fatalf("round %d: chunk %d of %d holds %d bytes, not a full chunk", round, i, len(b.Chunks()), len(c))
			}
		}
		if c := b.Clone(); !bytes.Equal(c, want.Bytes()) || cap(c) != want.Len() {
			t.Fatalf("round %d: a clone of %d bytes, %d of room, is not the %d written", round, len(c), cap(c), want.Len())
		}
		if got, want := b.sum(), sha256.Sum256(want.Bytes()); got != want {
			t.Fatalf("round %d: SHA-256 %x, want %x", round, got, want)
		}
		held := len(b.Chunks())
		before := len(*pool)
		b.Reset()
		if b.Len() != 0 || len(b.Chunks()) != 0 {
			t.Fatalf("round %d: a reset Buffer holds %d bytes", round, b.Len())
		}
		if got := len(*pool); got != min(before+held, cap(*pool)) {
			t.Fatalf("round %d: the pool holds %d chunks after a reset of %d, want %d", round, got, held, min(before+held, cap(*pool)))
		}
		b.WriteString("next")
		if string(b.Bytes()) != "next" {
			t.Fatalf("round %d: after a reset, the Buffer holds %q", round, b.Bytes())
		}
		b.Reset()
	}
}

// TestSkip drops what a short write wrote from the chunks it was given,
// within a chunk and at a chunk's end.
func TestSkip(t *testing.T) {
	t.Parallel()
	chunks := func() [][]byte { return [][]byte{[]byte("abc"), []byte("de"), []byte("fghi")} }
	for n, want := range []string{"abc|de|fghi", "bc|de|fghi", "c|de|fghi", "de|fghi", "e|fghi", "fghi", "ghi", "hi", "i", ""} {
		var parts []string
		for _, c := range skip(chunks(), n) {
			parts = append(parts, string(c))
		}
		if got := strings.Join(parts, "|"); got != want {
			t.Errorf("skip %d: %q, want %q", n, got, want)
		}
	}
}

// TestWriteLargeFile writes a build with a file of more chunks than one
// writev takes, and one of a single chunk, and checks the files' bytes,
// the manifest's sizes and hashes, and the bytes the build's check was
// given, against what was rendered.
func TestWriteLargeFile(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "public")
	r := rand.New(rand.NewPCG(3, 4))
	big := make([]byte, (maxIovecs+37)*chunkSize+123)
	for i := range big {
		big[i] = byte(r.Uint32())
	}
	contents := map[string][]byte{"big.bin": big, "small.html": []byte("<p>small</p>")}
	var files []File
	for _, p := range slices.Sorted(maps.Keys(contents)) {
		data := contents[p]
		files = append(files, File{Path: p, Render: func(buf *Buffer) error {
			// Written in pieces that straddle the chunks' ends.
			for len(data) > 0 {
				n := min(len(data), 10000)
				buf.Write(data[:n])
				data = data[n:]
			}
			return nil
		}})
	}
	// The check sees each file whole, in one slice, however many chunks
	// hold it: an address across two chunks is still found.
	checked := map[string]bool{}
	var mu sync.Mutex
	check := func(p string, data []byte) error {
		mu.Lock()
		defer mu.Unlock()
		if !bytes.Equal(data, contents[p]) {
			return fmt.Errorf("checked %d bytes, not the file's %d", len(data), len(contents[p]))
		}
		checked[p] = true
		return nil
	}
	m, err := Write(out, files, Options{Workers: 2, Check: check})
	if err != nil {
		t.Fatal(err)
	}
	if len(checked) != len(contents) {
		t.Errorf("checked %d files, want %d", len(checked), len(contents))
	}
	if len(m.Files) != len(contents) {
		t.Fatalf("the manifest lists %d files, want %d", len(m.Files), len(contents))
	}
	for _, it := range m.Files {
		want := contents[it.Path]
		got, err := os.ReadFile(filepath.Join(out, it.Path))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes written, want %d", it.Path, len(got), len(want))
		}
		sum := sha256.Sum256(want)
		if it.Size != int64(len(want)) || it.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: the manifest says %d bytes, %s; want %d, %x", it.Path, it.Size, it.SHA256, len(want), sum)
		}
	}
}
