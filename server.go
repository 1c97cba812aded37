package websocket

import (
	"net/http"
	"time"
)

// Limits of the http.Server that NewHTTPServer returns.
const (
	// DefaultReadHeaderTimeout bounds how long a client may take to send
	// its request's header, the WebSocket handshake included: a client
	// that sends it a byte at a time (slowloris) or never finishes it is
	// cut off then.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultIdleTimeout bounds how long an HTTP keep-alive connection
	// waits for its next request. It does not apply to a connection once
	// upgraded.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxHeaderBytes bounds the size of a request's header; a
	// browser's handshake, cookies included, takes a few KiB.
	DefaultMaxHeaderBytes = 64 << 10
)

// NewHTTPServer returns an http.Server for addr and handler with the
// limits a server open to the Internet needs, the ones the zero
// http.Server (and so http.ListenAndServe) lacks: ReadHeaderTimeout
// (DefaultReadHeaderTimeout), which bounds the handshake, since Upgrade
// runs only once net/http has read the whole request; IdleTimeout
// (DefaultIdleTimeout); and MaxHeaderBytes (DefaultMaxHeaderBytes). Serve
// it with ListenAndServe or ListenAndServeTLS, and change any field before
// that; see ExampleNewHTTPServer.
//
// It sets no ReadTimeout or WriteTimeout: those would also cut the other
// handlers' long requests and responses (uploads, downloads, streams),
// and net/http lifts them from a connection it hands over to Upgrade
// anyway. An upgraded connection is bounded by the Conn's own limits: the
// read limit, keepalive (PingInterval), the write stall timeout
// (WriteStallTimeout) and the deadlines the application sets.
func NewHTTPServer(addr string, handler http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           handler,
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
	}
}
