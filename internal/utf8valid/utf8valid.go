// Package utf8valid finds how much of a text is valid UTF-8 (RFC 3629) at
// the speed of whole words, and of SIMD blocks on amd64, stopping where a
// byte-at-a-time automaton must take over: at an invalid sequence or one
// cut by the end of the input. The WebSocket validator (utf8.go at the
// module's root) runs it on every chunk of a text message; it keeps the
// automaton and the state carried between chunks.
package utf8valid

import (
	"encoding/binary"
	"math/bits"
)

// highBits has the top bit of every byte of a word set: a word of text
// ANDed with it is zero exactly when all eight bytes are ASCII.
const highBits = 0x8080808080808080

// prefixGeneric returns the length of the longest prefix of p that
// consists of complete, valid UTF-8 sequences and that it can check with
// whole-word loads. It stops at a sequence that is invalid or that may run
// past the end of p, and only there or within the last three bytes of p;
// p must start on a sequence boundary.
func prefixGeneric(p []byte) int {
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
				if (a|b|c|d)&highBits != 0 {
					break
				}
				i += 64
			}
			for i <= len(p)-8 {
				if h := binary.LittleEndian.Uint64(p[i:]) & highBits; h != 0 {
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
