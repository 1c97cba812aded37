package bench

import (
	"context"
	"io"
	"net"
	"net/http"

	"github.com/coder/websocket"
)

// coderLib adapts github.com/coder/websocket. It has no prepared messages:
// broadcast writes the payload to each connection.
type coderLib struct{}

type coderConn struct{ c *websocket.Conn }

func (coderLib) Name() string { return "coder" }

func (coderLib) Appends() bool { return false }

func (coderLib) Supports(Compression) bool { return true }

func coderMode(c Compression) websocket.CompressionMode {
	switch c {
	case CompressionNoContext:
		return websocket.CompressionNoContextTakeover
	case CompressionContext:
		return websocket.CompressionContextTakeover
	}
	return websocket.CompressionDisabled
}

func (coderLib) Upgrade(w http.ResponseWriter, r *http.Request, o Options) (Conn, error) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true,
		CompressionMode:    coderMode(o.Compression),
		// Compress the 1 KiB messages of the workload in both modes.
		CompressionThreshold: 128,
	})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(readLimit)
	return coderConn{c}, nil
}

func (coderLib) Dial(ctx context.Context, url string, o Options) (Conn, error) {
	dial := o.NetDial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	client := &http.Client{Transport: &http.Transport{DialContext: dial}}
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		HTTPClient:           client,
		CompressionMode:      coderMode(o.Compression),
		CompressionThreshold: 128,
	})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(readLimit)
	return coderConn{c}, nil
}

func (coderLib) Prepare(typ MsgType, p []byte) (Prepared, error) {
	return plainPrepared{typ, p}, nil
}

func coderType(t MsgType) websocket.MessageType {
	if t == Text {
		return websocket.MessageText
	}
	return websocket.MessageBinary
}

func fromCoder(t websocket.MessageType) MsgType {
	if t == websocket.MessageText {
		return Text
	}
	return Binary
}

func (c coderConn) ReadMessage() (MsgType, []byte, error) {
	t, p, err := c.c.Read(context.Background())
	return fromCoder(t), p, err
}

// AppendMessage: coder has no whole-message read into a given buffer.
func (coderConn) AppendMessage([]byte) (MsgType, []byte, error) {
	return 0, nil, ErrUnsupported
}

func (c coderConn) WriteMessage(t MsgType, p []byte) error {
	return c.c.Write(context.Background(), coderType(t), p)
}

func (c coderConn) NextReader() (MsgType, io.Reader, error) {
	t, r, err := c.c.Reader(context.Background())
	return fromCoder(t), r, err
}

func (c coderConn) NextWriter(t MsgType) (io.WriteCloser, error) {
	return c.c.Writer(context.Background(), coderType(t))
}

func (c coderConn) WritePrepared(p Prepared) error {
	m := p.(plainPrepared)
	return c.c.Write(context.Background(), coderType(m.typ), m.p)
}

func (c coderConn) Close() error { return c.c.CloseNow() }
