package websocket

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/wstest"
)

// testTimeout bounds every wait in these tests; reaching it is a failure.
const testTimeout = 10 * time.Second

// connPair returns a client and a server Conn over loopback TCP. edit, when
// non-nil, adjusts each side's config. Both are dropped when the test ends.
func connPair(t testing.TB, edit func(cfg *connConfig)) (client, server *Conn) {
	t.Helper()
	cn, sn := wstest.TCPPair(t)
	return pairOver(t, cn, sn, edit)
}

// pipePair is connPair over net.Pipe.
func pipePair(t testing.TB, edit func(cfg *connConfig)) (client, server *Conn) {
	t.Helper()
	cn, sn := wstest.Pipe(t)
	return pairOver(t, cn, sn, edit)
}

func pairOver(t testing.TB, cn, sn net.Conn, edit func(cfg *connConfig)) (client, server *Conn) {
	ccfg := connConfig{netConn: cn, client: true}
	scfg := connConfig{netConn: sn}
	if edit != nil {
		edit(&ccfg)
		edit(&scfg)
	}
	client, server = newConn(ccfg), newConn(scfg)
	t.Cleanup(func() {
		client.CloseNow()
		server.CloseNow()
	})
	return client, server
}

// rawPeer speaks raw frames to a Conn under test: it writes frames built
// with putFrameHeader and maskBytes and reads the Conn's frames back.
type rawPeer struct {
	t      testing.TB
	conn   net.Conn
	br     *bufio.Reader
	client bool // the peer is the client: it masks, and the Conn under test is a server
	in     *countingConn
	rsv    byte // RSV bits the Conn may send: rsv1Bit once permessage-deflate is on
}

// countingConn counts the bytes the Conn under test has read.
type countingConn struct {
	net.Conn
	n atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// taken returns how many of the peer's bytes the Conn has read.
func (p *rawPeer) taken() int { return int(p.in.n.Load()) }

// serverWithRawClient returns a server Conn over loopback TCP and a raw
// client peer talking to it.
func serverWithRawClient(t testing.TB, edit func(cfg *connConfig)) (*Conn, *rawPeer) {
	t.Helper()
	cn, sn := wstest.TCPPair(t)
	in := &countingConn{Conn: sn}
	cfg := connConfig{netConn: in}
	if edit != nil {
		edit(&cfg)
	}
	c := newConn(cfg)
	t.Cleanup(func() { c.CloseNow() })
	return c, &rawPeer{t: t, conn: cn, br: bufio.NewReader(cn), client: true, in: in}
}

// clientWithRawServer returns a client Conn over loopback TCP and a raw

// sideWithRawPeer is serverWithRawClient for side "server" and
// clientWithRawServer for side "client".
func sideWithRawPeer(t testing.TB, side string, edit func(cfg *connConfig)) (*Conn, *rawPeer) {
	t.Helper()
	if side == "server" {
		return serverWithRawClient(t, edit)
	}
	return clientWithRawServer(t, edit)
}

// server peer talking to it.
func clientWithRawServer(t testing.TB, edit func(cfg *connConfig)) (*Conn, *rawPeer) {
	t.Helper()
	cn, sn := wstest.TCPPair(t)
	in := &countingConn{Conn: cn}
	cfg := connConfig{netConn: in, client: true}
	if edit != nil {
		edit(&cfg)
	}
	c := newConn(cfg)
	t.Cleanup(func() { c.CloseNow() })
	return c, &rawPeer{t: t, conn: sn, br: bufio.NewReader(sn), in: in}
}

// frame encodes one frame, masked with a fixed key when the peer is the
// client.
func (p *rawPeer) frame(fin bool, op opcode, payload []byte) []byte {
	return encodeFrame(p.client, fin, 0, op, payload)
}

// encodeFrame encodes a frame; masked frames use the key 0x11223344.
func encodeFrame(masked, fin bool, rsv byte, op opcode, payload []byte) []byte {
	h := frameHeader{fin: fin, rsv: rsv, opcode: op, masked: masked, length: int64(len(payload))}
	if masked {
		h.key = 0x44332211
	}
	b := make([]byte, maxFrameHeaderSize+len(payload))
	n := putFrameHeader(b, &h)
	m := copy(b[n:], payload)
	if masked {
		maskBytes(h.key, 0, b[n:n+m])
	}
	return b[:n+m]
}

// write sends raw bytes.
func (p *rawPeer) write(b []byte) {
	p.t.Helper()
	if _, err := p.conn.Write(b); err != nil {
		p.t.Fatalf("raw peer write: %v", err)
	}
}

// writeFrame sends one frame.
func (p *rawPeer) writeFrame(fin bool, op opcode, payload []byte) {
	p.t.Helper()
	p.write(p.frame(fin, op, payload))
}

// readFrame reads one frame from the Conn, unmasked, failing the test after
// testTimeout.
func (p *rawPeer) readFrame() (frameHeader, []byte, error) {
	p.conn.SetReadDeadline(time.Now().Add(testTimeout))
	var h frameHeader
	if err := readFrameHeader(p.br, headerRules{fromClient: !p.client, allowedRSV: p.rsv}, &h); err != nil {
		return h, nil, err
	}
	b := make([]byte, h.length)
	if _, err := io.ReadFull(p.br, b); err != nil {
		return h, nil, err
	}
	if h.masked {
		maskBytes(h.key, 0, b)
	}
	return h, b, nil
}

// expectClose reads frames until a close frame, which must carry want, and
// returns its reason. Pings and pongs on the way are skipped.
func (p *rawPeer) expectClose(want StatusCode) string {
	p.t.Helper()
	for range 1000 {
		h, b, err := p.readFrame()
		if err != nil {
			p.t.Fatalf("raw peer: waiting for close %d: %v", want, err)
		}
		if h.opcode == opPing || h.opcode == opPong {
			continue
		}
		if h.opcode != opClose {
			p.t.Fatalf("raw peer: got %v frame, want close %d", h.opcode, want)
		}
		got := StatusNoStatusReceived
		if len(b) >= 2 {
			got = StatusCode(binary.BigEndian.Uint16(b))
		}
		if got != want {
			p.t.Fatalf("raw peer: close code %d (%q), want %d", got, b, want)
		}
		if len(b) >= 2 {
			return string(b[2:])
		}
		return ""
	}
	p.t.Fatal("raw peer: no close frame")
	return ""
}

// expectEOF checks that the Conn closed the transport.
func (p *rawPeer) expectEOF() {
	p.t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(testTimeout))
	var b [64]byte
	for range 1000 {
		_, err := p.br.Read(b[:])
		if err == nil {
			continue
		}
		if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !isConnReset(err) {
			p.t.Fatalf("raw peer: want EOF, got %v", err)
		}
		return
	}
	p.t.Fatal("raw peer: the Conn keeps sending")
}

// isConnReset reports a reset, which a close with unread data can cause.
func isConnReset(err error) bool {
	var ne *net.OpError
	return errors.As(err, &ne) && !ne.Timeout()
}

// closePayload builds a close payload without the checks of
// FormatCloseMessage's users.
func closePayload(code uint16, reason string) []byte {
	b := binary.BigEndian.AppendUint16(nil, code)
	return append(b, reason...)
}
