package utf8valid

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/rfc6455/websocket/internal/wstest"
)

// edgeCases are sequences at the edges of validity (RFC 3629 §4): the
// shortest and longest of each length, overlongs, surrogates, values above
// U+10FFFF, bytes that never appear, and sequences cut short.
var edgeCases = []string{
	"\x00", "\x7f", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf",
	"\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
	"\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80",
	"\xed\xbf\xbf", "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80",
	"\xf5\x80\x80\x80", "\xf8", "\xfe", "\xff", "\x80", "\xbf",
	"\xc2", "\xe0\xa0", "\xf0\x90\x80", "\xe1\x80\xe1\x80\x80", "\xf1\x80\x80a",
}

// checkContract fails t unless n, returned by a path for p, is a prefix of
// complete valid sequences that stops early only at an invalid sequence or
// within the last three bytes.
func checkContract(t *testing.T, name string, p []byte, n int) {
	t.Helper()
	if n < 0 || n > len(p) || !utf8.Valid(p[:n]) {
		t.Fatalf("%s(%q) = %d: not a valid prefix", name, p, n)
	}
	if n < len(p)-3 {
		if bad := wstest.FirstInvalidRef(p[n:]); bad < 0 || bad > 3 {
			t.Fatalf("%s(%q) = %d: stopped before a sequence that is not invalid", name, p, n)
		}
	}
}

// contractInputs returns random texts and the edge cases placed after
// valid text of every length up to a few SIMD blocks, all starting on a
// sequence boundary (the precondition of every path).
func contractInputs() [][]byte {
	var in [][]byte
	r := rand.New(rand.NewPCG(13, 17))
	for iter := range 3000 {
		p := wstest.RandomText(r, r.IntN(400), []float64{0, 0.001, 0.01}[iter%3])
		for len(p) > 0 && !utf8.RuneStart(p[0]) {
			p = p[1:]
		}
		in = append(in, p)
	}
	filler := bytes.Repeat([]byte("aé日😀bü語€c The quick brown fox "), 8)
	for _, tc := range edgeCases {
		for n := 0; n <= 140; n++ {
			k := n
			for k > 0 && !utf8.RuneStart(filler[k]) {
				k--
			}
			p := append(append([]byte{}, filler[:k]...), tc...)
			in = append(in, append(p, "tail text long enough to fill a block or two........"...))
		}
	}
	return in
}

// namedPrefix is Prefix on one path.
type namedPrefix struct {
	name string
	f    func([]byte) int
}

// TestPrefixContract checks the pure-Go path and the one Prefix selects.
func TestPrefixContract(t *testing.T) {
	paths := []namedPrefix{{"generic", prefixGeneric}, {"selected", Prefix}}
	for _, p := range contractInputs() {
		for _, path := range paths {
			checkContract(t, path.name, p, path.f(p))
		}
	}
}

// TestPrefixNoAllocs checks that no path allocates.
func TestPrefixNoAllocs(t *testing.T) {
	p := bytes.Repeat([]byte("aé日😀 text"), 1000)
	if allocs := testing.AllocsPerRun(100, func() { Prefix(p) }); allocs != 0 {
		t.Fatalf("Prefix allocates %v times per run", allocs)
	}
}

// FuzzPrefix checks the contract of every path this CPU can run on
// arbitrary input.
func FuzzPrefix(f *testing.F) {
	for _, tc := range edgeCases {
		f.Add([]byte(tc))
	}
	f.Add(bytes.Repeat([]byte("日本語"), 30))
	f.Fuzz(func(t *testing.T, p []byte) {
		for len(p) > 0 && !utf8.RuneStart(p[0]) {
			p = p[1:]
		}
		for _, path := range prefixPaths() {
			checkContract(t, path.name, p, path.f(p))
		}
	})
}
