package bench

import (
	"context"
	"io"
	"net/http"

	"github.com/rfc6455/websocket"
)

// ours adapts this module's library. Its whole-message read is
// AppendMessage into the caller's buffer, the call meant for reuse.
type ours struct{}

// oursConn is a *websocket.Conn behind the Conn interface.
type oursConn struct{ c *websocket.Conn }

// plainPrepared is the Prepared of a library without prepared messages:
// the payload, written with WriteMessage to each connection.
type plainPrepared struct {
	typ MsgType
	p   []byte
}

func (ours) Name() string { return "ours" }

func (ours) Supports(c Compression) bool { return c == CompressionOff }

func (ours) Upgrade(w http.ResponseWriter, r *http.Request, o Options) (Conn, error) {
	if o.Compression != CompressionOff {
		return nil, ErrUnsupported
	}
	u := websocket.Upgrader{
		ReadLimit:   readLimit,
		CheckOrigin: func(*http.Request) bool { return true },
	}
	c, err := u.Upgrade(w, r, nil)
	if err != nil {
		return nil, err
	}
	return oursConn{c}, nil
}

func (ours) Dial(ctx context.Context, url string, o Options) (Conn, error) {
	if o.Compression != CompressionOff {
		return nil, ErrUnsupported
	}
	d := websocket.Dialer{NetDialContext: o.NetDial, ReadLimit: readLimit}
	c, _, err := d.Dial(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	return oursConn{c}, nil
}

func (ours) Prepare(typ MsgType, p []byte) (Prepared, error) {
	return plainPrepared{typ, p}, nil
}

func oursType(t MsgType) websocket.MessageType {
	if t == Text {
		return websocket.TextMessage
	}
	return websocket.BinaryMessage
}

func fromOurs(t websocket.MessageType) MsgType {
	if t == websocket.TextMessage {
		return Text
	}
	return Binary
}

func (c oursConn) ReadMessage(dst []byte) (MsgType, []byte, error) {
	t, p, err := c.c.AppendMessage(dst[:0])
	return fromOurs(t), p, err
}

func (c oursConn) WriteMessage(t MsgType, p []byte) error {
	return c.c.WriteMessage(oursType(t), p)
}

func (c oursConn) NextReader() (MsgType, io.Reader, error) {
	t, r, err := c.c.NextReader()
	return fromOurs(t), r, err
}

func (c oursConn) NextWriter(t MsgType) (io.WriteCloser, error) {
	return c.c.NextWriter(oursType(t))
}

func (c oursConn) WritePrepared(p Prepared) error {
	m := p.(plainPrepared)
	return c.c.WriteMessage(oursType(m.typ), m.p)
}

func (c oursConn) Close() error { return c.c.CloseNow() }
