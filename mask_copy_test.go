package websocket

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// maskCopyFunc is the signature shared by every maskCopy implementation.
type maskCopyFunc func(key uint32, pos int, dst, src []byte) int

// maskCopyImpls lists the implementations checked against maskReference.
// On amd64 with assembly it also has the SSE2-only path (mask_amd64_test.go).
var maskCopyImpls = map[string]maskCopyFunc{
	"maskCopy":        maskCopy,
	"maskCopyGeneric": maskCopyGeneric,
}

// TestMaskCopyDifferential compares every implementation with a copy
// masked by maskReference, for every length 0–1024, 8 destination and 4
// source offsets and 4 key positions, and checks that no byte outside the
// destination changes and that the source is left as it was.
func TestMaskCopyDifferential(t *testing.T) {
	const maxLen = 1024
	rng := rand.New(rand.NewPCG(3, 4))
	key := uint32(0x5be0cd19)
	data := make([]byte, maxLen)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	srcBuf := make([]byte, 4+maxLen)
	dstBuf := make([]byte, guardLen+8+maxLen+guardLen)
	filled := bytes.Repeat([]byte{guardFill}, len(dstBuf))
	want := make([]byte, maxLen)
	for name, maskCopy := range maskCopyImpls {
		t.Run(name, func(t *testing.T) {
			for n := 0; n <= maxLen; n++ {
				for pos := range 4 {
					copy(want, data[:n])
					wantPos := maskReference(key, pos, want[:n])
					for soff := range 4 {
						src := srcBuf[soff : soff+n : soff+n]
						copy(src, data[:n])
						for doff := range 8 {
							copy(dstBuf, filled)
							lo := guardLen + doff
							dst := dstBuf[lo : lo+n : lo+n]
							if got := maskCopy(key, pos, dst, src); got != wantPos {
								t.Fatalf("n=%d src+%d dst+%d pos=%d: returned position %d, want %d", n, soff, doff, pos, got, wantPos)
							}
							if !bytes.Equal(dst, want[:n]) {
								t.Fatalf("n=%d src+%d dst+%d pos=%d: first difference at byte %d", n, soff, doff, pos, firstDiff(dst, want[:n]))
							}
							checkGuards(t, guardFill, dstBuf[:lo], dstBuf[lo+n:])
							if !bytes.Equal(src, data[:n]) {
								t.Fatalf("n=%d: the source changed", n)
							}
						}
					}
				}
			}
		})
	}
}

// TestMaskCopyPieces masks a large payload in pieces of uneven sizes, each
// piece taking the position the previous one returned, across the vector
// loops' thresholds, into a destination larger than the source.
func TestMaskCopyPieces(t *testing.T) {
	const n = 70000
	src := pattern(9, n)
	want := bytes.Clone(src)
	wantPos := maskReference(0xdeadbeef, 1, want)
	for name, maskCopy := range maskCopyImpls {
		for _, step := range []int{1, 3, 15, 17, 255, 257, 4093} {
			dst := make([]byte, n+100)
			pos := 1
			for off, k := 0, 1; off < n; k = k%step + 1 {
				end := min(n, off+k)
				pos = maskCopy(0xdeadbeef, pos, dst[off:], src[off:end])
				off = end
			}
			if pos != wantPos || !bytes.Equal(dst[:n], want) {
				t.Fatalf("%s, pieces up to %d: position %d (want %d), first difference at byte %d", name, step, pos, wantPos, firstDiff(dst[:n], want))
			}
			if !bytes.Equal(dst[n:], make([]byte, 100)) {
				t.Fatalf("%s, pieces up to %d: wrote past len(src)", name, step)
			}
		}
	}
}

// TestMaskCopyShortDestination checks that a destination shorter than the
// source panics rather than being written past its end.
func TestMaskCopyShortDestination(t *testing.T) {
	for name, maskCopy := range maskCopyImpls {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic for a short destination", name)
				}
			}()
			maskCopy(1, 0, make([]byte, 31), make([]byte, 32))
		}()
	}
}

func TestMaskCopyAllocs(t *testing.T) {
	src, dst := make([]byte, 4096), make([]byte, 4096)
	if n := testing.AllocsPerRun(100, func() { maskCopy(0x01020304, 1, dst, src) }); n != 0 {
		t.Fatalf("%v allocations per maskCopy", n)
	}
}

// FuzzMaskCopy checks every implementation against maskReference on
// arbitrary payloads, keys, positions and offsets, in pieces whose sizes
// cycle through 1..step+1.
func FuzzMaskCopy(f *testing.F) {
	f.Add([]byte("hello, world"), uint32(0x37fa213d), uint8(0), uint8(0), uint16(5))
	f.Add(bytes.Repeat([]byte{0xff}, 300), uint32(0xffffffff), uint8(3), uint8(7), uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, key uint32, pos, off uint8, step uint16) {
		p := int(pos & 3)
		o := int(off & 63)
		want := bytes.Clone(data)
		wantPos := maskReference(key, p, want)
		buf := make([]byte, guardLen+o+len(data)+guardLen)
		for name, maskCopy := range maskCopyImpls {
			for i := range buf {
				buf[i] = guardFill
			}
			lo := guardLen + o
			dst := buf[lo : lo+len(data) : lo+len(data)]
			got := p
			m := 1
			for done := 0; done < len(data); {
				k := min(len(data)-done, m)
				got = maskCopy(key, got, dst[done:], data[done:done+k])
				done += k
				m = m%(int(step)+1) + 1
			}
			if got != wantPos {
				t.Fatalf("%s: returned position %d, want %d", name, got, wantPos)
			}
			if !bytes.Equal(dst, want) {
				t.Fatalf("%s: first difference at byte %d", name, firstDiff(dst, want))
			}
			checkGuards(t, guardFill, buf[:lo], buf[lo+len(data):])
		}
	})
}

// BenchmarkMaskCopy measures the fused copy and mask; compare with
// BenchmarkCopy plus BenchmarkMask, the two passes it replaces.
func BenchmarkMaskCopy(b *testing.B) {
	benchMaskSizes(b, func(b *testing.B, dst []byte) {
		src := make([]byte, len(dst))
		pos := 0
		for b.Loop() {
			pos = maskCopy(benchMaskKey, pos, dst, src)
		}
	})
}

// BenchmarkCopyThenMask is what maskCopy replaces: copy, then mask in place.
func BenchmarkCopyThenMask(b *testing.B) {
	benchMaskSizes(b, func(b *testing.B, dst []byte) {
		src := make([]byte, len(dst))
		pos := 0
		for b.Loop() {
			copy(dst, src)
			pos = maskBytes(benchMaskKey, pos, dst)
		}
	})
}
