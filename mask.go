package websocket

import (
	"encoding/binary"
	"math/bits"
)

// maskBytes (mask_amd64.go, mask_other.go) XORs b in place with the masking
// key stream of RFC 6455 §5.3, starting at position pos (0–3) of the key, and
// returns the position after b. key is the four key bytes loaded
// little-endian. Feeding a payload in pieces, each call taking the position
// the previous one returned, gives the same bytes as masking it at once.

// maskGeneric is the pure-Go maskBytes: 64-bit words, eight per iteration,
// with the key rotated once for the start position so that no byte-at-a-time
// head is needed. Its speed is bounded by two 8-byte stores per cycle.
func maskGeneric(key uint32, pos int, b []byte) int {
	pos &= 3
	next := (pos + len(b)) & 3
	// RFC 6455 §5.3: byte i takes key byte (pos+i) mod 4. Rotating the key
	// right by pos bytes makes every word below start at key position 0.
	k32 := bits.RotateLeft32(key, -8*pos)
	if len(b) >= 8 {
		k := uint64(k32) | uint64(k32)<<32
		for len(b) >= 64 {
			binary.LittleEndian.PutUint64(b[0:8], binary.LittleEndian.Uint64(b[0:8])^k)
			binary.LittleEndian.PutUint64(b[8:16], binary.LittleEndian.Uint64(b[8:16])^k)
			binary.LittleEndian.PutUint64(b[16:24], binary.LittleEndian.Uint64(b[16:24])^k)
			binary.LittleEndian.PutUint64(b[24:32], binary.LittleEndian.Uint64(b[24:32])^k)
			binary.LittleEndian.PutUint64(b[32:40], binary.LittleEndian.Uint64(b[32:40])^k)
			binary.LittleEndian.PutUint64(b[40:48], binary.LittleEndian.Uint64(b[40:48])^k)
			binary.LittleEndian.PutUint64(b[48:56], binary.LittleEndian.Uint64(b[48:56])^k)
			binary.LittleEndian.PutUint64(b[56:64], binary.LittleEndian.Uint64(b[56:64])^k)
			b = b[64:]
		}
		if len(b) >= 32 {
			binary.LittleEndian.PutUint64(b[0:8], binary.LittleEndian.Uint64(b[0:8])^k)
			binary.LittleEndian.PutUint64(b[8:16], binary.LittleEndian.Uint64(b[8:16])^k)
			binary.LittleEndian.PutUint64(b[16:24], binary.LittleEndian.Uint64(b[16:24])^k)
			binary.LittleEndian.PutUint64(b[24:32], binary.LittleEndian.Uint64(b[24:32])^k)
			b = b[32:]
		}
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b[0:8], binary.LittleEndian.Uint64(b[0:8])^k)
			b = b[8:]
		}
	}
	if len(b) >= 4 {
		binary.LittleEndian.PutUint32(b[0:4], binary.LittleEndian.Uint32(b[0:4])^k32)
		b = b[4:]
	}
	// At most 3 bytes remain, at key positions 0, 1, 2 of the rotated key.
	for i := range b {
		b[i] ^= byte(k32 >> (8 * (i & 3)))
	}
	return next
}

// maskCopy (mask_amd64.go, mask_other.go) writes src XORed with the masking
// key stream of RFC 6455 §5.3 into dst, starting at key position pos (0–3),
// and returns the position after src. dst must hold len(src) bytes and must
// not overlap src. It is copy followed by maskBytes in one pass: a client
// may not mask the caller's slice in place, so every masked byte it sends is
// copied once, and reading and writing memory once instead of twice is what
// the fused loop saves.

// maskCopyGeneric is the pure-Go maskCopy: 64-bit words, four per
// iteration, with the key rotated once for the start position, as
// maskGeneric does.
func maskCopyGeneric(key uint32, pos int, dst, src []byte) int {
	pos &= 3
	next := (pos + len(src)) & 3
	dst = dst[:len(src)]
	// RFC 6455 §5.3: byte i takes key byte (pos+i) mod 4; the rotated key
	// starts every word below at key position 0.
	k32 := bits.RotateLeft32(key, -8*pos)
	if len(src) >= 8 {
		k := uint64(k32) | uint64(k32)<<32
		for len(src) >= 32 {
			d, s := dst[:32], src[:32]
			binary.LittleEndian.PutUint64(d[0:8], binary.LittleEndian.Uint64(s[0:8])^k)
			binary.LittleEndian.PutUint64(d[8:16], binary.LittleEndian.Uint64(s[8:16])^k)
			binary.LittleEndian.PutUint64(d[16:24], binary.LittleEndian.Uint64(s[16:24])^k)
			binary.LittleEndian.PutUint64(d[24:32], binary.LittleEndian.Uint64(s[24:32])^k)
			dst, src = dst[32:], src[32:]
		}
		for len(src) >= 8 {
			binary.LittleEndian.PutUint64(dst[0:8], binary.LittleEndian.Uint64(src[0:8])^k)
			dst, src = dst[8:], src[8:]
		}
	}
	if len(src) >= 4 {
		binary.LittleEndian.PutUint32(dst[0:4], binary.LittleEndian.Uint32(src[0:4])^k32)
		dst, src = dst[4:], src[4:]
	}
	// At most 3 bytes remain, at key positions 0, 1, 2 of the rotated key.
	for i := range src {
		dst[i] = src[i] ^ byte(k32>>(8*(i&3)))
	}
	return next
}
