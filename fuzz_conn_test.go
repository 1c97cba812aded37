package websocket

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Whole-connection fuzz targets: the fuzzer plays the peer of a server Conn
// (the client's request, then its frames) or of a client Conn (the server's
// answer, then its frames), from the first byte of the handshake to the
// end of the stream. Whatever it sends must end in messages, then an error
// the Conn can explain, within bounded time and memory, and what the Conn
// sends back must be a valid WebSocket stream that ends with the right close
// code.

// Bounds of one whole-connection run.
const (
	fuzzReadLimit = 64 << 10
	fuzzTimeLimit = 5 * time.Second
	// fuzzWireCap bounds how much of the Conn's output is kept for checking.
	fuzzWireCap = 4 << 20
)

// fuzzAllocLimit is how much one run may allocate, for an input of n bytes:
// the handshake, the Conn and its compression state, a message buffer that
// may grow to the read limit by append's steps, and a few bytes per input
// byte (an input of tiny messages makes as many reads and echoes). Nothing
// a header announces may count.
func fuzzAllocLimit(n int) uint64 { return 2<<20 + 16*fuzzReadLimit + 64*uint64(n) }

// fuzzTransport is the transport of a whole-connection run: reads return
// the script, at most chunk bytes at a time, then io.EOF; writes are kept,
// up to fuzzWireCap, and otherwise dropped.
type fuzzTransport struct {
	mu     sync.Mutex
	script []byte
	chunk  int
	// makeScript, when set, builds the script from what was written when
	// the first read comes: a client's peer answers its request.
	makeScript func(written []byte) []byte
	out        bytes.Buffer
	truncated  bool
	closed     bool
}

func (f *fuzzTransport) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, net.ErrClosed
	}
	if f.makeScript != nil {
		f.script = f.makeScript(f.out.Bytes())
		f.makeScript = nil
	}
	if len(f.script) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), f.chunk)], f.script)
	f.script = f.script[n:]
	return n, nil
}

func (f *fuzzTransport) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, net.ErrClosed
	}
	if f.out.Len()+len(p) > fuzzWireCap {
		f.truncated = true
	} else {
		f.out.Write(p)
	}
	return len(p), nil
}

func (f *fuzzTransport) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	return nil
}

func (f *fuzzTransport) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}
}
func (f *fuzzTransport) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (f *fuzzTransport) SetDeadline(time.Time) error      { return nil }
func (f *fuzzTransport) SetReadDeadline(time.Time) error  { return nil }
func (f *fuzzTransport) SetWriteDeadline(time.Time) error { return nil }

// fuzzHijacker is a ResponseWriter that hands over a fuzzTransport.
type fuzzHijacker struct {
	*httptest.ResponseRecorder
	conn *fuzzTransport
	br   *bufio.Reader
}

func (h *fuzzHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return h.conn, bufio.NewReadWriter(h.br, bufio.NewWriter(h.conn)), nil
}

// fuzzCompression returns the compression options that flags select.
func fuzzCompression(flags byte) CompressionOptions {
	switch flags % 3 {
	case 1:
		return CompressionOptions{Mode: CompressionNoContextTakeover, Threshold: -1}
	case 2:
		return CompressionOptions{Mode: CompressionContextTakeover, WindowBits: 9}
	}
	return CompressionOptions{}
}

// fuzzStreaming reports whether flags select the streaming API (NextReader
// and NextWriter) rather than whole messages (AppendMessage, WriteMessage).
func fuzzStreaming(flags byte) bool { return flags/3%2 == 1 }

// fuzzEcho reads messages from c and writes each back, until a read fails,
// and returns that failure; then it closes c. Every message read must be
// within the read limit, and text must be valid UTF-8.
func fuzzEcho(t *testing.T, c *Conn, maxMessages int, streaming bool) error {
	var buf []byte
	var msg bytes.Buffer
	var err error
	for range maxMessages + 1 {
		var typ MessageType
		if streaming {
			var rd io.Reader
			if typ, rd, err = c.NextReader(); err != nil {
				break
			}
			msg.Reset()
			if _, err = msg.ReadFrom(rd); err != nil {
				break
			}
			buf = msg.Bytes()
		} else if typ, buf, err = c.AppendMessage(buf[:0]); err != nil {
			break
		}
		if len(buf) > fuzzReadLimit {
			t.Fatalf("read a message of %d bytes, over the limit of %d", len(buf), fuzzReadLimit)
		}
		if typ == TextMessage && !utf8.Valid(buf) {
			t.Fatalf("read text that is not UTF-8: %q", buf)
		}
		if !streaming {
			c.WriteMessage(typ, buf)
			continue
		}
		if w, werr := c.NextWriter(typ); werr == nil {
			// In pieces, so that fragments and compression see several writes.
			for len(buf) > 0 {
				n := min(len(buf), 1000)
				if _, werr = w.Write(buf[:n]); werr != nil {
					break
				}
				buf = buf[n:]
			}
			w.Close()
		}
	}
	if err == nil {
		t.Fatalf("more than %d messages from as many input bytes", maxMessages)
	}
	c.Close()
	return err
}

// checkReadError fails unless err is one a peer can cause: its close
// frame, the end of the stream (1006), or a violation carrying its close
// code.
func checkReadError(t *testing.T, err error) {
	t.Helper()
	if _, ok := closeCode(err); ok {
		return
	}
	if CloseStatus(err) != 0 {
		return
	}
	t.Fatalf("read ended with %v (%T): neither a close nor a violation", err, err)
}

// checkWire parses what the Conn sent after the handshake, wire: frames in
// the direction client says, each well formed, data frames in valid
// fragment order, nothing after a close frame. When err carries a close
// code, or is the peer's close, the Conn's close frame must carry it.
func checkWire(t *testing.T, wire []byte, client bool, allowedRSV byte, err error) {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(wire))
	rules := headerRules{fromClient: client, allowedRSV: allowedRSV}
	active, closed := false, false
	var closeCodeSent StatusCode
	for range len(wire) + 1 {
		var h frameHeader
		herr := readFrameHeader(br, rules, &h)
		if herr == io.EOF {
			break
		}
		if herr != nil {
			t.Fatalf("the Conn sent a bad frame header: %v", herr)
		}
		if closed {
			t.Fatalf("the Conn sent a %v frame after its close frame", h.opcode)
		}
		payload := make([]byte, h.length)
		if _, rerr := io.ReadFull(br, payload); rerr != nil {
			t.Fatalf("the Conn sent a truncated %v frame: %v", h.opcode, rerr)
		}
		if h.masked {
			maskBytes(h.key, 0, payload)
		}
		switch {
		case h.opcode == opClose:
			closed = true
			code, _, perr := parseClosePayload(payload)
			if perr != nil {
				t.Fatalf("the Conn sent a bad close payload %q: %v", payload, perr)
			}
			closeCodeSent = code
		case h.opcode.isControl():
		case h.opcode == opContinuation:
			if !active {
				t.Fatal("the Conn sent a continuation frame outside a message")
			}
			active = !h.fin
		default:
			if active {
				t.Fatal("the Conn began a message inside another")
			}
			active = !h.fin
		}
	}
	want, ok := closeCode(err)
	var ce *CloseError
	if !ok && errors.As(err, &ce) && ce.Code != StatusAbnormalClosure {
		want, ok = ce.Code, true
	}
	if ok && (!closed || closeCodeSent != want) {
		t.Fatalf("read ended with %v; the Conn's close frame: sent %v, code %d", err, closed, closeCodeSent)
	}
}

// runBounded runs f and fails the test when it takes longer than
// fuzzTimeLimit or allocates more than fuzzAllocLimit(n).
func runBounded(t *testing.T, n int, f func()) {
	t.Helper()
	start, alloc0 := time.Now(), totalAlloc()
	f()
	if d := time.Since(start); d > fuzzTimeLimit {
		t.Fatalf("took %v", d)
	}
	if a := totalAlloc() - alloc0; a > fuzzAllocLimit(n) {
		t.Fatalf("allocated %d bytes for %d input bytes", a, n)
	}
}

// FuzzServerConn plays a client against Upgrade and the server Conn it
// returns: data is the request and the frames after it, delivered chunk+1
// bytes per read; flags choose the compression options and the reading API.
func FuzzServerConn(f *testing.F) {
	masked := func(fin bool, rsv byte, op opcode, p string) []byte {
		return encodeFrame(true, fin, rsv, op, []byte(p))
	}
	req := []byte(rawRequest("example.com", "Sec-WebSocket-Protocol: chat"))
	reqDeflate := []byte(rawRequest("example.com", "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"))
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	closeFrame := masked(true, 0, opClose, "\x03\xe8")
	f.Add(cat(req, masked(true, 0, opText, "hello"), closeFrame), byte(255), byte(0))
	f.Add(cat(req, masked(false, 0, opText, "he"), masked(true, 0, opPing, "p"), masked(true, 0, opContinuation, "llo"), masked(true, 0, opBinary, "\x00\xff"), closeFrame), byte(3), byte(0))
	f.Add(cat(reqDeflate, masked(true, rsv1Bit, opBinary, string(deflateBomb(300))), masked(true, rsv1Bit, opText, string(deflateBomb(2))), closeFrame), byte(255), byte(1))
	f.Add(cat(reqDeflate, masked(false, rsv1Bit, opText, string(deflateBomb(1000))[:10]), masked(true, 0, opContinuation, string(deflateBomb(1000))[10:])), byte(7), byte(2))
	f.Add(cat(reqDeflate, masked(true, rsv1Bit, opBinary, string(deflateBomb(1<<20)))), byte(255), byte(1))
	f.Add(cat(req, announce(true, opBinary, 1<<63-1)), byte(255), byte(0))
	f.Add(cat(req, masked(true, 0, opText, "\xce\xba\xe1")), byte(0), byte(0))
	f.Add(cat(req, masked(true, 0, opClose, "\x03")), byte(255), byte(0))
	// The same through NextReader and NextWriter.
	f.Add(cat(req, masked(false, 0, opText, "he"), masked(true, 0, opPing, "p"), masked(true, 0, opContinuation, "llo"), closeFrame), byte(3), byte(3))
	f.Add(cat(reqDeflate, masked(true, rsv1Bit, opBinary, string(deflateBomb(3000))), closeFrame), byte(100), byte(4))
	f.Add(cat(reqDeflate, masked(false, rsv1Bit, opText, string(deflateBomb(1000))[:10]), masked(true, 0, opContinuation, string(deflateBomb(1000))[10:]), closeFrame), byte(7), byte(5))
	f.Add(cat(reqDeflate, masked(true, rsv1Bit, opBinary, string(deflateBomb(1<<20)))), byte(255), byte(4))
	f.Add([]byte(rawRequest("example.com", "Origin: http://evil.example")), byte(255), byte(0))
	f.Add([]byte("GET / HTTP/1.0\r\n\r\n"), byte(255), byte(0))
	f.Fuzz(func(t *testing.T, data []byte, chunk byte, flags byte) {
		runBounded(t, len(data), func() {
			tr := &fuzzTransport{script: data, chunk: int(chunk) + 1}
			br := bufio.NewReader(tr)
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			u := &Upgrader{
				Subprotocols: []string{"chat"},
				ReadLimit:    fuzzReadLimit,
				CloseTimeout: time.Second,
				Compression:  fuzzCompression(flags),
			}
			w := &fuzzHijacker{ResponseRecorder: httptest.NewRecorder(), conn: tr, br: br}
			c, err := u.Upgrade(w, req, nil)
			if err != nil {
				var he *HandshakeError
				if !errors.As(err, &he) || he.Status != w.Code {
					t.Fatalf("refused with %v, answered %d", err, w.Code)
				}
				return
			}
			rerr := fuzzEcho(t, c, len(data), fuzzStreaming(flags))
			checkReadError(t, rerr)
			if tr.truncated {
				return
			}
			wire := tr.out.Bytes()
			resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(wire)), req)
			if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("the answer %q does not parse as a 101: %v", wire, err)
			}
			var allowed byte
			if resp.Header.Get("Sec-WebSocket-Extensions") != "" {
				allowed = rsv1Bit
			}
			end := bytes.Index(wire, []byte("\r\n\r\n")) + 4
			checkWire(t, wire[end:], false, allowed, rerr)
		})
	})
}

// fuzzAccept is the placeholder FuzzClientConn replaces, in the server's
// answer, with the Sec-WebSocket-Accept that answers the client's key, so
// that the fuzzer can reach past the handshake.
const fuzzAccept = "{accept}"

// FuzzClientConn plays a server against Dial and the client Conn it
// returns: data is the answer to the handshake request and the frames after
// it, with fuzzAccept standing for the accept value of the request's key,
// delivered chunk+1 bytes per read; flags choose the compression options
// and the reading API.
func FuzzClientConn(f *testing.F) {
	unmasked := func(fin bool, rsv byte, op opcode, p string) []byte {
		return encodeFrame(false, fin, rsv, op, []byte(p))
	}
	ok := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + fuzzAccept + "\r\n"
	answer := []byte(ok + "\r\n")
	answerDeflate := []byte(ok + "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n\r\n")
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	closeFrame := unmasked(true, 0, opClose, "\x03\xe8")
	f.Add(cat(answer, unmasked(true, 0, opText, "hello"), closeFrame), byte(255), byte(0))
	f.Add(cat([]byte(ok+"Sec-WebSocket-Protocol: chat\r\n\r\n"), unmasked(false, 0, opText, "he"), unmasked(true, 0, opPing, "p"), unmasked(true, 0, opContinuation, "llo"), closeFrame), byte(2), byte(0))
	f.Add(cat(answerDeflate, unmasked(true, rsv1Bit, opBinary, string(deflateBomb(300))), closeFrame), byte(255), byte(1))
	f.Add(cat(answerDeflate, unmasked(true, rsv1Bit, opBinary, string(deflateBomb(1<<20)))), byte(255), byte(2))
	f.Add(cat(answer, unmasked(true, 0, opBinary, "masked?")[:2], announce(true, opBinary, 5)), byte(255), byte(0))
	f.Add(cat(answer, unmasked(true, 0, opText, "\xff")), byte(0), byte(0))
	f.Add(cat(answerDeflate, unmasked(true, rsv1Bit, opBinary, string(deflateBomb(3000))), unmasked(true, 0, opText, "plain"), closeFrame), byte(50), byte(4))
	f.Add(cat(answer, unmasked(false, 0, opBinary, "he"), unmasked(true, 0, opPing, "p"), unmasked(true, 0, opContinuation, "llo"), closeFrame), byte(1), byte(3))
	f.Add([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno!"), byte(255), byte(0))
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n"), byte(255), byte(0))
	f.Fuzz(func(t *testing.T, data []byte, chunk byte, flags byte) {
		runBounded(t, len(data), func() {
			tr := &fuzzTransport{chunk: int(chunk) + 1}
			tr.makeScript = func(request []byte) []byte {
				req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(request)))
				if err != nil {
					t.Fatalf("the Dialer's request %q does not parse: %v", request, err)
				}
				return bytes.ReplaceAll(data, []byte(fuzzAccept), []byte(acceptKey(req.Header.Get("Sec-WebSocket-Key"))))
			}
			d := &Dialer{
				NetDialContext: func(context.Context, string, string) (net.Conn, error) { return tr, nil },
				Subprotocols:   []string{"chat"},
				ReadLimit:      fuzzReadLimit,
				CloseTimeout:   time.Second,
				Compression:    fuzzCompression(flags),
			}
			c, resp, err := d.Dial(context.Background(), "ws://example.com/chat", nil)
			if err != nil {
				var he *HandshakeError
				if errors.As(err, &he) && (resp == nil || he.Status != resp.StatusCode) {
					t.Fatalf("refused with %v, answer %v", err, resp)
				}
				return
			}
			rerr := fuzzEcho(t, c, len(data), fuzzStreaming(flags))
			checkReadError(t, rerr)
			if tr.truncated {
				return
			}
			wire := tr.out.Bytes()
			end := bytes.Index(wire, []byte("\r\n\r\n")) + 4
			var allowed byte
			if resp.Header.Get("Sec-WebSocket-Extensions") != "" {
				allowed = rsv1Bit
			}
			checkWire(t, wire[end:], true, allowed, rerr)
		})
	})
}

// TestFuzzConnSeedsReachMessages checks that the whole-connection seeds get
// past the handshake and through messages to the close handshake, so that
// the targets above do not stop at a handshake they cannot pass.
func TestFuzzConnSeedsReachMessages(t *testing.T) {
	masked := encodeFrame(true, true, 0, opText, []byte("hello"))
	closeFrame := encodeFrame(true, true, 0, opClose, binary.BigEndian.AppendUint16(nil, 4000))
	tr := &fuzzTransport{script: append(append([]byte(rawRequest("example.com")), masked...), closeFrame...), chunk: 3}
	br := bufio.NewReader(tr)
	req, err := http.ReadRequest(br)
	if err != nil {
		t.Fatal(err)
	}
	c, err := (&Upgrader{}).Upgrade(&fuzzHijacker{ResponseRecorder: httptest.NewRecorder(), conn: tr, br: br}, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	typ, msg, err := c.ReadMessage()
	if err != nil || typ != TextMessage || string(msg) != "hello" {
		t.Fatalf("read %v %q %v", typ, msg, err)
	}
	if _, _, err := c.ReadMessage(); CloseStatus(err) != 4000 {
		t.Fatalf("read %v, want the close 4000", err)
	}
	wire := tr.out.Bytes()
	end := bytes.Index(wire, []byte("\r\n\r\n")) + 4
	checkWire(t, wire[end:], false, 0, &CloseError{Code: 4000})

	tr = &fuzzTransport{chunk: 1}
	tr.makeScript = func(request []byte) []byte {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(request)))
		if err != nil {
			t.Fatal(err)
		}
		return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			acceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n\x82\x02hi")
	}
	d := &Dialer{NetDialContext: func(context.Context, string, string) (net.Conn, error) { return tr, nil }}
	cc, _, err := d.Dial(context.Background(), "ws://example.com/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.CloseNow()
	if typ, msg, err := cc.ReadMessage(); err != nil || typ != BinaryMessage || string(msg) != "hi" {
		t.Fatalf("client read %v %q %v", typ, msg, err)
	}
}
