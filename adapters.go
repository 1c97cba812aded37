package websocket

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// Adapters that put a familiar interface on a Conn: NetConn (a net.Conn
// over messages) and JSON messages (ReadJSON, WriteJSON).

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

// JSON messages: one JSON value per text message, for applications that
// speak JSON over WebSocket and would otherwise repeat this around
// ReadMessage and WriteMessage.

var errJSONNotText = errors.New("websocket: ReadJSON: binary message, want a text message holding JSON")

// ReadJSON reads the next message and decodes it into v with
// encoding/json. The message must be a text message holding exactly one
// JSON value (whitespace around it allowed); otherwise ReadJSON returns an
// error, the message is dropped and the Conn stays usable (v may be
// partly set, as json.Unmarshal leaves it). Errors of the read itself are
// as for ReadMessage.
func (c *Conn) ReadJSON(v any) error {
	return c.ReadJSONContext(context.Background(), v)
}

// ReadJSONContext is ReadJSON that gives up when ctx ends, as
// ReadMessageContext does.
func (c *Conn) ReadJSONContext(ctx context.Context, v any) error {
	typ, data, err := c.ReadMessageContext(ctx)
	if err != nil {
		return err
	}
	if typ != TextMessage {
		return errJSONNotText
	}
	return json.Unmarshal(data, v)
}

// WriteJSON encodes v with encoding/json and writes it as one text
// message. When v cannot be encoded it returns the encoder's error and
// writes nothing.
func (c *Conn) WriteJSON(v any) error {
	return c.WriteJSONContext(context.Background(), v)
}

// WriteJSONContext is WriteJSON that gives up when ctx ends, as
// WriteMessageContext does.
func (c *Conn) WriteJSONContext(ctx context.Context, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.WriteMessageContext(ctx, TextMessage, data)
}
