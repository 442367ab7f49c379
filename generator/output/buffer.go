package output

import (
	"crypto/sha256"
	"io"
)

// chunkSize is the size of a Buffer's chunks: the largest size the Go
// allocator serves from its size classes, so that a chunk never asks the
// heap for pages of its own.
const chunkSize = 32 << 10

// A Buffer holds a file's bytes as they are made, in chunks of chunkSize.
// A file of megabytes (a large archive's editions feed, an edition's page
// with thousands of notes) grows without copying what it holds, and
// without asking for one block of its whole size: a heap fragmented by a
// build's small objects has such blocks only by growing, and a bytes.Buffer
// asks for one twice the size at every doubling. The zero Buffer is empty
// and ready to use.
type Buffer struct {
	chunks [][]byte // all full but the last
	n      int
	pool   *chunkPool // where chunks come from and go back to; nil: the heap
}

// Len returns the number of bytes written.
func (b *Buffer) Len() int { return b.n }

// tail returns the last chunk, with room in it.
func (b *Buffer) tail() []byte {
	if k := len(b.chunks); k > 0 && len(b.chunks[k-1]) < cap(b.chunks[k-1]) {
		return b.chunks[k-1]
	}
	c := b.pool.get()
	b.chunks = append(b.chunks, c)
	return c
}

// grew records that the last chunk, c, now holds k more bytes.
func (b *Buffer) grew(c []byte, k int) {
	b.chunks[len(b.chunks)-1] = c[:len(c)+k]
	b.n += k
}

// Write appends p. It never fails.
func (b *Buffer) Write(p []byte) (int, error) { return write(b, p), nil }

// WriteString appends s. It never fails.
func (b *Buffer) WriteString(s string) (int, error) { return write(b, s), nil }

// write appends p to b, filling its last chunk and adding more, and
// returns its length.
func write[T string | []byte](b *Buffer, p T) int {
	n := len(p)
	for len(p) > 0 {
		c := b.tail()
		k := copy(c[len(c):cap(c)], p)
		b.grew(c, k)
		p = p[k:]
	}
	return n
}

// WriteByte appends c. It never fails.
func (b *Buffer) WriteByte(c byte) error {
	t := b.tail()
	t = append(t, c)
	b.chunks[len(b.chunks)-1] = t
	b.n++
	return nil
}

// ReadFrom appends what r holds, up to its end.
func (b *Buffer) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	for {
		c := b.tail()
		k, err := r.Read(c[len(c):cap(c)])
		b.grew(c, k)
		total += int64(k)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Chunks returns the bytes, in order, in chunks that the Buffer keeps.
func (b *Buffer) Chunks() [][]byte { return b.chunks }

// Bytes returns the bytes in one slice: the Buffer's own when it has one
// chunk, a copy joining them when it has more.
func (b *Buffer) Bytes() []byte {
	switch len(b.chunks) {
	case 0:
		return nil
	case 1:
		return b.chunks[0]
	}
	return b.Clone()
}

// Clone returns a copy of the bytes, of their size, for a caller that
// keeps them (File.Bytes): a chunk is 32 KiB, and most pages a few.
func (b *Buffer) Clone() []byte {
	out := make([]byte, 0, b.n)
	for _, c := range b.chunks {
		out = append(out, c...)
	}
	return out
}

// sum returns the SHA-256 of the bytes.
func (b *Buffer) sum() [sha256.Size]byte {
	if len(b.chunks) == 1 {
		return sha256.Sum256(b.chunks[0])
	}
	h := sha256.New()
	for _, c := range b.chunks {
		h.Write(c)
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// skip drops the first n bytes of chunks, which a write has written, and
// returns what is left: the chunks not reached, the first of them cut
// where the write stopped.
func skip(chunks [][]byte, n int) [][]byte {
	for len(chunks) > 0 && n >= len(chunks[0]) {
		n -= len(chunks[0])
		chunks = chunks[1:]
	}
	if n > 0 {
		chunks[0] = chunks[0][n:]
	}
	return chunks
}

// Reset empties the Buffer, giving its chunks back to where they came
// from. Slices of them the caller holds are no longer its own.
func (b *Buffer) Reset() {
	for _, c := range b.chunks {
		b.pool.put(c)
	}
	clear(b.chunks)
	b.chunks, b.n = b.chunks[:0], 0
}

// A chunkPool keeps chunks for the next file: a build writes thousands,
// one after the other. A nil pool takes chunks from the heap and leaves
// them to the collector.
type chunkPool chan []byte

// newChunkPool returns a pool that keeps at most n chunks.
func newChunkPool(n int) *chunkPool {
	p := make(chunkPool, n)
	return &p
}

// get returns an empty chunk.
func (p *chunkPool) get() []byte {
	if p != nil {
		select {
		case c := <-*p:
			return c
		default:
		}
	}
	return make([]byte, 0, chunkSize)
}

// put keeps c, if there is room, for a later get.
func (p *chunkPool) put(c []byte) {
	if p == nil || cap(c) != chunkSize {
		return
	}
	select {
	case *p <- c[:0]:
	default:
	}
}
