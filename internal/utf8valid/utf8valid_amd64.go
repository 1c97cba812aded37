//go:build !purego

package utf8valid

import "golang.org/x/sys/cpu"

// validateAVX512 (utf8valid_avx512_amd64.s), validateAVX2 and
// validateSSSE3 (utf8valid_amd64.s) check p in 64-, 32- or 16-byte blocks
// and return the length of the prefix they found no error in: a multiple
// of the block size, or len(p) for validateAVX512, which also checks the
// bytes after the last whole block. p must start on a sequence boundary.
//
//go:noescape
func validateAVX512(p []byte) int

//go:noescape
func validateAVX2(p []byte) int

//go:noescape
func validateSSSE3(p []byte) int

// SIMD paths for Prefix, best last.
const (
	pathGeneric = iota
	pathSSSE3
	pathAVX2
	pathAVX512
)

// selected is the best SIMD path this CPU supports; tests lower it to reach
// the other paths on the same machine.
var selected = func() int {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW:
		// F and BW are all validateAVX512 uses: byte shuffles, byte
		// compares into mask registers, VALIGNQ and VPTERNLOGD.
		return pathAVX512
	case cpu.X86.HasAVX2:
		return pathAVX2
	case cpu.X86.HasSSSE3:
		return pathSSSE3
	}
	return pathGeneric
}()

// simdMin is the shortest input worth a SIMD path's setup.
const simdMin = 64

// Prefix returns the length of a prefix of p made of complete, valid UTF-8
// sequences, stopping only at a sequence that is invalid or may run past
// the end of p, or within the last three bytes of p. p must start on a
// sequence boundary. It checks whole blocks with SIMD where the CPU
// allows, then hands the rest, from the last sequence boundary, to the
// pure-Go path, which also stops at the exact failing sequence.
func Prefix(p []byte) int {
	n := 0
	if len(p) >= simdMin {
		switch selected {
		case pathAVX512:
			n = sequenceStart(p, validateAVX512(p))
		case pathAVX2:
			n = sequenceStart(p, validateAVX2(p))
		case pathSSSE3:
			n = sequenceStart(p, validateSSSE3(p))
		}
	}
	return n + prefixGeneric(p[n:])
}

// The SIMD validator (utf8valid_amd64.s) follows the "lookup" method of Keiser
// and Lemire, "Validating UTF-8 In Less Than One Instruction Per Byte"
// (2021). Every error in UTF-8 shows within a window of four bytes ending
// at the byte in error, so each byte of a block is checked against the
// three before it, the last bytes of the previous block serving as the
// context of the first ones:
//
//   - Most errors are visible in two bytes, the previous one and this one.
//     Three 16-entry tables, indexed by the high nibble of the previous
//     byte, its low nibble and the high nibble of this byte (PSHUFB), give
//     each a set of error classes it is compatible with; an error is
//     present when a class survives the AND of the three.
//   - A continuation byte after a continuation byte is an error unless a
//     3- or 4-byte lead stands two or three bytes back. The tables flag
//     every such pair (errTwoConts, bit 7), and the assembly flips the
//     flag where a lead two or three bytes back requires it; the flip also
//     raises an error where a required continuation byte is missing.
//
// A block counts as checked when no byte in it is flagged. The window
// reaches back three bytes, so a valid checked prefix may still end inside
// a sequence, and a lone invalid lead (C0, C1, F5–FF) is flagged at the
// byte after it; sequenceStart backs up over both so that the scalar
// path can take over at a boundary and find the exact failing byte.

// Error classes of a two-byte window (previous byte, this byte), one bit
// each in the lookup tables.
const (
	errTooShort  = 1 << 0 // a lead not followed by a continuation byte
	errTooLong   = 1 << 1 // a continuation byte right after ASCII
	errOverlong3 = 1 << 2 // E0 80–9F: a 3-byte form of a 2-byte value
	errTooLarge  = 1 << 3 // F4–FF 90–BF: above U+10FFFF
	errSurrogate = 1 << 4 // ED A0–BF: U+D800–DFFF (RFC 3629 §3)
	errOverlong2 = 1 << 5 // C0 or C1 then a continuation byte
	// errOverlong4 is F0 80–8F, an overlong 4-byte form, and also
	// F5–FF 80–8F, above U+10FFFF: the low nibbles (0, 5–F) tell them apart.
	errOverlong4 = 1 << 6
	errTwoConts  = 1 << 7 // a continuation byte after a continuation byte
)

// carry marks the classes that depend only on the high nibbles, so they
// pass the low-nibble table unconditionally.
const carry = errTooShort | errTooLong | errTwoConts

// tables holds the lookup tables and constants the assembly loads,
// at fixed offsets: prevHigh at 0, prevLow at 16, curHigh at 32, lastMax at
// 48 (64 bytes: the 64-byte path loads it whole, the 32-byte path its last
// 32 bytes at 80, the 16-byte path its last 16 at 96).
var tables = struct {
	prevHigh [16]byte // by the high nibble of the previous byte
	prevLow  [16]byte // by the low nibble of the previous byte
	curHigh  [16]byte // by the high nibble of this byte
	// lastMax is the largest byte allowed at each position of the last
	// block for it to end on a boundary: below F0, E0 and C0 in the last
	// three. A block that exceeds it leaves a sequence open, which a
	// following all-ASCII block (checked without the tables) must refuse.
	lastMax [64]byte
}{
	prevHigh: [16]byte{
		// 0–7: ASCII; only a continuation byte after it is wrong.
		errTooLong, errTooLong, errTooLong, errTooLong,
		errTooLong, errTooLong, errTooLong, errTooLong,
		// 8–B: continuation byte.
		errTwoConts, errTwoConts, errTwoConts, errTwoConts,
		// C: 2-byte lead, C0 and C1 overlong.
		errTooShort | errOverlong2,
		// D: 2-byte lead.
		errTooShort,
		// E: 3-byte lead, E0 overlong, ED surrogate.
		errTooShort | errOverlong3 | errSurrogate,
		// F: 4-byte lead (or invalid F5–FF), F0 overlong, F4+ too large.
		errTooShort | errTooLarge | errOverlong4,
	},
	prevLow: [16]byte{
		0x0: carry | errOverlong2 | errOverlong3 | errOverlong4, // C0, E0, F0
		0x1: carry | errOverlong2,                               // C1
		0x2: carry,
		0x3: carry,
		0x4: carry | errTooLarge, // F4
		0x5: carry | errTooLarge | errOverlong4,
		0x6: carry | errTooLarge | errOverlong4,
		0x7: carry | errTooLarge | errOverlong4,
		0x8: carry | errTooLarge | errOverlong4,
		0x9: carry | errTooLarge | errOverlong4,
		0xa: carry | errTooLarge | errOverlong4,
		0xb: carry | errTooLarge | errOverlong4,
		0xc: carry | errTooLarge | errOverlong4,
		0xd: carry | errTooLarge | errOverlong4 | errSurrogate, // ED
		0xe: carry | errTooLarge | errOverlong4,
		0xf: carry | errTooLarge | errOverlong4,
	},
	curHigh: [16]byte{
		// 0–7: ASCII ends whatever came before, too early after a lead.
		errTooShort, errTooShort, errTooShort, errTooShort,
		errTooShort, errTooShort, errTooShort, errTooShort,
		// 8: 80–8F.
		errTooLong | errTwoConts | errOverlong2 | errOverlong3 | errOverlong4,
		// 9: 90–9F.
		errTooLong | errTwoConts | errOverlong2 | errOverlong3 | errTooLarge,
		// A, B: A0–BF.
		errTooLong | errTwoConts | errOverlong2 | errSurrogate | errTooLarge,
		errTooLong | errTwoConts | errOverlong2 | errSurrogate | errTooLarge,
		// C–F: a lead cuts short a sequence before it.
		errTooShort, errTooShort, errTooShort, errTooShort,
	},
	lastMax: [64]byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xef, 0xdf, 0xbf,
	},
}

// sequenceStart returns where the scalar path must resume after the
// SIMD path vouched for p[:n]: n itself, or the last lead byte among the
// three before n, since the sequence it starts (or the invalid byte it is)
// was not checked in full.
func sequenceStart(p []byte, n int) int {
	for k := n - 1; k >= 0 && k >= n-3; k-- {
		if p[k] >= 0xc0 {
			return k
		}
	}
	return n
}
