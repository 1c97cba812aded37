package websocket

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	ws "github.com/rfc6455/websocket"
)

// Message types, the opcodes of RFC 6455 §5.2, as untyped constants so that
// they mix with the int message types of this API.
const (
	// TextMessage is a data message holding UTF-8 text.
	TextMessage = 1
	// BinaryMessage is a data message holding arbitrary bytes.
	BinaryMessage = 2
	// CloseMessage is the close control frame; its payload is built with
	// FormatCloseMessage.
	CloseMessage = 8
	// PingMessage is the ping control frame, at most 125 bytes of payload.
	PingMessage = 9
	// PongMessage is the pong control frame, at most 125 bytes of payload.
	PongMessage = 10
)

// noFrame is the message type reads return with an error.
const noFrame = -1

// ErrReadLimit is returned by reads when a message is larger than the read
// limit (SetReadLimit); the peer has been sent close code 1009. It is the
// parent package's value, so errors.Is works with either.
var ErrReadLimit error = ws.ErrReadLimit

// Conn is a WebSocket connection, client or server side, returned by
// Upgrader.Upgrade and Dialer.Dial.
//
// Unlike gorilla's, every writing method (WriteMessage, WriteJSON,
// WritePreparedMessage, WriteControl, NextWriter and its writer) may be
// called from many goroutines at once: messages never interleave. Reading
// methods (ReadMessage, ReadJSON, NextReader and its reader) are for one
// goroutine at a time. Close, the setters and the getters may be called at
// any time.
type Conn struct {
	c *ws.Conn

	// closeSent is set once a close frame went out, so that later writes
	// return ErrCloseSent rather than the parent's ErrClosed.
	closeSent atomic.Bool
	// ended is set once a read found the connection over after a close
	// frame went out (the peer's close answered, or a violation failed
	// it): the parent is then closing the transport without loss, and
	// Close lets it.
	ended  atomic.Bool
	closed atomic.Bool // Close was called

	mu           sync.Mutex // guards the handlers and writer
	closeHandler func(code int, text string) error
	pingHandler  func(appData string) error
	pongHandler  func(appData string) error
	writer       *messageWriter // the open NextWriter writer, if any

	reader messageReader // reused: valid until the next NextReader
}

// newConn wraps a connection of the parent package.
func newConn(c *ws.Conn) *Conn { return &Conn{c: c} }

// readErr turns an error of the parent's reads into this package's: a
// *CloseError for the peer's close, ErrReadLimit itself for a message too
// big. It notes a close frame sent by the parent (its answer to the peer's
// close, or the one that failed the connection).
func (c *Conn) readErr(err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	var pe *ws.CloseError
	if errors.As(err, &pe) {
		text := pe.Reason
		if pe.Code == ws.StatusAbnormalClosure {
			if text == "" {
				text = io.ErrUnexpectedEOF.Error()
			}
		} else {
			c.closeSent.Store(true)
			c.ended.Store(true)
		}
		return &CloseError{Code: int(pe.Code), Text: text}
	}
	if errors.Is(err, ws.ErrReadLimit) {
		c.closeSent.Store(true)
		c.ended.Store(true)
		return ErrReadLimit
	}
	if errors.Is(err, ws.ErrProtocol) || errors.Is(err, ws.ErrInvalidPayload) {
		c.closeSent.Store(true)
		c.ended.Store(true)
	}
	return err
}

// writeErr turns the parent's ErrClosed into ErrCloseSent once a close
// frame went out, as gorilla reports it.
func (c *Conn) writeErr(err error) error {
	if err != nil && errors.Is(err, ws.ErrClosed) && c.closeSent.Load() {
		return ErrCloseSent
	}
	return err
}

// Close closes the network connection at once, without sending a close
// frame, as gorilla's does: send one first with WriteControl to close
// cleanly. Blocked reads and writes return. Calling it again returns an
// error.
//
// One exception keeps data from being lost: once a read has returned the
// peer's *CloseError (which the Conn answered) or an error that made the
// Conn send a close frame, the connection is already closing, and Close
// lets it finish: the server shuts down its sending half and waits, at
// most the parent's DefaultCloseTimeout, for the peer to close, reading
// and dropping what still arrives. Closing at once could make the kernel
// reset the connection, destroying the last messages and the close frame
// on their way to the peer.
func (c *Conn) Close() error {
	if !c.ended.Load() {
		return c.c.CloseNow()
	}
	if c.closed.Swap(true) {
		return ws.ErrClosed
	}
	c.c.Close()
	return nil
}

// Subprotocol returns the subprotocol chosen in the handshake, or "".
func (c *Conn) Subprotocol() string { return c.c.Subprotocol() }

// LocalAddr returns the network connection's local address.
func (c *Conn) LocalAddr() net.Addr { return c.c.LocalAddr() }

// RemoteAddr returns the network connection's remote address.
func (c *Conn) RemoteAddr() net.Addr { return c.c.RemoteAddr() }

// UnderlyingConn returns the network connection. Reading or writing it
// corrupts the WebSocket stream; it is there for addresses, TLS state and
// socket options.
func (c *Conn) UnderlyingConn() net.Conn { return c.c.UnderlyingConn() }

// NetConn returns the network connection, as UnderlyingConn does.
func (c *Conn) NetConn() net.Conn { return c.c.UnderlyingConn() }

// SetReadDeadline sets the deadline for reads; the zero time means none.
// Unlike gorilla's, a read that reaches it leaves the Conn usable: the next
// read resumes the same message.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.c.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline for writes; the zero time means none.
// A write that times out before any byte of its frame went out leaves the
// Conn usable; one that sent part of a frame fails the connection.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.c.SetWriteDeadline(t) }

// SetReadLimit sets the largest message, in bytes, that reads accept; a
// larger one fails the connection with close code 1009 and reads return
// ErrReadLimit. limit <= 0 removes the limit. The default is the parent's
// DefaultReadLimit (16 MiB), where gorilla has none.
func (c *Conn) SetReadLimit(limit int64) { c.c.SetReadLimit(limit) }

// EnableWriteCompression turns compression of the messages sent on or off,
// from the next message on. It matters only when permessage-deflate was
// negotiated (EnableCompression on both sides).
func (c *Conn) EnableWriteCompression(enable bool) { c.c.EnableWriteCompression(enable) }

// SetCompressionLevel sets the compress/flate level of the messages sent,
// from the next message on: 1 (fastest) to 9 (smallest), -2 for Huffman
// only, 0 or -1 for the default. Other values give an error.
func (c *Conn) SetCompressionLevel(level int) error { return c.c.SetCompressionLevel(level) }

// SetCloseHandler sets the function reads call, on the reading goroutine,
// when the peer's close frame arrives, with its code (CloseNoStatusReceived
// when it had none) and reason. nil restores the default, which does
// nothing. Whatever the handler, the Conn then answers with a close frame
// of its own (RFC 6455 §5.5.1), so a handler need not send one. A non-nil
// error the handler returns is what the read returns, instead of the
// *CloseError.
func (c *Conn) SetCloseHandler(h func(code int, text string) error) {
	c.mu.Lock()
	c.closeHandler = h
	c.mu.Unlock()
	if h == nil {
		c.c.SetCloseHandler(nil)
		return
	}
	c.c.SetCloseHandler(func(code ws.StatusCode, text string) error { return h(int(code), text) })
}

// CloseHandler returns the close handler: the one set with SetCloseHandler,
// or the default, which does nothing (the Conn answers the close itself).
func (c *Conn) CloseHandler() func(code int, text string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeHandler != nil {
		return c.closeHandler
	}
	return func(int, string) error { return nil }
}

// SetPingHandler sets the function reads call, on the reading goroutine,
// for each ping received, with its payload. nil restores the default, which
// answers with a pong carrying the same payload (RFC 6455 §5.5.2). A handler
// that wants the peer to see a pong sends it with WriteControl.
func (c *Conn) SetPingHandler(h func(appData string) error) {
	c.mu.Lock()
	c.pingHandler = h
	c.mu.Unlock()
	c.c.SetPingHandler(h)
}

// PingHandler returns the ping handler: the one set with SetPingHandler, or
// the default, which sends the pong.
func (c *Conn) PingHandler() func(appData string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pingHandler != nil {
		return c.pingHandler
	}
	return c.defaultPing
}

// pongWait bounds the pong the default ping handler sends.
const pongWait = time.Second

// defaultPing answers a ping with a pong; a pong that cannot go out because
// the connection is closing or slow is no error of the read.
func (c *Conn) defaultPing(appData string) error {
	err := c.WriteControl(PongMessage, []byte(appData), time.Now().Add(pongWait))
	var ne net.Error
	if err == ErrCloseSent || errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	return err
}

// SetPongHandler sets the function reads call, on the reading goroutine,
// for each pong received, with its payload; a keepalive typically extends
// the read deadline there. nil restores the default, which does nothing.
func (c *Conn) SetPongHandler(h func(appData string) error) {
	c.mu.Lock()
	c.pongHandler = h
	c.mu.Unlock()
	c.c.SetPongHandler(h)
}

// PongHandler returns the pong handler: the one set with SetPongHandler, or
// the default, which does nothing.
func (c *Conn) PongHandler() func(appData string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pongHandler != nil {
		return c.pongHandler
	}
	return func(string) error { return nil }
}

// ReadMessage reads the next data message and returns its type (TextMessage
// or BinaryMessage) and payload, in a new slice. Control frames arriving
// meanwhile go to their handlers. After the peer's close it returns a
// *CloseError, after a message larger than the read limit ErrReadLimit; the
// type is then -1. Text is valid UTF-8: invalid text fails the connection
// with close code 1007. A read deadline leaves the Conn usable.
func (c *Conn) ReadMessage() (messageType int, p []byte, err error) {
	typ, p, err := c.c.ReadMessage()
	if err != nil {
		return noFrame, nil, c.readErr(err)
	}
	return int(typ), p, nil
}

// NextReader waits for the next data message and returns its type and a
// reader of its payload, which returns io.EOF at the message's end. The
// reader is valid until the next NextReader, ReadMessage or ReadJSON.
// Errors are as for ReadMessage.
func (c *Conn) NextReader() (messageType int, r io.Reader, err error) {
	typ, pr, err := c.c.NextReader()
	if err != nil {
		return noFrame, nil, c.readErr(err)
	}
	c.reader = messageReader{c: c, r: pr}
	return int(typ), &c.reader, nil
}

// messageReader translates the errors of a message's reader.
type messageReader struct {
	c *Conn
	r io.Reader
}

func (m *messageReader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	return n, m.c.readErr(err)
}

// WriteMessage sends data as one message of messageType. The control types
// (CloseMessage, PingMessage, PongMessage) are sent as WriteControl sends
// them, without deadline. It may be called from many goroutines at once.
// After a close frame was sent it returns ErrCloseSent.
func (c *Conn) WriteMessage(messageType int, data []byte) error {
	err := c.c.WriteMessage(ws.MessageType(messageType), data)
	if err == nil && messageType == CloseMessage {
		c.closeSent.Store(true)
	}
	return c.writeErr(err)
}

// WriteControl sends a close, ping or pong frame with data (at most 125
// bytes), waiting at most until deadline; the zero time means no limit.
// It may go out between the fragments of a message being streamed. After a
// close frame was sent it returns ErrCloseSent.
func (c *Conn) WriteControl(messageType int, data []byte, deadline time.Time) error {
	err := c.c.WriteControl(ws.MessageType(messageType), data, deadline)
	if err == nil && messageType == CloseMessage {
		c.closeSent.Store(true)
	}
	return c.writeErr(err)
}

// WritePreparedMessage sends pm, compressed when this Conn compresses.
// It may be called from many goroutines at once.
func (c *Conn) WritePreparedMessage(pm *PreparedMessage) error {
	return c.writeErr(c.c.WritePreparedMessage(pm.pm))
}

// NextWriter returns a writer for a message of messageType; its Close sends
// the end of the message. A data message is streamed in fragments as the
// write buffer fills; a control message is gathered and sent whole on Close.
// As in gorilla, a writer of this Conn still open is closed first, which
// ends its message; so stream messages with NextWriter from one goroutine,
// while WriteMessage may be called from others.
func (c *Conn) NextWriter(messageType int) (io.WriteCloser, error) {
	c.mu.Lock()
	prev := c.writer
	c.mu.Unlock()
	if prev != nil {
		prev.Close()
	}
	if messageType == CloseMessage || messageType == PingMessage || messageType == PongMessage {
		return &controlWriter{c: c, typ: messageType}, nil
	}
	w, err := c.c.NextWriter(ws.MessageType(messageType))
	if err != nil {
		return nil, c.writeErr(err)
	}
	mw := &messageWriter{c: c, w: w}
	c.mu.Lock()
	c.writer = mw
	c.mu.Unlock()
	return mw, nil
}

// messageWriter is a data message's writer; it translates errors and lets
// the next NextWriter close it.
type messageWriter struct {
	c    *Conn
	w    io.WriteCloser
	once sync.Once
	err  error
}

func (m *messageWriter) Write(p []byte) (int, error) {
	n, err := m.w.Write(p)
	return n, m.c.writeErr(err)
}

func (m *messageWriter) Close() error {
	closed := false
	m.once.Do(func() {
		closed = true
		m.err = m.c.writeErr(m.w.Close())
		m.c.mu.Lock()
		if m.c.writer == m {
			m.c.writer = nil
		}
		m.c.mu.Unlock()
	})
	if !closed {
		return errWriterClosed
	}
	return m.err
}

// errWriterClosed is returned by a writer used after its Close.
var errWriterClosed = errors.New("websocket: writer already closed")

// controlWriter gathers a control frame's payload until Close.
type controlWriter struct {
	c      *Conn
	typ    int
	buf    []byte
	closed bool
}

func (w *controlWriter) Write(p []byte) (int, error) {
	if w.closed {
		return 0, errWriterClosed
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

func (w *controlWriter) Close() error {
	if w.closed {
		return errWriterClosed
	}
	w.closed = true
	return w.c.WriteControl(w.typ, w.buf, time.Time{})
}
