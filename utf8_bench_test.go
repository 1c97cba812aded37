package websocket

import (
	"testing"
	"unicode/utf8"

	"github.com/rfc6455/websocket/internal/wstest"
)

// utf8BenchChunk is the size of the pieces BenchmarkUTF8 feeds, about what
// one read from the transport hands the validator.
const utf8BenchChunk = 4 << 10

var utf8BenchSizes = []struct {
	name string
	n    int
}{
	{"1KiB", 1 << 10},
	{"64KiB", 64 << 10},
	{"1MiB", 1 << 20},
}

// BenchmarkUTF8 measures utf8Validator on text fed in 4 KiB chunks, as a
// connection reading a large text message would.
func BenchmarkUTF8(b *testing.B) {
	for _, k := range wstest.Scripts {
		for _, s := range utf8BenchSizes {
			b.Run(k.Name+"/"+s.name, func(b *testing.B) {
				p := wstest.ScriptText(k.Next, s.n)
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
	for _, k := range wstest.Scripts {
		for _, s := range utf8BenchSizes {
			b.Run(k.Name+"/"+s.name, func(b *testing.B) {
				p := wstest.ScriptText(k.Next, s.n)
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
