package deflate

import (
	"math/bits"
	"slices"
)

// Alphabet sizes of RFC 1951 §3.2.5–§3.2.7.
const (
	numLitLenSyms   = 286 // literals 0–255, end of block 256, lengths 257–285
	numDistSyms     = 30
	numCodeLenSyms  = 19
	endOfBlock      = 256
	maxLitLenBits   = 15 // RFC 1951 §3.2.7: code lengths are 0–15
	maxCodeLenBits  = 7  // the code length alphabet's own lengths are 3-bit fields
	maxHuffmanSyms  = numLitLenSyms
	fixedLitLenSyms = 288 // the fixed code defines 286 and 287, never used
)

// huffmanCode is a canonical prefix code (RFC 1951 §3.2.2): per symbol its
// length and its code, already bit-reversed because DEFLATE packs Huffman
// codes starting from their most significant bit into a stream that is
// otherwise filled from the least significant bit.
type huffmanCode struct {
	length []uint8
	code   []uint16
}

// newHuffmanCode returns an empty code for n symbols.
func newHuffmanCode(n int) huffmanCode {
	return huffmanCode{length: make([]uint8, n), code: make([]uint16, n)}
}

// huffmanBuilder holds the scratch space of build, so that building a code
// per block allocates nothing.
type huffmanBuilder struct {
	keys   [maxHuffmanSyms]uint64 // freq<<16 | symbol, sorted
	weight [2 * maxHuffmanSyms]uint32
	parent [2 * maxHuffmanSyms]uint16
	depth  [2 * maxHuffmanSyms]uint8
}

// build sets h to a length-limited Huffman code for freq, with no length
// above maxBits. Every code it builds is complete (its lengths fill the code
// space exactly), which every inflater accepts: when fewer than two symbols
// occur, unused symbols are given a length so that two codes exist.
func (b *huffmanBuilder) build(h *huffmanCode, freq []uint32, maxBits int) {
	clear(h.length[:len(freq)])
	keys := b.keys[:0]
	for s, f := range freq {
		if f != 0 {
			keys = append(keys, uint64(f)<<16|uint64(s))
		}
	}
	// Pad with the lowest unused symbols: a single code of length 1 is
	// legal DEFLATE, but not every decoder accepts an incomplete code.
	for s := 0; len(keys) < 2; s++ {
		if freq[s] == 0 {
			keys = append(keys, uint64(s))
		}
	}
	slices.Sort(keys)
	n := len(keys)

	// Huffman's construction with two queues: the leaves in ascending weight
	// and the internal nodes, which are created in ascending weight too.
	// Node i < n is leaf i; internal nodes follow. Parents always have higher
	// indices than their children.
	w := b.weight[:2*n-1]
	for i, k := range keys {
		w[i] = uint32(k >> 16)
		if w[i] == 0 {
			w[i] = 1
		}
	}
	leaf, inner := 0, n
	pick := func(next int) int {
		if leaf < n && (inner >= next || w[leaf] <= w[inner]) {
			leaf++
			return leaf - 1
		}
		inner++
		return inner - 1
	}
	for next := n; next < 2*n-1; next++ {
		a := pick(next)
		c := pick(next)
		w[next] = w[a] + w[c]
		b.parent[a] = uint16(next)
		b.parent[c] = uint16(next)
	}
	root := 2*n - 2
	b.depth[root] = 0
	var count [maxLitLenBits + 1]int
	overflow := false
	for i := root - 1; i >= 0; i-- {
		d := b.depth[b.parent[i]] + 1
		b.depth[i] = d
		if i < n {
			if int(d) > maxBits {
				d = uint8(maxBits)
				overflow = true
			}
			count[d]++
		}
	}

	if overflow {
		// Clamping the deepest leaves to maxBits oversubscribes the code
		// space by excess units of 2^-maxBits. Each step below removes one
		// unit: a leaf at depth d < maxBits becomes the parent of itself and
		// of one leaf taken from depth maxBits, both now at depth d+1.
		excess := -(1 << maxBits)
		for d := 1; d <= maxBits; d++ {
			excess += count[d] << (maxBits - d)
		}
		for ; excess > 0; excess-- {
			d := maxBits - 1
			for count[d] == 0 {
				d--
			}
			count[d]--
			count[d+1] += 2
			count[maxBits]--
		}
	}

	// Longest codes go to the rarest symbols: keys are in ascending weight.
	i := 0
	for d := maxBits; d >= 1; d-- {
		for c := count[d]; c > 0; c-- {
			h.length[keys[i]&0xffff] = uint8(d)
			i++
		}
	}
	h.assignCodes(len(freq))
}

// assignCodes derives the canonical codes from the lengths (RFC 1951
// §3.2.2): shorter codes first, and within a length in symbol order.
func (h *huffmanCode) assignCodes(n int) {
	var count [maxLitLenBits + 1]uint16
	for _, l := range h.length[:n] {
		count[l]++
	}
	count[0] = 0
	var next [maxLitLenBits + 1]uint16
	code := uint16(0)
	for l := 1; l <= maxLitLenBits; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	for s, l := range h.length[:n] {
		if l == 0 {
			h.code[s] = 0
			continue
		}
		h.code[s] = bits.Reverse16(next[l]) >> (16 - l)
		next[l]++
	}
}

// fixedLitLen and fixedDist are the fixed codes of RFC 1951 §3.2.6.
var fixedLitLen, fixedDist = buildFixedCodes()

func buildFixedCodes() (huffmanCode, huffmanCode) {
	lit := newHuffmanCode(fixedLitLenSyms)
	for s := range lit.length {
		switch {
		case s < 144:
			lit.length[s] = 8
		case s < 256:
			lit.length[s] = 9
		case s < 280:
			lit.length[s] = 7
		default:
			lit.length[s] = 8
		}
	}
	lit.assignCodes(fixedLitLenSyms)
	dist := newHuffmanCode(32)
	for s := range dist.length {
		dist.length[s] = 5
	}
	dist.assignCodes(32)
	return lit, dist
}
