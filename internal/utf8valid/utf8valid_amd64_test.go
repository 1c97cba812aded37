//go:build amd64 && !purego

package utf8valid

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rfc6455/websocket/internal/wstest"
	"golang.org/x/sys/cpu"
)

// simdPath is an assembly validator.
type simdPath struct {
	name    string
	level   int // the value of selected that picks it
	block   int
	tail    bool // it checks the bytes after the last whole block too
	f       func([]byte) int
	missing string // the CPU features it needs, if this CPU lacks them
}

// simdPaths lists every assembly validator, with what this CPU lacks to run
// it, so that a test can say why it skips one.
func simdPaths() []simdPath {
	lacks := func(has bool, feature string) string {
		if has {
			return ""
		}
		return feature
	}
	return []simdPath{
		{"ssse3", pathSSSE3, 16, false, validateSSSE3, lacks(cpu.X86.HasSSSE3, "SSSE3")},
		{"avx2", pathAVX2, 32, false, validateAVX2, lacks(cpu.X86.HasAVX2, "AVX2")},
		{"avx512", pathAVX512, 64, true, validateAVX512,
			lacks(cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW, "AVX-512 F and BW")},
	}
}

// skipMissing skips tb when this CPU cannot run path.
func skipMissing(tb testing.TB, path simdPath) {
	tb.Helper()
	if path.missing != "" {
		tb.Skipf("this CPU lacks %s, which the %s path needs", path.missing, path.name)
	}
}

// prefixPaths returns Prefix on every path this CPU can run, the pure-Go
// one included, since the default selection reaches only the best.
func prefixPaths() []namedPrefix {
	paths := []namedPrefix{{"generic", prefixGeneric}}
	for _, path := range simdPaths() {
		if path.missing != "" {
			continue
		}
		paths = append(paths, namedPrefix{path.name, func(p []byte) int {
			defer func(old int) { selected = old }(selected)
			selected = path.level
			return Prefix(p)
		}})
	}
	return paths
}

// TestSelected checks that Prefix uses the best path this CPU has.
func TestSelected(t *testing.T) {
	want := simdPath{name: "generic", level: pathGeneric}
	for _, path := range simdPaths() {
		if path.missing == "" {
			want = path
		}
	}
	if selected != want.level {
		t.Fatalf("selected = %d, want %d (%s)", selected, want.level, want.name)
	}
}

// wantChecked returns what path must return for p: every block before the
// one where the lookup method flags the first error, which is the first
// invalid byte, or the next one when that byte is a lone invalid lead
// (flagged by its successor); all the blocks it checks when none is
// flagged: the whole ones, or all of p for a path that checks the tail.
func wantChecked(p []byte, path simdPath) int {
	end := len(p) / path.block * path.block
	if path.tail {
		end = len(p)
	}
	j := wstest.FirstInvalidRef(p)
	if j < 0 {
		return end
	}
	e := j
	if c := p[j]; (c == 0xc0 || c == 0xc1 || c >= 0xf5) && utf8.Valid(p[:j]) {
		e = j + 1
	}
	if e >= end {
		return end
	}
	return e / path.block * path.block
}

// blockEdgeInputs returns each edge case placed at every offset of the
// first four 64-byte blocks, after ASCII (which the SIMD paths skip in
// runs of blocks) and after mixed text, and followed by nothing, by ASCII
// (so that a sequence left open at the end of a block meets a block
// skipped as ASCII: 100 bytes leave room for one such block at a time, 300
// for a run of them), or by mixed text.
func blockEdgeInputs() [][]byte {
	ascii := []byte(strings.Repeat("The quick brown fox jumps over the lazy dog. ", 8))
	mixed := bytes.Repeat([]byte("aé日😀bü語€c The quick brown fox "), 8)
	tails := [][]byte{nil, ascii[:100], ascii[:300], append([]byte("x"), mixed[:200]...)}
	var in [][]byte
	for _, filler := range [][]byte{ascii, mixed} {
		for n := 0; n <= 260; n++ {
			k := n
			for k > 0 && !utf8.RuneStart(filler[k]) {
				k--
			}
			for _, tc := range edgeCases {
				for _, tail := range tails {
					p := append(append([]byte{}, filler[:k]...), tc...)
					in = append(in, append(p, tail...))
				}
			}
		}
	}
	return in
}

// TestSIMDContract checks each assembly path on its own: it must vouch for
// every whole block of valid text (or the scalar path would do the work),
// and stop at the block where the first error is flagged, on random text
// and on each edge case at every offset of a block.
func TestSIMDContract(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 23))
	var inputs [][]byte
	for iter := range 4000 {
		p := wstest.RandomText(r, r.IntN(500), []float64{0, 0.0005, 0.002, 0.01}[iter%4])
		for len(p) > 0 && !utf8.RuneStart(p[0]) {
			p = p[1:]
		}
		inputs = append(inputs, p)
	}
	inputs = append(inputs, blockEdgeInputs()...)
	for _, path := range simdPaths() {
		t.Run(path.name, func(t *testing.T) {
			skipMissing(t, path)
			for _, p := range inputs {
				if n, want := path.f(p), wantChecked(p, path); n != want {
					t.Fatalf("%q: checked %d bytes, want %d", p, n, want)
				}
			}
		})
	}
}

// TestPrefixAllPaths checks Prefix's contract on every path, on random
// text, on the edge cases after text of every length, and on each edge
// case at every offset of a block.
func TestPrefixAllPaths(t *testing.T) {
	defer func(old int) { selected = old }(selected)
	levels := []simdPath{{name: "generic", level: pathGeneric}}
	levels = append(levels, simdPaths()...)
	inputs := append(contractInputs(), blockEdgeInputs()...)
	for _, path := range levels {
		t.Run(path.name, func(t *testing.T) {
			skipMissing(t, path)
			selected = path.level
			for _, p := range inputs {
				checkContract(t, "Prefix", p, Prefix(p))
			}
		})
	}
}

// BenchmarkPath compares the paths on 64 KiB of each script, to show that
// each assembly path earns its place over the ones below it.
func BenchmarkPath(b *testing.B) {
	defer func(old int) { selected = old }(selected)
	levels := []simdPath{{name: "generic", level: pathGeneric}}
	levels = append(levels, simdPaths()...)
	for _, path := range levels {
		for _, k := range wstest.Scripts {
			b.Run(path.name+"/"+k.Name, func(b *testing.B) {
				skipMissing(b, path)
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
