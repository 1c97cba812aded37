package websocket

import (
	"errors"
	"fmt"
)

// windowInflater is a test-only DEFLATE decoder whose history is a ring of
// exactly 2^bits bytes, as a peer that negotiated that window would keep.
// A back-reference further than the bytes it holds is an error, never a
// silent read of stale memory: it checks that our compressor honours the
// negotiated window. It decodes one message at a time, appending the four
// octets RFC 7692 §7.2.2 restores, and keeps the ring between messages
// only with context takeover. It is deliberately simple (bit by bit
// canonical decoding), independent of compress/flate.
type windowInflater struct {
	ring     []byte
	held     int // valid bytes in the ring: min(total, len(ring))
	at       int // next write index
	takeover bool

	maxDist int // largest distance seen
	blocks  [3]int
}

func newWindowInflater(bits int, takeover bool) *windowInflater {
	return &windowInflater{ring: make([]byte, 1<<bits), takeover: takeover}
}

type refBits struct {
	in   []byte
	pos  int
	acc  uint32
	nacc uint
}

var errRefEOF = errors.New("ref: input ends inside a block")

func (r *refBits) need(n uint) error {
	for r.nacc < n {
		if r.pos >= len(r.in) {
			return errRefEOF
		}
		r.acc |= uint32(r.in[r.pos]) << r.nacc
		r.pos++
		r.nacc += 8
	}
	return nil
}

func (r *refBits) bits(n uint) (int, error) {
	if err := r.need(n); err != nil {
		return 0, err
	}
	v := int(r.acc & (1<<n - 1))
	r.acc >>= n
	r.nacc -= n
	return v, nil
}

// refHuffman is a canonical code as counts per length and symbols in
// canonical order.
type refHuffman struct {
	count  [16]int
	symbol []int
}

func newRefHuffman(lengths []int) (*refHuffman, error) {
	h := &refHuffman{symbol: make([]int, 0, len(lengths))}
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	left := 1
	for l := 1; l < 16; l++ {
		left = left*2 - h.count[l]
		if left < 0 {
			return nil, errors.New("ref: oversubscribed code")
		}
	}
	for l := 1; l < 16; l++ {
		for s, sl := range lengths {
			if sl == l {
				h.symbol = append(h.symbol, s)
			}
		}
	}
	return h, nil
}

// decode reads one symbol: codes of each length are consecutive integers
// that start where the shorter lengths' codes end, doubled.
func (h *refHuffman) decode(r *refBits) (int, error) {
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
	return 0, errors.New("ref: invalid code")
}

var (
	refLenBase  = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	refLenExtra = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	refDstBase  = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	refDstExtra = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	refCLOrder  = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

func (d *windowInflater) put(out []byte, c byte) []byte {
	d.ring[d.at] = c
	d.at = (d.at + 1) & (len(d.ring) - 1)
	if d.held < len(d.ring) {
		d.held++
	}
	return append(out, c)
}

// skip records msg as decoded without decoding it, so that later messages
// that refer back to it can still be checked.
func (d *windowInflater) skip(msg []byte) {
	if !d.takeover {
		return
	}
	for _, c := range msg[max(0, len(msg)-len(d.ring)):] {
		d.put(nil, c)
	}
}

// message decodes one compressed message payload.
func (d *windowInflater) message(payload []byte) ([]byte, error) {
	if !d.takeover {
		d.held, d.at = 0, 0
	}
	r := &refBits{in: append(append([]byte(nil), payload...), 0, 0, 0xff, 0xff)}
	var out []byte
	for {
		// The stream ends on a block boundary with no input left.
		if r.pos == len(r.in) && r.nacc < 8 {
			return out, nil
		}
		hdr, err := r.bits(3)
		if err != nil {
			return nil, err
		}
		if hdr&1 != 0 {
			return nil, errors.New("ref: BFINAL set")
		}
		switch hdr >> 1 {
		case 0:
			d.blocks[0]++
			r.acc, r.nacc = r.acc>>(r.nacc%8), r.nacc-r.nacc%8
			v, err := r.bits(16)
			if err != nil {
				return nil, err
			}
			nv, err := r.bits(16)
			if err != nil {
				return nil, err
			}
			if v != ^nv&0xffff {
				return nil, errors.New("ref: stored LEN/NLEN mismatch")
			}
			for ; v > 0; v-- {
				c, err := r.bits(8)
				if err != nil {
					return nil, err
				}
				out = d.put(out, byte(c))
			}
		case 1:
			d.blocks[1]++
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
			lh, _ := newRefHuffman(lit)
			dh, _ := newRefHuffman(dist)
			if out, err = d.codes(r, out, lh, dh); err != nil {
				return nil, err
			}
		case 2:
			d.blocks[2]++
			lh, dh, err := refDynamic(r)
			if err != nil {
				return nil, err
			}
			if out, err = d.codes(r, out, lh, dh); err != nil {
				return nil, err
			}
		default:
			return nil, errors.New("ref: reserved block type")
		}
	}
}

func refDynamic(r *refBits) (*refHuffman, *refHuffman, error) {
	hlit, err := r.bits(5)
	if err != nil {
		return nil, nil, err
	}
	hdist, err := r.bits(5)
	if err != nil {
		return nil, nil, err
	}
	hclen, err := r.bits(4)
	if err != nil {
		return nil, nil, err
	}
	nlit, ndist := hlit+257, hdist+1
	cl := make([]int, 19)
	for i := 0; i < hclen+4; i++ {
		if cl[refCLOrder[i]], err = r.bits(3); err != nil {
			return nil, nil, err
		}
	}
	ch, err := newRefHuffman(cl)
	if err != nil {
		return nil, nil, err
	}
	lengths := make([]int, 0, nlit+ndist)
	for len(lengths) < nlit+ndist {
		s, err := ch.decode(r)
		if err != nil {
			return nil, nil, err
		}
		rep, val := 1, s
		switch s {
		case 16:
			if len(lengths) == 0 {
				return nil, nil, errors.New("ref: repeat with no previous length")
			}
			val = lengths[len(lengths)-1]
			x, err := r.bits(2)
			if err != nil {
				return nil, nil, err
			}
			rep = 3 + x
		case 17:
			x, err := r.bits(3)
			if err != nil {
				return nil, nil, err
			}
			rep, val = 3+x, 0
		case 18:
			x, err := r.bits(7)
			if err != nil {
				return nil, nil, err
			}
			rep, val = 11+x, 0
		}
		for ; rep > 0; rep-- {
			lengths = append(lengths, val)
		}
	}
	if len(lengths) != nlit+ndist {
		return nil, nil, errors.New("ref: code lengths overrun")
	}
	if err := refComplete(lengths[:nlit]); err != nil {
		return nil, nil, fmt.Errorf("literal/length code: %w", err)
	}
	if err := refComplete(lengths[nlit:]); err != nil {
		return nil, nil, fmt.Errorf("distance code: %w", err)
	}
	if err := refComplete(cl); err != nil {
		return nil, nil, fmt.Errorf("code length code: %w", err)
	}
	lh, err := newRefHuffman(lengths[:nlit])
	if err != nil {
		return nil, nil, err
	}
	dh, err := newRefHuffman(lengths[nlit:])
	if err != nil {
		return nil, nil, err
	}
	return lh, dh, nil
}

// refComplete checks that a code fills its code space exactly, the strict
// form that zlib's inflate also accepts; our compressor promises it.
func refComplete(lengths []int) error {
	sum := 0
	for _, l := range lengths {
		if l > 0 {
			sum += 1 << (15 - l)
		}
	}
	if sum != 1<<15 {
		return fmt.Errorf("ref: incomplete or oversubscribed code (%d/%d)", sum, 1<<15)
	}
	return nil
}

func (d *windowInflater) codes(r *refBits, out []byte, lh, dh *refHuffman) ([]byte, error) {
	for {
		s, err := lh.decode(r)
		if err != nil {
			return nil, err
		}
		switch {
		case s < 256:
			out = d.put(out, byte(s))
			continue
		case s == 256:
			return out, nil
		case s > 285:
			return nil, errors.New("ref: invalid length symbol")
		}
		li := s - 257
		x, err := r.bits(refLenExtra[li])
		if err != nil {
			return nil, err
		}
		length := refLenBase[li] + x
		ds, err := dh.decode(r)
		if err != nil {
			return nil, err
		}
		if ds >= 30 {
			return nil, errors.New("ref: invalid distance symbol")
		}
		x, err = r.bits(refDstExtra[ds])
		if err != nil {
			return nil, err
		}
		dist := refDstBase[ds] + x
		if dist > d.held {
			return nil, fmt.Errorf("ref: distance %d beyond the %d bytes of a %d-byte window", dist, d.held, len(d.ring))
		}
		d.maxDist = max(d.maxDist, dist)
		for ; length > 0; length-- {
			out = d.put(out, d.ring[(d.at-dist)&(len(d.ring)-1)])
		}
	}
}
