package websocket

import (
	"bufio"
	"net"
	"time"
)

// Conn is a WebSocket connection, client or server side.
type Conn struct {
	cfg connConfig
}

// connConfig is everything a handshake (upgrade.go, dial.go) hands to newConn:
// the transport and the settings negotiated or chosen for this connection.
type connConfig struct {
	netConn     net.Conn      // the transport: any full-duplex stream with deadlines
	br          *bufio.Reader // may be nil; bytes it holds were sent after the handshake and come first
	client      bool          // true on the dialing side: we mask, the peer must not
	subprotocol string        // negotiated Sec-WebSocket-Protocol, or ""

	readLimit       int64 // largest message accepted; 0 means DefaultReadLimit, < 0 no limit
	readBufferSize  int   // 0 means the default
	writeBufferSize int   // 0 means the default

	pingInterval time.Duration // keepalive: ping this often; 0 disables
	pongTimeout  time.Duration // keepalive: fail when no pong within this; 0 means pingInterval
	closeTimeout time.Duration // how long Close waits for the peer's close; 0 means the default
}

// newConn returns a connection that speaks over cfg.netConn.
func newConn(cfg connConfig) *Conn {
	return &Conn{cfg: cfg}
}

// Subprotocol returns the subprotocol negotiated during the handshake, or "".
func (c *Conn) Subprotocol() string { return c.cfg.subprotocol }
