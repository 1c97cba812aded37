package websocket

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/rfc6455/websocket/internal/wstest"
)

// TestInflaterWindow8 decodes a peer that negotiated 8 bits but compresses
// with 9, as zlib does: newInflater keeps a history of 9 bits' worth.
func TestInflaterWindow8(t *testing.T) {
	rng := rand.New(rand.NewPCG(38, 39))
	d := newDeflater(deflateDirection{takeover: true, windowBits: 9}, 9, 0)
	f := newInflater(deflateDirection{takeover: true, windowBits: 8})
	for i := range 20 {
		msg := jsonLike(rng, 100+rng.IntN(400))
		got, err := wstest.InflateInPieces(f, bytes.NewReader(d.compress(nil, msg)), 1<<20, 64)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
}
