package websocket

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/rfc6455/websocket/internal/flateref"
	"github.com/rfc6455/websocket/internal/wstest"
)

// jsonLike returns about n bytes of JSON records with repeated keys and
// varying values, the typical payload of a WebSocket API.
func jsonLike(rng *rand.Rand, n int) []byte {
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"}
	b := make([]byte, 0, n+256)
	b = append(b, '[')
	for len(b) < n {
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, rng.Int64N(1e9), 10)
		b = append(b, `,"user":"`...)
		b = append(b, words[rng.IntN(len(words))]...)
		b = append(b, `","price":`...)
		b = strconv.AppendFloat(b, rng.Float64()*1000, 'f', 2, 64)
		b = append(b, `,"tags":["`...)
		b = append(b, words[rng.IntN(len(words))]...)
		b = append(b, `","`...)
		b = append(b, words[rng.IntN(len(words))]...)
		b = append(b, `"],"active":`...)
		b = strconv.AppendBool(b, rng.IntN(2) == 0)
		b = append(b, '}')
	}
	b = append(b[:n-1], ']')
	return b
}

// randomBytes returns n incompressible bytes.
func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// streamCompress compresses msg through the streaming API, writing it in
// pieces of random sizes, and returns the payload.
func streamCompress(d *deflater, msg []byte, rng *rand.Rand) []byte {
	var out bytes.Buffer
	d.beginMessage(&out)
	for len(msg) > 0 {
		n := min(len(msg), 1+rng.IntN(40000))
		if _, err := d.Write(msg[:n]); err != nil {
			panic(err)
		}
		msg = msg[n:]
	}
	if err := d.endMessage(); err != nil {
		panic(err)
	}
	return out.Bytes()
}

// messageSet returns a sequence of messages of the sizes and kinds the
// round trips cover; similar messages follow each other, so that context
// takeover has something to find.
func messageSet(rng *rand.Rand, big bool) [][]byte {
	msgs := [][]byte{
		{},
		{'x'},
		jsonLike(rng, 1024),
		jsonLike(rng, 1024),
		randomBytes(rng, 5000),
		jsonLike(rng, 40000),
		append(randomBytes(rng, 3000), jsonLike(rng, 70000)...),
		bytes.Repeat([]byte("abcabcabd"), 3000),
	}
	if big {
		msgs = append(msgs, jsonLike(rng, 4<<20), randomBytes(rng, 4<<20))
	}
	return msgs
}

// refDecodeMax is the largest message the bit-at-a-time reference decoder
// checks; it is slow under the race detector.
const refDecodeMax = 1 << 20

// roundTrip sends msgs through a deflater for dir and checks that both our
// inflater (compress/flate) and the exact-window reference decoder
// restore them. It returns the total compressed size.
func roundTrip(t *testing.T, dir deflateDirection, level int, msgs [][]byte, seed uint64) int {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	d := newDeflater(dir, level, 0)
	f := newInflater(dir)
	ref := flateref.NewWindow(dir.windowBits, dir.takeover)
	total := 0
	for i, msg := range msgs {
		var payload []byte
		if i%2 == 0 {
			payload = d.compress(nil, msg)
		} else {
			payload = streamCompress(d, msg, rng)
		}
		total += len(payload)
		got, err := wstest.InflateInPieces(f, wstest.Pieces(payload, rng, 1+rng.IntN(9000)), -1, 1+rng.IntN(20000))
		if err != nil {
			t.Fatalf("message %d (%d bytes): inflate: %v", i, len(msg), err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("message %d (%d bytes): inflated %d bytes that differ", i, len(msg), len(got))
		}
		if len(msg) > refDecodeMax {
			ref.Skip(msg)
			continue
		}
		got, err = ref.Message(payload)
		if err != nil {
			t.Fatalf("message %d (%d bytes): window-%d decoder: %v", i, len(msg), dir.windowBits, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("message %d (%d bytes): window-%d decoder: output differs", i, len(msg), dir.windowBits)
		}
	}
	if ref.MaxDist > 1<<dir.windowBits {
		t.Fatalf("distance %d beyond window %d", ref.MaxDist, 1<<dir.windowBits)
	}
	return total
}

func TestDeflateRoundTripWindows(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	msgs := messageSet(rng, false)
	for bits := minWindowBits; bits <= maxWindowBits; bits++ {
		for _, takeover := range []bool{false, true} {
			t.Run(fmt.Sprintf("bits=%d/takeover=%v", bits, takeover), func(t *testing.T) {
				roundTrip(t, deflateDirection{takeover: takeover, windowBits: bits}, DefaultCompressionLevel, msgs, uint64(bits))
			})
		}
	}
}

func TestDeflateRoundTripLevels(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	msgs := messageSet(rng, false)
	levels := []int{-2, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	if deflateRaceBuild {
		levels = []int{-2, 1, 4, 9}
	}
	for _, level := range levels {
		for _, bits := range []int{9, 15} {
			for _, takeover := range []bool{false, true} {
				t.Run(fmt.Sprintf("level=%d/bits=%d/takeover=%v", level, bits, takeover), func(t *testing.T) {
					roundTrip(t, deflateDirection{takeover: takeover, windowBits: bits}, level, msgs, uint64(level+10))
				})
			}
		}
	}
}

func TestDeflateRoundTripLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	msgs := [][]byte{jsonLike(rng, 4<<20), randomBytes(rng, 4<<20)}
	windows := []int{9, 15}
	if deflateRaceBuild {
		msgs, windows = msgs[:1], windows[1:]
	}
	for _, bits := range windows {
		t.Run(fmt.Sprintf("bits=%d", bits), func(t *testing.T) {
			roundTrip(t, deflateDirection{takeover: true, windowBits: bits}, DefaultCompressionLevel, msgs, 7)
		})
	}
}

// TestDeflateWindowLimit feeds data whose repeats sit exactly at the window
// size and one byte beyond it: a compressor that ignored the window would
// emit distances the exact-window decoder rejects, and one that honours it
// reaches exactly the window.
func TestDeflateWindowLimit(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	for bits := minWindowBits; bits <= maxWindowBits; bits++ {
		t.Run(strconv.Itoa(bits), func(t *testing.T) {
			w := 1 << bits
			block := randomBytes(rng, w)
			atWindow := bytes.Repeat(block, 3)
			beyond := append(randomBytes(rng, 1), block...)
			beyond = bytes.Repeat(beyond, 3)
			for _, takeover := range []bool{false, true} {
				dir := deflateDirection{takeover: takeover, windowBits: bits}
				d := newDeflater(dir, 9, 0)
				ref := flateref.NewWindow(bits, takeover)
				for _, msg := range [][]byte{atWindow, beyond, block[:w/2], block[w/2:]} {
					payload := d.compress(nil, msg)
					got, err := ref.Message(payload)
					if err != nil {
						t.Fatalf("takeover=%v: %v", takeover, err)
					}
					if !bytes.Equal(got, msg) {
						t.Fatalf("takeover=%v: output differs", takeover)
					}
				}
				if ref.MaxDist != w {
					t.Errorf("takeover=%v: longest distance %d, want exactly the window %d", takeover, ref.MaxDist, w)
				}
			}
		})
	}
}

// TestDeflateContextTakeover checks that history carries over only when
// negotiated: a repeated message shrinks to a back-reference with takeover,
// and compresses as well as the first time without.
func TestDeflateContextTakeover(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 11))
	msg := jsonLike(rng, 2000)
	for _, takeover := range []bool{false, true} {
		d := newDeflater(deflateDirection{takeover: takeover, windowBits: 15}, DefaultCompressionLevel, 0)
		first := d.compress(nil, msg)
		second := d.compress(nil, msg)
		if takeover {
			if len(second) > len(first)/10 {
				t.Errorf("takeover: repeat compressed to %d bytes, want a few (first was %d)", len(second), len(first))
			}
			if want := min(2*len(msg), d.histLimit()); len(d.hist) != want {
				t.Errorf("takeover: history %d bytes, want %d", len(d.hist), want)
			}
		} else {
			if !bytes.Equal(first, second) {
				t.Errorf("no takeover: repeat compressed differently (%d then %d bytes)", len(first), len(second))
			}
			if d.hist != nil {
				t.Errorf("no takeover: %d bytes of history kept", len(d.hist))
			}
		}
	}
}

// TestDeflateEmptyMessage pins RFC 7692 §7.2.3.6: an empty message
// compresses to the single byte of an empty stored block's header.
func TestDeflateEmptyMessage(t *testing.T) {
	d := newDeflater(deflateDirection{windowBits: 15}, DefaultCompressionLevel, 0)
	if got := d.compress(nil, nil); !bytes.Equal(got, []byte{0x00}) {
		t.Fatalf("empty message compressed to % x, want 00", got)
	}
}

// TestDeflateHelloExamples checks RFC 7692 §7.2.3.1's "Hello" example
// decodes, and that ours decodes to the same text.
func TestDeflateHelloExample(t *testing.T) {
	f := newInflater(deflateDirection{windowBits: 15})
	got, err := wstest.InflateInPieces(f, bytes.NewReader([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), -1, 64)
	if err != nil || string(got) != "Hello" {
		t.Fatalf("RFC example: %q, %v", got, err)
	}
	d := newDeflater(deflateDirection{windowBits: 15}, DefaultCompressionLevel, 0)
	got, err = wstest.InflateInPieces(f, bytes.NewReader(d.compress(nil, []byte("Hello"))), -1, 64)
	if err != nil || string(got) != "Hello" {
		t.Fatalf("ours: %q, %v", got, err)
	}
}

// TestDeflateStdlibReader decodes a whole takeover stream of our messages
// with one compress/flate reader, as a peer built on zlib keeps one
// inflate stream per connection.
func TestDeflateStdlibReader(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 13))
	d := newDeflater(deflateDirection{takeover: true, windowBits: 15}, 6, 0)
	var stream []byte
	var want []byte
	for range 20 {
		msg := jsonLike(rng, 300+rng.IntN(3000))
		stream = d.compress(stream, msg)
		stream = append(stream, 0x00, 0x00, 0xff, 0xff) // RFC 7692 §7.2.2
		want = append(want, msg...)
	}
	r := flate.NewReader(bytes.NewReader(stream))
	got, err := io.ReadAll(r)
	if err != io.ErrUnexpectedEOF { // the stream has no final block
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("output differs")
	}
}

// TestDeflatePreparedMessage checks the broadcast path: a message
// compressed once without context can be sent on a takeover connection,
// provided that connection's history records it.
func TestDeflatePreparedMessage(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 15))
	dir := deflateDirection{takeover: true, windowBits: 12}
	d := newDeflater(dir, DefaultCompressionLevel, 0)
	f := newInflater(dir)
	prepared := jsonLike(rng, 3000)
	payload := compressMessage(nil, prepared, 10, DefaultCompressionLevel)
	for i := range 4 {
		msg := jsonLike(rng, 1500)
		var p []byte
		if i%2 == 1 {
			msg, p = prepared, payload
			d.addHistory(msg)
		} else {
			p = d.compress(nil, msg)
		}
		got, err := wstest.InflateInPieces(f, bytes.NewReader(p), -1, 4096)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	// The next message refers back into the prepared one.
	p := d.compress(nil, prepared[:1000])
	if len(p) > 50 {
		t.Errorf("repeat of prepared bytes compressed to %d bytes: history missed them", len(p))
	}
	if got, err := wstest.InflateInPieces(f, bytes.NewReader(p), -1, 4096); err != nil || !bytes.Equal(got, prepared[:1000]) {
		t.Fatalf("after prepared: %v", err)
	}
}

// failWriter accepts n bytes, then fails.
type failWriter struct{ n int }

var errFailWriter = errors.New("write failed")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, errFailWriter
	}
	w.n -= len(p)
	return len(p), nil
}

// TestDeflateStreamWriteError checks that a failing destination ends the
// streamed message with its error, returns the encoder, and leaves the
// deflater usable for a new message.
func TestDeflateStreamWriteError(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 17))
	d := newDeflater(deflateDirection{windowBits: 15}, DefaultCompressionLevel, 0)
	d.beginMessage(&failWriter{n: 10})
	var err error
	for range 10 {
		if _, err = d.Write(randomBytes(rng, 20000)); err != nil {
			break
		}
	}
	if err != errFailWriter {
		t.Fatalf("write: %v, want the destination's error", err)
	}
	if d.enc != nil {
		t.Fatal("encoder kept after a failed write")
	}
	if err := d.endMessage(); err != errFailWriter {
		t.Fatalf("end: %v, want the destination's error", err)
	}
	if _, err := d.Write([]byte("x")); err != errFailWriter {
		t.Fatalf("write after failure: %v", err)
	}
	// A new message starts clean.
	msg := jsonLike(rng, 3000)
	p := streamCompress(d, msg, rng)
	got, err := wstest.InflateInPieces(newInflater(deflateDirection{windowBits: 15}), bytes.NewReader(p), -1, 100)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("next message: %v", err)
	}
	// Outside a message, writes are refused.
	if _, err := d.Write([]byte("x")); err != errNoMessage {
		t.Fatalf("write outside a message: %v", err)
	}
	if err := d.endMessage(); err != errNoMessage {
		t.Fatalf("end outside a message: %v", err)
	}
}

// TestDeflateThreshold checks the size below which messages go out
// uncompressed.
func TestDeflateThreshold(t *testing.T) {
	for _, tt := range []struct {
		opts CompressionOptions
		n    int
		want bool
	}{
		{CompressionOptions{}, DefaultCompressionThreshold - 1, false},
		{CompressionOptions{}, DefaultCompressionThreshold, true},
		{CompressionOptions{Threshold: 10}, 9, false},
		{CompressionOptions{Threshold: 10}, 10, true},
		{CompressionOptions{Threshold: -1}, 0, true},
	} {
		d := newDeflater(deflateDirection{windowBits: 15}, tt.opts.level(), tt.opts.threshold())
		if got := d.worthCompressing(tt.n); got != tt.want {
			t.Errorf("threshold %d, %d bytes: %v", tt.opts.Threshold, tt.n, got)
		}
	}
}
