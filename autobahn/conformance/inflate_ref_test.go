package conformance

import (
	"errors"
	"fmt"
)

// inflateRef is the peer's own DEFLATE decoder (RFC 1951). Unlike
// compress/flate it reports the longest back-reference distance it met, so
// that the peer can hold our side to the window it agreed (RFC 7692
// §7.1.2): a distance past 2^max_window_bits is a violation that a 32 KiB
// decoder would silently accept.
//
// hist is the output of earlier messages that the stream may refer to
// (context takeover); without it, a reference before the start of the
// message fails. Decoding stops after a block with BFINAL set or when the
// input ends on a block boundary, as a sync-flushed message with its
// 00 00 ff ff tail restored does (RFC 7692 §7.2.2).
func inflateRef(in, hist []byte, limit int) (out []byte, maxDist int, err error) {
	r := &bitReader{b: in}
	buf := append([]byte(nil), hist...)
	start := len(buf)
	for {
		if r.exhausted() {
			break
		}
		final, err := r.bits(1)
		if err != nil {
			return nil, 0, err
		}
		kind, err := r.bits(2)
		if err != nil {
			return nil, 0, err
		}
		switch kind {
		case 0:
			buf, err = r.stored(buf)
		case 1:
			buf, maxDist, err = r.codes(buf, start, limit, maxDist, fixedLit, fixedDist)
		case 2:
			var lit, dist *huffman
			if lit, dist, err = r.dynamicTables(); err == nil {
				buf, maxDist, err = r.codes(buf, start, limit, maxDist, lit, dist)
			}
		default:
			err = errors.New("deflate: block type 3")
		}
		if err != nil {
			return nil, 0, err
		}
		if len(buf)-start > limit {
			return nil, 0, fmt.Errorf("deflate: inflates past %d bytes", limit)
		}
		if final == 1 {
			break
		}
	}
	return buf[start:], maxDist, nil
}

// bitReader reads DEFLATE's bit stream: least significant bit first.
type bitReader struct {
	b   []byte
	pos int // in bits
}

var errShort = errors.New("deflate: stream ends inside a block")

// exhausted reports whether only padding bits of the last byte are left.
func (r *bitReader) exhausted() bool { return (r.pos+7)/8 >= len(r.b) }

func (r *bitReader) bits(n int) (int, error) {
	v := 0
	for i := range n {
		if r.pos/8 >= len(r.b) {
			return 0, errShort
		}
		v |= int(r.b[r.pos/8]>>(r.pos%8)&1) << i
		r.pos++
	}
	return v, nil
}

// stored copies a stored block (RFC 1951 §3.2.4).
func (r *bitReader) stored(buf []byte) ([]byte, error) {
	r.pos = (r.pos + 7) &^ 7
	p := r.pos / 8
	if p+4 > len(r.b) {
		return nil, errShort
	}
	n := int(r.b[p]) | int(r.b[p+1])<<8
	if n^0xffff != int(r.b[p+2])|int(r.b[p+3])<<8 {
		return nil, errors.New("deflate: stored block length and its complement disagree")
	}
	p += 4
	if p+n > len(r.b) {
		return nil, errShort
	}
	r.pos = (p + n) * 8
	return append(buf, r.b[p:p+n]...), nil
}

// huffman is a canonical Huffman code: how many codes of each length, and
// the symbols in code order.
type huffman struct {
	counts  [16]int
	symbols []int
}

func newHuffman(lengths []int) (*huffman, error) {
	h := &huffman{}
	for _, l := range lengths {
		h.counts[l]++
	}
	left := 1
	for l := 1; l < 16; l++ {
		left = left<<1 - h.counts[l]
		if left < 0 {
			return nil, errors.New("deflate: over-subscribed code lengths")
		}
	}
	var offs [16]int
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.counts[l]
	}
	h.symbols = make([]int, len(lengths))
	for sym, l := range lengths {
		if l != 0 {
			h.symbols[offs[l]] = sym
			offs[l]++
		}
	}
	return h, nil
}

// decode reads one symbol, a bit at a time from the code's first bit.
func (h *huffman) decode(r *bitReader) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := r.bits(1)
		if err != nil {
			return 0, err
		}
		code |= b
		count := h.counts[l]
		if code-first < count {
			return h.symbols[index+code-first], nil
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, errors.New("deflate: invalid code")
}

// Lengths and distances of RFC 1951 §3.2.5.
var (
	lenBase   = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra  = [29]int{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase  = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]int{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// The fixed codes of RFC 1951 §3.2.6.
var fixedLit, fixedDist = func() (*huffman, *huffman) {
	l := make([]int, 288)
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	d := make([]int, 30)
	for i := range d {
		d[i] = 5
	}
	lit, _ := newHuffman(l)
	dist, _ := newHuffman(d)
	return lit, dist
}()

// codeOrder is the order of the code length code lengths (RFC 1951 §3.2.7).
var codeOrder = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamicTables reads the code definitions of a dynamic block.
func (r *bitReader) dynamicTables() (*huffman, *huffman, error) {
	hlit, err1 := r.bits(5)
	hdist, err2 := r.bits(5)
	hclen, err3 := r.bits(4)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, nil, err
	}
	nlit, ndist := hlit+257, hdist+1
	if nlit > 286 || ndist > 30 {
		return nil, nil, errors.New("deflate: too many codes")
	}
	clens := make([]int, 19)
	for i := range hclen + 4 {
		if clens[codeOrder[i]], err1 = r.bits(3); err1 != nil {
			return nil, nil, err1
		}
	}
	lencode, err := newHuffman(clens)
	if err != nil {
		return nil, nil, err
	}
	lengths := make([]int, 0, nlit+ndist)
	for len(lengths) < nlit+ndist {
		sym, err := lencode.decode(r)
		if err != nil {
			return nil, nil, err
		}
		rep, val := 1, sym
		switch sym {
		case 16:
			if len(lengths) == 0 {
				return nil, nil, errors.New("deflate: repeat with no previous length")
			}
			val = lengths[len(lengths)-1]
			n, err := r.bits(2)
			if err != nil {
				return nil, nil, err
			}
			rep = 3 + n
		case 17:
			n, err := r.bits(3)
			if err != nil {
				return nil, nil, err
			}
			rep, val = 3+n, 0
		case 18:
			n, err := r.bits(7)
			if err != nil {
				return nil, nil, err
			}
			rep, val = 11+n, 0
		}
		if len(lengths)+rep > nlit+ndist {
			return nil, nil, errors.New("deflate: code lengths overrun")
		}
		for range rep {
			lengths = append(lengths, val)
		}
	}
	if lengths[256] == 0 {
		return nil, nil, errors.New("deflate: no end-of-block code")
	}
	lit, err := newHuffman(lengths[:nlit])
	if err != nil {
		return nil, nil, err
	}
	dist, err := newHuffman(lengths[nlit:])
	if err != nil {
		return nil, nil, err
	}
	return lit, dist, nil
}

// codes decodes a compressed block into buf, whose bytes before start are
// the history, and tracks the longest distance.
func (r *bitReader) codes(buf []byte, start, limit, maxDist int, lit, dist *huffman) ([]byte, int, error) {
	for {
		sym, err := lit.decode(r)
		if err != nil {
			return nil, 0, err
		}
		switch {
		case sym < 256:
			buf = append(buf, byte(sym))
		case sym == 256:
			return buf, maxDist, nil
		case sym > 285:
			return nil, 0, errors.New("deflate: invalid length symbol")
		default:
			sym -= 257
			extra, err := r.bits(lenExtra[sym])
			if err != nil {
				return nil, 0, err
			}
			n := lenBase[sym] + extra
			dsym, err := dist.decode(r)
			if err != nil {
				return nil, 0, err
			}
			if dsym > 29 {
				return nil, 0, errors.New("deflate: invalid distance symbol")
			}
			if extra, err = r.bits(distExtra[dsym]); err != nil {
				return nil, 0, err
			}
			d := distBase[dsym] + extra
			if d > len(buf) {
				return nil, 0, fmt.Errorf("deflate: distance %d reaches before the %d bytes available", d, len(buf))
			}
			maxDist = max(maxDist, d)
			for range n {
				buf = append(buf, buf[len(buf)-d])
			}
		}
		if len(buf)-start > limit {
			return nil, 0, fmt.Errorf("deflate: inflates past %d bytes", limit)
		}
	}
}
