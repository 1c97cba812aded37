package websocket

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// utf8BenchChunk is the size of the pieces BenchmarkUTF8 feeds, about what
// one read from the transport hands the validator.
const utf8BenchChunk = 4 << 10

// utf8BenchKinds are the scripts the benchmarks cover: each returns the next
// character of a text in that script, drawn from r.
var utf8BenchKinds = []struct {
	name string
	next func(r *rand.Rand) rune
}{
	{"ascii", func(r *rand.Rand) rune {
		const letters = "etaoinshrdlucmfwypvbgkqjxz ETAOINSHRDLU  ,.;:!?0123456789\n"
		return rune(letters[r.IntN(len(letters))])
	}},
	// latin: European text where most letters carry an accent (2 bytes),
	// mixed with ASCII letters, spaces and punctuation.
	{"latin", func(r *rand.Rand) rune {
		const plain = "etaoinsrl ,."
		if r.IntN(3) != 0 {
			return utf8BenchAccented[r.IntN(len(utf8BenchAccented))]
		}
		return rune(plain[r.IntN(len(plain))])
	}},
	{"cjk", func(r *rand.Rand) rune { return rune(0x4e00 + r.IntN(0x9fff-0x4e00+1)) }},
	{"emoji", func(r *rand.Rand) rune { return rune(0x1f300 + r.IntN(0x1faff-0x1f300+1)) }},
}

var utf8BenchAccented = []rune("éèêëàâäçôöùûüïîñßøåæłśżźćńąęőűčšžřďťňůýáíóú")

var utf8BenchSizes = []struct {
	name string
	n    int
}{
	{"1KiB", 1 << 10},
	{"64KiB", 64 << 10},
	{"1MiB", 1 << 20},
}

// utf8BenchText returns n bytes of valid UTF-8 in the given script, padded
// with spaces where the last character would not fit.
func utf8BenchText(next func(*rand.Rand) rune, n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, 0, n+utf8.UTFMax)
	for {
		c := next(r)
		if len(p)+utf8.RuneLen(c) > n {
			break
		}
		p = utf8.AppendRune(p, c)
	}
	for len(p) < n {
		p = append(p, ' ')
	}
	return p
}

// BenchmarkUTF8 measures utf8Validator on text fed in 4 KiB chunks, as a
// connection reading a large text message would.
func BenchmarkUTF8(b *testing.B) {
	for _, k := range utf8BenchKinds {
		for _, s := range utf8BenchSizes {
			b.Run(k.name+"/"+s.name, func(b *testing.B) {
				p := utf8BenchText(k.next, s.n)
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
					if !v.done() {
						b.Fatal("valid text left incomplete")
					}
				}
			})
		}
	}
}

// BenchmarkUTF8Stdlib is the yardstick: utf8.Valid on the same texts, whole.
func BenchmarkUTF8Stdlib(b *testing.B) {
	for _, k := range utf8BenchKinds {
		for _, s := range utf8BenchSizes {
			b.Run(k.name+"/"+s.name, func(b *testing.B) {
				p := utf8BenchText(k.next, s.n)
				b.SetBytes(int64(len(p)))
				b.ReportAllocs()
				for b.Loop() {
					if !utf8.Valid(p) {
						b.Fatal("valid text rejected")
					}
				}
			})
		}
	}
}
