package inflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"testing"

	"github.com/rfc6455/websocket/internal/deflate"
	"github.com/rfc6455/websocket/internal/leakcheck"
	"github.com/rfc6455/websocket/internal/wstest"
)

// TestMain fails the run when a test leaves goroutines behind.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// compressor compresses messages as a peer's direction does, with the
// module's encoder: a window of bits and, with takeover, the history of
// the messages before.
type compressor struct {
	e        *deflate.Encoder
	bits     int
	takeover bool
	hist     []byte
}

func newCompressor(bits int, takeover bool) *compressor {
	return &compressor{e: deflate.NewEncoder(), bits: bits, takeover: takeover}
}

// compress returns msg's payload: DEFLATE data without the four octets RFC
// 7692 §7.2.1 removes.
func (c *compressor) compress(msg []byte) []byte {
	var hist []byte
	if c.takeover {
		hist = c.hist
	}
	c.e.Reset(c.bits, deflate.LevelFor(6), hist)
	c.e.SetOut(nil)
	c.e.Add(msg)
	c.e.Finish()
	out := c.e.Out()
	if c.takeover {
		c.hist = append(c.hist[:0], c.e.History()...)
	}
	c.e.Release()
	return out
}

// jsonLike returns about n bytes of JSON records with repeated keys and
// varying values.
func jsonLike(rng *rand.Rand, n int) []byte {
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"}
	b := make([]byte, 0, n+256)
	for len(b) < n {
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, rng.Int64N(1e9), 10)
		b = append(b, `,"user":"`...)
		b = append(b, words[rng.IntN(len(words))]...)
		b = append(b, `"},`...)
	}
	return b[:n]
}

// repeatReader yields data n times over without holding the copies, and
// counts the bytes it handed out.
type repeatReader struct {
	data []byte
	n    int
	off  int
	read int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := copy(p, r.data[r.off:])
	r.off += k
	r.read += int64(k)
	if r.off == len(r.data) {
		r.off = 0
		r.n--
	}
	return k, nil
}

// TestInflateBomb feeds a message that would inflate to 1 GiB from about 1
// MiB of input: it must fail with 1009 having produced exactly the limit,
// having read only a little input, and with bounded memory.
func TestInflateBomb(t *testing.T) {
	seg := wstest.BombSegment()
	const limit = 1 << 20
	for _, takeover := range []bool{false, true} {
		f := New(takeover, 1<<15)
		// Warm the pool so that its first allocation is not counted.
		wstest.InflateInPieces(f, bytes.NewReader([]byte{0x00}), limit, 16)
		src := &repeatReader{data: seg, n: 1024}

		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f.Begin(src, limit)
		var produced int64
		buf := make([]byte, 32<<10)
		var err error
		for range 1 << 20 {
			var n int
			n, err = f.Read(buf)
			produced += int64(n)
			if err != nil {
				break
			}
		}
		runtime.ReadMemStats(&after)

		if err != ErrTooBig {
			t.Fatalf("takeover=%v: error %v, want ErrTooBig", takeover, err)
		}
		if produced != limit {
			t.Errorf("takeover=%v: produced %d bytes, want exactly the limit %d", takeover, produced, limit)
		}
		if src.read > 16<<10 {
			t.Errorf("takeover=%v: read %d compressed bytes for %d out", takeover, src.read, produced)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 256<<10 {
			t.Errorf("takeover=%v: allocated %d bytes", takeover, alloc)
		}
		// The error is sticky for the message.
		if _, err2 := f.Read(buf); err2 != err {
			t.Errorf("takeover=%v: second read %v", takeover, err2)
		}
	}
}

// TestInflateLimitExact checks the boundary: a message of exactly the limit
// passes, one byte more fails after delivering the limit.
func TestInflateLimitExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(30, 31))
	msg := jsonLike(rng, 10000)
	payload := newCompressor(15, false).compress(msg)
	for _, piece := range []int{1, 7, 4096, 20000} {
		f := New(false, 1<<15)
		got, err := wstest.InflateInPieces(f, bytes.NewReader(payload), int64(len(msg)), piece)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("piece %d: at the limit: %v", piece, err)
		}
		got, err = wstest.InflateInPieces(f, bytes.NewReader(payload), int64(len(msg)-1), piece)
		if err != ErrTooBig {
			t.Fatalf("piece %d: one over: %v", piece, err)
		}
		if !bytes.Equal(got, msg[:len(msg)-1]) {
			t.Fatalf("piece %d: one over: delivered %d bytes", piece, len(got))
		}
		if _, err := wstest.InflateInPieces(f, bytes.NewReader(payload), 0, piece); err != ErrTooBig {
			t.Fatalf("piece %d: limit 0: %v", piece, err)
		}
	}
}

// TestInflateRFCExamples decodes the payloads of RFC 7692 §7.2.3.
func TestInflateRFCExamples(t *testing.T) {
	tests := []struct {
		name     string
		payloads [][]byte
		takeover bool
	}{
		{"7.2.3.1 one block", [][]byte{{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}}, false},
		{"7.2.3.2 sharing the window", [][]byte{{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, {0xf2, 0x00, 0x11, 0x00, 0x01, 0x00}}, true},
		{"7.2.3.3 no compression", [][]byte{{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}}, false},
		{"7.2.3.4 BFINAL set", [][]byte{{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}}, false},
		{"7.2.3.5 two blocks", [][]byte{{0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}}, false},
	}
	for _, tt := range tests {
		f := New(tt.takeover, 1<<15)
		for i, p := range tt.payloads {
			got, err := wstest.InflateInPieces(f, bytes.NewReader(p), 100, 3)
			if err != nil || string(got) != "Hello" {
				t.Errorf("%s: message %d: %q, %v", tt.name, i, got, err)
			}
		}
	}
}

// TestInflateCorrupt checks that invalid payloads fail with ErrCorrupt and
// never panic or hang.
func TestInflateCorrupt(t *testing.T) {
	rng := rand.New(rand.NewPCG(32, 33))
	msg := jsonLike(rng, 5000)
	d := newCompressor(15, true)
	good := d.compress(msg)
	needsHistory := d.compress(msg)
	tests := map[string][]byte{
		"reserved block type":      {0x06, 0x00},
		"stored LEN/NLEN mismatch": {0x00, 0x05, 0x00, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o'},
		"truncated in a block":     good[:len(good)/2],
		"one byte short":           good[:len(good)-1],
		"distance before start":    needsHistory,
		"garbage":                  {0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"oversubscribed code":      {0x04, 0xff, 0xff, 0xff, 0xff},
	}
	for name, p := range tests {
		f := New(false, 1<<15)
		_, err := wstest.InflateInPieces(f, bytes.NewReader(p), 1<<20, 100)
		if err != ErrCorrupt {
			t.Errorf("%s: error %v, want ErrCorrupt", name, err)
		}
		// The inflater is ready for the next message.
		got, err := wstest.InflateInPieces(f, bytes.NewReader(good), 1<<20, 100)
		if err != nil || !bytes.Equal(got, msg) {
			t.Errorf("%s: next message: %v", name, err)
		}
	}
}

// TestInflateEmptyPayload accepts a compressed message with no payload
// bytes at all as an empty message: it carries no DEFLATE data to check.
func TestInflateEmptyPayload(t *testing.T) {
	f := New(true, 1<<15)
	for _, p := range [][]byte{nil, {0x00}} {
		got, err := wstest.InflateInPieces(f, bytes.NewReader(p), 10, 10)
		if err != nil || len(got) != 0 {
			t.Errorf("% x: %q, %v", p, got, err)
		}
	}
}

// errSource fails with err after yielding data.
type errSource struct {
	data []byte
	err  error
}

func (s *errSource) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, s.err
	}
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

// TestInflateSourceError passes an error of the payload reader (a broken
// connection, a frame error found by the connection) through unchanged,
// not as corrupt data.
func TestInflateSourceError(t *testing.T) {
	rng := rand.New(rand.NewPCG(34, 35))
	good := newCompressor(15, false).compress(jsonLike(rng, 5000))
	boom := errors.New("connection reset")
	f := New(false, 1<<15)
	_, err := wstest.InflateInPieces(f, &errSource{data: good[:100], err: boom}, 1<<20, 1000)
	if err != boom {
		t.Fatalf("got %v, want the source's error", err)
	}
	_, err = wstest.InflateInPieces(f, &errSource{data: good[:100], err: io.ErrUnexpectedEOF}, 1<<20, 1000)
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
	}
	// A reader that returns nothing forever is cut off.
	_, err = wstest.InflateInPieces(f, &errSource{err: nil}, 1<<20, 1000)
	if err != errNoProgress {
		t.Fatalf("got %v, want errNoProgress", err)
	}
}

// TestInflateDiscard abandons messages half read: with takeover the rest
// is still decompressed into the history, so the next message, which refers
// to it, decodes; without, the compressed rest is drained unread.
func TestInflateDiscard(t *testing.T) {
	rng := rand.New(rand.NewPCG(36, 37))
	msg := jsonLike(rng, 20000)
	for _, takeover := range []bool{false, true} {
		d := newCompressor(15, takeover)
		first, second := d.compress(msg), d.compress(msg)
		f := New(takeover, 1<<15)
		src := bytes.NewReader(first)
		f.Begin(src, 1<<20)
		buf := make([]byte, 100)
		if _, err := io.ReadFull(f, buf); err != nil {
			t.Fatal(err)
		}
		if err := f.Discard(); err != nil {
			t.Fatalf("takeover=%v: discard: %v", takeover, err)
		}
		if src.Len() != 0 {
			t.Fatalf("takeover=%v: %d payload bytes left unread", takeover, src.Len())
		}
		got, err := wstest.InflateInPieces(f, bytes.NewReader(second), 1<<20, 4096)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("takeover=%v: next message: %v", takeover, err)
		}
	}
	// Discarding still enforces the limit.
	f := New(true, 1<<15)
	f.Begin(&repeatReader{data: wstest.BombSegment(), n: 64}, 1<<20)
	if err := f.Discard(); err != ErrTooBig {
		t.Fatalf("discarding a bomb: %v", err)
	}
}

// TestInflateWindow9 decodes a peer that compresses with a 512-byte window
// and context takeover, keeping a history of that size.
func TestInflateWindow9(t *testing.T) {
	rng := rand.New(rand.NewPCG(38, 39))
	d := newCompressor(9, true)
	f := New(true, 1<<9)
	for i := range 20 {
		msg := jsonLike(rng, 100+rng.IntN(400))
		got, err := wstest.InflateInPieces(f, bytes.NewReader(d.compress(msg)), 1<<20, 64)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
}

// TestInflateStdlibWriterTakeover decodes the messages of a peer that
// keeps one compress/flate Writer for the connection and flushes it per
// message, the way zlib-based peers implement context takeover.
func TestInflateStdlibWriterTakeover(t *testing.T) {
	rng := rand.New(rand.NewPCG(40, 41))
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, 6)
	f := New(true, 1<<15)
	total := 0
	for i := range 60 {
		msg := jsonLike(rng, 200+rng.IntN(4000))
		if i%10 == 9 {
			msg = make([]byte, 3000)
			for j := range msg {
				msg[j] = byte(rng.Uint32())
			}
		}
		buf.Reset()
		w.Write(msg)
		w.Flush()
		payload := bytes.TrimSuffix(buf.Bytes(), []byte{0x00, 0x00, 0xff, 0xff})
		total += len(payload)
		got, err := wstest.InflateInPieces(f, wstest.Pieces(payload, rng, 300), 1<<20, 700)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if len(f.hist) != f.histSize {
		t.Errorf("history %d bytes, want %d", len(f.hist), f.histSize)
	}
}

// TestInflateMeasure measures a message without keeping it or its history,
// then inflates it again from the start; Skip then finds nothing more, and
// the history is the message's, so the next message, which refers to it,
// decodes. A bomb is measured up to the limit only.
func TestInflateMeasure(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 43))
	msg := jsonLike(rng, 50000)
	d := newCompressor(15, true)
	first, second := d.compress(msg), d.compress(msg)
	f := New(true, 1<<15)
	f.Begin(bytes.NewReader(first), 1<<20)
	if n, err := f.Measure(); err != nil || n != int64(len(msg)) {
		t.Fatalf("Measure: %d, %v; want %d", n, err, len(msg))
	}
	if f.hist != nil {
		t.Fatalf("a measuring pass kept %d bytes of history", len(f.hist))
	}
	f.Begin(bytes.NewReader(first), 1<<20)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(f, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("second pass: %v", err)
	}
	if n, err := f.Skip(); n != 0 || err != nil {
		t.Fatalf("Skip after the whole message: %d, %v", n, err)
	}
	if got, err := wstest.InflateInPieces(f, bytes.NewReader(second), 1<<20, 4096); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("next message: %v", err)
	}
	f.Begin(&repeatReader{data: wstest.BombSegment(), n: 64}, 1<<20)
	if n, err := f.Measure(); err != ErrTooBig || n != 1<<20 {
		t.Fatalf("Measure of a bomb: %d, %v; want the limit and ErrTooBig", n, err)
	}
}
