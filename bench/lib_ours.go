package bench

import (
	"context"
	"io"
	"net/http"

	"github.com/rfc6455/websocket"
)

// ours adapts this module's library: ReadMessage is its allocating
// whole-message read, AppendMessage the one that reuses the caller's
// buffer; broadcasts use its PreparedMessage; compression is CompressionOptions
// with the library's defaults (level 1, messages of 128 bytes and more).
type ours struct{}

// oursConn is a *websocket.Conn behind the Conn interface.
type oursConn struct{ c *websocket.Conn }

func (ours) Name() string { return "ours" }

func (ours) Appends() bool { return true }

func (ours) Supports(Compression) bool { return true }

// oursCompression maps a workload's compression onto the library's
// options, leaving level, threshold and window at their defaults.
func oursCompression(c Compression) websocket.CompressionOptions {
	switch c {
	case CompressionNoContext:
		return websocket.CompressionOptions{Mode: websocket.CompressionNoContextTakeover}
	case CompressionContext:
		return websocket.CompressionOptions{Mode: websocket.CompressionContextTakeover}
	}
	return websocket.CompressionOptions{}
}

func (ours) Upgrade(w http.ResponseWriter, r *http.Request, o Options) (Conn, error) {
	u := websocket.Upgrader{
		ReadLimit:   readLimit,
		CheckOrigin: func(*http.Request) bool { return true },
		Compression: oursCompression(o.Compression),
	}
	c, err := u.Upgrade(w, r, nil)
	if err != nil {
		return nil, err
	}
	return oursConn{c}, nil
}

func (ours) Dial(ctx context.Context, url string, o Options) (Conn, error) {
	d := websocket.Dialer{
		NetDialContext: o.NetDial,
		ReadLimit:      readLimit,
		Compression:    oursCompression(o.Compression),
	}
	c, _, err := d.Dial(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	return oursConn{c}, nil
}

func (ours) Prepare(typ MsgType, p []byte) (Prepared, error) {
	return websocket.NewPreparedMessage(oursType(typ), p)
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

func (c oursConn) ReadMessage() (MsgType, []byte, error) {
	t, p, err := c.c.ReadMessage()
	return fromOurs(t), p, err
}

func (c oursConn) AppendMessage(dst []byte) (MsgType, []byte, error) {
	t, p, err := c.c.AppendMessage(dst)
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
	return c.c.WritePreparedMessage(p.(*websocket.PreparedMessage))
}

func (c oursConn) Close() error { return c.c.CloseNow() }
