package deflate

import (
	"encoding/binary"
	"math/bits"
)

// A token is one LZ77 output of the matcher: a literal byte (below 256) or,
// with matchToken set, a back-reference with length-3 in bits 16–23 and
// distance-1 in bits 0–14.
const matchToken = 1 << 31

// makeMatch returns the token for a back-reference of length 3–258 to
// distance 1–32768.
func makeMatch(length, dist int) uint32 {
	return matchToken | uint32(length-3)<<16 | uint32(dist-1)
}

// Length and distance codes of RFC 1951 §3.2.5. The tables are indexed by
// length-3 and distance-1.
var (
	lengthCode  [256]uint8 // length-3 → code 0–28 (symbol 257+code)
	lengthBase  [29]uint16 // code → smallest length-3 it covers
	lengthExtra [29]uint8
	distBase    [numDistSyms]uint16 // code → smallest distance-1 it covers
	distExtra   [numDistSyms]uint8
)

func init() {
	// Lengths: codes 0–7 cover one length each; then each pair of extra-bit
	// counts covers four codes; the longest length, 258, has a code of its own.
	for c := range 28 {
		var base, extra int
		if c < 8 {
			base = c
		} else {
			extra = c/4 - 1
			base = (4 + c%4) << extra
		}
		lengthBase[c], lengthExtra[c] = uint16(base), uint8(extra)
		for l := base; l < base+1<<extra; l++ {
			lengthCode[l] = uint8(c)
		}
	}
	lengthBase[28], lengthExtra[28] = 255, 0
	lengthCode[255] = 28
	for c := range numDistSyms {
		if c < 4 {
			distBase[c] = uint16(c)
			continue
		}
		extra := c/2 - 1
		distBase[c], distExtra[c] = uint16((2+c%2)<<extra), uint8(extra)
	}
}

// distCode returns the distance code for distance-1 (0–32767).
func distCode(d uint32) uint32 {
	if d < 4 {
		return d
	}
	nb := uint32(bits.Len32(d)) - 1
	return 2*nb + (d>>(nb-1))&1
}

// codeLenOrder is the order in which the code length code's own lengths are
// sent (RFC 1951 §3.2.7).
var codeLenOrder = [numCodeLenSyms]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// blockWriter turns a block of tokens into DEFLATE bits, choosing per block
// whichever of stored, fixed-Huffman and dynamic-Huffman encoding is
// shortest. Bits accumulate least significant first (RFC 1951 §3.1.1).
type blockWriter struct {
	out []byte // whole bytes written so far
	acc uint64 // pending bits, the first in the lowest position
	n   uint   // number of pending bits, below 32 between calls

	litFreq  [numLitLenSyms]uint32
	distFreq [numDistSyms]uint32
	clFreq   [numCodeLenSyms]uint32
	lit      huffmanCode
	dist     huffmanCode
	cl       huffmanCode
	builder  huffmanBuilder
	lengths  [numLitLenSyms + numDistSyms]uint8  // code lengths of one dynamic header, in order
	clTokens [numLitLenSyms + numDistSyms]uint16 // run-length coded lengths: symbol | extra<<5
	clCount  int                                 // tokens in clTokens
}

func newBlockWriter() blockWriter {
	return blockWriter{
		lit:  newHuffmanCode(numLitLenSyms),
		dist: newHuffmanCode(numDistSyms),
		cl:   newHuffmanCode(numCodeLenSyms),
	}
}

// put appends the nb low bits of v (nb ≤ 32).
func (w *blockWriter) put(v uint64, nb uint) {
	w.acc |= v << w.n
	w.n += nb
	if w.n >= 32 {
		w.out = binary.LittleEndian.AppendUint32(w.out, uint32(w.acc))
		w.acc >>= 32
		w.n -= 32
	}
}

// align pads with zero bits to a byte boundary and moves every pending bit
// into out.
func (w *blockWriter) align() {
	for w.n > 0 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.n -= min(w.n, 8)
	}
	w.acc = 0
}

// writeSyncMarker ends a message as RFC 7692 §7.2.1 requires: an empty
// stored block (BFINAL 0, BTYPE 00) brings the stream to a byte boundary.
// Its LEN and NLEN, the bytes 00 00 ff ff, are the four octets the sender
// removes, so they are never written.
func (w *blockWriter) writeSyncMarker() {
	w.put(0, 3)
	w.align()
}

// writeBlock encodes tokens, which stand for the input bytes raw, as one or
// more non-final blocks.
func (w *blockWriter) writeBlock(tokens []uint32, raw []byte) {
	clear(w.litFreq[:])
	clear(w.distFreq[:])
	var extraBits int // extra bits of lengths and distances: the same in both Huffman encodings
	for _, t := range tokens {
		if t&matchToken == 0 {
			w.litFreq[t]++
			continue
		}
		lc := lengthCode[(t>>16)&0xff]
		dc := distCode(t & 0x7fff)
		w.litFreq[257+int(lc)]++
		w.distFreq[dc]++
		extraBits += int(lengthExtra[lc]) + int(distExtra[dc])
	}
	w.litFreq[endOfBlock] = 1

	// Fixed code cost.
	fixedBits := 3 + extraBits
	for s, f := range w.litFreq {
		fixedBits += int(f) * int(fixedLitLen.length[s])
	}
	for _, f := range w.distFreq {
		fixedBits += int(f) * 5
	}

	// Dynamic code cost: header plus data.
	w.builder.build(&w.lit, w.litFreq[:], maxLitLenBits)
	w.builder.build(&w.dist, w.distFreq[:], maxLitLenBits)
	numLit, numDist, numCL, headerBits := w.prepareDynamicHeader()
	dynBits := headerBits + extraBits
	for s, f := range w.litFreq {
		dynBits += int(f) * int(w.lit.length[s])
	}
	for s, f := range w.distFreq {
		dynBits += int(f) * int(w.dist.length[s])
	}

	// Stored cost: per block of up to 65535 bytes a 3-bit header, up to 7
	// bits of padding and LEN/NLEN.
	storedBits := 8 * len(raw)
	for n := len(raw); ; n -= 65535 {
		storedBits += 3 + 7 + 32
		if n <= 65535 {
			break
		}
	}

	switch {
	case storedBits <= fixedBits && storedBits <= dynBits:
		w.writeStored(raw)
	case fixedBits <= dynBits:
		w.put(1<<1, 3) // BFINAL 0, BTYPE 01
		w.writeTokens(tokens, &fixedLitLen, &fixedDist)
	default:
		w.put(2<<1, 3) // BFINAL 0, BTYPE 10
		w.writeDynamicHeader(numLit, numDist, numCL)
		w.writeTokens(tokens, &w.lit, &w.dist)
	}
}

// writeStored writes raw as stored blocks (RFC 1951 §3.2.4).
func (w *blockWriter) writeStored(raw []byte) {
	for {
		n := min(len(raw), 65535)
		w.put(0, 3)
		w.align()
		w.out = binary.LittleEndian.AppendUint16(w.out, uint16(n))
		w.out = binary.LittleEndian.AppendUint16(w.out, ^uint16(n))
		w.out = append(w.out, raw[:n]...)
		raw = raw[n:]
		if len(raw) == 0 {
			return
		}
	}
}

// writeTokens writes the tokens and the end of block with the given codes.
func (w *blockWriter) writeTokens(tokens []uint32, lit, dist *huffmanCode) {
	for _, t := range tokens {
		if t&matchToken == 0 {
			w.put(uint64(lit.code[t]), uint(lit.length[t]))
			continue
		}
		l := (t >> 16) & 0xff
		lc := lengthCode[l]
		sym := 257 + int(lc)
		nl := uint(lit.length[sym])
		w.put(uint64(lit.code[sym])|uint64(l-uint32(lengthBase[lc]))<<nl, nl+uint(lengthExtra[lc]))
		d := t & 0x7fff
		dc := distCode(d)
		nd := uint(dist.length[dc])
		w.put(uint64(dist.code[dc])|uint64(d-uint32(distBase[dc]))<<nd, nd+uint(distExtra[dc]))
	}
	w.put(uint64(lit.code[endOfBlock]), uint(lit.length[endOfBlock]))
}

// prepareDynamicHeader run-length codes the literal/length and distance code
// lengths with the code length alphabet (RFC 1951 §3.2.7), builds that
// alphabet's code, and returns the counts the header declares and the
// header's size in bits (block type included).
func (w *blockWriter) prepareDynamicHeader() (numLit, numDist, numCL, headerBits int) {
	numLit = numLitLenSyms
	for numLit > 257 && w.lit.length[numLit-1] == 0 {
		numLit--
	}
	numDist = numDistSyms
	for numDist > 1 && w.dist.length[numDist-1] == 0 {
		numDist--
	}
	seq := w.lengths[:numLit+numDist]
	copy(seq, w.lit.length[:numLit])
	copy(seq[numLit:], w.dist.length[:numDist])

	// Tokens: symbol in the low 5 bits, the repeat's extra value above.
	clear(w.clFreq[:])
	toks := w.clTokens[:0]
	emit := func(sym, extra int) {
		w.clFreq[sym]++
		toks = append(toks, uint16(sym|extra<<5))
	}
	for i := 0; i < len(seq); {
		l := seq[i]
		run := 1
		for i+run < len(seq) && seq[i+run] == l {
			run++
		}
		i += run
		if l == 0 {
			for run >= 11 {
				r := min(run, 138)
				emit(18, r-11)
				run -= r
			}
			if run >= 3 {
				emit(17, run-3)
				run = 0
			}
		} else {
			emit(int(l), 0)
			run--
			for run >= 3 {
				r := min(run, 6)
				emit(16, r-3)
				run -= r
			}
		}
		for ; run > 0; run-- {
			emit(int(l), 0)
		}
	}
	n := len(toks)
	w.builder.build(&w.cl, w.clFreq[:], maxCodeLenBits)

	numCL = numCodeLenSyms
	for numCL > 4 && w.cl.length[codeLenOrder[numCL-1]] == 0 {
		numCL--
	}
	headerBits = 3 + 5 + 5 + 4 + 3*numCL
	for _, t := range w.clTokens[:n] {
		sym := t & 31
		headerBits += int(w.cl.length[sym])
		switch sym {
		case 16:
			headerBits += 2
		case 17:
			headerBits += 3
		case 18:
			headerBits += 7
		}
	}
	w.clCount = n
	return numLit, numDist, numCL, headerBits
}

// writeDynamicHeader writes the header prepareDynamicHeader computed.
func (w *blockWriter) writeDynamicHeader(numLit, numDist, numCL int) {
	n := w.clCount
	w.put(uint64(numLit-257), 5)
	w.put(uint64(numDist-1), 5)
	w.put(uint64(numCL-4), 4)
	for _, s := range codeLenOrder[:numCL] {
		w.put(uint64(w.cl.length[s]), 3)
	}
	for _, t := range w.clTokens[:n] {
		sym := t & 31
		extra := uint64(t >> 5)
		w.put(uint64(w.cl.code[sym]), uint(w.cl.length[sym]))
		switch sym {
		case 16:
			w.put(extra, 2)
		case 17:
			w.put(extra, 3)
		case 18:
			w.put(extra, 7)
		}
	}
}
