package websocket

import (
	"bytes"
	"compress/flate"
	"math/rand/v2"
	"testing"
)

// bombSegment returns a sync-flushed DEFLATE segment that inflates to 1 MiB
// of zeros. Segments can be chained: each ends on a byte boundary with an
// empty stored block, and a chain of n is a valid message of n MiB.
func bombSegment(t testing.TB) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(make([]byte, 1<<20))
	w.Flush()
	return buf.Bytes()
}

// TestInflaterWindow8 decodes a peer that negotiated 8 bits but compresses
// with 9, as zlib does: newInflater keeps a history of 9 bits' worth.
func TestInflaterWindow8(t *testing.T) {
	rng := rand.New(rand.NewPCG(38, 39))
	d := newDeflater(deflateDirection{takeover: true, windowBits: 9}, 9, 0)
	f := newInflater(deflateDirection{takeover: true, windowBits: 8})
	for i := range 20 {
		msg := jsonLike(rng, 100+rng.IntN(400))
		got, err := inflateMessage(f, bytes.NewReader(d.compress(nil, msg)), 1<<20, 64)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
}
