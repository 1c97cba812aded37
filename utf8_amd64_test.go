//go:build amd64 && !purego

package websocket

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"golang.org/x/sys/cpu"
)

// utf8SIMDPaths lists the assembly validators this CPU can run, with their
// block sizes and the utf8SIMD value that selects them.
func utf8SIMDPaths() []struct {
	name  string
	level int
	block int
	f     func([]byte) int
} {
	type path = struct {
		name  string
		level int
		block int
		f     func([]byte) int
	}
	var paths []path
	if cpu.X86.HasSSSE3 {
		paths = append(paths, path{"ssse3", utf8SIMDSSSE3, 16, utf8ValidateSSSE3})
	}
	if cpu.X86.HasAVX2 {
		paths = append(paths, path{"avx2", utf8SIMDAVX2, 32, utf8ValidateAVX2})
	}
	return paths
}

// TestUTF8SIMDContract checks each assembly path on its own: it must vouch
// for every whole block of valid text (or the scalar path would do the
// work), and stop at the block holding the first invalid byte, or the next
// one when that byte is a lone invalid lead (flagged by its successor).
func TestUTF8SIMDContract(t *testing.T) {
	for _, path := range utf8SIMDPaths() {
		t.Run(path.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(19, 23))
			for iter := range 4000 {
				p := utf8RandomText(r, r.IntN(500), []float64{0, 0.0005, 0.002, 0.01}[iter%4])
				for len(p) > 0 && !utf8.RuneStart(p[0]) {
					p = p[1:]
				}
				whole := len(p) / path.block * path.block
				want := whole
				if j := utf8FirstInvalidRef(p); j >= 0 {
					e := j // where the lookup method flags the error
					if c := p[j]; (c == 0xc0 || c == 0xc1 || c >= 0xf5) && utf8.Valid(p[:j]) {
						e = j + 1
					}
					if e < whole {
						want = e / path.block * path.block
					}
				}
				if n := path.f(p); n != want {
					t.Fatalf("%q: checked %d bytes, want %d", p, n, want)
				}
			}
		})
	}
}

// TestUTF8ValidatorAllPaths reruns the random and embedded validator tests
// on every path this CPU has, the pure-Go one included, since the default
// selection would reach only the best.
func TestUTF8ValidatorAllPaths(t *testing.T) {
	defer func(old int) { utf8SIMD = old }(utf8SIMD)
	utf8SIMD = utf8SIMDNone
	t.Run("generic", func(t *testing.T) {
		TestUTF8ValidatorRandom(t)
		TestUTF8ValidatorEmbedded(t)
	})
	for _, path := range utf8SIMDPaths() {
		utf8SIMD = path.level
		t.Run(path.name, func(t *testing.T) {
			TestUTF8ValidatorRandom(t)
			TestUTF8ValidatorEmbedded(t)
		})
	}
}

// BenchmarkUTF8Path compares the paths this CPU has on 64 KiB of each
// script, fed in 4 KiB chunks, to show that each assembly path earns its
// place over the pure-Go one.
func BenchmarkUTF8Path(b *testing.B) {
	defer func(old int) { utf8SIMD = old }(utf8SIMD)
	paths := []struct {
		name  string
		level int
	}{{"generic", utf8SIMDNone}}
	for _, path := range utf8SIMDPaths() {
		paths = append(paths, struct {
			name  string
			level int
		}{path.name, path.level})
	}
	for _, path := range paths {
		for _, k := range utf8BenchKinds {
			b.Run(path.name+"/"+k.name, func(b *testing.B) {
				utf8SIMD = path.level
				p := utf8BenchText(k.next, 64<<10)
				b.SetBytes(int64(len(p)))
				b.ReportAllocs()
				var v utf8Validator
				for b.Loop() {
					v.reset()
					for off := 0; off < len(p); off += utf8BenchChunk {
						if v.feed(p[off:min(off+utf8BenchChunk, len(p))]) >= 0 {
							b.Fatal("valid text rejected")
						}
					}
				}
			})
		}
	}
}
