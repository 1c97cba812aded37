package deflate

import (
	"encoding/binary"
	"math/bits"
)

// The compressor is our own LZ77 encoder rather than compress/flate's
// Writer, for three reasons that follow from RFC 7692:
//
//   - §7.1.2: a peer may ask us to compress with a window of 2^8 to 2^15
//     bytes. compress/flate always looks back up to 32 KiB, so it cannot
//     honour a smaller window; this matcher never emits a distance above the
//     negotiated window.
//   - §7.2.2 context takeover: the history that carries over between
//     messages must be kept per connection. A compress/flate Writer can only
//     be primed with a dictionary when it is created (about 1 MB each), so
//     takeover would pin a whole Writer to every idle connection. Here the
//     big tables belong to a pooled encoder, and a connection keeps only
//     its last bytes of history, re-hashed into whichever encoder it
//     borrows for its next message.
//   - one encoder serves every case (any window, with or without takeover),
//     so there is one code path to test.
//
// The matcher is a hash chain over 4-byte prefixes. Positions in the hash
// tables are absolute (win[0] is position base), and a pooled encoder
// starts every message at a base beyond every position it has stored, so
// entries left by earlier messages or other connections are recognised as
// stale by their position alone and the tables never need clearing.

const (
	MaxDistance = 1 << MaxWindowBits // largest distance DEFLATE can express
	minMatch    = 4                  // shortest match searched; DEFLATE allows 3
	maxMatch    = 258
	// ChunkSize is how much input one block covers at most. It bounds the
	// token buffer and lets block codes adapt to changing data; a writer
	// that adds input by chunks keeps the output buffer small.
	ChunkSize = 1 << 14
	winCap    = MaxDistance + ChunkSize // history plus one chunk
	hashBits  = 15
	hashSize  = 1 << hashBits
	// rebaseAt is where absolute positions are brought back near zero, far
	// enough from the int32 limit for a chunk and a window to fit above it.
	rebaseAt = 1 << 30
)

// Level holds the matcher settings of one compression level.
type Level struct {
	chain     int  // hash chain candidates examined per position; 0 disables matching
	nice      int  // a match this long ends the search
	good      int  // a match this long quarters the remaining chain budget; 0 never
	lazy      int  // shorter matches are compared with the one a byte later; 0 is greedy
	insertAll bool // hash every position inside a match, not only its start
	skip      bool // search less often after long runs of literals
	// History is how many bytes of earlier messages a connection keeps
	// with context takeover (further capped by the window), and stride
	// how sparsely they are re-hashed when the next message starts: every
	// stride-th position. A match into the history is still found, up to
	// stride-1 bytes late, and extending matches backwards recovers those
	// bytes, so a sparse priming costs little ratio and saves most of the
	// time of priming, which dominates small messages. Levels 4 and up
	// keep 28 KiB rather than 32: with the decompressor's 32 KiB, an idle
	// connection with takeover both ways stays under 64 KiB, and 28 KiB is
	// an exact allocation size class (31 KiB would round up to 32).
	History int
	stride  int
}

// levels holds the settings for levels 1–9; index 0 is Huffman-only (-2).
var levels = [10]Level{
	0: {},
	1: {chain: 1, nice: 32, skip: true, History: 4 << 10, stride: 4},
	2: {chain: 4, nice: 64, insertAll: true, skip: true, History: 8 << 10, stride: 4},
	3: {chain: 8, nice: 64, insertAll: true, skip: true, History: 16 << 10, stride: 4},
	4: {chain: 16, nice: 128, good: 16, lazy: 8, insertAll: true, History: 28 << 10, stride: 4},
	5: {chain: 32, nice: 128, good: 16, lazy: 16, insertAll: true, History: 28 << 10, stride: 2},
	6: {chain: 64, nice: 128, good: 16, lazy: 32, insertAll: true, History: 28 << 10, stride: 2},
	7: {chain: 128, nice: maxMatch, good: 32, lazy: 64, insertAll: true, History: 28 << 10, stride: 1},
	8: {chain: 512, nice: maxMatch, good: 64, lazy: 128, insertAll: true, History: 28 << 10, stride: 1},
	9: {chain: 2048, nice: maxMatch, lazy: maxMatch, insertAll: true, History: 28 << 10, stride: 1},
}

// LevelFor returns the settings of a level from 1 to 9, or of
// Huffman-only for -2.
func LevelFor(level int) Level {
	if level < 1 || level > 9 {
		return levels[0]
	}
	return levels[level]
}

// Encoder is the pooled working state of the compressor: the sliding input
// window, the hash tables, the tokens of the block being built and the bit
// writer. A connection borrows one for the length of a message.
type Encoder struct {
	win    []byte // win[:pos] is history (already encoded), win[pos:] pending input
	pos    int
	ins    int   // next index of win to enter into the hash tables
	base   int32 // absolute position of win[0]
	next   int32 // absolute position after the last one this encoder used
	window int   // largest distance allowed, 2^windowBits
	lp     Level

	head   [hashSize]int32    // absolute position of the latest string per hash
	prev   [MaxDistance]int32 // per position (mod maxDistance), the previous one with the same hash
	tokens []uint32
	bw     blockWriter
}

// NewEncoder returns an encoder with its working state (about 370 KiB).
func NewEncoder() *Encoder {
	return &Encoder{
		win:    make([]byte, 0, winCap),
		tokens: make([]uint32, 0, ChunkSize),
		bw:     newBlockWriter(),
		next:   1, // 0 marks an empty hash slot
	}
}

// Reset starts a message with the given window, level and history (the
// last bytes of earlier messages, or nil without context takeover).
func (e *Encoder) Reset(windowBits int, lp Level, hist []byte) {
	if e.next > rebaseAt {
		clear(e.head[:])
		clear(e.prev[:])
		e.next = 1
	}
	e.base = e.next
	e.window = 1 << windowBits
	e.lp = lp
	e.win = append(e.win[:0], hist...)
	e.pos = len(hist)
	e.ins = 0
	e.tokens = e.tokens[:0]
	e.bw.acc, e.bw.n = 0, 0
	if len(hist) > 0 && lp.chain > 0 {
		e.prime(len(hist))
	}
}

// prime enters every stride-th position of the history win[:n] into the
// hash tables; the last few, whose 4 bytes run into the message, are left
// to the first search.
func (e *Encoder) prime(n int) {
	stride := max(e.lp.stride, 1)
	last := n - minMatch
	for j := 0; j <= last; j += stride {
		h := hash4(e.win[j:])
		abs := e.base + int32(j)
		e.prev[abs&(MaxDistance-1)] = e.head[h]
		e.head[h] = abs
	}
	e.ins = max(last+1, 0)
}

// Release records the positions used, so that the next message's base lies
// beyond them.
func (e *Encoder) Release() {
	e.next = e.base + int32(len(e.win))
}

// Add adds p to the message, encoding a block each time a chunk of input
// is pending.
func (e *Encoder) Add(p []byte) {
	for len(p) > 0 {
		// At most one chunk pending, so a block never outgrows e.tokens.
		n := copy(e.win[len(e.win):e.pos+ChunkSize], p)
		e.win = e.win[:len(e.win)+n]
		p = p[n:]
		if len(e.win)-e.pos >= ChunkSize {
			e.encodePending()
			e.slide()
		}
	}
}

// Finish encodes the pending input and ends the message with the sync
// marker, leaving the rest of the compressed payload in Out.
func (e *Encoder) Finish() {
	if len(e.win) > e.pos {
		e.encodePending()
	}
	e.bw.writeSyncMarker()
}

// Out returns the compressed bytes produced since the last SetOut.
func (e *Encoder) Out() []byte { return e.bw.out }

// SetOut makes b the buffer the encoder appends compressed bytes to.
func (e *Encoder) SetOut(b []byte) { e.bw.out = b }

// History returns the last bytes of the message stream worth keeping for
// the next message with context takeover: at most one window, and at most
// what the level re-hashes. The slice aliases the encoder's window.
func (e *Encoder) History() []byte {
	n := min(len(e.win), e.window, e.lp.History)
	return e.win[len(e.win)-n:]
}

// encodePending turns the pending input into one block.
func (e *Encoder) encodePending() {
	end := len(e.win)
	if e.lp.chain == 0 {
		e.tokens = e.tokens[:0]
		for _, c := range e.win[e.pos:end] {
			e.tokens = append(e.tokens, uint32(c))
		}
	} else {
		e.tokenize(e.pos, end)
	}
	e.bw.writeBlock(e.tokens, e.win[e.pos:end])
	e.pos = end
}

// slide drops history beyond the window to make room for the next chunk.
func (e *Encoder) slide() {
	keep := min(e.pos, e.window)
	drop := e.pos - keep
	if drop == 0 {
		return
	}
	copy(e.win, e.win[drop:])
	e.win = e.win[:len(e.win)-drop]
	e.pos -= drop
	e.ins = max(e.ins-drop, 0)
	e.base += int32(drop)
	if e.base > rebaseAt {
		e.rebase()
	}
}

// rebase shifts every stored position down so that base becomes 1; stale
// positions become 0, the empty slot.
func (e *Encoder) rebase() {
	delta := e.base - 1
	for i, v := range e.head {
		e.head[i] = max(v-delta, 0)
	}
	for i, v := range e.prev {
		e.prev[i] = max(v-delta, 0)
	}
	e.base = 1
}

// hash4 hashes the 4 bytes at the start of b.
func hash4(b []byte) uint32 {
	return (binary.LittleEndian.Uint32(b) * 0x9e3779b1) >> (32 - hashBits)
}

// insertUpTo enters the positions from e.ins up to and including i into the
// hash tables, as far as 4 bytes are available below end.
func (e *Encoder) insertUpTo(i, end int) {
	last := min(i, end-minMatch)
	win := e.win[:end]
	for j := e.ins; j <= last; j++ {
		h := hash4(win[j:])
		abs := e.base + int32(j)
		e.prev[abs&(MaxDistance-1)] = e.head[h]
		e.head[h] = abs
	}
	if last >= e.ins {
		e.ins = last + 1
	}
}

// findMatch enters i into the hash tables and returns the longest match for
// the input at i found within the chain budget, or a length below minMatch.
// The match lies entirely before i, at most one window back, and inside
// this message's history; it may overlap i, as DEFLATE allows.
func (e *Encoder) findMatch(i, end int) (length, dist int) {
	win := e.win[:end]
	h := hash4(win[i:])
	abs := e.base + int32(i)
	var cand int32
	if i >= e.ins {
		e.insertUpTo(i-1, end)
		cand = e.head[h]
		e.prev[abs&(MaxDistance-1)] = cand
		e.head[h] = abs
		e.ins = i + 1
	} else {
		// Already entered (a match was extended backwards over i): the
		// chain may start at positions after i, which are skipped.
		cand = e.head[h]
	}

	maxLen := min(maxMatch, end-i)
	low := max(e.base, abs-int32(e.window))
	best := minMatch - 1
	cur := win[i : i+maxLen]
	first := binary.LittleEndian.Uint32(cur)
	tries := e.lp.chain
	for ; tries > 0 && cand >= low; tries-- {
		ci := int(cand - e.base)
		if ci < i && win[ci+best] == cur[best] && binary.LittleEndian.Uint32(win[ci:]) == first {
			l := matchLen(win[ci:], cur)
			if l > best {
				if best < e.lp.good && l >= e.lp.good {
					tries >>= 2 // good enough: look less hard for a better one
				}
				best, dist = l, int(abs-cand)
				if l >= e.lp.nice || l == maxLen {
					break
				}
			}
		}
		next := e.prev[cand&(MaxDistance-1)]
		if next >= cand {
			break // the slot was reused by a newer position: the chain ends
		}
		cand = next
	}
	if best < minMatch {
		return 0, 0
	}
	return best, dist
}

// matchLen returns how many leading bytes of b equal those of a; a is at
// least as long as b.
func matchLen(a, b []byte) int {
	n := 0
	for len(b)-n >= 8 {
		x := binary.LittleEndian.Uint64(a[n:]) ^ binary.LittleEndian.Uint64(b[n:])
		if x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
		n += 8
	}
	for n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// tokenize fills e.tokens with the LZ77 parse of win[start:end].
func (e *Encoder) tokenize(start, end int) {
	lp := &e.lp
	toks := e.tokens[:0]
	win := e.win[:end]
	misses := 0
	literals := 0 // literal tokens since the last match
	i := start
	for i < end {
		if end-i < minMatch {
			for _, c := range win[i:end] {
				toks = append(toks, uint32(c))
			}
			break
		}
		length, dist := e.findMatch(i, end)
		if length == 0 {
			toks = append(toks, uint32(win[i]))
			i++
			literals++
			if lp.skip {
				// Incompressible input: after 32 misses in a row, step over
				// more and more bytes without searching them.
				misses++
				for s := min(misses>>5, end-i); s > 0; s-- {
					toks = append(toks, uint32(win[i]))
					i++
					literals++
				}
				e.ins = max(e.ins, i)
			}
			continue
		}
		misses = 0
		// Extend the match backwards over the literals just emitted: a
		// match into sparsely primed history is found late.
		for length < maxMatch && literals > 0 && i-dist > 0 && win[i-1] == win[i-1-dist] {
			toks = toks[:len(toks)-1]
			literals--
			i--
			length++
		}
		// Lazy evaluation: a match found one byte later that is longer is
		// worth a literal.
		for length < lp.lazy && end-(i+1) >= minMatch {
			l2, d2 := e.findMatch(i+1, end)
			if l2 <= length {
				break
			}
			toks = append(toks, uint32(win[i]))
			i++
			length, dist = l2, d2
		}
		toks = append(toks, makeMatch(length, dist))
		literals = 0
		if lp.insertAll {
			e.insertUpTo(i+length-1, end)
		} else {
			e.ins = max(e.ins, i+length)
		}
		i += length
	}
	e.tokens = toks
}
