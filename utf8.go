package websocket

import (
	"encoding/binary"
	"math/bits"
)

// utf8Validator checks UTF-8 incrementally, chunk by chunk, as the fragments
// and reads of a text message arrive. It fails at the first byte that can
// never be part of valid UTF-8 (RFC 3629 §4: no overlongs, no surrogates,
// nothing above U+10FFFF) and carries only the state of an incomplete
// trailing sequence into the next chunk. The zero value is ready to use.
type utf8Validator struct {
	need   uint8 // continuation bytes still expected
	lo, hi uint8 // range of the next continuation byte
}

// feed validates p as the continuation of the bytes fed so far. It returns
// the index in p of the first byte that makes the text invalid, or -1 when
// p is valid so far (it may end inside a sequence; see done). After an
// invalid byte the state is meaningless until reset.
func (v *utf8Validator) feed(p []byte) int {
	i := 0
	if v.need > 0 {
		// Finish the sequence the previous chunk left open, so that the fast
		// paths below start on a sequence boundary.
		k := min(len(p), int(v.need))
		if bad := v.step(p[:k]); bad >= 0 {
			return bad
		}
		if v.need > 0 {
			return -1
		}
		i = k
	}
	i += utf8ValidPrefix(p[i:])
	// The fast paths stop at the first sequence they cannot vouch for: an
	// invalid one, or one cut by the end of p. The byte machine finds the
	// exact failing byte, or keeps the incomplete tail for the next chunk.
	if bad := v.step(p[i:]); bad >= 0 {
		return i + bad
	}
	return -1
}

// step is the byte-at-a-time form of feed: a small automaton over the
// RFC 3629 §4 syntax, used where a sequence is cut or invalid. It returns
// the index in p of the first invalid byte, or -1.
func (v *utf8Validator) step(p []byte) int {
	need, lo, hi := v.need, v.lo, v.hi
	for i, c := range p {
		if need > 0 {
			if c < lo || c > hi {
				return i
			}
			need--
			lo, hi = 0x80, 0xbf
			continue
		}
		if c < 0x80 {
			continue
		}
		// RFC 3629 §4: the second byte's range depends on the lead; the
		// narrowed ranges exclude overlongs (E0, F0), surrogates (ED) and
		// code points above U+10FFFF (F4).
		switch {
		case c >= 0xc2 && c <= 0xdf:
			need, lo, hi = 1, 0x80, 0xbf
		case c == 0xe0:
			need, lo, hi = 2, 0xa0, 0xbf
		case c == 0xed:
			need, lo, hi = 2, 0x80, 0x9f
		case c >= 0xe1 && c <= 0xef:
			need, lo, hi = 2, 0x80, 0xbf
		case c == 0xf0:
			need, lo, hi = 3, 0x90, 0xbf
		case c == 0xf4:
			need, lo, hi = 3, 0x80, 0x8f
		case c >= 0xf1 && c <= 0xf3:
			need, lo, hi = 3, 0x80, 0xbf
		default: // 80–C1 without a lead, F5–FF: never valid
			return i
		}
	}
	v.need, v.lo, v.hi = need, lo, hi
	return -1
}

// done reports whether the bytes fed so far end on a sequence boundary, as a
// whole text message must.
func (v *utf8Validator) done() bool { return v.need == 0 }

// reset prepares v for a new message.
func (v *utf8Validator) reset() { *v = utf8Validator{} }

// utf8HighBits has the top bit of every byte of a word set: a word of text
// ANDed with it is zero exactly when all eight bytes are ASCII.
const utf8HighBits = 0x8080808080808080

// utf8ValidPrefixGeneric returns the length of the longest prefix of p that
// consists of complete, valid UTF-8 sequences and that it can check with
// whole-word loads. It stops at a sequence that is invalid or that may run
// past the end of p, and only there or within the last three bytes of p;
// p must start on a sequence boundary.
func utf8ValidPrefixGeneric(p []byte) int {
	i := 0
next:
	for i <= len(p)-4 {
		w := binary.LittleEndian.Uint32(p[i:])
		if w&0x80 == 0 {
			// ASCII comes in runs: skip whole blocks, then words, and stop
			// at the first byte with its top bit set.
			for i <= len(p)-64 {
				q := p[i : i+64]
				a := binary.LittleEndian.Uint64(q[0:]) | binary.LittleEndian.Uint64(q[8:])
				b := binary.LittleEndian.Uint64(q[16:]) | binary.LittleEndian.Uint64(q[24:])
				c := binary.LittleEndian.Uint64(q[32:]) | binary.LittleEndian.Uint64(q[40:])
				d := binary.LittleEndian.Uint64(q[48:]) | binary.LittleEndian.Uint64(q[56:])
				if (a|b|c|d)&utf8HighBits != 0 {
					break
				}
				i += 64
			}
			for i <= len(p)-8 {
				if h := binary.LittleEndian.Uint64(p[i:]) & utf8HighBits; h != 0 {
					i += bits.TrailingZeros64(h) >> 3
					continue next
				}
				i += 8
			}
			if i <= len(p)-4 {
				if h := binary.LittleEndian.Uint32(p[i:]) & 0x80808080; h != 0 {
					i += bits.TrailingZeros32(h) >> 3
				} else {
					i += 4
				}
			}
			continue
		}
		// A multi-byte sequence, checked from the four bytes at i (byte 0
		// in the low bits of w): the fixed bits of the lead and of the
		// continuation bytes (RFC 3629 §3), then the value range.
		switch {
		case w&0xc0e0 == 0x80c0:
			// 110xxxxx 10xxxxxx; C0 and C1 would be overlong.
			if w&0x1e == 0 {
				return i
			}
			i += 2
		case w&0xc0c0f0 == 0x8080e0:
			// 1110xxxx 10xxxxxx 10xxxxxx. The lead's four bits and the
			// top value bit of the second byte tell E0 80–9F (overlong)
			// and ED A0–BF (surrogates) apart from the rest.
			if t := w & 0x200f; t == 0 || t == 0x200d {
				return i
			}
			i += 3
		case w&0xc0c0c0f8 == 0x808080f0:
			// 11110xxx 10xxxxxx 10xxxxxx 10xxxxxx. The top five value bits
			// (three from the lead, two from the second byte) must be 1–16:
			// 0 is overlong (F0 80–8F), above 16 is past U+10FFFF.
			if t := (w&7)<<2 | (w>>12)&3; t-1 >= 16 {
				return i
			}
			i += 4
		default:
			return i
		}
	}
	return i
}
