package deflate

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/rfc6455/websocket/internal/flateref"
)

// session compresses messages as one direction of a connection does: one
// window and level, and with context takeover the history of the messages
// before, primed into the encoder that compresses the next one.
type session struct {
	e        *Encoder
	bits     int
	lv       Level
	takeover bool
	hist     []byte
}

func newSession(e *Encoder, bits, level int, takeover bool) *session {
	return &session{e: e, bits: bits, lv: LevelFor(level), takeover: takeover}
}

// compress returns msg's payload: the DEFLATE data without the four octets
// RFC 7692 §7.2.1 removes. With rng set, msg is added in pieces of random
// sizes and the output taken as it comes, as a streamed message is.
func (s *session) compress(msg []byte, rng *rand.Rand) []byte {
	var hist []byte
	if s.takeover {
		hist = s.hist
	}
	s.e.Reset(s.bits, s.lv, hist)
	s.e.SetOut(nil)
	var out []byte
	for rng != nil && len(msg) > 0 {
		n := min(len(msg), 1+rng.IntN(3*ChunkSize))
		s.e.Add(msg[:n])
		msg = msg[n:]
		out = append(out, s.e.Out()...)
		s.e.SetOut(s.e.Out()[:0])
	}
	s.e.Add(msg)
	s.e.Finish()
	out = append(out, s.e.Out()...)
	if s.takeover {
		s.hist = append(s.hist[:0], s.e.History()...)
	}
	s.e.Release()
	return out
}

// stdDecoder decompresses payloads with compress/flate, keeping 32 KiB of
// history with takeover: a window at least as large as any we compress for.
type stdDecoder struct {
	takeover bool
	hist     []byte
}

// tail ends a payload: the sync marker RFC 7692 §7.2.2 restores, then an
// empty final stored block, so that the reader ends cleanly.
var tail = []byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}

func (d *stdDecoder) message(payload []byte) ([]byte, error) {
	if !d.takeover {
		d.hist = nil
	}
	r := flate.NewReaderDict(io.MultiReader(bytes.NewReader(payload), bytes.NewReader(tail)), d.hist)
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if d.takeover {
		d.hist = append(d.hist, out...)
		d.hist = d.hist[max(0, len(d.hist)-MaxDistance):]
	}
	return out, nil
}

// checkRoundTrip compresses msgs in one session and checks that
// compress/flate and the exact-window reference decoder both restore
// them, and that no distance exceeds the window.
func checkRoundTrip(t *testing.T, e *Encoder, bits, level int, takeover bool, msgs [][]byte, rng *rand.Rand) {
	t.Helper()
	s := newSession(e, bits, level, takeover)
	std := &stdDecoder{takeover: takeover}
	ref := flateref.NewWindow(bits, takeover)
	for i, msg := range msgs {
		var r *rand.Rand
		if i%2 == 1 {
			r = rng
		}
		payload := s.compress(msg, r)
		got, err := std.message(payload)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("window %d, level %d, takeover %v, message %d (%d bytes): compress/flate: %v", bits, level, takeover, i, len(msg), err)
		}
		got, err = ref.Message(payload)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("window %d, level %d, takeover %v, message %d (%d bytes): reference decoder: %v", bits, level, takeover, i, len(msg), err)
		}
	}
	if ref.MaxDist > 1<<bits {
		t.Fatalf("window %d: distance %d", bits, ref.MaxDist)
	}
}

// text returns n bytes of repetitive text with random words, which the
// matcher finds matches in at every distance.
func text(rng *rand.Rand, n int) []byte {
	words := []string{"websocket", "frame", "deflate", `{"id":`, "window", ", ", "history", "\n", "0123", "message"}
	var b []byte
	for len(b) < n {
		b = append(b, words[rng.IntN(len(words))]...)
	}
	return b[:n]
}

func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// TestRoundTrip covers every window, the levels' kinds (Huffman-only,
// greedy, lazy), with and without takeover, whole and streamed messages,
// one encoder reused throughout as the pool reuses them.
func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	msgs := [][]byte{{}, {'x'}, text(rng, 1000), text(rng, 1000), randomBytes(rng, 5000),
		text(rng, 40000), append(randomBytes(rng, 3000), text(rng, 70000)...), bytes.Repeat([]byte("abcabcabd"), 3000)}
	e := NewEncoder()
	for bits := MinWindowBits; bits <= MaxWindowBits; bits++ {
		for _, level := range []int{-2, 1, 3, 6, 9} {
			for _, takeover := range []bool{false, true} {
				checkRoundTrip(t, e, bits, level, takeover, msgs, rng)
			}
		}
	}
}

// TestWindowUsed: with a repeat exactly one window back, the encoder
// reaches back the whole window and no further.
func TestWindowUsed(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, bits := range []int{MinWindowBits, 11, MaxWindowBits} {
		w := 1 << bits
		unit := randomBytes(rng, w)
		msg := append(append([]byte{}, unit...), unit...)
		s := newSession(NewEncoder(), bits, 9, false)
		ref := flateref.NewWindow(bits, false)
		got, err := ref.Message(s.compress(msg, nil))
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("window %d: %v", bits, err)
		}
		if ref.MaxDist != w {
			t.Errorf("window %d: longest distance %d, want %d", bits, ref.MaxDist, w)
		}
	}
}
