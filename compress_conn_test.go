package websocket

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/flateref"
	"github.com/rfc6455/websocket/internal/wstest"
)

// pmdConfig is the negotiated permessage-deflate of a Conn under test.
func pmdConfig(writeTakeover, readTakeover bool, writeBits, readBits int) *deflateConfig {
	return &deflateConfig{
		write: deflateDirection{takeover: writeTakeover, windowBits: writeBits},
		read:  deflateDirection{takeover: readTakeover, windowBits: readBits},
		level: DefaultCompressionLevel,
	}
}

// withPMD sets cfg's negotiated compression.
func withPMD(d *deflateConfig) func(cfg *connConfig) {
	return func(cfg *connConfig) { cfg.deflate = d }
}

// stdCompressor is a peer's compressor built on compress/flate: one Writer
// across messages keeps its window, as context takeover allows.
type stdCompressor struct {
	buf bytes.Buffer
	fw  *flate.Writer
}

func newStdCompressor(dict []byte) *stdCompressor {
	s := new(stdCompressor)
	s.fw, _ = flate.NewWriterDict(&s.buf, flate.BestSpeed, dict)
	return s
}

// message returns msg compressed as RFC 7692 §7.2.1 sends it.
func (s *stdCompressor) message(msg []byte) []byte {
	s.buf.Reset()
	s.fw.Write(msg)
	s.fw.Flush()
	return bytes.Clone(bytes.TrimSuffix(s.buf.Bytes(), []byte{0, 0, 0xff, 0xff}))
}

// readMessage reads one whole message from the Conn under test: the first
// frame's header and the payload of all its frames.
func (p *rawPeer) readMessage() (frameHeader, []byte, int) {
	p.t.Helper()
	p.rsv = rsv1Bit
	var first frameHeader
	var payload []byte
	for frames := 1; frames < 1<<20; frames++ {
		h, b, err := p.readFrame()
		if err != nil {
			p.t.Fatalf("raw peer: reading a message: %v", err)
		}
		if h.opcode.isControl() {
			frames--
			continue
		}
		if frames == 1 {
			first = h
		} else if h.rsv != 0 {
			p.t.Fatalf("raw peer: RSV bits %#x on fragment %d", h.rsv, frames)
		}
		payload = append(payload, b...)
		if h.fin {
			return first, payload, frames
		}
	}
	p.t.Fatal("raw peer: endless message")
	return first, nil, 0
}

// TestDeflateConnRSV1Rules checks that RSV1 without the extension, or on a
// control or continuation frame with it, fails the connection with 1002.
func TestDeflateConnRSV1Rules(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pmd    *deflateConfig
		frames [][]byte
	}{
		{"not negotiated", nil, [][]byte{encodeFrame(true, true, rsv1Bit, opText, []byte{0x4a, 0x04, 0x00})}},
		{"on a continuation", pmdConfig(true, true, 15, 15), [][]byte{
			encodeFrame(true, false, rsv1Bit, opText, []byte{0x4a, 0x04, 0x00}),
			encodeFrame(true, true, rsv1Bit, opContinuation, []byte{0x00}),
		}},
		{"on a ping", pmdConfig(true, true, 15, 15), [][]byte{encodeFrame(true, true, rsv1Bit, opPing, nil)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, peer := serverWithRawClient(t, withPMD(tc.pmd))
			for _, f := range tc.frames {
				peer.write(f)
			}
			_, _, err := c.ReadMessage()
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("ReadMessage: %v, want ErrProtocol", err)
			}
			peer.expectClose(StatusProtocolError)
		})
	}
}

// readOne reads one message the way how says: "whole" with ReadMessage,
// "stream" with NextReader.
func readOne(c *Conn, how string) (MessageType, []byte, error) {
	if how == "whole" {
		return c.ReadMessage()
	}
	typ, r, err := c.NextReader()
	if err != nil {
		return 0, nil, err
	}
	b, err := io.ReadAll(r)
	return typ, b, err
}

// TestDeflateConnBadData checks the 1007 failures of compressed messages:
// corrupt DEFLATE data, which is ErrInvalidPayload and not ErrInvalidUTF8,
// and text that is not UTF-8 once inflated.
func TestDeflateConnBadData(t *testing.T) {
	std := newStdCompressor(nil)
	notUTF8 := std.message([]byte("caf\xc3 au lait"))
	for _, how := range []string{"whole", "stream"} {
		for _, tc := range []struct {
			name    string
			op      opcode
			payload []byte
			utf8    bool
		}{
			{"reserved block type", opBinary, []byte{0xff, 0xff, 0xff, 0xff}, false},
			{"stored length mismatch", opBinary, []byte{0x00, 0x05, 0x00, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o'}, false},
			{"cut inside a block", opText, newStdCompressor(nil).message(bytes.Repeat([]byte("abc"), 100))[:7], false},
			{"text not UTF-8", opText, notUTF8, true},
		} {
			t.Run(how+"/"+tc.name, func(t *testing.T) {
				c, peer := serverWithRawClient(t, withPMD(pmdConfig(true, true, 15, 15)))
				peer.write(encodeFrame(true, true, rsv1Bit, tc.op, tc.payload))
				_, _, err := readOne(c, how)
				if !errors.Is(err, ErrInvalidPayload) || errors.Is(err, ErrInvalidUTF8) != tc.utf8 {
					t.Fatalf("read: %v, want ErrInvalidPayload, ErrInvalidUTF8 %v", err, tc.utf8)
				}
				peer.expectClose(StatusInvalidFramePayloadData)
			})
		}
	}
}

// TestDeflateConnBomb sends a message of a few KiB that inflates to 256
// MiB: the read fails with 1009 having handed out no more than the limit,
// and, streamed, having read little of what the peer sent.
func TestDeflateConnBomb(t *testing.T) {
	seg := wstest.BombSegment()
	const limit = 1 << 20
	for _, how := range []string{"whole", "stream"} {
		t.Run(how, func(t *testing.T) {
			c, peer := serverWithRawClient(t, func(cfg *connConfig) {
				cfg.deflate = pmdConfig(true, true, 15, 15)
				cfg.readLimit = limit
			})
			const segments = 256
			var wire bytes.Buffer
			for i := range segments {
				rsv, op := byte(0), opContinuation
				if i == 0 {
					rsv, op = rsv1Bit, opBinary
				}
				wire.Write(encodeFrame(true, i == segments-1, rsv, op, seg))
			}
			go peer.conn.Write(wire.Bytes()) // fails once the Conn closes, which is fine
			var got int64
			var err error
			if how == "whole" {
				var msg []byte
				_, msg, err = c.ReadMessage()
				got = int64(len(msg))
			} else {
				var r io.Reader
				if _, r, err = c.NextReader(); err == nil {
					got, err = io.Copy(io.Discard, r)
				}
			}
			if !errors.Is(err, ErrReadLimit) {
				t.Fatalf("read: %v, want ErrReadLimit", err)
			}
			if got > limit {
				t.Fatalf("%d bytes handed out, limit %d", got, limit)
			}
			peer.expectClose(StatusMessageTooBig)
			if how == "stream" && peer.taken() > 4*len(seg)+2*defaultReadBufferSize {
				t.Fatalf("read %d bytes of the peer's %d, for a limit of 1 MiB (%d bytes per MiB)", peer.taken(), wire.Len(), len(seg))
			}
			t.Logf("%s: %d of %d bytes read from the wire", how, peer.taken(), wire.Len())
		})
	}
}

// TestDeflateConnWindowBits has a Conn compress with each window the peer
// may ask for (RFC 7692 §7.1.2), with context takeover, and decodes what it
// sends with a reference decoder whose window is exactly that size: a
// back-reference beyond it fails the test.
func TestDeflateConnWindowBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	base := jsonLike(rng, 40000)
	for bits := minWindowBits; bits <= maxWindowBits; bits++ {
		for _, level := range []int{1, 9} {
			c, peer := clientWithRawServer(t, func(cfg *connConfig) {
				cfg.deflate = pmdConfig(true, true, bits, 15)
				cfg.deflate.level = level
				cfg.writeBufferSize = 5000
			})
			ref := flateref.NewWindow(bits, true)
			msgs := [][]byte{base, base[:3000], base[100:9000], jsonLike(rng, 600), base}
			for i, msg := range msgs {
				how := "whole"
				if i%2 == 1 {
					how = "writer"
				}
				if err := send(c, TextMessage, msg, how); err != nil {
					t.Fatal(err)
				}
				h, payload, _ := peer.readMessage()
				if h.rsv != rsv1Bit {
					t.Fatalf("bits %d level %d message %d: RSV %#x, want RSV1", bits, level, i, h.rsv)
				}
				got, err := ref.Message(payload)
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("bits %d level %d message %d (%s): reference decoder with a %d-byte window: %v (%d of %d bytes)", bits, level, i, how, 1<<bits, err, len(got), len(msg))
				}
			}
			if ref.MaxDist > 1<<bits {
				t.Fatalf("bits %d: distance %d", bits, ref.MaxDist)
			}
			c.CloseNow()
		}
	}
}

// TestDeflateConnUncompressedOutOfHistory checks RFC 7692 §7.2.1 and
// §7.2.2 on both sides: with context takeover the window runs over the
// messages sent compressed only, so a message sent uncompressed between
// two compressed ones is in neither side's history.
func TestDeflateConnUncompressedOutOfHistory(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	a, b := randomBytes(rng, 2048), randomBytes(rng, 2048)

	t.Run("sending", func(t *testing.T) {
		c, peer := clientWithRawServer(t, withPMD(pmdConfig(true, true, 15, 15)))
		ref := flateref.NewWindow(15, true)
		for i, step := range []struct {
			msg        []byte
			compressed bool
		}{{a, true}, {b, false}, {a, true}, {b, true}} {
			c.EnableWriteCompression(step.compressed)
			if err := c.WriteMessage(BinaryMessage, step.msg); err != nil {
				t.Fatal(err)
			}
			h, payload, _ := peer.readMessage()
			if (h.rsv == rsv1Bit) != step.compressed {
				t.Fatalf("message %d: RSV %#x, want compressed %v", i, h.rsv, step.compressed)
			}
			if !step.compressed {
				// Not passed to the reference decoder: not in its window.
				if !bytes.Equal(payload, step.msg) {
					t.Fatalf("message %d damaged", i)
				}
				continue
			}
			got, err := ref.Message(payload)
			if err != nil || !bytes.Equal(got, step.msg) {
				t.Fatalf("message %d: %v", i, err)
			}
			if i == 2 && len(payload) > 200 {
				t.Fatalf("message %d: %d bytes, want a back-reference to message 0", i, len(payload))
			}
		}
	})

	t.Run("receiving", func(t *testing.T) {
		c, peer := serverWithRawClient(t, withPMD(pmdConfig(true, true, 15, 15)))
		std := newStdCompressor(nil)
		peer.write(encodeFrame(true, true, rsv1Bit, opBinary, std.message(a)))
		peer.write(encodeFrame(true, true, 0, opBinary, b))
		// Refers back to a: wrong bytes (b) if b had entered our window.
		again := std.message(a)
		if len(again) > 200 {
			t.Fatalf("the peer's second a is %d bytes: no back-reference to test", len(again))
		}
		peer.write(encodeFrame(true, true, rsv1Bit, opBinary, again))
		for i, want := range [][]byte{a, b, a} {
			_, got, err := readOne(c, []string{"whole", "stream"}[i%2])
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("message %d: %v (%d bytes)", i, err, len(got))
			}
		}
	})
}

// TestDeflateConnThreshold checks which messages go out compressed: those
// at or above the threshold, and a streamed one whenever it fills the
// write buffer; RSV1 on the first frame only.
func TestDeflateConnThreshold(t *testing.T) {
	c, peer := clientWithRawServer(t, func(cfg *connConfig) {
		cfg.deflate = pmdConfig(false, false, 15, 15)
		cfg.deflate.threshold = 100
		cfg.writeBufferSize = 64
	})
	text := bytes.Repeat([]byte("threshold "), 100)
	for _, tc := range []struct {
		size       int
		how        string
		compressed bool
	}{
		{0, "whole", false}, {99, "whole", false}, {100, "whole", true}, {1000, "whole", true},
		{40, "writer", false},    // fits the buffer, below the threshold
		{60, "writer", true},     // below the threshold, but more than the 50 bytes a buffer holds
		{1000, "writer", true},   // more than a buffer: compressed, in many fragments
		{1000, "bytewise", true}, // one byte at a time
	} {
		msg := text[:tc.size]
		if err := send(c, TextMessage, msg, tc.how); err != nil {
			t.Fatal(err)
		}
		h, payload, frames := peer.readMessage()
		if (h.rsv == rsv1Bit) != tc.compressed {
			t.Fatalf("%d bytes %s: RSV %#x, want compressed %v", tc.size, tc.how, h.rsv, tc.compressed)
		}
		got := payload
		if tc.compressed {
			var err error
			if got, err = flateref.NewWindow(15, false).Message(payload); err != nil {
				t.Fatalf("%d bytes %s: %v", tc.size, tc.how, err)
			}
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("%d bytes %s: damaged", tc.size, tc.how)
		}
		t.Logf("%d bytes %s: %d bytes in %d frames", tc.size, tc.how, len(payload), frames)
	}
}

// TestDeflateConnLevels sends with every level SetCompressionLevel takes,
// and with compression turned off, and rejects other levels.
func TestDeflateConnLevels(t *testing.T) {
	client, server := connPair(t, func(cfg *connConfig) { cfg.deflate = pmdConfig(true, true, 15, 15) })
	msg := jsonLike(rand.New(rand.NewPCG(1, 2)), 3000)
	for _, level := range []int{-2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9} {
		if err := client.SetCompressionLevel(level); err != nil {
			t.Fatalf("level %d: %v", level, err)
		}
		for range 2 {
			if err := client.WriteMessage(TextMessage, msg); err != nil {
				t.Fatal(err)
			}
			if _, got, err := server.ReadMessage(); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("level %d: %v", level, err)
			}
		}
	}
	for _, level := range []int{-3, 10} {
		if client.SetCompressionLevel(level) == nil {
			t.Fatalf("level %d accepted", level)
		}
	}
}

// TestDeflateConnDiscard skips compressed messages, unread or half read:
// with context takeover they still enter the history, so the next message,
// which refers back to them, inflates right.
func TestDeflateConnDiscard(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	msg := jsonLike(rng, 20000)
	for _, takeover := range []bool{true, false} {
		client, server := connPair(t, func(cfg *connConfig) { cfg.deflate = pmdConfig(takeover, takeover, 15, 15) })
		for range 6 {
			if err := client.WriteMessage(TextMessage, msg); err != nil {
				t.Fatal(err)
			}
		}
		// Unread.
		if _, _, err := server.NextReader(); err != nil {
			t.Fatal(err)
		}
		// Half read, streamed.
		_, r, err := server.NextReader()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(r, make([]byte, 7000)); err != nil {
			t.Fatal(err)
		}
		for i := range 4 {
			if _, got, err := readOne(server, []string{"whole", "stream"}[i%2]); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("takeover %v, message %d after the skipped ones: %v", takeover, i, err)
			}
		}
	}
}

// TestDeflateConnTimeouts checks what a read deadline does inside a
// compressed message: a whole-message read resumes, a streamed one fails
// the connection with 1001.
func TestDeflateConnTimeouts(t *testing.T) {
	std := newStdCompressor(nil)
	msg := bytes.Repeat([]byte("resumable? "), 1000)
	payload := std.message(msg)
	half := len(payload) / 2

	t.Run("whole", func(t *testing.T) {
		c, peer := serverWithRawClient(t, withPMD(pmdConfig(true, true, 15, 15)))
		peer.write(encodeFrame(true, false, rsv1Bit, opText, payload[:half]))
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, _, err := c.ReadMessage(); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("ReadMessage: %v, want a timeout", err)
		}
		c.SetReadDeadline(time.Time{})
		peer.write(encodeFrame(true, true, 0, opContinuation, payload[half:]))
		if _, got, err := c.ReadMessage(); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("resumed ReadMessage: %v", err)
		}
	})

	t.Run("stream", func(t *testing.T) {
		c, peer := serverWithRawClient(t, withPMD(pmdConfig(true, true, 15, 15)))
		peer.write(encodeFrame(true, false, rsv1Bit, opText, payload[:half]))
		_, r, err := c.NextReader()
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, err = io.ReadAll(r)
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, errInflateInterrupted) {
			t.Fatalf("Read: %v, want a timeout that cannot resume", err)
		}
		if reason := peer.expectClose(StatusGoingAway); reason == "" {
			t.Fatal("close without a reason")
		}
		if _, _, err2 := c.ReadMessage(); !errors.Is(err2, errInflateInterrupted) {
			t.Fatalf("next read: %v, want the same failure", err2)
		}
	})
}

// TestDeflateConnLimitExact reads compressed messages of exactly the read
// limit, which pass, and of one byte more, which fail with 1009; and empty
// compressed messages, as RFC 7692 §7.2.3.6 writes them (a single 0x00)
// and with no payload at all.
func TestDeflateConnLimitExact(t *testing.T) {
	const limit = 3000
	msg := bytes.Repeat([]byte("x"), limit+1)
	for _, how := range []string{"whole", "stream"} {
		c, peer := serverWithRawClient(t, func(cfg *connConfig) {
			cfg.deflate = pmdConfig(true, true, 15, 15)
			cfg.readLimit = limit
		})
		std := newStdCompressor(nil)
		peer.write(encodeFrame(true, true, rsv1Bit, opBinary, std.message(msg[:limit])))
		peer.write(encodeFrame(true, true, rsv1Bit, opText, []byte{0x00}))
		peer.write(encodeFrame(true, true, rsv1Bit, opText, nil))
		peer.write(encodeFrame(true, true, rsv1Bit, opBinary, std.message(msg)))
		for i, want := range [][]byte{msg[:limit], {}, {}} {
			if _, got, err := readOne(c, how); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%s: message %d: %v (%d bytes)", how, i, err, len(got))
			}
		}
		if _, _, err := readOne(c, how); !errors.Is(err, ErrReadLimit) {
			t.Fatalf("%s: one byte over the limit: %v", how, err)
		}
		peer.expectClose(StatusMessageTooBig)
	}
}
