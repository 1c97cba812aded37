package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"net"
	"net/http"
	"net/textproto"
	"sync"
	"time"
)

// memAddr is the address memConn reports on both ends.
var memAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}

// memConn is a net.Conn in memory for the in-process workloads. On the
// server side its reads replay a byte stream forever (pre-encoded frames)
// and its writes vanish. On the client side it answers the handshake
// request written to it with a valid 101, then its writes vanish and its
// reads wait for Close. Reads and writes may come from two goroutines;
// writes from one at a time.
type memConn struct {
	replay []byte // server: the stream read in a loop
	pos    int

	client   bool
	request  []byte        // client: handshake bytes written so far
	answered bool          // client: the whole request was written
	ready    chan struct{} // client: closed when answer is set
	mu       sync.Mutex    // guards answer: read and written by different goroutines
	answer   []byte        // client: handshake answer not yet read

	written int64  // bytes written after the handshake
	keep    bool   // tests: keep what is written after the handshake
	kept    []byte // what was written after the handshake, when keep

	closeOnce sync.Once
	closed    chan struct{}
}

// newReplayConn returns the server side of memConn, reading stream again
// and again.
func newReplayConn(stream []byte) *memConn {
	return &memConn{replay: stream, closed: make(chan struct{})}
}

// newSinkConn returns the client side of memConn.
func newSinkConn() *memConn {
	return &memConn{client: true, ready: make(chan struct{}), closed: make(chan struct{})}
}

func (c *memConn) Read(p []byte) (int, error) {
	if c.client {
		// An HTTP client may read before it writes the request.
		select {
		case <-c.ready:
		case <-c.closed:
			return 0, net.ErrClosed
		}
		c.mu.Lock()
		n := copy(p, c.answer)
		c.answer = c.answer[n:]
		c.mu.Unlock()
		if n > 0 {
			return n, nil
		}
		<-c.closed
		return 0, net.ErrClosed
	}
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	n := copy(p, c.replay[c.pos:])
	c.pos += n
	if c.pos == len(c.replay) {
		c.pos = 0
	}
	return n, nil
}

func (c *memConn) Write(p []byte) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	if c.client && !c.answered {
		c.request = append(c.request, p...)
		if i := bytes.Index(c.request, []byte("\r\n\r\n")); i >= 0 {
			c.answered = true
			c.mu.Lock()
			c.answer = handshakeAnswer(c.request[:i+4])
			c.mu.Unlock()
			close(c.ready)
			rest := c.request[i+4:]
			c.written += int64(len(rest))
			if c.keep {
				c.kept = append(c.kept, rest...)
			}
		}
		return len(p), nil
	}
	c.written += int64(len(p))
	if c.keep {
		c.kept = append(c.kept, p...)
	}
	return len(p), nil
}

func (c *memConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return nil
}

func (c *memConn) LocalAddr() net.Addr                { return memAddr }
func (c *memConn) RemoteAddr() net.Addr               { return memAddr }
func (c *memConn) SetDeadline(t time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { return nil }

// acceptGUID is the constant of RFC 6455 §1.3 that the server appends to the
// client's key.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// handshakeAnswer returns the 101 answer to the client handshake req.
func handshakeAnswer(req []byte) []byte {
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(req)))
	tp.ReadLine() // request line
	h, _ := tp.ReadMIMEHeader()
	sum := sha1.Sum([]byte(h.Get("Sec-WebSocket-Key") + acceptGUID))
	return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		base64.StdEncoding.EncodeToString(sum[:]) + "\r\n\r\n")
}

// hijackWriter is an http.ResponseWriter whose Hijack hands over conn with
// 4 KiB buffers, as net/http's does.
type hijackWriter struct {
	h    http.Header
	conn net.Conn
}

func (w *hijackWriter) Header() http.Header         { return w.h }
func (w *hijackWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *hijackWriter) WriteHeader(int)             {}
func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.conn, bufio.NewReadWriter(bufio.NewReaderSize(w.conn, 4096), bufio.NewWriterSize(w.conn, 4096)), nil
}

// upgradeRequest is a valid client handshake request for in-process
// upgrades.
func upgradeRequest() *http.Request {
	r, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://127.0.0.1/ws", nil)
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	r.RemoteAddr = "127.0.0.1:1"
	return r
}

// ReplayServer returns lib's server side reading stream forever, in
// memory: the read side of the codec workload.
func ReplayServer(lib Library, stream []byte) (Conn, error) {
	conn := newReplayConn(stream)
	return lib.Upgrade(&hijackWriter{h: http.Header{}, conn: conn}, upgradeRequest(), Options{})
}

// SinkClient returns lib's client side writing to memory, and the memConn
// that counts what it writes: the write side of the codec workload.
func SinkClient(lib Library) (Conn, *memConn, error) {
	conn := newSinkConn()
	c, err := lib.Dial(context.Background(), "ws://127.0.0.1/ws", Options{
		NetDial: func(context.Context, string, string) (net.Conn, error) { return conn, nil },
	})
	return c, conn, err
}

// ReplayStream returns frames of count messages of typ and payload, masked
// as a client sends them, back to back; count is chosen so the stream is at
// least 64 KiB.
func ReplayStream(typ MsgType, payload []byte) []byte {
	var b []byte
	for i := 0; len(b) < 64<<10; i++ {
		key := [4]byte{byte(i), 0x5a, byte(i >> 8), 0xc3}
		b = AppendFrame(b, typ, payload, true, key)
	}
	return b
}
