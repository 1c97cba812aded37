package websocket

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/wstest"
)

// This file runs raw-wire rows over HTTP/2: a peer writes frames, legal and
// not, straight onto the stream of an extended CONNECT, against our server
// and against our client, and checks the answer, the close code, and how
// our side's read ended. They are the rows of the HTTP/1.1 conformance
// suite that matter to the transport; the frame rules above the transport
// do not change with it.

// h2Row is one exchange: send writes the peer's frames; want is the close
// code our side must send (and its read must end with), or 0 when check
// examines the answer itself.
type h2Row struct {
	name  string
	limit int64 // our side's read limit; 0 means the default
	send  func(p *rawPeer)
	want  StatusCode
	check func(t *testing.T, p *rawPeer)
}

var h2Rows = []h2Row{
	{name: "text echo", send: func(p *rawPeer) {
		p.writeFrame(true, opText, []byte("Hello, HTTP/2"))
	}, check: func(t *testing.T, p *rawPeer) {
		expectFrame(t, p, opText, "Hello, HTTP/2")
		p.writeFrame(true, opClose, closePayload(1000, ""))
		p.expectClose(StatusNormalClosure)
	}},
	{name: "fragments around a ping", send: func(p *rawPeer) {
		p.writeFrame(false, opText, []byte("frag"))
		p.writeFrame(true, opPing, []byte("between"))
		p.writeFrame(true, opContinuation, []byte("ments"))
	}, check: func(t *testing.T, p *rawPeer) {
		expectFrame(t, p, opPong, "between")
		expectFrame(t, p, opText, "fragments")
		p.writeFrame(true, opClose, closePayload(1000, ""))
		p.expectClose(StatusNormalClosure)
	}},
	{name: "close reason echoed", send: func(p *rawPeer) {
		p.writeFrame(true, opClose, closePayload(4000, "bye"))
	}, want: 4000},
	{name: "reserved opcode", send: func(p *rawPeer) {
		p.writeFrame(true, opcode(3), nil)
	}, want: StatusProtocolError},
	{name: "RSV1 without an extension", send: func(p *rawPeer) {
		p.write(encodeFrame(p.client, true, rsv1Bit, opText, []byte("x")))
	}, want: StatusProtocolError},
	{name: "ping of 126 bytes", send: func(p *rawPeer) {
		p.writeFrame(true, opPing, make([]byte, 126))
	}, want: StatusProtocolError},
	{name: "fragmented ping", send: func(p *rawPeer) {
		p.writeFrame(false, opPing, []byte("a"))
	}, want: StatusProtocolError},
	{name: "continuation first", send: func(p *rawPeer) {
		p.writeFrame(true, opContinuation, []byte("orphan"))
	}, want: StatusProtocolError},
	{name: "wrong masking", send: func(p *rawPeer) {
		// A client must mask and a server must not (RFC 6455 §5.1).
		p.write(encodeFrame(!p.client, true, 0, opText, []byte("x")))
	}, want: StatusProtocolError},
	{name: "close code 1005 on the wire", send: func(p *rawPeer) {
		p.writeFrame(true, opClose, closePayload(1005, ""))
	}, want: StatusProtocolError},
	{name: "invalid UTF-8", send: func(p *rawPeer) {
		p.writeFrame(true, opText, []byte("ok\xff"))
	}, want: StatusInvalidFramePayloadData},
	{name: "over the read limit", limit: 100, send: func(p *rawPeer) {
		p.writeFrame(true, opBinary, make([]byte, 101))
	}, want: StatusMessageTooBig},
}

// expectFrame reads one frame and checks its opcode and payload.
func expectFrame(t *testing.T, p *rawPeer, op opcode, payload string) {
	t.Helper()
	h, b, err := p.readFrame()
	if err != nil {
		t.Fatalf("waiting for %v %q: %v", op, payload, err)
	}
	if h.opcode != op || string(b) != payload || !h.fin {
		t.Fatalf("got %v %q (fin %v), want %v %q", h.opcode, b, h.fin, op, payload)
	}
}

// expectStreamEnd reads until the stream ends, which must happen before
// testTimeout: our side closes its transport after the close handshake or
// a failure.
func expectStreamEnd(t *testing.T, p *rawPeer) {
	t.Helper()
	p.conn.SetReadDeadline(time.Now().Add(testTimeout))
	var b [512]byte
	for range 1000 {
		_, err := p.br.Read(b[:])
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatal("our side did not end the stream")
		}
		return
	}
	t.Fatal("our side keeps sending")
}

// checkOurEnd checks how our side's read ended for a row that wants code.
func checkOurEnd(t *testing.T, err error, code StatusCode) {
	t.Helper()
	var want error
	switch code {
	case StatusProtocolError:
		want = ErrProtocol
	case StatusInvalidFramePayloadData:
		want = ErrInvalidUTF8
	case StatusMessageTooBig:
		want = ErrReadLimit
	default:
		if CloseStatus(err) != code {
			t.Fatalf("our read ended with %v, want the peer's close %d", err, code)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("our read ended with %v, want %v", err, want)
	}
}

func TestHTTP2RawWireServer(t *testing.T) {
	for _, tr := range h2Transports {
		for _, row := range h2Rows {
			t.Run(tr.name+"/"+row.name, func(t *testing.T) {
				ended := make(chan error, 1)
				s := startH2Server(t, tr.useTLS, &Upgrader{ReadLimit: row.limit}, func(c *Conn) {
					ended <- echoUntilError(c)
				})
				ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
				defer cancel()
				u := "https" + strings.TrimPrefix(s.url, "wss")
				if !tr.useTLS {
					u = "http" + strings.TrimPrefix(s.url, "ws")
				}
				conn, _, err := wstest.H2Dial(ctx, u, s.dialer.TLSClientConfig, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				p := &rawPeer{t: t, conn: conn, br: bufio.NewReader(conn), client: true, in: &countingConn{Conn: conn}}
				runH2Row(t, row, p, ended, nil)
			})
		}
	}
}

func TestHTTP2RawWireClient(t *testing.T) {
	for _, tr := range h2Transports {
		for _, row := range h2Rows {
			t.Run(tr.name+"/"+row.name, func(t *testing.T) {
				accepted := make(chan net.Conn, 1)
				done := make(chan struct{})
				var endOnce sync.Once
				end := func() { endOnce.Do(func() { close(done) }) }
				defer end()
				h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					conn, err := wstest.H2Accept(w, r, nil)
					if err != nil {
						return
					}
					defer conn.Close()
					accepted <- serverPeerStream{conn, r.Context().Done()}
					<-done // the stream lives as long as the handler
				})
				d := &Dialer{HandshakeTimeout: testTimeout, HTTP2: HTTP2Always, ReadLimit: row.limit}
				var u string
				if tr.useTLS {
					s := wstest.H2Server(t, h)
					u = "wss" + strings.TrimPrefix(s.URL, "https")
					d.TLSClientConfig = wstest.TLSConfigFor(s)
				} else {
					u = "ws" + strings.TrimPrefix(wstest.H2CServer(t, h).URL, "http")
				}
				c, _ := dialWith(t, d, u)
				ended := make(chan error, 1)
				go func() { ended <- echoUntilError(c) }()
				conn := <-accepted
				p := &rawPeer{t: t, conn: conn, br: bufio.NewReader(conn), client: false, in: &countingConn{Conn: conn}}
				runH2Row(t, row, p, ended, end)
			})
		}
	}
}

// serverPeerStream is the raw server peer's stream. net/http's HTTP/2
// server reports a handler's write as failed ("client disconnected",
// "stream closed") when the connection or the stream ends before its serve
// loop has acknowledged the DATA frame, even when the frame went out. A row
// whose frame makes our client fail the connection meets exactly that: the
// client reads the frame, sends its close and ends the connection, all
// before the peer's write returns. So a write that fails once the client
// has ended the stream counts as written; whether its bytes arrived is what
// the row checks next: our side's close code and how its read ended.
type serverPeerStream struct {
	net.Conn
	ended <-chan struct{} // the request's context: done when the client ended the stream
}

func (s serverPeerStream) Write(p []byte) (int, error) {
	n, err := s.Conn.Write(p)
	if err == nil {
		return n, nil
	}
	// net/http ends the request's context just after it fails the write.
	select {
	case <-s.ended:
		return len(p), nil
	case <-time.After(testTimeout):
		return n, err
	}
}

// runH2Row plays row through p and checks both ends; ended reports how our
// side's echo loop ended. end, set when the peer is the server, ends the
// peer's side of the stream after the close handshake, as a server closes
// the TCP connection first (RFC 6455 §7.1.1).
func runH2Row(t *testing.T, row h2Row, p *rawPeer, ended <-chan error, end func()) {
	t.Helper()
	row.send(p)
	if row.check != nil {
		row.check(t, p)
	} else {
		p.expectClose(row.want)
	}
	if end != nil {
		end()
	}
	expectStreamEnd(t, p)
	select {
	case err := <-ended:
		want := row.want
		if row.check != nil {
			want = StatusNormalClosure
		}
		checkOurEnd(t, err, want)
	case <-time.After(testTimeout):
		t.Fatal("our side's read did not end")
	}
}

// echoUntilError echoes messages until a read or write fails, and returns
// that error.
func echoUntilError(c *Conn) error {
	for range 1 << 20 {
		typ, msg, err := c.ReadMessage()
		if err != nil {
			return err
		}
		if err := c.WriteMessage(typ, bytes.Clone(msg)); err != nil {
			return err
		}
	}
	return errors.New("too many messages")
}
