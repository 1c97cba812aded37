//go:build js

package websocket

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rfc6455/websocket/internal/jsws"
)

// Under GOOS=js the Conn is the same as on every other port; only its
// transport differs. browserConn is a net.Conn whose two byte streams are
// frames: the Conn writes client frames into it and reads server frames out
// of it, as it would over TCP, while on the other side it speaks to the
// host's WebSocket object (a browser's, or one that Node is given) through
// internal/jsws, which deals in whole messages. Limits, deadlines, UTF-8
// checks, JSON, NetConn and the close handshake's state are the shared
// code's.
//
//	Conn write → Write: header parsed, payload unmasked into msg → at FIN, ws.send
//	onmessage → inbox → Read: a synthesised unmasked header, then the payload
//	            copied from the JS buffer straight into the reader's slice
//	close frame written → ws.close(code, reason); close event → a close frame read, then EOF

// errBrowserControl is returned by Ping and by WriteControl for pings and
// pongs: the browser's WebSocket answers the server's pings itself and has
// no way to send one.
var errBrowserControl = errors.New("websocket: the browser's WebSocket cannot send pings or pongs (GOOS=js)")

// Close codes a browser's close() accepts (WHATWG WebSockets, close()
// method): 1000 and 3000–4999. Any other code the Conn sends (1001, 1002,
// 1007, 1009, 1011...) goes out as browserCodeBase + (code − 1000), so
// 1009 arrives as 4009, with the reason unchanged.
const browserCodeBase = 4000

// browserCloseCode returns the code a browser may send for code.
func browserCloseCode(code StatusCode) StatusCode {
	if code == StatusNormalClosure || (code >= 3000 && code <= 4999) {
		return code
	}
	if code > 1000 && code < 2000 {
		return browserCodeBase + code - 1000
	}
	return StatusNormalClosure
}

// browserConn is the transport of a Conn under GOOS=js.
type browserConn struct {
	*jsws.Socket

	// The read side, owned by the Conn's reader. cur is the event being
	// delivered: hdr[hdrPos:hdrLen] is still to be read, then the
	// payload from pos.
	cur      jsws.Event
	reading  bool
	hdr      [maxFrameHeaderSize + 2 + maxControlPayload]byte
	hdrPos   int
	hdrLen   int
	pos      int
	eof      bool
	copiedIn int64 // payload bytes copied from JavaScript, for the tests
	copies   int   // and the copies that took them

	// The write side, owned by the Conn's frame lock: the frame being
	// parsed (whdr holds an incomplete header), and the message being
	// collected.
	whdr    [maxFrameHeaderSize]byte
	whdrN   int
	wframe  frameHeader
	wleft   int64 // payload bytes of wframe still to come
	wpos    int   // mask position
	inFrame bool
	msgOp   opcode // the message's opcode, 0 when none is in progress
	msg     []byte // its unmasked payload so far
	ctrl    []byte // a close frame's payload so far
}

// Read returns the next bytes of the server's frames: for each message a
// header, then the payload copied from JavaScript straight into p; after
// the close event, a close frame (none when it was not clean), then io.EOF.
func (b *browserConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for !b.reading {
		if b.eof {
			return 0, io.EOF
		}
		if err := b.next(); err != nil {
			return 0, err
		}
	}
	if b.hdrPos < b.hdrLen {
		n := copy(p, b.hdr[b.hdrPos:b.hdrLen])
		b.hdrPos += n
		p = p[n:]
		// The payload joins its header only when all of it fits: a large
		// one waits for the next Read, which the Conn makes into its own
		// slice, so its bytes are copied once.
		if b.hdrPos < b.hdrLen || len(p) < b.cur.N {
			b.finish()
			return n, nil
		}
		return n + b.copyPayload(p), nil
	}
	return b.copyPayload(p), nil
}

// copyPayload copies the current message's next bytes into p.
func (b *browserConn) copyPayload(p []byte) int {
	k := jsws.CopyBytes(p, &b.cur, b.pos)
	if k > 0 {
		b.pos += k
		b.copiedIn += int64(k)
		b.copies++
	}
	b.finish()
	return k
}

// finish drops the current event once it has been read whole.
func (b *browserConn) finish() {
	if b.hdrPos == b.hdrLen && b.pos == b.cur.N {
		b.reading = false
		b.cur = jsws.Event{}
	}
}

// next waits for the next event and starts delivering it.
func (b *browserConn) next() error {
	ev, err := b.Next()
	if err != nil {
		return err
	}
	b.start(ev)
	return nil
}

// start makes ev the event being read: a data frame, or the close frame
// that the close event stands for.
func (b *browserConn) start(ev jsws.Event) {
	b.cur, b.reading, b.hdrPos, b.pos = ev, true, 0, 0
	if !ev.Close {
		op := opBinary
		if ev.Text {
			op = opText
		}
		b.hdrLen = putFrameHeader(b.hdr[:], &frameHeader{fin: true, opcode: op, length: int64(ev.N)})
		return
	}
	b.eof = true
	b.cur.N = 0
	if !ev.Clean || ev.Code == int(StatusAbnormalClosure) {
		// The connection dropped without a close handshake: the Conn
		// reads EOF without a close frame and reports 1006.
		b.reading, b.hdrLen = false, 0
		return
	}
	// RFC 6455 §7.1.5: 1005 stands for a close frame without a code.
	var payload [2 + maxControlPayload]byte
	n := 0
	if ev.Code != int(StatusNoStatusReceived) {
		reason := ev.Reason
		if len(reason) > maxCloseReason {
			reason = reason[:maxCloseReason]
		}
		binary.BigEndian.PutUint16(payload[:], uint16(ev.Code))
		n = 2 + copy(payload[2:], reason)
	}
	k := putFrameHeader(b.hdr[:], &frameHeader{fin: true, opcode: opClose, length: int64(n)})
	b.hdrLen = k + copy(b.hdr[k:], payload[:n])
}

// Write takes the Conn's client frames. Data frames are unmasked into the
// message being collected, which goes out through ws.send at its last
// frame; a close frame becomes ws.close(code, reason). send does not
// block: a write waits, between frames only, while the browser holds more
// bytes it has not sent yet than jsws allows (Socket.WaitDrained).
func (b *browserConn) Write(p []byte) (int, error) {
	if b.Closed() {
		return 0, net.ErrClosed
	}
	if !b.inFrame && b.whdrN == 0 {
		// Between frames: the one place a write may wait, and stop
		// at its deadline without harm to the stream.
		if err := b.WaitDrained(); err != nil {
			return 0, err
		}
	}
	total := len(p)
	for len(p) > 0 {
		if !b.inFrame {
			k := copy(b.whdr[b.whdrN:], p)
			n, err := parseFrameHeader(b.whdr[:b.whdrN+k], headerRules{fromClient: true}, &b.wframe)
			if err != nil {
				return total - len(p), err
			}
			if n == 0 {
				b.whdrN += k
				p = p[k:]
				continue
			}
			p = p[n-b.whdrN:]
			b.whdrN = 0
			if err := b.startFrame(); err != nil {
				return total - len(p), err
			}
			if !b.inFrame {
				continue // an empty frame, ended by startFrame
			}
		}
		k := int(min(int64(len(p)), b.wleft))
		if b.wframe.opcode == opClose {
			b.ctrl = append(b.ctrl, p[:k]...)
			b.wpos = maskBytes(b.wframe.key, b.wpos, b.ctrl[len(b.ctrl)-k:])
		} else {
			n := len(b.msg)
			b.msg = append(b.msg, p[:k]...)
			b.wpos = maskBytes(b.wframe.key, b.wpos, b.msg[n:])
		}
		p = p[k:]
		b.wleft -= int64(k)
		if b.wleft == 0 {
			if err := b.endFrame(); err != nil {
				return total - len(p), err
			}
		}
	}
	return total, nil
}

// startFrame begins the payload of the frame whose header was parsed.
func (b *browserConn) startFrame() error {
	h := &b.wframe
	switch h.opcode {
	case opText, opBinary:
		if b.msgOp != 0 {
			return errors.New("websocket: browser transport: new message inside a message")
		}
		b.msgOp = h.opcode
		if h.fin {
			// The whole message in one frame: one allocation of its size.
			b.msg = make([]byte, 0, h.length)
		}
	case opContinuation:
		if b.msgOp == 0 {
			return errors.New("websocket: browser transport: continuation without a message")
		}
	case opClose:
		b.ctrl = b.ctrl[:0]
	default:
		return errBrowserControl
	}
	b.inFrame, b.wleft, b.wpos = true, h.length, 0
	if h.length == 0 {
		return b.endFrame()
	}
	return nil
}

// endFrame acts on a frame whose payload is complete.
func (b *browserConn) endFrame() error {
	b.inFrame = false
	h := &b.wframe
	if h.opcode == opClose {
		return b.sendClose(b.ctrl)
	}
	if !h.fin {
		return nil
	}
	op, msg := b.msgOp, b.msg
	b.msgOp, b.msg = 0, nil
	return b.send(op, msg)
}

// send hands one message to the WebSocket.
func (b *browserConn) send(op opcode, msg []byte) error {
	return b.Send(op == opText, msg)
}

// sendClose starts the browser's closing handshake with the close frame's
// code and reason, the code mapped by browserCloseCode.
func (b *browserConn) sendClose(payload []byte) error {
	if len(payload) < 2 {
		return b.CloseHandshake(0, "")
	}
	code := browserCloseCode(StatusCode(binary.BigEndian.Uint16(payload)))
	reason := payload[2:]
	if !utf8.Valid(reason) {
		reason = nil
	}
	return b.CloseHandshake(int(code), string(reason))
}

func (b *browserConn) SetDeadline(t time.Time) error {
	b.ReadDeadline.Set(t)
	b.WriteDeadline.Set(t)
	return nil
}

func (b *browserConn) SetReadDeadline(t time.Time) error  { b.ReadDeadline.Set(t); return nil }
func (b *browserConn) SetWriteDeadline(t time.Time) error { b.WriteDeadline.Set(t); return nil }

func init() { dialJSHost = (*Dialer).dialJSHost }

// dialJSHost opens the connection through the JavaScript host's
// WebSocket (transport_js.go), which does the handshake itself. A Dialer
// with NetDialContext runs the handshake of dial.go over the connection
// it returns instead, as on other ports: that is the way to a transport
// of the program's own.
func (d *Dialer) dialJSHost(ctx context.Context, urlStr string, header http.Header) (connConfig, *http.Response, error) {
	if d.NetDialContext != nil || portableTests {
		return d.dial(ctx, urlStr, header)
	}
	if err := d.browserUnsupported(); err != nil {
		return connConfig{}, nil, err
	}
	req, offered, err := d.newRequest(urlStr, header)
	if err != nil {
		return connConfig{}, nil, err
	}
	// The browser writes every header field itself: a caller's field
	// other than the subprotocols cannot be sent.
	for name := range req.Header {
		if name != http.CanonicalHeaderKey(headerProtocol) {
			return connConfig{}, nil, fmt.Errorf("websocket: the browser's WebSocket sends no header field of the caller's (%s) under GOOS=js", name)
		}
	}
	if req.Host != req.URL.Host {
		return connConfig{}, nil, errors.New("websocket: the browser's WebSocket sets Host itself under GOOS=js")
	}
	if d.Proxy != nil {
		proxy, err := d.Proxy(req)
		if err != nil {
			return connConfig{}, nil, fmt.Errorf("websocket: choosing a proxy: %w", err)
		}
		if proxy != nil {
			return connConfig{}, nil, fmt.Errorf("websocket: the browser chooses proxies itself under GOOS=js; Dialer.Proxy returned %s", proxy.Redacted())
		}
	}
	if d.HandshakeTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.HandshakeTimeout)
		defer cancel()
	}

	u := *req.URL
	u.Scheme = strings.Replace(u.Scheme, "http", "ws", 1) // newRequest made ws http
	s, err := jsws.Dial(u.String(), offered)
	if err != nil {
		return connConfig{}, nil, dialError(ctx, req.URL, err)
	}
	select {
	case <-s.Opened():
	case <-ctx.Done():
		s.Close()
		return connConfig{}, nil, dialError(ctx, req.URL, ctx.Err())
	}
	if s.ReadyState() != jsws.Open {
		s.Close()
		// A browser tells a page nothing of why (WHATWG WebSockets: to
		// keep pages from probing the network), not even the status.
		return connConfig{}, nil, dialError(ctx, req.URL, &HandshakeError{Reason: "the browser's WebSocket failed to open (the browser's console may say why)"})
	}
	protocol := s.Protocol()
	if protocol != "" && !slices.Contains(offered, protocol) {
		s.Close()
		return connConfig{}, nil, &HandshakeError{Status: http.StatusSwitchingProtocols, Reason: fmt.Sprintf("the server chose subprotocol %q, which was not offered", protocol)}
	}
	resp := &http.Response{
		Status:     "101 Switching Protocols",
		StatusCode: http.StatusSwitchingProtocols,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}},
		Body:       http.NoBody,
		Request:    req,
	}
	if protocol != "" {
		resp.Header.Set(headerProtocol, protocol)
	}
	if ext := s.Extensions(); ext != "" {
		resp.Header.Set(headerExtensions, ext)
	}
	return d.connConfig(&browserConn{Socket: s}, nil, protocol), resp, nil
}

// portableTests is set by the package's own tests when they run under
// js/wasm without a WebSocket server to reach (portable_js_test.go): Dial
// then takes the other ports' path, over the js port's in-process network,
// which is all the servers of those tests listen on.
var portableTests bool

// browserUnsupported names the first field of d set to something a
// browser's WebSocket cannot do.
func (d *Dialer) browserUnsupported() error {
	var field string
	switch {
	case d.NetDialTLSContext != nil:
		field = "NetDialTLSContext"
	case d.TLSClientConfig != nil:
		field = "TLSClientConfig (the browser does TLS)"
	case d.ProxyTLSConfig != nil:
		field = "ProxyTLSConfig (the browser chooses proxies)"
	case d.Jar != nil:
		field = "Jar (the browser sends its own cookies)"
	case d.HTTP2 != HTTP2Auto || d.HTTP2Transport != nil:
		field = "HTTP2 and HTTP2Transport (the browser chooses the HTTP version)"
	case d.Compression != (CompressionOptions{}):
		field = "Compression (the browser negotiates permessage-deflate itself)"
	case d.PingInterval > 0:
		field = "PingInterval (the browser cannot send pings)"
	default:
		return nil
	}
	return fmt.Errorf("websocket: Dialer.%s is not supported by the browser's WebSocket under GOOS=js", field)
}

// refuseControl refuses pings and pongs, which a browser's WebSocket can
// neither send nor show: it answers the server's pings itself.
func (b *browserConn) refuseControl(op opcode) error {
	if op == opPing || op == opPong {
		return errBrowserControl
	}
	return nil
}
