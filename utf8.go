package websocket

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
// p is valid so far (it may end inside a sequence; see done).
func (v *utf8Validator) feed(p []byte) int {
	need, lo, hi := v.need, v.lo, v.hi
	for i := 0; i < len(p); i++ {
		c := p[i]
		if need > 0 {
			if c < lo || c > hi {
				v.need = need
				return i
			}
			need--
			lo, hi = 0x80, 0xbf
			continue
		}
		if c < 0x80 {
			continue
		}
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
		default:
			v.need = 0
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
