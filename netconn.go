package websocket

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

var errNetConnType = errors.New("websocket: NetConn: message of the wrong type")

// NetConn returns a net.Conn that carries a byte stream over c: each Write
// sends its bytes as one message of type typ, and Read returns the payloads
// of the incoming messages as one stream. With TextMessage each Write must
// be valid UTF-8 on its own, so BinaryMessage is the usual choice. A message
// of another type fails the connection with close code 1003.
//
// ctx governs every Read and Write: when it ends they return its error; it
// does not close the connection. Deadlines work as on c: a Read that times
// out returns an error whose Timeout method reports true and may be retried.
// Read returns io.EOF after the peer closed with 1000 (normal closure) or
// 1001 (going away). Close performs the closing handshake with 1000.
//
// As for c, Writes may come from many goroutines at once; Reads are
// serialised.
func NetConn(ctx context.Context, c *Conn, typ MessageType) net.Conn {
	return &netConn{ctx: ctx, c: c, typ: typ}
}

// netConn is the net.Conn NetConn returns.
type netConn struct {
	ctx context.Context
	c   *Conn
	typ MessageType

	mu sync.Mutex // serialises Read; guards r
	r  io.Reader  // the message being read, or nil
}

// Read reads payload bytes, moving to the next message at the end of one.
func (n *netConn) Read(p []byte) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for {
		if n.r == nil {
			typ, r, err := n.c.NextReaderContext(n.ctx)
			if err != nil {
				switch CloseStatus(err) {
				case StatusNormalClosure, StatusGoingAway:
					return 0, io.EOF
				}
				return 0, err
			}
			if typ != n.typ {
				n.c.fail(errNetConnType, StatusUnsupportedData)
				return 0, errNetConnType
			}
			n.r = r
		}
		k, err := n.r.Read(p)
		if err == io.EOF {
			n.r = nil
			if k == 0 {
				continue
			}
			err = nil
		}
		return k, err
	}
}

// Write sends p as one message.
func (n *netConn) Write(p []byte) (int, error) {
	if err := n.c.WriteMessageContext(n.ctx, n.typ, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close performs the closing handshake with code 1000.
func (n *netConn) Close() error { return n.c.Close() }

func (n *netConn) LocalAddr() net.Addr                { return n.c.LocalAddr() }
func (n *netConn) RemoteAddr() net.Addr               { return n.c.RemoteAddr() }
func (n *netConn) SetDeadline(t time.Time) error      { return n.c.SetDeadline(t) }
func (n *netConn) SetReadDeadline(t time.Time) error  { return n.c.SetReadDeadline(t) }
func (n *netConn) SetWriteDeadline(t time.Time) error { return n.c.SetWriteDeadline(t) }
