package bench

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
	"github.com/gobwas/ws/wsutil"
)

// gobwasLib adapts github.com/gobwas/ws the way its documentation pairs the
// pieces: a bufio.Reader over the connection (the hijacked one on the
// server) for wsutil's readers, wsutil.WriteMessage and a wsutil.Writer for
// writes, pre-compiled frames for broadcast. Text is checked as UTF-8, as
// ours does. Compression is wsflate's, without context takeover only (see
// gobwasFlate).
type gobwasLib struct{}

type gobwasConn struct {
	conn  net.Conn
	br    *bufio.Reader
	state ws.State
	rw    struct {
		io.Reader
		io.Writer
	}
	rd *wsutil.Reader
	wr *wsutil.Writer
	// fl is the permessage-deflate state when it was negotiated, else nil.
	fl *gobwasFlate
}

// gobwasWriter ends a message with Flush, the wsutil.Writer way.
type gobwasWriter struct{ w *wsutil.Writer }

func init() {
	// The package-level switch that wsutil.ReadData obeys.
	wsutil.SetCheckUTF8(true)
	wsutil.SetMaxMessageSize(readLimit)
}

func (gobwasLib) Name() string { return "gobwas" }

func (gobwasLib) Appends() bool { return false }

func (gobwasLib) Supports(c Compression) bool { return c != CompressionContext }

// newGobwasConn wraps an upgraded connection; fl is nil when
// permessage-deflate was not negotiated.
func newGobwasConn(conn net.Conn, br *bufio.Reader, state ws.State, fl *gobwasFlate) *gobwasConn {
	c := &gobwasConn{conn: conn, br: br, state: state, fl: fl}
	c.rw.Reader, c.rw.Writer = br, conn
	c.rd = &wsutil.Reader{
		Source:         br,
		State:          state,
		CheckUTF8:      true,
		MaxMessageSize: readLimit,
		OnIntermediate: wsutil.ControlFrameHandler(conn, state),
	}
	if fl != nil {
		// RSV1 is the extension's; UTF-8 is checked once inflated, since
		// the frames carry compressed bytes.
		c.state |= ws.StateExtended
		c.rd.State = c.state
		c.rd.CheckUTF8 = false
		c.rd.Extensions = []wsutil.RecvExtension{&fl.msg}
	}
	return c
}

func (gobwasLib) Upgrade(w http.ResponseWriter, r *http.Request, o Options) (Conn, error) {
	if o.Compression == CompressionContext {
		return nil, ErrUnsupported
	}
	var u ws.HTTPUpgrader
	var ext wsflate.Extension
	if o.Compression == CompressionNoContext {
		ext.Parameters = wsflate.DefaultParameters
		u.Negotiate = ext.Negotiate
	}
	conn, rw, _, err := u.Upgrade(r, w)
	if err != nil {
		return nil, err
	}
	var fl *gobwasFlate
	if _, ok := ext.Accepted(); ok {
		fl = newGobwasFlate()
	}
	return newGobwasConn(conn, rw.Reader, ws.StateServerSide, fl), nil
}

func (gobwasLib) Dial(ctx context.Context, url string, o Options) (Conn, error) {
	if o.Compression == CompressionContext {
		return nil, ErrUnsupported
	}
	d := ws.Dialer{}
	if o.NetDial != nil {
		d.NetDial = o.NetDial
	}
	if o.Compression == CompressionNoContext {
		d.Extensions = []httphead.Option{wsflate.DefaultParameters.Option()}
	}
	conn, br, hs, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	if br == nil {
		br = bufio.NewReaderSize(conn, 4096)
	}
	var fl *gobwasFlate
	if o.Compression == CompressionNoContext && gobwasAccepted(hs.Extensions) {
		fl = newGobwasFlate()
	}
	return newGobwasConn(conn, br, ws.StateClientSide, fl), nil
}

func (gobwasLib) Prepare(typ MsgType, p []byte) (Prepared, error) {
	return ws.CompileFrame(ws.NewFrame(gobwasOp(typ), true, p))
}

func gobwasOp(t MsgType) ws.OpCode {
	if t == Text {
		return ws.OpText
	}
	return ws.OpBinary
}

func fromGobwas(op ws.OpCode) MsgType {
	if op == ws.OpText {
		return Text
	}
	return Binary
}

func (c *gobwasConn) ReadMessage() (MsgType, []byte, error) {
	if c.fl != nil {
		return c.readInflated()
	}
	var p []byte
	var op ws.OpCode
	var err error
	if c.state.ServerSide() {
		p, op, err = wsutil.ReadClientData(&c.rw)
	} else {
		p, op, err = wsutil.ReadServerData(&c.rw)
	}
	return fromGobwas(op), p, err
}

// AppendMessage: wsutil has no whole-message read into a given buffer.
func (*gobwasConn) AppendMessage([]byte) (MsgType, []byte, error) {
	return 0, nil, ErrUnsupported
}

func (c *gobwasConn) WriteMessage(t MsgType, p []byte) error {
	if c.fl != nil {
		return c.writeDeflated(t, p)
	}
	return wsutil.WriteMessage(c.conn, c.state, gobwasOp(t), p)
}

func (c *gobwasConn) NextReader() (MsgType, io.Reader, error) {
	control := wsutil.ControlFrameHandler(c.conn, c.state)
	for {
		h, err := c.rd.NextFrame()
		if err != nil {
			return 0, nil, err
		}
		if h.OpCode.IsControl() {
			if err := control(h, c.rd); err != nil {
				return 0, nil, err
			}
			continue
		}
		if c.fl != nil && c.fl.msg.IsCompressed() {
			return fromGobwas(h.OpCode), c.fl.reader(c.rd), nil
		}
		return fromGobwas(h.OpCode), c.rd, nil
	}
}

func (c *gobwasConn) NextWriter(t MsgType) (io.WriteCloser, error) {
	if c.wr == nil {
		c.wr = wsutil.NewWriter(c.conn, c.state, gobwasOp(t))
		if c.fl != nil {
			c.wr.SetExtensions(&c.fl.msg)
		}
	} else {
		// ResetOp keeps the destination and the extensions.
		c.wr.ResetOp(gobwasOp(t))
	}
	if c.fl != nil {
		return c.fl.writer(c.wr), nil
	}
	return gobwasWriter{c.wr}, nil
}

func (w gobwasWriter) Write(p []byte) (int, error) { return w.w.Write(p) }

func (w gobwasWriter) Close() error { return w.w.Flush() }

func (c *gobwasConn) WritePrepared(p Prepared) error {
	_, err := c.conn.Write(p.([]byte))
	return err
}

func (c *gobwasConn) Close() error { return c.conn.Close() }
