package websocket

import (
	"context"
	"sync"
)

// PreparedMessage is a data message encoded once and sent to many
// connections with WritePreparedMessage, as a broadcast does: the frame of
// an uncompressed message is built once, and a compressed payload is built
// once per set of parameters among the connections it goes to (window bits
// and level), rather than once per connection.
//
// Each compressed form is compressed without reference to earlier
// messages, which any connection may send (RFC 7692 §7.2.1 lets a
// compressor refer back, never obliges it); a connection with context
// takeover adds the message to its history afterwards, as its peer does.
// Whether a connection sends the message compressed follows its own
// settings: negotiation, EnableWriteCompression and the threshold.
//
// A client's frames are masked with a fresh key each (RFC 6455 §5.3), so a
// client form is the payload, masked on its way out; a server form is the
// whole frame. Forms are built when a connection first needs them and kept
// as long as the PreparedMessage. It is safe for concurrent use.
type PreparedMessage struct {
	typ  MessageType
	data []byte

	mu    sync.Mutex
	forms map[preparedKey]*preparedForm
}

// preparedKey names one encoding of a prepared message.
type preparedKey struct {
	compressed bool
	windowBits int // 0 when not compressed
	level      int
}

// preparedForm is one encoding: the payload as sent, and the server's
// frame around it.
type preparedForm struct {
	payloadOnce sync.Once
	payload     []byte
	frameOnce   sync.Once
	frame       []byte
}

// NewPreparedMessage returns a message of type typ (TextMessage or
// BinaryMessage) with a copy of data, for WritePreparedMessage.
func NewPreparedMessage(typ MessageType, data []byte) (*PreparedMessage, error) {
	if typ != TextMessage && typ != BinaryMessage {
		return nil, errNotDataType
	}
	return &PreparedMessage{
		typ:   typ,
		data:  append([]byte(nil), data...),
		forms: make(map[preparedKey]*preparedForm),
	}, nil
}

// form returns the encoding for key, building its payload on first use.
func (pm *PreparedMessage) form(key preparedKey) *preparedForm {
	pm.mu.Lock()
	f := pm.forms[key]
	if f == nil {
		f = new(preparedForm)
		pm.forms[key] = f
	}
	pm.mu.Unlock()
	f.payloadOnce.Do(func() {
		if key.compressed {
			f.payload = compressMessage(nil, pm.data, key.windowBits, key.level)
		} else {
			f.payload = pm.data
		}
	})
	return f
}

// serverFrame returns the whole unmasked frame of the form.
func (pm *PreparedMessage) serverFrame(f *preparedForm, compressed bool) []byte {
	f.frameOnce.Do(func() {
		h := frameHeader{fin: true, opcode: opcode(pm.typ), length: int64(len(f.payload))}
		if compressed {
			h.rsv = rsv1Bit
		}
		var hb [maxFrameHeaderSize]byte
		n := putFrameHeader(hb[:], &h)
		f.frame = append(append(make([]byte, 0, n+len(f.payload)), hb[:n]...), f.payload...)
	})
	return f.frame
}

// WritePreparedMessage sends pm as one message, compressed when this
// Conn's settings would compress it. Like WriteMessage, it may be called
// from many goroutines at once, and returns ErrClosed after a close frame
// was sent.
func (c *Conn) WritePreparedMessage(pm *PreparedMessage) error {
	return c.WritePreparedMessageContext(context.Background(), pm)
}

// WritePreparedMessageContext is WritePreparedMessage that gives up when
// ctx ends. If ctx ends while the frame is partly written, the connection
// fails.
func (c *Conn) WritePreparedMessageContext(ctx context.Context, pm *PreparedMessage) error {
	if err := c.acquire(ctx, &c.msgLock); err != nil {
		return err
	}
	defer c.msgLock.Unlock()
	d := c.messageDeflater(len(pm.data))
	var key preparedKey
	var rsv byte
	if d != nil {
		key = preparedKey{compressed: true, windowBits: d.windowBits, level: c.compressNowLvl}
		rsv = rsv1Bit
	}
	f := pm.form(key)
	var err error
	if c.client {
		// The frame writer masks a copy: the shared payload is never
		// modified.
		err = c.writeFrame(ctx, &frameHeader{fin: true, rsv: rsv, opcode: opcode(pm.typ)}, f.payload, nil)
	} else {
		err = c.writeFrame(ctx, nil, pm.serverFrame(f, key.compressed), nil)
	}
	if err == nil && d != nil {
		d.addHistory(pm.data)
	}
	return err
}
