package websocket

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// maskReference is the RFC 6455 §5.3 definition, one byte at a time:
// transformed-octet-i = original-octet-i XOR masking-key-octet-(i MOD 4).
// The key bytes are those of key in little-endian order.
func maskReference(key uint32, pos int, b []byte) int {
	pos &= 3
	for i := range b {
		b[i] ^= byte(key >> (8 * pos))
		pos = (pos + 1) & 3
	}
	return pos
}

// maskFunc is the signature shared by every masking implementation.
type maskFunc func(key uint32, pos int, b []byte) int

// maskImpls lists the implementations checked against maskReference. On
// amd64 with assembly it also has one entry per assembly path (mask_amd64_test.go).
var maskImpls = map[string]maskFunc{
	"maskBytes":   maskBytes,
	"maskGeneric": maskGeneric,
}

// guardLen is the number of bytes checked on each side of a masked slice,
// and guardFill the value written there.
const (
	guardLen  = 64
	guardFill = 0xa5
)

// TestMaskDifferential compares every implementation with maskReference for
// every length 0–1024, 8 start offsets in a larger buffer and 4 key
// positions, and checks that no byte outside the slice changes.
func TestMaskDifferential(t *testing.T) {
	const maxLen = 1024
	rng := rand.New(rand.NewPCG(1, 2))
	key := uint32(0x9d4a1fe3)
	src := make([]byte, maxLen)
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	buf := make([]byte, guardLen+8+maxLen+guardLen)
	filled := bytes.Repeat([]byte{guardFill}, len(buf))
	want := make([]byte, maxLen)
	for name, mask := range maskImpls {
		t.Run(name, func(t *testing.T) {
			for n := 0; n <= maxLen; n++ {
				for pos := range 4 {
					copy(want, src[:n])
					wantPos := maskReference(key, pos, want[:n])
					for off := range 8 {
						copy(buf, filled)
						lo := guardLen + off
						b := buf[lo : lo+n : lo+n]
						copy(b, src[:n])
						if got := mask(key, pos, b); got != wantPos {
							t.Fatalf("n=%d off=%d pos=%d: returned position %d, want %d", n, off, pos, got, wantPos)
						}
						if !bytes.Equal(b, want[:n]) {
							t.Fatalf("n=%d off=%d pos=%d: first difference at byte %d", n, off, pos, firstDiff(b, want[:n]))
						}
						checkGuards(t, guardFill, buf[:lo], buf[lo+n:])
					}
				}
			}
		})
	}
}

// TestMaskAlignments covers every start address modulo 64 at lengths around
// the assembly's thresholds, so each combination of head steps (1, 2, 4, 8,
// 16 bytes) before the aligned loops runs with each key position.
func TestMaskAlignments(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	lengths := []int{15, 16, 17, 63, 64, 65, 255, 256, 257, 258, 259, 287, 288, 300, 383, 384, 385, 511, 512, 513}
	const maxLen = 513
	src := make([]byte, maxLen)
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	buf := make([]byte, guardLen+64+maxLen+guardLen)
	filled := bytes.Repeat([]byte{guardFill}, len(buf))
	want := make([]byte, maxLen)
	for name, mask := range maskImpls {
		t.Run(name, func(t *testing.T) {
			for _, n := range lengths {
				for pos := range 4 {
					copy(want, src[:n])
					wantPos := maskReference(0xe7c3b1a9, pos, want[:n])
					for off := range 64 {
						copy(buf, filled)
						lo := guardLen + off
						b := buf[lo : lo+n : lo+n]
						copy(b, src[:n])
						if got := mask(0xe7c3b1a9, pos, b); got != wantPos {
							t.Fatalf("n=%d off=%d pos=%d: returned position %d, want %d", n, off, pos, got, wantPos)
						}
						if !bytes.Equal(b, want[:n]) {
							t.Fatalf("n=%d off=%d pos=%d: first difference at byte %d", n, off, pos, firstDiff(b, want[:n]))
						}
						checkGuards(t, guardFill, buf[:lo], buf[lo+n:])
					}
				}
			}
		})
	}
}

// TestMaskKeys checks that each of the four key bytes lands where RFC 6455
// §5.3 puts it, with keys that have a single nonzero byte, so a swapped or
// shifted key cannot pass by symmetry.
func TestMaskKeys(t *testing.T) {
	for name, mask := range maskImpls {
		t.Run(name, func(t *testing.T) {
			for k := range 4 {
				key := uint32(0xff) << (8 * k)
				for _, n := range []int{3, 7, 15, 31, 63, 200, 1000} {
					b := make([]byte, n)
					mask(key, 0, b)
					for i, c := range b {
						want := byte(0)
						if i%4 == k {
							want = 0xff
						}
						if c != want {
							t.Fatalf("key byte %d, n=%d: b[%d] = %#x, want %#x", k, n, i, c, want)
						}
					}
				}
			}
		})
	}
}

// TestMaskPieces masks payloads in random pieces, each call starting at the
// position the previous one returned, and compares with masking at once.
func TestMaskPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for name, mask := range maskImpls {
		t.Run(name, func(t *testing.T) {
			for range 500 {
				n := rng.IntN(3000)
				key := rng.Uint32()
				pos := rng.IntN(4)
				whole := make([]byte, n)
				for i := range whole {
					whole[i] = byte(rng.Uint32())
				}
				pieces := bytes.Clone(whole)
				wantPos := maskReference(key, pos, whole)
				p := pos
				for rest := pieces; len(rest) > 0; {
					m := min(len(rest), rng.IntN(300))
					p = mask(key, p, rest[:m])
					rest = rest[m:]
				}
				if p != wantPos {
					t.Fatalf("n=%d: final position %d, want %d", n, p, wantPos)
				}
				if !bytes.Equal(pieces, whole) {
					t.Fatalf("n=%d: first difference at byte %d", n, firstDiff(pieces, whole))
				}
			}
		})
	}
}

// TestMaskLarge covers sizes above the differential range, where the
// assembly runs its widest loops many times, with odd lengths and offsets.
func TestMaskLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for name, mask := range maskImpls {
		t.Run(name, func(t *testing.T) {
			for _, n := range []int{4096, 4099, 65536 + 13, 1<<20 + 7} {
				off := rng.IntN(64)
				pos := rng.IntN(4)
				key := rng.Uint32()
				buf := make([]byte, guardLen+off+n+guardLen)
				for i := range buf {
					buf[i] = byte(rng.Uint32())
				}
				orig := bytes.Clone(buf)
				lo := guardLen + off
				want := bytes.Clone(buf[lo : lo+n])
				wantPos := maskReference(key, pos, want)
				if got := mask(key, pos, buf[lo:lo+n]); got != wantPos {
					t.Fatalf("n=%d: returned position %d, want %d", n, got, wantPos)
				}
				if !bytes.Equal(buf[lo:lo+n], want) {
					t.Fatalf("n=%d: first difference at byte %d", n, firstDiff(buf[lo:lo+n], want))
				}
				if !bytes.Equal(buf[:lo], orig[:lo]) || !bytes.Equal(buf[lo+n:], orig[lo+n:]) {
					t.Fatalf("n=%d: bytes outside the slice changed", n)
				}
			}
		})
	}
}

// TestMaskInvolution checks that masking twice from the same position
// restores the payload, as a peer unmasking a frame relies on.
func TestMaskInvolution(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	orig := make([]byte, 777)
	for i := range orig {
		orig[i] = byte(rng.Uint32())
	}
	b := bytes.Clone(orig)
	p := maskBytes(0x01020304, 2, b)
	if bytes.Equal(b, orig) {
		t.Fatal("masking with a nonzero key left the payload unchanged")
	}
	if q := maskBytes(0x01020304, 2, b); q != p {
		t.Fatalf("second pass returned position %d, first %d", q, p)
	}
	if !bytes.Equal(b, orig) {
		t.Fatalf("masking twice did not restore byte %d", firstDiff(b, orig))
	}
}

// TestMaskAllocs asserts that masking allocates nothing, at sizes that take
// each path.
func TestMaskAllocs(t *testing.T) {
	b := make([]byte, 70001)
	for name, mask := range maskImpls {
		for _, n := range []int{0, 5, 16, 100, 1000, 70000} {
			allocs := testing.AllocsPerRun(20, func() { mask(0x12345678, 1, b[1:1+n]) })
			if allocs != 0 {
				t.Errorf("%s n=%d: %v allocations, want 0", name, n, allocs)
			}
		}
	}
}

// FuzzMask checks every implementation against maskReference on arbitrary
// payloads, keys, positions and start offsets, masking in pieces whose sizes
// cycle through 1..step+1 and then all at once.
func FuzzMask(f *testing.F) {
	f.Add([]byte("hello, world"), uint32(0x37fa213d), uint8(0), uint8(0), uint16(5))
	f.Add(bytes.Repeat([]byte{0xff}, 300), uint32(0xffffffff), uint8(3), uint8(1), uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, key uint32, pos, off uint8, step uint16) {
		p := int(pos & 3)
		o := int(off & 63)
		want := bytes.Clone(data)
		wantPos := maskReference(key, p, want)
		buf := make([]byte, guardLen+o+len(data)+guardLen)
		for name, mask := range maskImpls {
			// Place the payload at offset o with guard bytes on both sides.
			for i := range buf {
				buf[i] = guardFill
			}
			lo := guardLen + o
			b := buf[lo : lo+len(data) : lo+len(data)]
			copy(b, data)

			got := p
			m := 1
			for rest := b; len(rest) > 0; {
				k := min(len(rest), m)
				got = mask(key, got, rest[:k])
				rest = rest[k:]
				m = m%(int(step)+1) + 1
			}
			if got != wantPos {
				t.Fatalf("%s in pieces: returned position %d, want %d", name, got, wantPos)
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("%s in pieces: first difference at byte %d", name, firstDiff(b, want))
			}
			checkGuards(t, guardFill, buf[:lo], buf[lo+len(data):])

			copy(b, data)
			if got := mask(key, p, b); got != wantPos {
				t.Fatalf("%s at once: returned position %d, want %d", name, got, wantPos)
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("%s at once: first difference at byte %d", name, firstDiff(b, want))
			}
			checkGuards(t, guardFill, buf[:lo], buf[lo+len(data):])
		}
	})
}

// checkGuards fails the test when a byte before or after a masked slice is no
// longer the fill value the test wrote there.
func checkGuards(t *testing.T, fill byte, before, after []byte) {
	t.Helper()
	for i, c := range before {
		if c != fill {
			t.Fatalf("guard byte %d before the slice changed to %#x", len(before)-i, c)
		}
	}
	for i, c := range after {
		if c != fill {
			t.Fatalf("guard byte %d after the slice changed to %#x", i, c)
		}
	}
}

// firstDiff returns the index of the first byte where a and b differ.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
