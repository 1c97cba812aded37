package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// tcpLib is the floor: the same net/http server, hijacked after a trivial
// handshake, then messages as chunks of [flags+type byte][4-byte length]
// [payload] over the bare TCP connection: no masking, no validation, one
// writev per chunk, a 4 KiB bufio.Reader on the read side.
type tcpLib struct{}

type tcpConn struct {
	conn net.Conn
	br   *bufio.Reader
	hdr  [tcpHeaderSize]byte
	vec  net.Buffers
	r    tcpReader
	w    tcpWriter
}

const (
	tcpHeaderSize = 5
	tcpFinal      = 0x80 // flag of the last chunk of a message
	tcpUpgrade    = "bench-tcp"
	tcpChunkSize  = 4096 // what the streaming writer buffers before a chunk
)

var errTCPFraming = errors.New("bench: tcp: bad chunk header")

func (tcpLib) Name() string { return "tcp" }

func (tcpLib) Appends() bool { return true }

func (tcpLib) Supports(c Compression) bool { return c == CompressionOff }

func (tcpLib) Upgrade(w http.ResponseWriter, r *http.Request, o Options) (Conn, error) {
	if o.Compression != CompressionOff {
		return nil, ErrUnsupported
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), tcpUpgrade) {
		http.Error(w, "tcp upgrade expected", http.StatusBadRequest)
		return nil, errors.New("bench: tcp: not an upgrade")
	}
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: "+tcpUpgrade+"\r\n\r\n"); err != nil {
		conn.Close()
		return nil, err
	}
	return newTCPConn(conn, rw.Reader), nil
}

func (tcpLib) Dial(ctx context.Context, rawURL string, o Options) (Conn, error) {
	if o.Compression != CompressionOff {
		return nil, ErrUnsupported
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	dial := o.NetDial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	conn, err := dial(ctx, "tcp", u.Host)
	if err != nil {
		return nil, err
	}
	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nConnection: Upgrade\r\nUpgrade: " + tcpUpgrade + "\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(conn, 4096)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		conn.Close()
		return nil, fmt.Errorf("bench: tcp: handshake answered %s", resp.Status)
	}
	return newTCPConn(conn, br), nil
}

func newTCPConn(conn net.Conn, br *bufio.Reader) *tcpConn {
	c := &tcpConn{conn: conn, br: br}
	c.r.c = c
	c.w.c = c
	return c
}

// Prepare encodes the whole message once; WritePrepared writes the bytes.
func (tcpLib) Prepare(typ MsgType, p []byte) (Prepared, error) {
	b := make([]byte, tcpHeaderSize+len(p))
	b[0] = tcpFinal | byte(typ)
	binary.BigEndian.PutUint32(b[1:], uint32(len(p)))
	copy(b[tcpHeaderSize:], p)
	return b, nil
}

// readChunk reads a chunk header and returns its type, length and flag.
func (c *tcpConn) readChunk() (MsgType, int, bool, error) {
	if _, err := io.ReadFull(c.br, c.hdr[:]); err != nil {
		return 0, 0, false, err
	}
	t := MsgType(c.hdr[0] &^ tcpFinal)
	if t != Text && t != Binary {
		return 0, 0, false, errTCPFraming
	}
	n := binary.BigEndian.Uint32(c.hdr[1:])
	if n > readLimit {
		return 0, 0, false, errTCPFraming
	}
	return t, int(n), c.hdr[0]&tcpFinal != 0, nil
}

// writeChunk sends one chunk: header and payload in one writev.
func (c *tcpConn) writeChunk(t MsgType, p []byte, final bool) error {
	var h [tcpHeaderSize]byte
	h[0] = byte(t)
	if final {
		h[0] |= tcpFinal
	}
	binary.BigEndian.PutUint32(h[1:], uint32(len(p)))
	c.vec = append(c.vec[:0], h[:], p)
	_, err := c.vec.WriteTo(c.conn)
	return err
}

// ReadMessage allocates what an ideal allocating read would: one slice
// of the message's size (a message of one chunk, as WriteMessage sends).
func (c *tcpConn) ReadMessage() (MsgType, []byte, error) {
	return c.AppendMessage(nil)
}

func (c *tcpConn) AppendMessage(dst []byte) (MsgType, []byte, error) {
	var typ MsgType
	for {
		t, n, final, err := c.readChunk()
		if err != nil {
			return 0, dst, err
		}
		if typ == 0 {
			typ = t
		}
		off := len(dst)
		if cap(dst)-off < n {
			dst = append(dst[:cap(dst)], make([]byte, off+n-cap(dst))...)
		}
		dst = dst[:off+n]
		if _, err := io.ReadFull(c.br, dst[off:]); err != nil {
			return 0, dst, err
		}
		if final {
			return typ, dst, nil
		}
	}
}

func (c *tcpConn) WriteMessage(t MsgType, p []byte) error {
	return c.writeChunk(t, p, true)
}

// tcpReader reads one message across its chunks.
type tcpReader struct {
	c     *tcpConn
	left  int
	final bool
}

func (r *tcpReader) Read(p []byte) (int, error) {
	for r.left == 0 {
		if r.final {
			return 0, io.EOF
		}
		_, n, final, err := r.c.readChunk()
		if err != nil {
			return 0, err
		}
		r.left, r.final = n, final
	}
	if len(p) > r.left {
		p = p[:r.left]
	}
	n, err := r.c.br.Read(p)
	r.left -= n
	return n, err
}

func (c *tcpConn) NextReader() (MsgType, io.Reader, error) {
	t, n, final, err := c.readChunk()
	if err != nil {
		return 0, nil, err
	}
	c.r.left, c.r.final = n, final
	return t, &c.r, nil
}

// tcpWriter buffers up to tcpChunkSize bytes and sends them as a chunk;
// larger writes go out as chunks of their own.
type tcpWriter struct {
	c   *tcpConn
	typ MsgType
	buf []byte
}

func (w *tcpWriter) Write(p []byte) (int, error) {
	n := len(p)
	if len(w.buf)+len(p) <= tcpChunkSize {
		w.buf = append(w.buf, p...)
		return n, nil
	}
	if len(w.buf) > 0 {
		if err := w.c.writeChunk(w.typ, w.buf, false); err != nil {
			return 0, err
		}
		w.buf = w.buf[:0]
	}
	if len(p) <= tcpChunkSize {
		w.buf = append(w.buf, p...)
		return n, nil
	}
	return n, w.c.writeChunk(w.typ, p, false)
}

func (w *tcpWriter) Close() error {
	err := w.c.writeChunk(w.typ, w.buf, true)
	w.buf = w.buf[:0]
	return err
}

func (c *tcpConn) NextWriter(t MsgType) (io.WriteCloser, error) {
	c.w.typ = t
	if c.w.buf == nil {
		c.w.buf = make([]byte, 0, tcpChunkSize)
	}
	return &c.w, nil
}

func (c *tcpConn) WritePrepared(p Prepared) error {
	_, err := c.conn.Write(p.([]byte))
	return err
}

func (c *tcpConn) Close() error { return c.conn.Close() }
