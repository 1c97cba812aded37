//go:build !purego

package websocket

import (
	"math/bits"

	"golang.org/x/sys/cpu"
)

// maskAsm XORs b in place with the key stream from key position 0
// (mask_amd64.s). avx2 allows its AVX2 loop for long slices; pass it only
// when the CPU and OS support AVX2. SSE2 is amd64 baseline and always used
// otherwise.
//
//go:noescape
func maskAsm(b []byte, key uint32, avx2 bool)

// useAVX2 is whether maskAsm may use AVX2. BenchmarkMaskSSE2 shows what it
// gains: AVX2 at 32 bytes per load keeps up with copy() on L1- and
// L2-resident payloads, where SSE2 does not.
var useAVX2 = cpu.X86.HasAVX2

func maskBytes(key uint32, pos int, b []byte) int {
	pos &= 3
	// RFC 6455 §5.3: byte i takes key byte (i mod 4). Rotating the key right
	// by pos bytes makes key position pos the assembly's position 0.
	maskAsm(b, bits.RotateLeft32(key, -8*pos), useAVX2)
	return (pos + len(b)) & 3
}

// maskCopyAsm writes src XORed with the key stream from key position 0
// into dst[:len(src)] (mask_amd64.s); avx2 as for maskAsm.
//
//go:noescape
func maskCopyAsm(dst, src []byte, key uint32, avx2 bool)

func maskCopy(key uint32, pos int, dst, src []byte) int {
	pos &= 3
	// The slice expression checks that dst holds src: the assembly trusts it.
	maskCopyAsm(dst[:len(src)], src, bits.RotateLeft32(key, -8*pos), useAVX2)
	return (pos + len(src)) & 3
}
