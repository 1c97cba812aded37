package bench

import (
	"context"
	"io"
	"net/http"

	"github.com/gorilla/websocket"
)

// gorillaLib adapts github.com/gorilla/websocket with its default buffers.
// It has no context takeover; its prepared messages serve broadcast.
type gorillaLib struct{}

type gorillaConn struct{ c *websocket.Conn }

func (gorillaLib) Name() string { return "gorilla" }

func (gorillaLib) Appends() bool { return false }

func (gorillaLib) Supports(c Compression) bool { return c != CompressionContext }

func (gorillaLib) Upgrade(w http.ResponseWriter, r *http.Request, o Options) (Conn, error) {
	if o.Compression == CompressionContext {
		return nil, ErrUnsupported
	}
	u := websocket.Upgrader{
		CheckOrigin:       func(*http.Request) bool { return true },
		EnableCompression: o.Compression == CompressionNoContext,
	}
	c, err := u.Upgrade(w, r, nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(readLimit)
	return gorillaConn{c}, nil
}

func (gorillaLib) Dial(ctx context.Context, url string, o Options) (Conn, error) {
	if o.Compression == CompressionContext {
		return nil, ErrUnsupported
	}
	d := websocket.Dialer{
		NetDialContext:    o.NetDial,
		EnableCompression: o.Compression == CompressionNoContext,
	}
	c, resp, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	c.SetReadLimit(readLimit)
	return gorillaConn{c}, nil
}

func (gorillaLib) Prepare(typ MsgType, p []byte) (Prepared, error) {
	return websocket.NewPreparedMessage(gorillaType(typ), p)
}

func gorillaType(t MsgType) int {
	if t == Text {
		return websocket.TextMessage
	}
	return websocket.BinaryMessage
}

func fromGorilla(t int) MsgType {
	if t == websocket.TextMessage {
		return Text
	}
	return Binary
}

func (c gorillaConn) ReadMessage() (MsgType, []byte, error) {
	t, p, err := c.c.ReadMessage()
	return fromGorilla(t), p, err
}

// AppendMessage: gorilla has no whole-message read into a given buffer.
func (gorillaConn) AppendMessage([]byte) (MsgType, []byte, error) {
	return 0, nil, ErrUnsupported
}

func (c gorillaConn) WriteMessage(t MsgType, p []byte) error {
	return c.c.WriteMessage(gorillaType(t), p)
}

func (c gorillaConn) NextReader() (MsgType, io.Reader, error) {
	t, r, err := c.c.NextReader()
	return fromGorilla(t), r, err
}

func (c gorillaConn) NextWriter(t MsgType) (io.WriteCloser, error) {
	return c.c.NextWriter(gorillaType(t))
}

func (c gorillaConn) WritePrepared(p Prepared) error {
	return c.c.WritePreparedMessage(p.(*websocket.PreparedMessage))
}

func (c gorillaConn) Close() error { return c.c.Close() }
