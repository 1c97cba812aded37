package websocket

import (
	"strconv"
	"testing"
	"unsafe"
)

// maskBenchSizes are the payload sizes of the masking benchmarks, from a
// tiny control frame to a 1 MiB message.
var maskBenchSizes = []int{8, 16, 32, 64, 128, 1024, 4096, 16384, 65536, 1048576}

// benchMaskKey is an arbitrary key with four distinct bytes.
const benchMaskKey = 0x3cf1a92e

// misalignedBuffer returns n bytes starting 1 byte past a 64-byte boundary,
// as a payload after a 2-, 6- or 14-byte frame header often is. Fixing the
// offset within the cache line makes results repeatable from run to run:
// where a buffer sits decides how many loads and stores straddle two lines.
func misalignedBuffer(n int) []byte {
	buf := make([]byte, n+64+1)
	skip := int(-uintptr(unsafe.Pointer(&buf[0])) & 63)
	return buf[skip+1 : skip+1+n : skip+1+n]
}

// benchMaskSizes runs loop as one sub-benchmark per size of maskBenchSizes,
// on a misaligned buffer of that size. loop holds the b.Loop itself and
// calls the function it measures directly rather than through a func value,
// so that small sizes measure the function and not an indirect call.
func benchMaskSizes(b *testing.B, loop func(b *testing.B, buf []byte)) {
	for _, n := range maskBenchSizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			buf := misalignedBuffer(n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			loop(b, buf)
		})
	}
}

func BenchmarkMask(b *testing.B) {
	benchMaskSizes(b, func(b *testing.B, buf []byte) {
		pos := 0
		for b.Loop() {
			pos = maskBytes(benchMaskKey, pos, buf)
		}
	})
}

func BenchmarkMaskGeneric(b *testing.B) {
	benchMaskSizes(b, func(b *testing.B, buf []byte) {
		pos := 0
		for b.Loop() {
			pos = maskGeneric(benchMaskKey, pos, buf)
		}
	})
}

func BenchmarkMaskReference(b *testing.B) {
	benchMaskSizes(b, func(b *testing.B, buf []byte) {
		pos := 0
		for b.Loop() {
			pos = maskReference(benchMaskKey, pos, buf)
		}
	})
}

// BenchmarkCopy copies the same sizes between two buffers: the memory
// bandwidth that masking in place is measured against.
func BenchmarkCopy(b *testing.B) {
	for _, n := range maskBenchSizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			src := make([]byte, n)
			dst := make([]byte, n)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			for b.Loop() {
				copy(dst, src)
			}
		})
	}
}
