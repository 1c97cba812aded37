package websocket

import "github.com/rfc6455/websocket/internal/utf8valid"

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
	i += utf8valid.Prefix(p[i:])
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
