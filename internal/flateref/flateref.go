// Package flateref is a reference DEFLATE decoder (RFC 1951) for tests. It
// shares no code with compress/flate or with the library's inflater, and it
// reports what a compressed stream did that a general decoder would accept
// silently: the longest back-reference, and the kinds of block used. A test
// holds a compressor to a negotiated window (RFC 7692 §7.1.2) with it.
//
// It favours being easy to check over speed: Huffman codes are decoded a bit
// at a time.
package flateref

import (
	"errors"
	"fmt"
)

// Options select the checks Inflate makes beyond RFC 1951 itself. The zero
// value accepts every valid stream.
type Options struct {
	// Window, when positive, is the longest back-reference allowed: a peer
	// that agreed a window of 2^bits bytes keeps no more history than that
	// (RFC 7692 §7.1.2), so a distance past it fails even when hist and
	// the output hold the bytes.
	Window int
	// Limit, when positive, is the most bytes one call may produce.
	Limit int
	// CompleteCodes requires every Huffman code of a dynamic block to fill
	// its code space exactly: the strict form that zlib also decodes and
	// that the library's compressor promises.
	CompleteCodes bool
	// NoFinal fails on a block with BFINAL set: a message compressed as RFC
	// 7692 §7.2.1 asks ends in a sync flush, never in a final block.
	NoFinal bool
}

// Stats describes a decoded stream.
type Stats struct {
	// MaxDist is the longest back-reference met, 0 if none.
	MaxDist int
	// Blocks counts the blocks by type: stored, fixed, dynamic.
	Blocks [3]int
}

// ErrShort is returned when the input ends inside a block.
var ErrShort = errors.New("flateref: input ends inside a block")

// Inflate decodes in, a raw DEFLATE stream, and returns its output. hist is
// the output of earlier messages that back-references may reach into
// (context takeover); Inflate does not modify it. Decoding stops after a
// block with BFINAL set, or where the input ends on a block boundary with
// only padding bits left, as a sync-flushed message whose 00 00 ff ff tail
// was restored does (RFC 7692 §7.2.2).
func Inflate(in, hist []byte, o Options) ([]byte, Stats, error) {
	d := &decoder{
		r:     bitReader{in: in},
		opts:  o,
		buf:   append([]byte(nil), hist...),
		start: len(hist),
	}
	if err := d.run(); err != nil {
		return nil, d.stats, err
	}
	return d.buf[d.start:], d.stats, nil
}

// decoder holds the state of one Inflate call.
type decoder struct {
	r     bitReader
	opts  Options
	buf   []byte // history, then the output
	start int    // where the output begins in buf
	stats Stats
}

func (d *decoder) run() error {
	for !d.r.exhausted() {
		hdr, err := d.r.bits(3)
		if err != nil {
			return err
		}
		final, kind := hdr&1 == 1, hdr>>1
		if final && d.opts.NoFinal {
			return errors.New("flateref: block with BFINAL set")
		}
		switch kind {
		case 0:
			err = d.stored()
		case 1:
			err = d.codes(fixedLit, fixedDist)
		case 2:
			var lit, dist *huffman
			if lit, dist, err = d.dynamicTables(); err == nil {
				err = d.codes(lit, dist)
			}
		default:
			err = errors.New("flateref: reserved block type 3")
		}
		if err != nil {
			return err
		}
		d.stats.Blocks[kind]++
		if final {
			return nil
		}
	}
	return nil
}

// bitReader reads DEFLATE's bit stream, least significant bit first
// (RFC 1951 §3.1.1).
type bitReader struct {
	in   []byte
	pos  int    // next byte of in to load
	acc  uint32 // loaded bits not yet consumed, the next one lowest
	nacc uint   // how many bits acc holds
}

// exhausted reports whether only the padding bits of the last byte are
// left.
func (r *bitReader) exhausted() bool { return r.pos == len(r.in) && r.nacc < 8 }

func (r *bitReader) bits(n uint) (int, error) {
	for r.nacc < n {
		if r.pos == len(r.in) {
			return 0, ErrShort
		}
		r.acc |= uint32(r.in[r.pos]) << r.nacc
		r.pos++
		r.nacc += 8
	}
	v := int(r.acc & (1<<n - 1))
	r.acc >>= n
	r.nacc -= n
	return v, nil
}

// alignToByte drops the bits left in the current byte (RFC 1951 §3.2.4).
func (r *bitReader) alignToByte() {
	drop := r.nacc % 8
	r.acc >>= drop
	r.nacc -= drop
}

// stored copies a stored block: LEN, NLEN, then LEN literal bytes
// (RFC 1951 §3.2.4).
func (d *decoder) stored() error {
	d.r.alignToByte()
	n, err := d.r.bits(16)
	if err != nil {
		return err
	}
	nn, err := d.r.bits(16)
	if err != nil {
		return err
	}
	if n != ^nn&0xffff {
		return errors.New("flateref: stored block LEN and NLEN disagree")
	}
	for range n {
		c, err := d.r.bits(8)
		if err != nil {
			return err
		}
		if err := d.emit(byte(c)); err != nil {
			return err
		}
	}
	return nil
}

// emit appends one output byte, within the limit.
func (d *decoder) emit(c byte) error {
	if d.opts.Limit > 0 && len(d.buf)-d.start >= d.opts.Limit {
		return fmt.Errorf("flateref: output past the limit of %d bytes", d.opts.Limit)
	}
	d.buf = append(d.buf, c)
	return nil
}

// huffman is a canonical Huffman code (RFC 1951 §3.2.2): how many codes
// have each length, and the symbols in code order.
type huffman struct {
	count  [16]int
	symbol []int
}

func newHuffman(lengths []int) (*huffman, error) {
	h := &huffman{symbol: make([]int, 0, len(lengths))}
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	left := 1
	for l := 1; l < 16; l++ {
		left = left*2 - h.count[l]
		if left < 0 {
			return nil, errors.New("flateref: over-subscribed code lengths")
		}
	}
	// Code order is by length, then by symbol.
	for l := 1; l < 16; l++ {
		for s, sl := range lengths {
			if sl == l {
				h.symbol = append(h.symbol, s)
			}
		}
	}
	return h, nil
}

// decode reads one symbol. The codes of one length are consecutive
// integers that start where the codes one bit shorter end, doubled, so
// each further bit either lands in this length's range or moves past it.
func (h *huffman) decode(r *bitReader) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		b, err := r.bits(1)
		if err != nil {
			return 0, err
		}
		code |= b
		n := h.count[l]
		if code-first < n {
			return h.symbol[index+code-first], nil
		}
		index += n
		first = (first + n) << 1
		code <<= 1
	}
	return 0, errors.New("flateref: invalid code")
}

// checkComplete reports a code whose lengths do not fill the code space
// exactly.
func checkComplete(lengths []int) error {
	sum := 0
	for _, l := range lengths {
		if l > 0 {
			sum += 1 << (15 - l)
		}
	}
	if sum != 1<<15 {
		return fmt.Errorf("flateref: incomplete or over-subscribed code (%d/%d)", sum, 1<<15)
	}
	return nil
}

// Base values and extra bits of lengths and distances (RFC 1951 §3.2.5).
var (
	lenBase   = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lenExtra  = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase  = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

// fixedLit and fixedDist are the fixed codes of RFC 1951 §3.2.6.
var fixedLit, fixedDist = func() (*huffman, *huffman) {
	lit := make([]int, 288)
	for s := range lit {
		switch {
		case s < 144:
			lit[s] = 8
		case s < 256:
			lit[s] = 9
		case s < 280:
			lit[s] = 7
		default:
			lit[s] = 8
		}
	}
	dist := make([]int, 30)
	for s := range dist {
		dist[s] = 5
	}
	lh, _ := newHuffman(lit)
	dh, _ := newHuffman(dist)
	return lh, dh
}()

// codeLengthOrder is the order in which a dynamic block lists the lengths
// of the code length code (RFC 1951 §3.2.7).
var codeLengthOrder = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamicTables reads the code definitions of a dynamic block
// (RFC 1951 §3.2.7).
func (d *decoder) dynamicTables() (lit, dist *huffman, err error) {
	r := &d.r
	hlit, err1 := r.bits(5)
	hdist, err2 := r.bits(5)
	hclen, err3 := r.bits(4)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, nil, err
	}
	nlit, ndist := hlit+257, hdist+1
	if nlit > 286 || ndist > 30 {
		return nil, nil, errors.New("flateref: more codes than symbols")
	}
	cl := make([]int, 19)
	for _, s := range codeLengthOrder[:hclen+4] {
		if cl[s], err = r.bits(3); err != nil {
			return nil, nil, err
		}
	}
	clh, err := newHuffman(cl)
	if err != nil {
		return nil, nil, err
	}
	lengths := make([]int, 0, nlit+ndist)
	for len(lengths) < nlit+ndist {
		s, err := clh.decode(r)
		if err != nil {
			return nil, nil, err
		}
		rep, val := 1, s
		switch s {
		case 16: // copy the previous length 3-6 times
			if len(lengths) == 0 {
				return nil, nil, errors.New("flateref: repeat with no previous length")
			}
			val = lengths[len(lengths)-1]
			x, err := r.bits(2)
			if err != nil {
				return nil, nil, err
			}
			rep = 3 + x
		case 17: // 3-10 zeros
			x, err := r.bits(3)
			if err != nil {
				return nil, nil, err
			}
			rep, val = 3+x, 0
		case 18: // 11-138 zeros
			x, err := r.bits(7)
			if err != nil {
				return nil, nil, err
			}
			rep, val = 11+x, 0
		}
		if len(lengths)+rep > nlit+ndist {
			return nil, nil, errors.New("flateref: code lengths overrun")
		}
		for range rep {
			lengths = append(lengths, val)
		}
	}
	if lengths[256] == 0 {
		return nil, nil, errors.New("flateref: no end-of-block code")
	}
	if d.opts.CompleteCodes {
		for _, c := range []struct {
			name    string
			lengths []int
		}{{"code length", cl}, {"literal/length", lengths[:nlit]}, {"distance", lengths[nlit:]}} {
			if err := checkComplete(c.lengths); err != nil {
				return nil, nil, fmt.Errorf("%s code: %w", c.name, err)
			}
		}
	}
	if lit, err = newHuffman(lengths[:nlit]); err != nil {
		return nil, nil, err
	}
	if dist, err = newHuffman(lengths[nlit:]); err != nil {
		return nil, nil, err
	}
	return lit, dist, nil
}

// codes decodes the literals and length/distance pairs of a compressed
// block up to its end-of-block symbol (RFC 1951 §3.2.5).
func (d *decoder) codes(lit, dist *huffman) error {
	r := &d.r
	for {
		s, err := lit.decode(r)
		if err != nil {
			return err
		}
		switch {
		case s < 256:
			if err := d.emit(byte(s)); err != nil {
				return err
			}
			continue
		case s == 256:
			return nil
		case s > 285:
			return errors.New("flateref: invalid length symbol")
		}
		x, err := r.bits(lenExtra[s-257])
		if err != nil {
			return err
		}
		length := lenBase[s-257] + x
		ds, err := dist.decode(r)
		if err != nil {
			return err
		}
		if ds > 29 {
			return errors.New("flateref: invalid distance symbol")
		}
		if x, err = r.bits(distExtra[ds]); err != nil {
			return err
		}
		dst := distBase[ds] + x
		if dst > len(d.buf) {
			return fmt.Errorf("flateref: distance %d reaches before the %d bytes held", dst, len(d.buf))
		}
		if d.opts.Window > 0 && dst > d.opts.Window {
			return fmt.Errorf("flateref: distance %d beyond the %d-byte window", dst, d.opts.Window)
		}
		d.stats.MaxDist = max(d.stats.MaxDist, dst)
		for range length {
			if err := d.emit(d.buf[len(d.buf)-dst]); err != nil {
				return err
			}
		}
	}
}
