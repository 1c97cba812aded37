package websocket

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

// benchLevels are the levels the benchmarks compare.
var benchLevels = []int{1, 2, 3, 6, 9}

// BenchmarkDeflate1KiB compresses 1 KiB JSON-like messages one after the
// other, as a connection sends them, and reports the compression ratio
// (compressed/original). The "stdlib" rows are compress/flate, with a
// pooled Writer reset per message (no takeover, 32 KiB window) or kept
// across messages and flushed (takeover): the reference speed and ratio.
func BenchmarkDeflate1KiB(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	msgs := make([][]byte, 64)
	for i := range msgs {
		msgs[i] = jsonLike(rng, 1024)
	}
	for _, takeover := range []bool{false, true} {
		for _, level := range benchLevels {
			b.Run(fmt.Sprintf("takeover=%v/level=%d", takeover, level), func(b *testing.B) {
				d := newDeflater(deflateDirection{takeover: takeover, windowBits: 15}, level, 0)
				buf := make([]byte, 0, 4096)
				in, out := 0, 0
				b.SetBytes(1024)
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					msg := msgs[i%len(msgs)]
					buf = d.compress(buf[:0], msg)
					in += len(msg)
					out += len(buf)
				}
				b.ReportMetric(float64(out)/float64(in), "ratio")
			})
		}
		for _, level := range []int{1, 6} {
			b.Run(fmt.Sprintf("takeover=%v/stdlib-level=%d", takeover, level), func(b *testing.B) {
				var sink bytes.Buffer
				w, _ := flate.NewWriter(&sink, level)
				in, out := 0, 0
				b.SetBytes(1024)
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					msg := msgs[i%len(msgs)]
					sink.Reset()
					if !takeover {
						w.Reset(&sink)
					}
					w.Write(msg)
					w.Flush()
					in += len(msg)
					out += sink.Len() - 4
				}
				b.ReportMetric(float64(out)/float64(in), "ratio")
			})
		}
	}
}

// BenchmarkInflate1KiB decompresses the messages BenchmarkDeflate1KiB
// produces at the default level.
func BenchmarkInflate1KiB(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, takeover := range []bool{false, true} {
		b.Run(fmt.Sprintf("takeover=%v", takeover), func(b *testing.B) {
			dir := deflateDirection{takeover: takeover, windowBits: 15}
			d := newDeflater(dir, DefaultCompressionLevel, 0)
			const n = 256
			payloads := make([][]byte, n)
			for i := range payloads {
				payloads[i] = d.compress(nil, jsonLike(rng, 1024))
			}
			f := newInflater(dir)
			buf := make([]byte, 2048)
			var src bytes.Reader
			b.SetBytes(1024)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if i%n == 0 {
					f = newInflater(dir) // the history must match the sequence
				}
				src.Reset(payloads[i%n])
				f.Begin(&src, 1<<20)
				for {
					_, err := f.Read(buf)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkDeflateLarge compresses 1 MiB of JSON-like and of random data.
func BenchmarkDeflateLarge(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	inputs := map[string][]byte{"json": jsonLike(rng, 1<<20), "random": randomBytes(rng, 1<<20)}
	for _, kind := range []string{"json", "random"} {
		msg := inputs[kind]
		for _, level := range benchLevels {
			b.Run(fmt.Sprintf("%s/level=%d", kind, level), func(b *testing.B) {
				d := newDeflater(deflateDirection{windowBits: 15}, level, 0)
				var buf []byte
				b.SetBytes(int64(len(msg)))
				b.ReportAllocs()
				for b.Loop() {
					buf = d.compress(buf[:0], msg)
				}
				b.ReportMetric(float64(len(buf))/float64(len(msg)), "ratio")
			})
		}
		for _, level := range []int{1, 6} {
			b.Run(fmt.Sprintf("%s/stdlib-level=%d", kind, level), func(b *testing.B) {
				var sink bytes.Buffer
				w, _ := flate.NewWriter(&sink, level)
				b.SetBytes(int64(len(msg)))
				b.ReportAllocs()
				for b.Loop() {
					sink.Reset()
					w.Reset(&sink)
					w.Write(msg)
					w.Flush()
				}
				b.ReportMetric(float64(sink.Len())/float64(len(msg)), "ratio")
			})
		}
	}
}
