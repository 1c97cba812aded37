package websocket

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rfc6455/websocket/internal/tunnel"
	"golang.org/x/net/http/httpguts"
)

// Dialer opens WebSocket connections: the client side of the opening
// handshake of RFC 6455 §4.1, or of RFC 8441 §5 over HTTP/2 (see HTTP2).
//
// A Dialer is configured once and may then be used by many goroutines at the
// same time; Dial may be called concurrently as long as the fields are not
// changed meanwhile. The zero Dialer is usable: it dials directly, without a
// proxy and without a handshake timeout.
type Dialer struct {
	// NetDialContext opens the TCP connection to the server or to the proxy.
	// Nil means a net.Dialer's DialContext.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// NetDialTLSContext, when set, opens wss:// connections that do not go
	// through a proxy, TLS handshake included; TLSClientConfig is then not
	// used. Through a proxy, and when nil, wss:// connections are made with
	// NetDialContext followed by a TLS handshake.
	NetDialTLSContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// TLSClientConfig configures TLS for wss:// servers. Nil means the
	// defaults. Dial uses a copy with ServerName set to the URL's host when
	// empty, and with NextProtos set to "http/1.1", or to "h2" and
	// "http/1.1" when HTTP2 lets it try HTTP/2.
	TLSClientConfig *tls.Config

	// ProxyTLSConfig configures TLS to an https:// proxy. Nil means
	// TLSClientConfig is used for the proxy as well, as net/http's Transport
	// does. Either way Dial uses a copy whose ServerName, when empty, is the
	// proxy's host.
	ProxyTLSConfig *tls.Config

	// Proxy returns the proxy for a request, or nil for none. The request
	// carries the server's URL with the scheme http or https, so that
	// http.ProxyFromEnvironment picks HTTP_PROXY or HTTPS_PROXY. Proxy URLs
	// may have the scheme http (CONNECT), https (TLS to the proxy, then
	// CONNECT), socks5 or socks5h; a user:password in the URL authenticates
	// with the proxy (Basic for http and https, RFC 1929 for SOCKS5). Nil
	// means no proxy.
	Proxy func(*http.Request) (*url.URL, error)

	// HandshakeTimeout bounds the dial, the proxy and TLS handshakes and the
	// WebSocket handshake together. Zero means no limit other than the
	// context's.
	HandshakeTimeout time.Duration

	// Subprotocols lists the subprotocols to offer, in order of preference.
	// The server chooses at most one; Conn.Subprotocol returns it.
	Subprotocols []string

	// Header holds header fields sent with every handshake request; those
	// of the header passed to Dial replace fields of the same name.
	Header http.Header

	// Jar, when set, supplies the request's cookies and stores the cookies
	// of the server's answer.
	Jar http.CookieJar

	// ReadLimit is the largest message the connection accepts; a larger one
	// fails it with close code 1009. Zero means DefaultReadLimit, a negative
	// value means no limit.
	ReadLimit int64

	// MemoryBudget, when set, bounds the memory that messages being read
	// hold at once across every connection sharing it; a read that would
	// pass it waits. See MemoryBudget.
	MemoryBudget *MemoryBudget

	// ReadBufferSize and WriteBufferSize size the connection's I/O buffers in
	// bytes. Zero means the default.
	ReadBufferSize, WriteBufferSize int

	// PingInterval, when positive, makes the connection send a ping this
	// often; PongTimeout is how long it waits for the answer before failing
	// (zero means PingInterval). CloseTimeout bounds how long Close waits for
	// the peer's close frame; zero means the default.
	PingInterval, PongTimeout, CloseTimeout time.Duration

	// WriteStallTimeout fails the connection with ErrWriteStalled when a
	// write gets no byte accepted by the transport for this long: the
	// peer does not read. Zero means DefaultWriteStallTimeout; a negative
	// value turns the guard off, leaving writes to the write deadline.
	// A slow peer that keeps reading is never cut over TCP; over other
	// transports (TLS, HTTP/2) each 1 MiB of a large message must go out
	// within it.
	WriteStallTimeout time.Duration

	// HTTP2 chooses between WebSockets over HTTP/1.1 (RFC 6455) and over
	// HTTP/2 (RFC 8441). The zero value, HTTP2Auto, uses HTTP/2 for wss://
	// URLs when the server allows it; see HTTP2Mode.
	HTTP2 HTTP2Mode

	// Compression configures permessage-deflate (RFC 7692); the zero value
	// offers nothing. See CompressionOptions for the memory each mode keeps
	// per connection.
	Compression CompressionOptions

	// HTTP2Transport, when set, carries the WebSockets this Dialer opens
	// over HTTP/2: they share its pooled connections with each other and
	// with the requests made through it (by an http.Client whose Transport
	// it is, say). It must send an extended CONNECT (RFC 8441 §4: method
	// CONNECT and the ":protocol" pseudo-header, given as that field of
	// Request.Header) as an HTTP/2 request, as golang.org/x/net/http2's
	// transport does; net/http's Transport of Go 1.26 refuses the field.
	// Its own settings then dial and secure those connections;
	// NetDialContext, NetDialTLSContext, TLSClientConfig and Proxy serve
	// only the HTTP/1.1 dials. In HTTP2Auto, a round trip that fails
	// without an answer is retried over HTTP/1.1 on a connection of the
	// Dialer's own. Nil means that each WebSocket over HTTP/2 gets a
	// connection of its own, closed with it.
	HTTP2Transport http.RoundTripper
}

// DefaultDialer is the Dialer used by Dial: it takes the proxy from the
// environment (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) and gives the handshake 45
// seconds.
var DefaultDialer = &Dialer{
	Proxy:            http.ProxyFromEnvironment,
	HandshakeTimeout: 45 * time.Second,
}

// Dial connects to urlStr with DefaultDialer; see Dialer.Dial. Under
// GOOS=js (WebAssembly in a browser) it opens the browser's WebSocket.
func Dial(ctx context.Context, urlStr string, header http.Header) (*Conn, *http.Response, error) {
	return DefaultDialer.Dial(ctx, urlStr, header)
}

// Size bounds of what the client reads during the handshake, so that a server
// cannot make it buffer without end.
const (
	maxResponseHeaderBytes = 1 << 20 // as net/http's DefaultMaxHeaderBytes
	maxResponseBodyBytes   = 1 << 20 // of a refused handshake's body
)

// Dial opens a WebSocket connection to urlStr, whose scheme is ws, wss, http
// or https, and returns it with the server's 101 answer, whose body is empty.
//
// header adds fields to the handshake request; a "Host" field sets the
// request's Host. It must not set the fields that the handshake itself
// writes (Upgrade, Connection, Sec-WebSocket-Key, Sec-WebSocket-Version,
// Sec-WebSocket-Extensions). Sec-WebSocket-Protocol may be set there instead
// of Dialer.Subprotocols, but not in both.
//
// ctx bounds the connection and the handshake, not the connection's life
// after Dial returns.
//
// When the server answers but refuses or botches the handshake, Dial returns
// its response, whose body holds up to 1 MiB of what the server sent and is
// readable after the connection is closed, and a *HandshakeError with the
// status received. Dial may return a response and another error when
// reading the body failed.
//
// Under GOOS=js (WebAssembly in a browser), Dial opens the browser's
// WebSocket instead, and fails at once, naming the field, when d asks for
// what a browser does itself: TLSClientConfig, a Proxy that returns a
// proxy, header fields other than Sec-WebSocket-Protocol, Jar, HTTP2,
// Compression or PingInterval. The response is made from what the page can
// see, and a refused handshake gives no status. See the package
// documentation, "WebAssembly in the browser".
func (d *Dialer) Dial(ctx context.Context, urlStr string, header http.Header) (*Conn, *http.Response, error) {
	dial := (*Dialer).dial
	if dialJSHost != nil {
		dial = dialJSHost
	}
	cfg, resp, err := dial(d, ctx, urlStr, header)
	if err != nil {
		return nil, resp, err
	}
	return newConn(cfg), resp, nil
}

// dialJSHost, set under GOOS=js (transport_js.go), opens the connection
// through the JavaScript host's WebSocket, which does the handshake itself.
var dialJSHost func(d *Dialer, ctx context.Context, urlStr string, header http.Header) (connConfig, *http.Response, error)

// controlRefuser is a transport that cannot send some control frames: the
// browser's WebSocket (transport_js.go), which answers pings itself.
type controlRefuser interface {
	refuseControl(op opcode) error
}

// checkControl returns the error of a transport that cannot send a control
// frame of type op, or nil.
func checkControl(transport net.Conn, op opcode) error {
	if r, ok := transport.(controlRefuser); ok {
		return r.refuseControl(op)
	}
	return nil
}

// dial is Dial up to the construction of the Conn, so that tests can inspect
// what the handshake hands over.
func (d *Dialer) dial(ctx context.Context, urlStr string, header http.Header) (connConfig, *http.Response, error) {
	req, offered, err := d.newRequest(urlStr, header)
	if err != nil {
		return connConfig{}, nil, err
	}
	if d.HandshakeTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.HandshakeTimeout)
		defer cancel()
	}

	var proxyURL *url.URL
	if d.Proxy != nil {
		proxyURL, err = d.Proxy(req)
		if err != nil {
			return connConfig{}, nil, fmt.Errorf("websocket: choosing a proxy: %w", err)
		}
	}

	if d.HTTP2Transport != nil && d.useHTTP2Transport(req.URL) {
		return d.withExtensions(d.dialViaTransport(ctx, req, offered, urlStr, header)) // dial_h2.go
	}

	way := d.tunnelDialer()
	first, hasTLS, err := way.FirstHop(ctx, req.URL, proxyURL)
	if err != nil {
		return connConfig{}, nil, dialError(ctx, req.URL, err)
	}
	// The end of the context ends all handshake I/O from here on, through a
	// past deadline on the first hop, which every layer above reads and
	// writes through. It is set only once ctx.Err reports why, so the error
	// names the context. stop reports false when that has happened.
	stop := context.AfterFunc(ctx, func() { first.SetDeadline(aLongTimeAgo) })
	ok := false
	defer func() {
		stop()
		if !ok {
			first.Close()
		}
	}()
	conn, err := way.Through(ctx, first, hasTLS, req.URL, proxyURL, d.nextProtos(req.URL, proxyURL))
	if err != nil {
		return connConfig{}, nil, dialError(ctx, req.URL, err)
	}

	var cfg connConfig
	var resp *http.Response
	useHTTP2, err := d.chooseHTTP2(conn, req.URL)
	switch {
	case err != nil:
		return connConfig{}, nil, dialError(ctx, req.URL, err)
	case useHTTP2:
		cfg, resp, err = d.handshakeHTTP2(ctx, conn, req, offered) // dial_h2.go
		if errors.Is(err, errNoExtendedConnect) && d.HTTP2 == HTTP2Auto {
			// The server speaks HTTP/2 but not WebSockets over it: start
			// again on a connection that offers only HTTP/1.1.
			first.Close()
			rememberNoExtendedConnect(req.URL, proxyURL)
			return d.withHTTP2(HTTP2Never).dial(ctx, urlStr, header)
		}
	default:
		cfg, resp, err = d.handshakeHTTP1(ctx, conn, req, offered)
	}
	if err == nil {
		cfg, resp, err = d.withExtensions(cfg, resp, nil) // compress_handshake.go
	}
	if err != nil {
		return connConfig{}, resp, err
	}
	if !stop() {
		cfg.netConn.Close()
		return connConfig{}, resp, dialError(ctx, req.URL, ctx.Err())
	}
	if err := first.SetDeadline(time.Time{}); err != nil {
		cfg.netConn.Close()
		return connConfig{}, resp, dialError(ctx, req.URL, err)
	}
	ok = true
	return cfg, resp, nil
}

// handshakeHTTP1 runs the opening handshake of RFC 6455 §4.1 over conn.
func (d *Dialer) handshakeHTTP1(ctx context.Context, conn net.Conn, req *http.Request, offered []string) (connConfig, *http.Response, error) {
	limit := &handshakeReader{r: conn, n: maxResponseHeaderBytes}
	// The Conn copies out what this reader holds past the answer and then
	// reads the transport itself, so its size matters only here.
	br := bufio.NewReaderSize(limit, 4096)
	key := newKey()
	if _, err := conn.Write(appendRequest(nil, req, key)); err != nil {
		return connConfig{}, nil, dialError(ctx, req.URL, err)
	}
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return connConfig{}, nil, dialError(ctx, req.URL, fmt.Errorf("reading the handshake answer: %w", err))
	}
	if d.Jar != nil {
		if rc := resp.Cookies(); len(rc) > 0 {
			d.Jar.SetCookies(req.URL, rc)
		}
	}
	subprotocol, err := checkResponse(resp, key, offered)
	if err != nil {
		// Keep the body readable after the connection is closed.
		limit.n = maxResponseBodyBytes
		body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBodyBytes))
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if readErr != nil {
			return connConfig{}, resp, errors.Join(err, dialError(ctx, req.URL, fmt.Errorf("reading the answer's body: %w", readErr)))
		}
		return connConfig{}, resp, err
	}
	// From here on the Conn reads through br without the handshake's bound.
	limit.n = -1
	resp.Body = http.NoBody
	// br holds what the server sent after its answer.
	return d.connConfig(conn, br, subprotocol), resp, nil
}

// tunnelDialer returns the way to the server that d's fields describe.
func (d *Dialer) tunnelDialer() *tunnel.Dialer {
	return &tunnel.Dialer{
		NetDial:        d.NetDialContext,
		NetDialTLS:     d.NetDialTLSContext,
		TLSConfig:      d.TLSClientConfig,
		ProxyTLSConfig: d.ProxyTLSConfig,
		MaxAnswerBytes: maxResponseHeaderBytes,
	}
}

// connConfig returns the settings of a client connection over netConn with
// the negotiated subprotocol. br may be nil.
func (d *Dialer) connConfig(netConn net.Conn, br *bufio.Reader, subprotocol string) connConfig {
	return connConfig{
		netConn:         netConn,
		br:              br,
		client:          true,
		subprotocol:     subprotocol,
		readLimit:       d.ReadLimit,
		budget:          d.MemoryBudget,
		readBufferSize:  d.ReadBufferSize,
		writeBufferSize: d.WriteBufferSize,
		pingInterval:    d.PingInterval,
		pongTimeout:     d.PongTimeout,
		closeTimeout:    d.CloseTimeout,
		stallTimeout:    d.WriteStallTimeout,
	}
}

// dialError wraps err for the caller, naming the context's error instead of
// the deadline's when the context ended the dial.
func dialError(ctx context.Context, u *url.URL, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%v)", ctxErr, err)
	}
	return fmt.Errorf("websocket: dial %s: %w", u.Host, err)
}

// handshakeFields are the request header fields the handshake writes itself,
// in canonical form.
var handshakeFields = []string{"Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version", "Sec-Websocket-Extensions"}

// newRequest builds the handshake request for urlStr, without the key, and
// returns it with the subprotocols it offers.
func (d *Dialer) newRequest(urlStr string, header http.Header) (*http.Request, []string, error) {
	u, err := url.Parse(urlStr)
	if err != nil {
		return nil, nil, fmt.Errorf("websocket: bad URL: %w", err)
	}
	switch u.Scheme {
	case "ws", "http":
		u.Scheme = "http"
	case "wss", "https":
		u.Scheme = "https"
	default:
		return nil, nil, fmt.Errorf("websocket: bad URL %q: scheme is not ws, wss, http or https", urlStr)
	}
	if u.Hostname() == "" {
		return nil, nil, fmt.Errorf("websocket: bad URL %q: no host", urlStr)
	}
	// RFC 6455 §3: fragments are meaningless in WebSocket URIs and must not
	// be used.
	if u.Fragment != "" || u.RawFragment != "" {
		return nil, nil, fmt.Errorf("websocket: bad URL %q: it has a fragment", urlStr)
	}

	h := make(http.Header)
	for name, values := range d.Header {
		h[http.CanonicalHeaderKey(name)] = slices.Clone(values)
	}
	for name, values := range header {
		h[http.CanonicalHeaderKey(name)] = slices.Clone(values)
	}
	for _, name := range handshakeFields {
		if _, ok := h[name]; ok {
			return nil, nil, fmt.Errorf("websocket: the %s header is set by the handshake, not by the caller", name)
		}
	}
	offer, err := d.compressionOffer() // compress_handshake.go
	if err != nil {
		return nil, nil, fmt.Errorf("websocket: %w", err)
	}
	if offer != "" {
		h.Set(headerExtensions, offer)
	}
	for name, values := range h {
		if !httpguts.ValidHeaderFieldName(name) {
			return nil, nil, fmt.Errorf("websocket: invalid header field name %q", name)
		}
		for _, v := range values {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, nil, fmt.Errorf("websocket: invalid value %q of header %s", v, name)
			}
		}
	}

	req := &http.Request{
		Method:     http.MethodGet,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       u.Host,
	}
	if hosts := h.Values("Host"); len(hosts) > 0 {
		if len(hosts) > 1 || !httpguts.ValidHostHeader(hosts[0]) {
			return nil, nil, fmt.Errorf("websocket: invalid Host header %q", hosts)
		}
		req.Host = hosts[0]
		h.Del("Host")
	}
	if u.User != nil && h.Get("Authorization") == "" {
		password, _ := u.User.Password()
		req.SetBasicAuth(u.User.Username(), password)
	}

	offered := h.Values(headerProtocol)
	if len(offered) > 0 {
		if len(d.Subprotocols) > 0 {
			return nil, nil, errors.New("websocket: Sec-WebSocket-Protocol is set in both the header and Dialer.Subprotocols")
		}
		offered, err = parseTokenList(offered)
		if err != nil {
			return nil, nil, fmt.Errorf("websocket: Sec-WebSocket-Protocol: %w", err)
		}
	} else {
		for _, p := range d.Subprotocols {
			if !isToken(p) {
				return nil, nil, fmt.Errorf("websocket: subprotocol %q is not a token", p)
			}
		}
		offered = slices.Clone(d.Subprotocols)
	}
	h.Del(headerProtocol)
	if len(offered) > 0 {
		h.Set(headerProtocol, strings.Join(offered, ", "))
	}

	if d.Jar != nil {
		for _, c := range d.Jar.Cookies(u) {
			req.AddCookie(c)
		}
	}
	return req, offered, nil
}
