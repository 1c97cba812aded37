package websocket

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"time"

	ws "github.com/rfc6455/websocket"
)

// ErrBadHandshake is returned by Dial when the server refused or botched the
// opening handshake, with the server's response. It is the parent
// package's value.
var ErrBadHandshake error = ws.ErrBadHandshake

// Dialer opens WebSocket connections over HTTP/1.1. Once set, one Dialer may
// be used by many goroutines at once. The zero Dialer dials directly,
// without proxy or handshake timeout.
type Dialer struct {
	// NetDial opens TCP connections when NetDialContext is nil. Nil means a
	// net.Dialer.
	NetDial func(network, addr string) (net.Conn, error)

	// NetDialContext opens TCP connections. Nil means NetDial.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// NetDialTLSContext, when set, opens wss:// connections without a
	// proxy, TLS handshake included; TLSClientConfig is then not used.
	NetDialTLSContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Proxy returns the proxy for a request (http, https, socks5 or
	// socks5h URLs), or nil for none. Nil means no proxy.
	Proxy func(*http.Request) (*url.URL, error)

	// TLSClientConfig configures TLS for wss:// servers; nil means the
	// defaults.
	TLSClientConfig *tls.Config

	// HandshakeTimeout bounds the dial and the handshakes together; zero
	// means no bound other than the context's.
	HandshakeTimeout time.Duration

	// ReadBufferSize and WriteBufferSize size the buffers a message in
	// flight borrows, in bytes; zero means 4096. They do not limit message
	// sizes.
	ReadBufferSize, WriteBufferSize int

	// WriteBufferPool is not used: write buffers are always borrowed from
	// pools inside the parent package, only while a message is written. See
	// BufferPool.
	WriteBufferPool BufferPool

	// Subprotocols lists the subprotocols to offer, in order of preference.
	Subprotocols []string

	// EnableCompression offers permessage-deflate (RFC 7692) with context
	// takeover; the server may accept it with or without.
	EnableCompression bool

	// Jar, when set, supplies the request's cookies and keeps the
	// response's.
	Jar http.CookieJar
}

// DefaultDialer is a Dialer with the proxy from the environment
// (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) and a 45-second handshake timeout.
var DefaultDialer = &Dialer{
	Proxy:            http.ProxyFromEnvironment,
	HandshakeTimeout: 45 * time.Second,
}

// Dial is DialContext with context.Background().
func (d *Dialer) Dial(urlStr string, requestHeader http.Header) (*Conn, *http.Response, error) {
	return d.DialContext(context.Background(), urlStr, requestHeader)
}

// DialContext opens a WebSocket connection to urlStr (ws:// or wss://).
// requestHeader adds fields to the handshake request, such as Origin or
// Cookie. ctx bounds the dial and the handshake, not the connection's life.
// When the server answers without switching protocols, DialContext returns
// ErrBadHandshake with the response, whose body holds the start of what the
// server sent, so that callers can follow redirects or authenticate.
func (d *Dialer) DialContext(ctx context.Context, urlStr string, requestHeader http.Header) (*Conn, *http.Response, error) {
	if d == nil {
		d = &Dialer{}
	}
	pd := &ws.Dialer{
		NetDialContext:    d.NetDialContext,
		NetDialTLSContext: d.NetDialTLSContext,
		TLSClientConfig:   d.TLSClientConfig,
		Proxy:             d.Proxy,
		HandshakeTimeout:  d.HandshakeTimeout,
		Subprotocols:      d.Subprotocols,
		Jar:               d.Jar,
		ReadBufferSize:    d.ReadBufferSize,
		WriteBufferSize:   d.WriteBufferSize,
		// gorilla speaks HTTP/1.1 only, and programs written for it
		// expect UnderlyingConn to be the TCP or TLS connection.
		HTTP2: ws.HTTP2Never,
	}
	if pd.NetDialContext == nil && d.NetDial != nil {
		dial := d.NetDial
		pd.NetDialContext = func(_ context.Context, network, addr string) (net.Conn, error) {
			return dial(network, addr)
		}
	}
	if d.EnableCompression {
		pd.Compression = ws.CompressionOptions{Mode: ws.CompressionContextTakeover}
	}
	c, resp, err := pd.Dial(ctx, urlStr, requestHeader)
	if err != nil {
		if errors.Is(err, ws.ErrBadHandshake) {
			err = ErrBadHandshake
		}
		return nil, resp, err
	}
	return newConn(c), resp, nil
}

// NewClient performs the client handshake over netConn, an established
// connection (TLS already set up for wss://), for the server and path of u.
// requestHeader adds fields to the request, such as Origin and Cookie.
//
// Deprecated: use a Dialer, with NetDialContext to supply the connection.
func NewClient(netConn net.Conn, u *url.URL, requestHeader http.Header, readBufSize, writeBufSize int) (c *Conn, response *http.Response, err error) {
	given := func(context.Context, string, string) (net.Conn, error) { return netConn, nil }
	d := Dialer{
		NetDialContext:    given,
		NetDialTLSContext: given,
		ReadBufferSize:    readBufSize,
		WriteBufferSize:   writeBufSize,
	}
	return d.Dial(u.String(), requestHeader)
}
