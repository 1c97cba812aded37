package websocket

import (
	"context"
	"errors"
	"io"
	"math"
	"sync"

	"github.com/rfc6455/websocket/internal/bufpool"
)

// Whole-message reads (ReadMessage, AppendMessage): where the payload goes
// until the caller gets it, so that memory follows the bytes that arrived
// and the caller's slice is allocated once, at its exact size.
//
//   - Bytes go straight into the caller's slice while it has room for the
//     rest of the frame (AppendMessage with a reused buffer: no allocation).
//   - The last frame of a message (FIN) says how many bytes remain: once that
//     is at most exactAhead, or at most aheadRatio times what has arrived,
//     one slice of exactly the message's size is allocated, what was
//     collected is copied into it, and the rest is read straight from the
//     transport into it. A single-frame message of up to exactAhead bytes
//     takes this path at once.
//   - Until then, and for every frame before the last, bytes are collected
//     in pooled chunks, each as large as all before it (from chunkMin to
//     chunkMax), so that nothing is copied twice; when the message ends they
//     are copied once into its exact-size slice.
//   - A fragmented message's length is unknown until its last frame, and
//     the caller's slice is contiguous: once the chunks hold a read limit
//     divided by aheadRatio and more frames are to come, one slice with
//     room for the whole limit is allocated, the chunks are copied into it
//     and the rest is read straight into it. The caller gets it with spare
//     capacity, up to the limit. Without a limit (or one beyond an int),
//     the chunks go on to the end.
//
// So a peer that announces a large frame and sends little commits at most
// max(exactAhead, aheadRatio × received) + 2 × received + chunkMin bytes,
// and a message at the read limit, in one frame or in many, peaks at about
// 1.125 times its size.
// Compressed messages: compress_read.go.

const (
	exactAhead = 64 << 10
	aheadRatio = 8
	chunkMin   = 4 << 10
	chunkMax   = 256 << 10
)

// chunkList is payload collected in pooled chunks, in order: all full but
// the last.
type chunkList struct {
	bufs []*[]byte
	n    int // bytes in the chunks
}

// free returns the unused room of the last chunk.
func (l *chunkList) free() []byte {
	if len(l.bufs) == 0 {
		return nil
	}
	b := *l.bufs[len(l.bufs)-1]
	return b[l.n-l.filledBefore(len(l.bufs)-1):]
}

// filledBefore returns the bytes held by the first i chunks, all full.
func (l *chunkList) filledBefore(i int) int {
	n := 0
	for _, b := range l.bufs[:i] {
		n += len(*b)
	}
	return n
}

// appendTo appends the collected bytes to dst, which has room for them.
func (l *chunkList) appendTo(dst []byte) []byte {
	left := l.n
	for _, b := range l.bufs {
		k := min(left, len(*b))
		dst = append(dst, (*b)[:k]...)
		left -= k
	}
	return dst
}

// assembly is the state of a whole-message read that outlives one call:
// the collected chunks, the slice being filled and the budget they hold.
// It is borrowed from assemblyPool while a message needs it.
type assembly struct {
	out     chunkList // payload, or inflated output
	z       chunkList // compressed payload (compress_read.go)
	zr      chunkReader
	partial []byte // ReadMessage's message so far, kept across a timeout
	outHeld int64  // budget held for the slice being filled, ours
}

var assemblyPool = sync.Pool{New: func() any { return new(assembly) }}

// assembler does a Conn's whole-message reads, above its reads of frames
// (Conn.readRaw, Conn.advance: read.go), and holds what they collect
// across calls against the Conn's MemoryBudget. Like the frameReader, it
// belongs to whoever holds Conn.readLock.
type assembler struct {
	c   *Conn
	asm *assembly // nil when it holds nothing
}

// borrow returns the assembly, borrowing one if needed.
func (w *assembler) borrow() *assembly {
	if w.asm == nil {
		w.asm = assemblyPool.Get().(*assembly)
	}
	return w.asm
}

// reserveNow takes n bytes of the budget, if there is one, without waiting,
// for bytes already committed.
func (w *assembler) reserveNow(n int) {
	if c := w.c; c.budget != nil {
		c.budget.force(&c.budgetHold, int64(n))
	}
}

// reserve takes n bytes of the budget, if there is one, for the message in
// flight, waiting as the budget says (budget.go).
func (w *assembler) reserve(ctx context.Context, n int) error {
	c := w.c
	if c.budget == nil {
		return nil
	}
	c.dlMu.Lock()
	deadline := c.readDeadline
	c.dlMu.Unlock()
	err := c.budget.acquire(ctx, deadline, c.life.closed, &c.budgetHold, int64(n))
	if errors.Is(err, ErrClosed) {
		// Not a wait to resume: the connection is gone.
		err = c.life.err()
		c.reader.err = err
	}
	return err
}

// unreserve gives n bytes back to the budget.
func (w *assembler) unreserve(n int) {
	if c := w.c; c.budget != nil {
		c.budget.release(&c.budgetHold, int64(n))
	}
}

// nextChunk adds a chunk to l for at most want more bytes (0: unknown) and
// returns its room.
func (w *assembler) nextChunk(ctx context.Context, l *chunkList, want int) ([]byte, error) {
	// Powers of two: the pool's size classes, used whole.
	size := chunkMin
	for size < l.n && size < chunkMax {
		size <<= 1
	}
	for want > 0 && size > chunkMin && size/2 >= want {
		size >>= 1
	}
	if err := w.reserve(ctx, size); err != nil {
		return nil, err
	}
	p := bufpool.Get(size)
	l.bufs = append(l.bufs, p)
	return *p, nil
}

// releaseChunks returns l's chunks to the pool and their budget.
func (w *assembler) releaseChunks(l *chunkList) {
	n := 0
	for i, b := range l.bufs {
		n += len(*b)
		bufpool.Put(b)
		l.bufs[i] = nil
	}
	l.bufs = l.bufs[:0]
	l.n = 0
	w.unreserve(n)
}

// allocOut returns an empty slice of capacity n, holding the budget for
// it, in place of the one being filled, whose budget it gives back.
func (w *assembler) allocOut(ctx context.Context, n int) ([]byte, error) {
	if err := w.reserve(ctx, n); err != nil {
		return nil, err
	}
	if w.c.budget != nil {
		a := w.borrow()
		w.unreserve(int(a.outHeld))
		a.outHeld = int64(n)
	}
	return make([]byte, 0, n), nil
}

// settle moves what the chunks hold onto dst, growing dst to a capacity of
// exactly total bytes if it has not that much.
func (w *assembler) settle(ctx context.Context, dst []byte, total int) ([]byte, error) {
	a := w.asm
	if cap(dst) < total {
		if a != nil && len(dst) == 0 && len(a.out.bufs) == 1 && a.out.n == total {
			// The whole message is in one chunk: append allocates
			// without clearing what it copies over (runtime.growslice),
			// which make cannot avoid. The capacity is rounded up to a
			// size class.
			if err := w.reserve(ctx, total); err != nil {
				return dst, err
			}
			w.unreserve(int(a.outHeld))
			a.outHeld = int64(total)
			dst = append([]byte(nil), (*a.out.bufs[0])[:total]...)
			w.releaseChunks(&a.out)
			return dst, nil
		}
		grown, err := w.allocOut(ctx, total)
		if err != nil {
			return dst, err
		}
		dst = append(grown, dst...)
	}
	if a != nil && a.out.n > 0 {
		dst = a.out.appendTo(dst)
		w.releaseChunks(&a.out)
	}
	return dst, nil
}

// settleNow is settle for a message already read whole, which cannot wait
// for the budget.
func (w *assembler) settleNow(dst []byte, total int) []byte {
	if cap(dst) < total {
		w.reserveNow(total)
		a := w.borrow()
		w.unreserve(int(a.outHeld))
		a.outHeld = int64(total)
		dst = append(make([]byte, 0, total), dst...)
	}
	dst, _ = w.settle(context.Background(), dst, total)
	return dst
}

// appendRaw is appendMessage for an uncompressed message; see the top of
// this file.
func (w *assembler) appendRaw(ctx context.Context, dst []byte) ([]byte, error) {
	c := w.c
	r := &c.reader
	for {
		if r.state == inDataFrame {
			var collected int
			if w.asm != nil {
				collected = w.asm.out.n
			}
			if collected == 0 && int64(cap(dst)-len(dst)) >= r.frameLeft {
				// readData, not readRaw: the frame is in progress, and
				// this is the hot path of every small message.
				n, err := r.readData(dst[len(dst):cap(dst)])
				dst = dst[:len(dst)+n]
				if err != nil {
					return dst, c.failRead(err)
				}
				continue
			}
			var err error
			if dst, err = w.collect(ctx, dst, collected); err != nil {
				return dst, err
			}
			continue
		}
		if r.eof {
			if w.asm != nil && w.asm.out.n > 0 {
				return w.settle(ctx, dst, len(dst)+w.asm.out.n)
			}
			return dst, nil
		}
		if err := c.advance(); err != nil {
			return dst, err
		}
	}
}

// collect is appendRaw's step for a frame that does not fit the caller's
// slice as it is (collected bytes are already in the chunks): it allocates
// the slice when the message's size is known, or at the read limit for a
// long fragmented message, or reads into the next chunk. Kept apart so that
// appendRaw, which every small message goes through, stays small.
func (w *assembler) collect(ctx context.Context, dst []byte, collected int) ([]byte, error) {
	c := w.c
	r := &c.reader
	var want int
	if r.frame.fin {
		// Checked against the read limit: fits an int.
		rest := collected + int(r.frameLeft)
		arrived := collected + int(min(int64(r.end-r.pos), r.frameLeft))
		if rest <= exactAhead || arrived >= rest/aheadRatio {
			return w.settle(ctx, dst, len(dst)+rest)
		}
		want = rest - collected
	} else if limit := r.limit.Load(); limit > 0 && int64(collected) >= limit/aheadRatio &&
		limit <= int64(math.MaxInt-len(dst)) {
		// The length is unknown until the last frame: the slice is
		// allocated at the limit now, while the chunks hold only an
		// eighth of it, and the rest is read straight into it.
		return w.settle(ctx, dst, len(dst)+int(limit))
	}
	a := w.borrow()
	room := a.out.free()
	if len(room) == 0 {
		var err error
		if room, err = w.nextChunk(ctx, &a.out, want); err != nil {
			return dst, err
		}
	}
	n, err := r.readData(room)
	if err != nil {
		// a may be gone: a failed read drops the assembly.
		return dst, c.failRead(err)
	}
	a.out.n += n
	return dst, nil
}

// handedOver ends a whole-message call that returns dst to the caller: the
// slice no longer counts against the budget, and an assembly holding
// nothing goes back to the pool.
func (w *assembler) handedOver() {
	a := w.asm
	if a == nil {
		return
	}
	w.unreserve(int(a.outHeld))
	a.outHeld = 0
	if a.out.n == 0 && len(a.out.bufs) == 0 && len(a.z.bufs) == 0 && a.partial == nil {
		a.zr = chunkReader{}
		w.asm = nil
		assemblyPool.Put(a)
	}
}

// drop forgets the message in progress: its chunks, its partial slice, and
// the budget they held.
func (w *assembler) drop() {
	a := w.asm
	if a == nil {
		return
	}
	w.releaseChunks(&a.out)
	w.releaseChunks(&a.z)
	a.partial = nil
	w.handedOver()
}

// chunkReader reads a chunkList from its start.
type chunkReader struct {
	l      *chunkList
	i, off int // chunk and offset in it
	read   int // bytes read so far
}

func (cr *chunkReader) reset(l *chunkList) { *cr = chunkReader{l: l} }

func (cr *chunkReader) Read(p []byte) (int, error) {
	l := cr.l
	if l == nil || cr.read == l.n {
		return 0, io.EOF
	}
	b := (*l.bufs[cr.i])[cr.off:]
	if left := l.n - cr.read; len(b) > left {
		b = b[:left]
	}
	n := copy(p, b)
	cr.off += n
	cr.read += n
	if cr.off == len(*l.bufs[cr.i]) {
		cr.i++
		cr.off = 0
	}
	return n, nil
}
