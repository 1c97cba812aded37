package websocket

import (
	"encoding/binary"
	"math/bits"
)

// maskBytes (mask_asm.go, mask_noasm.go) XORs b in place with the masking
// key stream of RFC 6455 §5.3, starting at position pos (0–3) of the key, and
// returns the position after b. key is the four key bytes loaded
// little-endian. Feeding a payload in pieces, each call taking the position
// the previous one returned, gives the same bytes as masking it at once.

// maskGeneric is the pure-Go maskBytes: 64-bit words, unrolled by four, with
// the key rotated so that the word loop always starts at key position 0.
func maskGeneric(key uint32, pos int, b []byte) int {
	pos &= 3
	// Byte at a time until the key is back at position 0 or b ends.
	for pos != 0 && len(b) > 0 {
		b[0] ^= byte(key >> (8 * pos))
		b = b[1:]
		pos = (pos + 1) & 3
	}
	if len(b) >= 8 {
		k := uint64(key) | uint64(key)<<32
		for len(b) >= 32 {
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
		binary.LittleEndian.PutUint32(b[0:4], binary.LittleEndian.Uint32(b[0:4])^key)
		b = b[4:]
	}
	k := key
	for i := range b {
		b[i] ^= byte(k)
		k = bits.RotateLeft32(k, -8)
	}
	return (pos + len(b)) & 3
}
