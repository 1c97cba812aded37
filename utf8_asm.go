//go:build amd64 && !purego

package websocket

import "github.com/rfc6455/websocket/internal/cpuid"

// utf8ValidateAVX2 and utf8ValidateSSSE3 (utf8_amd64.s) check p in 32- or
// 16-byte blocks and return the length of the prefix they found no error
// in, a multiple of the block size. p must start on a sequence boundary.
//
//go:noescape
func utf8ValidateAVX2(p []byte) int

//go:noescape
func utf8ValidateSSSE3(p []byte) int

// SIMD paths for utf8ValidPrefix, best last.
const (
	utf8SIMDNone = iota
	utf8SIMDSSSE3
	utf8SIMDAVX2
)

// utf8SIMD is the best SIMD path this CPU supports; tests lower it to reach
// the other paths on the same machine.
var utf8SIMD = func() int {
	switch {
	case cpuid.HasAVX2:
		return utf8SIMDAVX2
	case cpuid.HasSSSE3:
		return utf8SIMDSSSE3
	}
	return utf8SIMDNone
}()

// utf8SIMDMin is the shortest input worth a SIMD path's setup.
const utf8SIMDMin = 64

// utf8ValidPrefix checks whole blocks with SIMD where the CPU allows, then
// hands the rest, from the last sequence boundary, to the pure-Go path,
// which also pins down the exact failing byte when a block was refused.
func utf8ValidPrefix(p []byte) int {
	n := 0
	if len(p) >= utf8SIMDMin {
		switch utf8SIMD {
		case utf8SIMDAVX2:
			n = utf8SequenceStart(p, utf8ValidateAVX2(p))
		case utf8SIMDSSSE3:
			n = utf8SequenceStart(p, utf8ValidateSSSE3(p))
		}
	}
	return n + utf8ValidPrefixGeneric(p[n:])
}
