//go:build amd64 && !purego

package utf8valid

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/rfc6455/websocket/internal/wstest"
	"golang.org/x/sys/cpu"
)

// simdPath is an assembly validator this CPU can run.
type simdPath struct {
	name  string
	level int // the value of selected that picks it
	block int
	f     func([]byte) int
}

// simdPaths lists the assembly validators this CPU can run.
func simdPaths() []simdPath {
	var paths []simdPath
	if cpu.X86.HasSSSE3 {
		paths = append(paths, simdPath{"ssse3", pathSSSE3, 16, validateSSSE3})
	}
	if cpu.X86.HasAVX2 {
		paths = append(paths, simdPath{"avx2", pathAVX2, 32, validateAVX2})
	}
	return paths
}

// TestSIMDContract checks each assembly path on its own: it must vouch for
// every whole block of valid text (or the scalar path would do the work),
// and stop at the block holding the first invalid byte, or the next one
// when that byte is a lone invalid lead (flagged by its successor).
func TestSIMDContract(t *testing.T) {
	for _, path := range simdPaths() {
		t.Run(path.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(19, 23))
			for iter := range 4000 {
				p := wstest.RandomText(r, r.IntN(500), []float64{0, 0.0005, 0.002, 0.01}[iter%4])
				for len(p) > 0 && !utf8.RuneStart(p[0]) {
					p = p[1:]
				}
				whole := len(p) / path.block * path.block
				want := whole
				if j := wstest.FirstInvalidRef(p); j >= 0 {
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

// TestPrefixAllPaths checks Prefix's contract on every path this CPU has,
// the pure-Go one included, since the default selection reaches only the
// best.
func TestPrefixAllPaths(t *testing.T) {
	defer func(old int) { selected = old }(selected)
	levels := []simdPath{{name: "generic", level: pathGeneric}}
	levels = append(levels, simdPaths()...)
	inputs := contractInputs()
	for _, path := range levels {
		selected = path.level
		t.Run(path.name, func(t *testing.T) {
			for _, p := range inputs {
				checkContract(t, "Prefix", p, Prefix(p))
			}
		})
	}
}

// BenchmarkPath compares the paths this CPU has on 64 KiB of each script,
// to show that each assembly path earns its place over the pure-Go one.
func BenchmarkPath(b *testing.B) {
	defer func(old int) { selected = old }(selected)
	levels := []simdPath{{name: "generic", level: pathGeneric}}
	levels = append(levels, simdPaths()...)
	for _, path := range levels {
		for _, k := range wstest.Scripts {
			b.Run(path.name+"/"+k.Name, func(b *testing.B) {
				selected = path.level
				p := wstest.ScriptText(k.Next, 64<<10)
				b.SetBytes(int64(len(p)))
				b.ReportAllocs()
				for b.Loop() {
					if Prefix(p) < len(p)-3 {
						b.Fatal("valid text rejected")
					}
				}
			})
		}
	}
}
