//go:build js

package websocket

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

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
	b, err := newBrowserConn(u.String(), offered)
	if err != nil {
		return connConfig{}, nil, dialError(ctx, req.URL, err)
	}
	select {
	case <-b.opened:
	case <-ctx.Done():
		b.Close()
		return connConfig{}, nil, dialError(ctx, req.URL, ctx.Err())
	}
	if b.ws.Get("readyState").Int() != jsOpen {
		b.Close()
		// A browser tells a page nothing of why (WHATWG WebSockets: to
		// keep pages from probing the network), not even the status.
		return connConfig{}, nil, dialError(ctx, req.URL, &HandshakeError{Reason: "the browser's WebSocket failed to open (the browser's console may say why)"})
	}
	protocol := b.ws.Get("protocol").String()
	if protocol != "" && !slices.Contains(offered, protocol) {
		b.Close()
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
	if ext := b.ws.Get("extensions").String(); ext != "" {
		resp.Header.Set(headerExtensions, ext)
	}
	return d.connConfig(b, nil, protocol), resp, nil
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
