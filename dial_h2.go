package websocket

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sync"
	"time"

	"github.com/rfc6455/websocket/internal/h2stream"
	"github.com/rfc6455/websocket/internal/tunnel"
	"golang.org/x/net/http2"
)

// This file is the client side of WebSockets over HTTP/2 (RFC 8441): the
// Dialer opens a stream with an extended CONNECT request and runs the Conn
// over it.

// HTTP2Mode chooses whether a Dialer opens WebSockets over HTTP/2.
type HTTP2Mode int

const (
	// HTTP2Auto, the zero value, offers HTTP/2 to wss:// servers by ALPN
	// and uses it when the server's first SETTINGS frame allows extended
	// CONNECT (RFC 8441 §3), as browsers do. A server that picks HTTP/1.1
	// gets the HTTP/1.1 handshake on the same connection; one that picks
	// HTTP/2 without allowing extended CONNECT costs a second connection,
	// over HTTP/1.1, and is remembered for ten minutes so that later dials
	// offer it HTTP/1.1 only. ws:// URLs use HTTP/1.1: without TLS nothing
	// tells the client that the server speaks HTTP/2.
	HTTP2Auto HTTP2Mode = iota

	// HTTP2Never uses HTTP/1.1 only (RFC 6455).
	HTTP2Never

	// HTTP2Always uses HTTP/2 only, and fails when the server does not
	// allow it. wss:// URLs need a server that picks h2 by ALPN; ws:// URLs
	// speak HTTP/2 without TLS from the first byte (prior knowledge,
	// RFC 9113 §3.3).
	HTTP2Always
)

// String returns the constant's name.
func (m HTTP2Mode) String() string {
	switch m {
	case HTTP2Auto:
		return "HTTP2Auto"
	case HTTP2Never:
		return "HTTP2Never"
	case HTTP2Always:
		return "HTTP2Always"
	}
	return fmt.Sprintf("HTTP2Mode(%d)", int(m))
}

// withHTTP2 returns a copy of d with the mode m.
func (d *Dialer) withHTTP2(m HTTP2Mode) *Dialer {
	c := *d
	c.HTTP2 = m
	return &c
}

// nextProtos returns the protocols to offer by ALPN to target.
func (d *Dialer) nextProtos(target, proxyURL *url.URL) []string {
	switch {
	case target.Scheme != "https", d.HTTP2 == HTTP2Never,
		d.HTTP2 == HTTP2Auto && recentlyRefused(target, proxyURL):
		return []string{"http/1.1"}
	}
	return []string{"h2", "http/1.1"}
}

// chooseHTTP2 reports whether the handshake over conn, just opened to
// target, is to use HTTP/2. Over TLS, ALPN decides: h2 cannot carry the
// HTTP/1.1 upgrade, nor HTTP/1.1 an extended CONNECT.
func (d *Dialer) chooseHTTP2(conn net.Conn, target *url.URL) (bool, error) {
	if target.Scheme != "https" {
		return d.HTTP2 == HTTP2Always, nil
	}
	proto := ""
	if tc, ok := conn.(interface{ ConnectionState() tls.ConnectionState }); ok {
		proto = tc.ConnectionState().NegotiatedProtocol
	}
	switch {
	case proto == "h2" && d.HTTP2 == HTTP2Never:
		return false, errors.New("the TLS connection chose h2 by ALPN, but HTTP2Never asks for HTTP/1.1")
	case proto == "h2":
		return true, nil
	case d.HTTP2 == HTTP2Always:
		return false, fmt.Errorf("the server chose %q by ALPN, not h2: it does not speak HTTP/2 (HTTP2Always)", proto)
	}
	return false, nil
}

// handshakeHTTP2 opens the WebSocket on a new HTTP/2 connection over conn,
// which it owns from now on: the connection carries this WebSocket only and
// is closed with it. It returns an error wrapping errNoExtendedConnect,
// having closed the connection, when the server's SETTINGS do not allow
// extended CONNECT.
func (d *Dialer) handshakeHTTP2(ctx context.Context, conn net.Conn, req *http.Request, offered []string) (connConfig, *http.Response, error) {
	sniffer := newSettingsSniffer(conn)
	// DisableCompression keeps Accept-Encoding out of the request;
	// AllowHTTP permits the prior-knowledge h2c of ws:// URLs; the answer's
	// header fields are bounded as over HTTP/1.1. The connection is closed
	// when the stream ends (release below). x/net's client is deprecated,
	// but net/http's of Go 1.26 cannot send an extended CONNECT: its
	// ClientConn.RoundTrip refuses the ":protocol" field (RFC 8441 §4).
	//lint:ignore SA1019 net/http of Go 1.26 refuses the :protocol field of an extended CONNECT.
	cc, err := (&http2.Transport{DisableCompression: true, AllowHTTP: true, MaxHeaderListSize: maxResponseHeaderBytes}).NewClientConn(sniffer)
	if err != nil {
		return connConfig{}, nil, dialError(ctx, req.URL, fmt.Errorf("starting HTTP/2: %w", err))
	}
	// RFC 9113 §3.4: the server's first frame is its SETTINGS. The dial's
	// context ends the wait through the deadline dial set on the
	// connection, which fails the read.
	<-sniffer.done
	switch {
	case sniffer.err != nil:
		cc.Close()
		return connConfig{}, nil, dialError(ctx, req.URL, sniffer.err)
	case !sniffer.allowed:
		cc.Close()
		return connConfig{}, nil, dialError(ctx, req.URL, errNoExtendedConnect)
	}
	local, remote := conn.LocalAddr(), conn.RemoteAddr()
	return d.extendedConnect(ctx, cc, req, offered, func() (net.Addr, net.Addr) { return local, remote }, func() { cc.Close() })
}

// useHTTP2Transport reports whether a dial to target goes through
// HTTP2Transport.
func (d *Dialer) useHTTP2Transport(target *url.URL) bool {
	if target.Scheme == "https" {
		return d.HTTP2 != HTTP2Never
	}
	return d.HTTP2 == HTTP2Always
}

// dialViaTransport opens the WebSocket on a stream of HTTP2Transport. In
// HTTP2Auto, a round trip that failed without an answer (the server does
// not speak HTTP/2, does not allow extended CONNECT, or the transport
// cannot send one) is retried over HTTP/1.1. Transports do not export
// why: telling these cases from a network error would mean matching
// their error texts, and a network error fails the second dial too.
func (d *Dialer) dialViaTransport(ctx context.Context, req *http.Request, offered []string, urlStr string, header http.Header) (connConfig, *http.Response, error) {
	var mu sync.Mutex
	var local, remote net.Addr
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		mu.Lock()
		local, remote = info.Conn.LocalAddr(), info.Conn.RemoteAddr()
		mu.Unlock()
	}}
	addrs := func() (net.Addr, net.Addr) {
		mu.Lock()
		defer mu.Unlock()
		return local, remote
	}
	cfg, resp, err := d.extendedConnect(httptrace.WithClientTrace(ctx, trace), d.HTTP2Transport, req, offered, addrs, nil)
	if err == nil || resp != nil || d.HTTP2 != HTTP2Auto || ctx.Err() != nil {
		return cfg, resp, err
	}
	cfg, resp, err1 := d.withHTTP2(HTTP2Never).dial(ctx, urlStr, header)
	if err1 != nil {
		return cfg, resp, errors.Join(err1, fmt.Errorf("websocket: before it, over HTTP/2: %w", err))
	}
	return cfg, resp, nil
}

// extendedConnect sends the extended CONNECT of RFC 8441 §5 for req through
// rt and, when the server accepts it, returns the configuration of a Conn
// over the stream. addrs reports the connection's addresses once the
// request is out; release, when set, frees what carries the stream after
// the stream ends, or when the handshake fails.
func (d *Dialer) extendedConnect(ctx context.Context, rt http.RoundTripper, req *http.Request, offered []string, addrs func() (net.Addr, net.Addr), release func()) (connConfig, *http.Response, error) {
	// The stream outlives the dial, so it must not end with ctx: it gets a
	// context of its own that ctx cancels only until the answer is in.
	streamCtx, cancelStream := context.WithCancel(context.WithoutCancel(ctx))
	reqBody := h2stream.NewBody()
	abandon := func() {
		cancelStream()
		reqBody.Abort(errHandshakeOver)
		if release != nil {
			release()
		}
	}
	stop := context.AfterFunc(ctx, cancelStream)
	resp, err := rt.RoundTrip(newExtendedConnect(req, reqBody).WithContext(streamCtx))
	ctxEnded := !stop()
	if err != nil {
		abandon()
		return connConfig{}, nil, dialError(ctx, req.URL, err)
	}
	if ctxEnded {
		resp.Body.Close()
		abandon()
		return connConfig{}, nil, dialError(ctx, req.URL, ctx.Err())
	}
	if d.Jar != nil {
		if rc := resp.Cookies(); len(rc) > 0 {
			d.Jar.SetCookies(req.URL, rc)
		}
	}
	// RFC 8441 §5: the server accepts with 200. RFC 9110 §9.3.6 lets any
	// 2xx answer a CONNECT that succeeded.
	subprotocol := ""
	if resp.StatusCode/100 != 2 {
		err = &HandshakeError{Status: resp.StatusCode, Reason: "the server refused the extended CONNECT"}
	} else {
		subprotocol, err = checkNegotiated(resp, offered)
	}
	if err != nil {
		body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBodyBytes))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		abandon()
		if readErr != nil {
			return connConfig{}, resp, errors.Join(err, dialError(ctx, req.URL, fmt.Errorf("reading the answer's body: %w", readErr)))
		}
		return connConfig{}, resp, err
	}

	body := resp.Body
	local, remote := addrs()
	stream := h2stream.New(h2stream.Config{
		// Ending the request body ends our side (END_STREAM) once what was
		// written is out, which it is: a write returns only then.
		// Cancelling the stream's context resets what is left of the
		// stream and keeps the response body's Close from waiting for
		// the server.
		In: closerFunc{body, func() error {
			reqBody.CloseWrite()
			cancelStream()
			return body.Close()
		}},
		Out: reqBody,
		// Aborting the body makes a write blocked on flow control return;
		// the transport then resets the stream.
		Abort: func() {
			reqBody.Abort(h2stream.ErrAborted)
			cancelStream()
		},
		Finish: func() error {
			if release != nil {
				release()
			}
			return nil
		},
		Local:  local,
		Remote: remote,
	})
	resp.Body = http.NoBody
	return d.connConfig(stream, nil, subprotocol), resp, nil
}

// newExtendedConnect returns the extended CONNECT of RFC 8441 §5 for the
// handshake request req, with body as its request body. The :scheme, :path
// and :authority come from req.URL and req.Host, as for any request.
// Sec-WebSocket-Key is not sent: over HTTP/2 the :protocol pseudo-header
// does its job.
func newExtendedConnect(req *http.Request, body io.ReadCloser) *http.Request {
	h := req.Header.Clone()
	// RFC 8441 §4: the :protocol pseudo-header; the HTTP/2 transports of
	// net/http and x/net take it from this header field.
	h.Set(":protocol", "websocket")
	h.Set(headerVersion, supportedVersion)
	u := *req.URL
	u.User = nil // the Authorization field carries it already
	return &http.Request{
		Method:     http.MethodConnect,
		URL:        &u,
		Proto:      "HTTP/2.0",
		ProtoMajor: 2,
		Header:     h,
		Host:       req.Host,
		Body:       body,
	}
}

// errHandshakeOver ends the request body of a handshake that failed.
var errHandshakeOver = errors.New("websocket: the handshake failed")

// closerFunc is an io.ReadCloser whose Close is close.
type closerFunc struct {
	io.Reader
	close func() error
}

func (c closerFunc) Close() error { return c.close() }

// refusals remembers for a while the servers, by address and proxy, that
// chose h2 by ALPN without allowing extended CONNECT, so that HTTP2Auto
// offers them HTTP/1.1 at once instead of paying for a second connection on
// every dial.
var refusals = struct {
	sync.Mutex
	until map[string]time.Time
}{until: make(map[string]time.Time)}

const (
	refusalMemory = 10 * time.Minute
	maxRefusals   = 1024 // servers remembered at most; the memory stays small
)

// refusalKey names a server as reached through a proxy.
func refusalKey(target, proxyURL *url.URL) string {
	key := tunnel.HostPort(target)
	if proxyURL != nil {
		key += " via " + proxyURL.Redacted()
	}
	return key
}

// rememberNoExtendedConnect notes that target refused WebSockets over
// HTTP/2.
func rememberNoExtendedConnect(target, proxyURL *url.URL) {
	now := time.Now()
	refusals.Lock()
	defer refusals.Unlock()
	if len(refusals.until) >= maxRefusals {
		for k, t := range refusals.until {
			if now.After(t) || len(refusals.until) >= maxRefusals {
				delete(refusals.until, k)
			}
		}
	}
	refusals.until[refusalKey(target, proxyURL)] = now.Add(refusalMemory)
}

// recentlyRefused reports whether target refused WebSockets over HTTP/2
// within the last refusalMemory.
func recentlyRefused(target, proxyURL *url.URL) bool {
	key := refusalKey(target, proxyURL)
	refusals.Lock()
	defer refusals.Unlock()
	t, ok := refusals.until[key]
	if ok && time.Now().After(t) {
		delete(refusals.until, key)
		return false
	}
	return ok
}

// settingsSniffer, below, watches the first frame an HTTP/2 server sends,
// its SETTINGS (RFC 9113 §3.4), for SETTINGS_ENABLE_CONNECT_PROTOCOL
// (RFC 8441 §3), so that the Dialer learns whether the server takes
// WebSockets over HTTP/2 before it sends a request.

// HTTP/2 framing constants (RFC 9113 §4.1, §6.5, §6.5.2; RFC 8441 §3).
const (
	h2FrameHeaderLen       = 9
	h2FrameSettings        = 0x4
	h2FlagAck              = 0x1
	h2SettingLen           = 6
	h2SettingEnableConnect = 0x8
	h2DefaultMaxFrameSize  = 1 << 14 // the largest frame a peer may send before SETTINGS say otherwise
)

// settingsSniffer is a net.Conn that passes everything through and looks
// at the first frame the server sends. The HTTP/2 client reads through it
// from one goroutine; others learn the result from done.
type settingsSniffer struct {
	net.Conn
	buf     []byte        // the first frame, as far as it has come
	done    chan struct{} // closed once the first frame was seen, or reading failed first
	allowed bool          // the first SETTINGS enable extended CONNECT; valid once done is closed
	err     error         // why no SETTINGS could be seen; valid once done is closed
}

func newSettingsSniffer(c net.Conn) *settingsSniffer {
	return &settingsSniffer{Conn: c, done: make(chan struct{})}
}

// Read reads from the connection and looks at what it returns until the
// first frame is complete.
func (s *settingsSniffer) Read(p []byte) (int, error) {
	n, err := s.Conn.Read(p)
	if !isDone(s.done) {
		s.observe(p[:n], err)
	}
	return n, err
}

// observe adds b, just read, to the first frame; err is the read's error.
func (s *settingsSniffer) observe(b []byte, err error) {
	s.buf = append(s.buf, b...)
	if len(s.buf) >= h2FrameHeaderLen {
		length := int(s.buf[0])<<16 | int(s.buf[1])<<8 | int(s.buf[2])
		typ, flags := s.buf[3], s.buf[4]
		switch {
		case typ != h2FrameSettings || flags&h2FlagAck != 0:
			s.finish(false, fmt.Errorf("the server's first HTTP/2 frame is of type %#x, not SETTINGS", typ))
			return
		case length > h2DefaultMaxFrameSize || length%h2SettingLen != 0:
			s.finish(false, fmt.Errorf("the server's first SETTINGS frame has a bad length %d", length))
			return
		case len(s.buf) >= h2FrameHeaderLen+length:
			s.finish(enablesConnect(s.buf[h2FrameHeaderLen:h2FrameHeaderLen+length]), nil)
			return
		}
	}
	if err != nil {
		s.finish(false, fmt.Errorf("before the server's SETTINGS arrived: %w", err))
	}
}

// finish publishes the result and drops the buffer.
func (s *settingsSniffer) finish(allowed bool, err error) {
	s.allowed, s.err = allowed, err
	s.buf = nil
	close(s.done)
}

// enablesConnect reports whether the SETTINGS payload p sets
// SETTINGS_ENABLE_CONNECT_PROTOCOL to 1; the last value of a setting wins
// (RFC 9113 §6.5.3 processes them in order).
func enablesConnect(p []byte) bool {
	on := false
	for ; len(p) >= h2SettingLen; p = p[h2SettingLen:] {
		if binary.BigEndian.Uint16(p) == h2SettingEnableConnect {
			on = binary.BigEndian.Uint32(p[2:]) == 1
		}
	}
	return on
}

// errNoExtendedConnect reports a server that speaks HTTP/2 but did not
// enable extended CONNECT in its SETTINGS, so it cannot carry a WebSocket
// over HTTP/2.
var errNoExtendedConnect = errors.New("the server does not allow WebSockets over HTTP/2: its SETTINGS lack SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3)")

func isDone(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
