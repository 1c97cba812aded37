package websocket

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/rfc6455/websocket/internal/flateref"
	"github.com/rfc6455/websocket/internal/wstest"
)

// TestDeflateNegotiatedRoundTrip takes every combination of the four
// parameters a client can offer (each flag on or off, each window absent,
// 8 to 15 bits, and for the client window also without a value), lets our
// server answer it in both modes, checks the answer is a valid answer to the
// offer, and sends messages both ways with the resulting settings: each
// direction's compressor against the other side's decompressor
// (compress/flate) and against a decoder with exactly the negotiated window.
func TestDeflateNegotiatedRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 21))
	msgs := [][]byte{
		jsonLike(rng, 1024),
		jsonLike(rng, 1024),
		append(randomBytes(rng, 700), jsonLike(rng, 3000)...),
		{},
	}
	windows := []int{0, 8, 9, 10, 11, 12, 13, 14, 15}
	count := 0
	for _, mode := range []CompressionMode{CompressionNoContextTakeover, CompressionContextTakeover} {
		opts := CompressionOptions{Mode: mode}
		for flags := range 4 {
			for _, sbits := range windows {
				for _, cbits := range append(windows, -1) { // -1: client_max_window_bits without a value
					offer := deflateParams{
						serverNoContextTakeover: flags&1 != 0,
						clientNoContextTakeover: flags&2 != 0,
						serverMaxWindowBits:     sbits,
					}
					if cbits < 0 {
						offer.clientMaxWindowBitsNoValue = true
					} else {
						offer.clientMaxWindowBits = cbits
					}
					name := fmt.Sprintf("%v/%s", mode, offer)
					if deflateRaceBuild && (flags+sbits+cbits)%5 != 0 {
						continue // a fifth of the combinations, each parameter still varied
					}
					resp, scfg, ok := negotiateDeflateServer(&opts, [][]extParam{paramsOf(offer)})
					if !ok {
						t.Fatalf("%s: declined", name)
					}
					rp, err := parseDeflateParams(testParams(resp[len(deflateExtensionName):]), true)
					if err != nil || !answers(offer, rp) {
						t.Fatalf("%s: response %q is not a valid answer (%v)", name, resp, err)
					}
					// The client's view, as RFC 7692 defines it for this offer
					// and response.
					ccfg := clientDeflateConfig(&CompressionOptions{Mode: CompressionContextTakeover}, offer, rp)
					checkAgree(t, name+" client→server", ccfg.write, scfg.read)
					checkAgree(t, name+" server→client", scfg.write, ccfg.read)
					if offer.serverMaxWindowBits != 0 && scfg.write.windowBits > offer.serverMaxWindowBits {
						t.Fatalf("%s: server window %d above the offered %d", name, scfg.write.windowBits, offer.serverMaxWindowBits)
					}
					seed := uint64(count)
					sendAll(t, name+" server→client", scfg.write, ccfg.read, msgs, seed)
					sendAll(t, name+" client→server", ccfg.write, scfg.read, msgs, seed+1)
					count++
				}
			}
		}
	}
	t.Logf("%d negotiations, %d messages each way", count, len(msgs))
}

// paramsOf writes p back as the parameter list a parser would produce.
func paramsOf(p deflateParams) []extParam {
	return testParams(p.String()[len(deflateExtensionName):])
}

// sendAll compresses msgs with the settings comp and decompresses them with
// decomp (our inflater) and with an exact-window decoder sized by comp,
// alternating whole-message and streamed compression.
func sendAll(t *testing.T, name string, comp, decomp deflateDirection, msgs [][]byte, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	d := newDeflater(comp, DefaultCompressionLevel, 0)
	f := newInflater(decomp)
	ref := flateref.NewWindow(comp.windowBits, comp.takeover)
	for i, msg := range msgs {
		var payload []byte
		if i%2 == 0 {
			payload = d.compress(nil, msg)
		} else {
			payload = streamCompress(d, msg, rng)
		}
		got, err := wstest.InflateInPieces(f, wstest.Pieces(payload, rng, 200), 1<<20, 500)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("%s: message %d: inflate: %v (equal %v)", name, i, err, bytes.Equal(got, msg))
		}
		got, err = ref.Message(payload)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("%s: message %d: window-%d decoder: %v", name, i, comp.windowBits, err)
		}
	}
}
