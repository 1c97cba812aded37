// Package cpuid reports which x86 SIMD extensions this process may use. An
// extension counts as present only when the CPU implements it and, for the
// wider registers, the operating system saves and restores them across
// context switches; otherwise the instructions would fault or corrupt state.
//
// The values are fixed at package initialisation. On other architectures, or
// when built with the purego tag, every value is false.
package cpuid

// HasSSSE3 reports whether SSSE3 (PSHUFB, PALIGNR) can be used.
var HasSSSE3 bool

// HasSSE41 reports whether SSE4.1 (PTEST, PBLENDVB) can be used.
var HasSSE41 bool

// HasAVX2 reports whether AVX2 on 256-bit YMM registers can be used: the CPU
// has AVX and AVX2, and the operating system has enabled XMM and YMM state
// in XCR0.
var HasAVX2 bool
