package websocket

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/rfc6455/websocket/internal/h2stream"
	"golang.org/x/net/http/httpguts"
)

// This file is the server side of WebSockets over HTTP/2 (RFC 8441): an
// extended CONNECT request opens a stream, and the stream carries the
// WebSocket frames in both directions.

// extendedConnect records whether GODEBUG held http2xconnect=1 when the
// process started. net/http and golang.org/x/net/http2 read the variable
// once, in their init functions, which run before this package's.
var extendedConnect = strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1")

// ExtendedConnectEnabled reports whether the HTTP/2 servers of this process
// (net/http's, and golang.org/x/net/http2's) accept WebSockets over HTTP/2.
//
// With Go 1.26 and golang.org/x/net v0.62.0 they advertise
// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3), without which browsers
// and this package's Dialer keep WebSockets on HTTP/1.1, only when the
// GODEBUG environment variable contains http2xconnect=1 as the process
// starts. Either start the server with
//
//	GODEBUG=http2xconnect=1 ./server
//
// or import the package github.com/rfc6455/websocket/http2xconnect for its
// side effect in the server's main package, which sets the variable before
// net/http reads it. A //go:debug directive or a godebug line in go.mod
// does not work: the toolchain rejects http2xconnect as unknown.
//
// The handler must also be reachable by the request: an extended CONNECT
// has the method CONNECT, so an http.ServeMux pattern with a method, such
// as "GET /ws", does not match it; register "/ws", or "CONNECT /ws" beside
// "GET /ws". Then Upgrader.Upgrade serves HTTP/1.1 and HTTP/2 requests
// alike, and so does any http.Server that speaks HTTP/2: over TLS (the
// default of ListenAndServeTLS and ServeTLS), or unencrypted with
// prior knowledge when Server.Protocols enables UnencryptedHTTP2.
//
// Over HTTP/2 a WebSocket is a stream of a shared connection, served by a
// handler that runs as long as the WebSocket does. So the server's
// MaxConcurrentStreams (HTTP2Config; at least 100 by default) bounds the
// WebSockets and requests a client may have open at once on one
// connection, and Server.Shutdown waits for those handlers: close the
// WebSockets from a function given to Server.RegisterOnShutdown.
func ExtendedConnectEnabled() bool { return extendedConnect }

// isExtendedConnect reports whether r is an extended CONNECT for a
// WebSocket. RFC 8441 §4: the :protocol pseudo-header names the protocol;
// net/http passes it on as the header field ":protocol".
func isExtendedConnect(r *http.Request) bool {
	return r.Method == http.MethodConnect && r.Header.Get(":protocol") == "websocket"
}

// upgradeHTTP2 is Upgrade for an HTTP/2 request: RFC 8441 §5. There is no
// Sec-WebSocket-Key or Sec-WebSocket-Accept: the :protocol pseudo-header
// proves that both ends mean WebSocket. The answer is 200, with the
// negotiated subprotocol and extensions as over HTTP/1.1.
func (u *Upgrader) upgradeHTTP2(w http.ResponseWriter, r *http.Request, responseHeader http.Header) (connConfig, error) {
	if r.Method != http.MethodConnect {
		w.Header().Set("Allow", http.MethodConnect)
		return connConfig{}, u.refuse(w, r, http.StatusMethodNotAllowed,
			"method "+r.Method+" is not CONNECT: over HTTP/2 a WebSocket is opened with an extended CONNECT (RFC 8441)")
	}
	switch p := r.Header.Values(":protocol"); {
	case len(p) == 0:
		return connConfig{}, u.refuse(w, r, http.StatusBadRequest, "a CONNECT without :protocol asks for a tunnel, not a WebSocket")
	case len(p) != 1 || p[0] != "websocket":
		return connConfig{}, u.refuse(w, r, http.StatusBadRequest, fmt.Sprintf("the :protocol of the CONNECT is %q, not websocket", p))
	}
	if err := u.checkVersion(w, r); err != nil {
		return connConfig{}, err
	}
	n, err := u.negotiate(w, r, responseHeader)
	if err != nil {
		return connConfig{}, err
	}
	answer, err := http2Answer(n, responseHeader)
	if err != nil {
		return connConfig{}, u.refuse(w, r, http.StatusInternalServerError, err.Error())
	}

	rc := http.NewResponseController(w)
	h := w.Header()
	maps.Copy(h, answer)
	// Flush sends the 200 and its header fields now; the client waits for
	// them before it sends frames. A ResponseWriter that cannot flush (a
	// middleware's wrapper without Unwrap) could not carry the connection
	// either, and has sent nothing yet, so it is refused.
	if err := rc.Flush(); err != nil {
		for name := range answer {
			h.Del(name)
		}
		if errors.Is(err, http.ErrNotSupported) {
			return connConfig{}, u.refuse(w, r, http.StatusInternalServerError,
				"the ResponseWriter cannot flush, so it cannot carry a WebSocket over HTTP/2; a wrapper must have an Unwrap method")
		}
		return connConfig{}, fmt.Errorf("websocket: sending the HTTP/2 answer: %w", err)
	}
	// The server's ReadTimeout and WriteTimeout apply to each HTTP/2 stream
	// and would reset this one; as over HTTP/1.1, the connection's lifetime
	// belongs to its users from here on. A ResponseWriter without deadlines
	// has none to clear.
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})

	stream := h2stream.New(h2stream.Config{
		In:    r.Body,
		Out:   w,
		Flush: rc.Flush,
		// A write deadline in the past resets the stream, which is what
		// makes a write blocked on HTTP/2 flow control return.
		Abort:   func() { rc.SetWriteDeadline(aLongTimeAgo) },
		Context: r.Context(),
		Local:   localAddr(r),
		Remote:  remoteAddr(r),
	})
	return u.connConfig(stream, nil, n), nil
}

// http2Answer returns the header fields of the 200 answer: those of
// responseHeader that HTTP/2 allows, and the negotiated ones.
func http2Answer(n negotiated, responseHeader http.Header) (http.Header, error) {
	answer := make(http.Header, len(responseHeader)+1)
	for name, values := range responseHeader {
		switch http.CanonicalHeaderKey(name) {
		case "Sec-Websocket-Accept", "Sec-Websocket-Protocol":
			continue // not used over HTTP/2, or set below
		case "Upgrade", "Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding":
			continue // RFC 9113 §8.2.2: connection-specific fields are not sent over HTTP/2
		}
		if !httpguts.ValidHeaderFieldName(name) {
			return nil, fmt.Errorf("responseHeader has an invalid field name %q", name)
		}
		for _, v := range values {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, fmt.Errorf("responseHeader %s has an invalid value %q", name, v)
			}
		}
		answer[http.CanonicalHeaderKey(name)] = append([]string(nil), values...)
	}
	if n.subprotocol != "" {
		answer.Set(headerProtocol, n.subprotocol)
	}
	if n.extensions != "" {
		answer.Set(headerExtensions, n.extensions)
	}
	return answer, nil
}

// localAddr returns the server's address of the connection r came on.
func localAddr(r *http.Request) net.Addr {
	a, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	return a
}

// remoteAddr returns the client's address, or nil when r.RemoteAddr is not
// an IP address and port.
func remoteAddr(r *http.Request) net.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}
