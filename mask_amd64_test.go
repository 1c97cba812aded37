//go:build amd64 && !purego

package websocket

import (
	"math/bits"
	"testing"

	"golang.org/x/sys/cpu"
)

// maskSSE2Only is maskBytes with the AVX2 loop disabled, so the SSE2 bulk
// loop is tested and measured even on CPUs that have AVX2.
func maskSSE2Only(key uint32, pos int, b []byte) int {
	pos &= 3
	maskAsm(b, bits.RotateLeft32(key, -8*pos), false)
	return (pos + len(b)) & 3
}

// maskCopySSE2Only is maskCopy with the AVX2 loop disabled.
func maskCopySSE2Only(key uint32, pos int, dst, src []byte) int {
	pos &= 3
	maskCopyAsm(dst[:len(src)], src, bits.RotateLeft32(key, -8*pos), false)
	return (pos + len(src)) & 3
}

// Without AVX2, maskBytes and maskCopy already are the SSE2 paths and are
// tested as such.
func init() {
	if cpu.X86.HasAVX2 {
		maskImpls["maskSSE2Only"] = maskSSE2Only
		maskCopyImpls["maskCopySSE2Only"] = maskCopySSE2Only
	}
}

// BenchmarkMaskSSE2 measures the SSE2 path on CPUs where maskBytes would use
// AVX2, to justify keeping the AVX2 loop.
func BenchmarkMaskSSE2(b *testing.B) {
	benchMaskSizes(b, func(b *testing.B, buf []byte) {
		pos := 0
		for b.Loop() {
			pos = maskSSE2Only(benchMaskKey, pos, buf)
		}
	})
}
