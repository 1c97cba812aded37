package websocket

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"testing"
)

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

// TestInflateBomb feeds a message that would inflate to 1 GiB from about 1
// MiB of input: it must fail with 1009 having produced exactly the limit,
// having read only a little input, and with bounded memory.
func TestInflateBomb(t *testing.T) {
	seg := bombSegment(t)
	const limit = 1 << 20
	for _, takeover := range []bool{false, true} {
		f := newInflater(deflateDirection{takeover: takeover, windowBits: 15})
		// Warm the pool so that its first allocation is not counted.
		inflateMessage(f, bytes.NewReader([]byte{0x00}), limit, 16)
		src := &repeatReader{data: seg, n: 1024}

		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f.beginMessage(src, limit)
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

		code, ok := closeCode(err)
		if !ok || code != StatusMessageTooBig || !errors.Is(err, ErrReadLimit) {
			t.Fatalf("takeover=%v: error %v, want 1009", takeover, err)
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
	d := newDeflater(deflateDirection{windowBits: 15}, DefaultCompressionLevel, 0)
	payload := d.compress(nil, msg)
	for _, piece := range []int{1, 7, 4096, 20000} {
		f := newInflater(deflateDirection{windowBits: 15})
		got, err := inflateMessage(f, bytes.NewReader(payload), int64(len(msg)), piece)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("piece %d: at the limit: %v", piece, err)
		}
		got, err = inflateMessage(f, bytes.NewReader(payload), int64(len(msg)-1), piece)
		if code, _ := closeCode(err); code != StatusMessageTooBig {
			t.Fatalf("piece %d: one over: %v", piece, err)
		}
		if !bytes.Equal(got, msg[:len(msg)-1]) {
			t.Fatalf("piece %d: one over: delivered %d bytes", piece, len(got))
		}
		if _, err := inflateMessage(f, bytes.NewReader(payload), 0, piece); err != errInflateTooBig {
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
		f := newInflater(deflateDirection{takeover: tt.takeover, windowBits: 15})
		for i, p := range tt.payloads {
			got, err := inflateMessage(f, bytes.NewReader(p), 100, 3)
			if err != nil || string(got) != "Hello" {
				t.Errorf("%s: message %d: %q, %v", tt.name, i, got, err)
			}
		}
	}
}

// TestInflateCorrupt checks that invalid payloads fail with 1007 and never
// panic or hang.
func TestInflateCorrupt(t *testing.T) {
	rng := rand.New(rand.NewPCG(32, 33))
	msg := jsonLike(rng, 5000)
	d := newDeflater(deflateDirection{takeover: true, windowBits: 15}, DefaultCompressionLevel, 0)
	good := d.compress(nil, msg)
	needsHistory := d.compress(nil, msg)
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
		f := newInflater(deflateDirection{windowBits: 15})
		_, err := inflateMessage(f, bytes.NewReader(p), 1<<20, 100)
		code, ok := closeCode(err)
		if !ok || code != StatusInvalidFramePayloadData {
			t.Errorf("%s: error %v, want 1007", name, err)
		}
		// The inflater is ready for the next message.
		got, err := inflateMessage(f, bytes.NewReader(good), 1<<20, 100)
		if err != nil || !bytes.Equal(got, msg) {
			t.Errorf("%s: next message: %v", name, err)
		}
	}
}

// TestInflateEmptyPayload accepts a compressed message with no payload
// bytes at all as an empty message: it carries no DEFLATE data to check.
func TestInflateEmptyPayload(t *testing.T) {
	f := newInflater(deflateDirection{takeover: true, windowBits: 15})
	for _, p := range [][]byte{nil, {0x00}} {
		got, err := inflateMessage(f, bytes.NewReader(p), 10, 10)
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
	d := newDeflater(deflateDirection{windowBits: 15}, DefaultCompressionLevel, 0)
	good := d.compress(nil, jsonLike(rng, 5000))
	boom := errors.New("connection reset")
	f := newInflater(deflateDirection{windowBits: 15})
	_, err := inflateMessage(f, &errSource{data: good[:100], err: boom}, 1<<20, 1000)
	if err != boom {
		t.Fatalf("got %v, want the source's error", err)
	}
	_, err = inflateMessage(f, &errSource{data: good[:100], err: io.ErrUnexpectedEOF}, 1<<20, 1000)
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
	}
	// A reader that returns nothing forever is cut off.
	_, err = inflateMessage(f, &errSource{err: nil}, 1<<20, 1000)
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
		dir := deflateDirection{takeover: takeover, windowBits: 15}
		d := newDeflater(dir, 6, 0)
		first, second := d.compress(nil, msg), d.compress(nil, msg)
		f := newInflater(dir)
		src := bytes.NewReader(first)
		f.beginMessage(src, 1<<20)
		buf := make([]byte, 100)
		if _, err := io.ReadFull(f, buf); err != nil {
			t.Fatal(err)
		}
		if err := f.discardMessage(); err != nil {
			t.Fatalf("takeover=%v: discard: %v", takeover, err)
		}
		if src.Len() != 0 {
			t.Fatalf("takeover=%v: %d payload bytes left unread", takeover, src.Len())
		}
		got, err := inflateMessage(f, bytes.NewReader(second), 1<<20, 4096)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("takeover=%v: next message: %v", takeover, err)
		}
	}
	// Discarding still enforces the limit.
	f := newInflater(deflateDirection{takeover: true, windowBits: 15})
	f.beginMessage(&repeatReader{data: bombSegment(t), n: 64}, 1<<20)
	if err := f.discardMessage(); err != errInflateTooBig {
		t.Fatalf("discarding a bomb: %v", err)
	}
}

// TestInflateWindow8 decodes a peer that negotiated 8 bits but compresses
// with 9, as zlib does: the history we keep covers 9 bits.
func TestInflateWindow8(t *testing.T) {
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

// TestInflateStdlibWriterTakeover decodes the messages of a peer that
// keeps one compress/flate Writer for the connection and flushes it per
// message, the way zlib-based peers implement context takeover.
func TestInflateStdlibWriterTakeover(t *testing.T) {
	rng := rand.New(rand.NewPCG(40, 41))
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, 6)
	f := newInflater(deflateDirection{takeover: true, windowBits: 15})
	total := 0
	for i := range 60 {
		msg := jsonLike(rng, 200+rng.IntN(4000))
		if i%10 == 9 {
			msg = randomBytes(rng, 3000)
		}
		buf.Reset()
		w.Write(msg)
		w.Flush()
		payload := bytes.TrimSuffix(buf.Bytes(), []byte{0x00, 0x00, 0xff, 0xff})
		total += len(payload)
		got, err := inflateMessage(f, &pieceReader{data: payload, rng: rng, max: 300}, 1<<20, 700)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if len(f.hist) != f.histSize {
		t.Errorf("history %d bytes, want %d", len(f.hist), f.histSize)
	}
}
