package websocket

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/rfc6455/websocket/internal/inflate"
	"github.com/rfc6455/websocket/internal/wstest"
)

// TestDeflateSteadyStateAllocs compresses and decompresses 1 KiB messages
// with pooled state, as a busy connection does: nothing is allocated per
// message once the history has reached its size.
func TestDeflateSteadyStateAllocs(t *testing.T) {
	if deflateRaceBuild {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	rng := rand.New(rand.NewPCG(50, 51))
	msgs := make([][]byte, 8)
	for i := range msgs {
		msgs[i] = jsonLike(rng, 1024)
	}
	for _, takeover := range []bool{false, true} {
		for _, streamed := range []bool{false, true} {
			dir := deflateDirection{takeover: takeover, windowBits: 15}
			d := newDeflater(dir, DefaultCompressionLevel, 0)
			f := newInflater(dir)
			buf := make([]byte, 0, 4096)
			var sink bytes.Buffer
			sink.Grow(4096)
			out := make([]byte, 2048)
			src := new(bytes.Reader)
			i := 0
			one := func() {
				msg := msgs[i%len(msgs)]
				i++
				if streamed {
					sink.Reset()
					d.beginMessage(&sink)
					d.Write(msg[:300])
					d.Write(msg[300:])
					if err := d.endMessage(); err != nil {
						t.Fatal(err)
					}
					src.Reset(sink.Bytes())
				} else {
					buf = d.compress(buf[:0], msg)
					src.Reset(buf)
				}
				f.Begin(src, 1<<20)
				for {
					_, err := f.Read(out)
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
				}
			}
			for range 100 { // fill the history
				one()
			}
			allocs := testing.AllocsPerRun(200, one)
			t.Logf("takeover=%v streamed=%v: %.2f allocs per 1 KiB message compressed and decompressed", takeover, streamed, allocs)
			if allocs > 0.1 {
				t.Errorf("takeover=%v streamed=%v: %.2f allocs per message, want 0", takeover, streamed, allocs)
			}
		}
	}
}

// idleBytes returns the heap bytes each of n states holds once built.
func idleBytes(n int, build func(i int) any) float64 {
	states := make([]any, n)
	var before, after runtime.MemStats
	// Two collections empty the pools (and their victim caches), so that
	// only what the states hold is counted.
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range states {
		states[i] = build(i)
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(states)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}

// TestDeflateIdleMemory builds the compression state of many idle
// connections, each having sent and received messages, and reports the
// heap bytes each keeps between messages: without context takeover
// nothing but two small structs; with it, the history of both directions,
// at most 64 KiB when both windows are full.
func TestDeflateIdleMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(52, 53))
	small := jsonLike(rng, 1024)
	large := jsonLike(rng, 40<<10) // fills any window
	n, nFull := 1000, 200
	if deflateRaceBuild {
		n, nFull = 100, 20
	}
	// A compressed copy of each message, as the peer would send it.
	peer := func(msg []byte) []byte {
		return newDeflater(deflateDirection{windowBits: 15}, DefaultCompressionLevel, 0).compress(nil, msg)
	}
	smallIn, largeIn := peer(small), peer(large)

	type conn struct {
		d *deflater
		f *inflate.Reader
	}
	state := func(takeover bool, level int, msg, in []byte) func(int) any {
		return func(int) any {
			dir := deflateDirection{takeover: takeover, windowBits: 15}
			c := &conn{newDeflater(dir, level, 0), newInflater(dir)}
			c.d.compress(nil, msg)
			if _, err := wstest.InflateInPieces(c.f, bytes.NewReader(in), -1, 4096); err != nil {
				t.Fatal(err)
			}
			return c
		}
	}
	tests := []struct {
		name     string
		n        int
		build    func(int) any
		maxBytes float64
	}{
		{"no takeover, after 1 KiB each way", n, state(false, DefaultCompressionLevel, small, smallIn), 512},
		{"takeover, after 1 KiB each way", n, state(true, DefaultCompressionLevel, small, smallIn), 3 << 10},
		{fmt.Sprintf("takeover level %d, full windows", DefaultCompressionLevel), nFull, state(true, DefaultCompressionLevel, large, largeIn), 64 << 10},
		{"takeover level 9, full windows", nFull, state(true, 9, large, largeIn), 64 << 10},
	}
	for _, tt := range tests {
		per := idleBytes(tt.n, tt.build)
		t.Logf("%-40s %8.0f bytes per connection (%d connections)", tt.name, per, tt.n)
		if per > tt.maxBytes {
			t.Errorf("%s: %.0f bytes per connection, want at most %.0f", tt.name, per, tt.maxBytes)
		}
	}
}
