//go:build amd64 && !purego

package websocket

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/rfc6455/websocket/internal/cpuid"
)

// TestUTF8ValidateAVX2Contract checks the assembly on its own: it must
// vouch for every whole block of valid text (or the scalar path would do
// the work), and stop at the block holding the first invalid byte, or the
// next one when that byte is a lone invalid lead (flagged by its successor).
func TestUTF8ValidateAVX2Contract(t *testing.T) {
	if !utf8UseAVX2 {
		t.Skip("no AVX2 on this CPU")
	}
	r := rand.New(rand.NewPCG(19, 23))
	for iter := range 4000 {
		p := utf8RandomText(r, r.IntN(500), []float64{0, 0.0005, 0.002, 0.01}[iter%4])
		for len(p) > 0 && !utf8.RuneStart(p[0]) {
			p = p[1:]
		}
		whole := len(p) &^ 31
		want := whole
		if j := utf8FirstInvalidRef(p); j >= 0 {
			e := j // where the lookup method flags the error
			if c := p[j]; (c == 0xc0 || c == 0xc1 || c >= 0xf5) && utf8.Valid(p[:j]) {
				e = j + 1
			}
			if e < whole {
				want = e &^ 31
			}
		}
		if n := utf8ValidateAVX2(p); n != want {
			t.Fatalf("%q: checked %d bytes, want %d", p, n, want)
		}
	}
}

// TestUTF8ValidPrefixBothPaths runs the validator tests' random inputs
// through the pure-Go path too, which AVX2 machines would otherwise skip.
func TestUTF8ValidPrefixBothPaths(t *testing.T) {
	defer func(old bool) { utf8UseAVX2 = old }(utf8UseAVX2)
	for _, use := range []bool{false, true} {
		utf8UseAVX2 = use && cpuid.HasAVX2
		t.Run(map[bool]string{false: "generic", true: "avx2"}[use], func(t *testing.T) {
			TestUTF8ValidatorRandom(t)
			TestUTF8ValidatorEmbedded(t)
		})
	}
}
