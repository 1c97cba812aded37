//go:build amd64 && !purego

package websocket

import "github.com/rfc6455/websocket/internal/cpuid"

// utf8ValidateAVX2 (utf8_amd64.s) checks p in 32-byte blocks and returns the
// length of the prefix it found no error in, a multiple of 32. p must start
// on a sequence boundary.
//
//go:noescape
func utf8ValidateAVX2(p []byte) int

// utf8UseAVX2 selects the SIMD path; tests turn it off to reach the
// pure-Go path on the same machine.
var utf8UseAVX2 = cpuid.HasAVX2

// utf8SIMDMin is the shortest input worth the SIMD path's setup.
const utf8SIMDMin = 64

// utf8ValidPrefix checks whole blocks with AVX2 where the CPU has it, then
// hands the rest, from the last sequence boundary, to the pure-Go path,
// which also pins down the exact failing byte when a block was refused.
func utf8ValidPrefix(p []byte) int {
	n := 0
	if utf8UseAVX2 && len(p) >= utf8SIMDMin {
		n = utf8SequenceStart(p, utf8ValidateAVX2(p))
	}
	return n + utf8ValidPrefixGeneric(p[n:])
}
