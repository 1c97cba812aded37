package websocket

import (
	"context"
	"errors"
	"io"
	"time"
)

// The message level of reading: the public reading API and its policy (the
// read lock, contexts, failing the connection, control frames), on top of
// the frameReader (framereader.go), which owns the wire. A message's path:
//
//	ReadMessage, AppendMessage (read.go): lockRead, bindReadContext
//	  appendMessage (read.go)
//	    nextMessage -> advance (read.go): frames up to a data frame's header:
//	      frameReader.readHeader, .readControl (framereader.go); control
//	      frames -> their handlers, receivedClose (close.go)
//	    plain: assembler.appendRaw (readwhole.go) -> readRaw (read.go)
//	      -> frameReader.readData (framereader.go): from the buffer or the
//	      transport (fill; fillWoken, readwake_unix.go), unmasked, UTF-8
//	    compressed: assembler.appendInflated (compress_read.go):
//	      collectCompressed -> readRaw, then inflate.Reader
//	      (internal/inflate) from the collected chunks
//	    chunks and the caller's slice: assembler (readwhole.go), counted
//	      against the MemoryBudget (budget.go)
//	  assembler.handedOver (readwhole.go): the slice is the caller's
//	NextReader (read.go) -> messageReader.Read: readRaw, or
//	  assembler.readInflated (compress_read.go) for a compressed message
//	Any frameReader error -> failRead (read.go): a close frame, or 1006.

var errStaleReader = errors.New("websocket: reader used after the next read began")

// lockRead takes the read lock for a reading method of the application,
// giving up when ctx ends.
func (c *Conn) lockRead(ctx context.Context) error {
	if !c.userRead.Load() {
		c.userRead.Store(true)
	}
	return c.readLock.Lock(ctx, nil)
}

// failRead acts on err, returned by the frameReader. A timeout is returned
// as is and changes nothing, so the read can be retried. A *protocolError
// (the peer broke a rule) sends a close frame with its code; the peer may
// have sent more behind the offending bytes, so the transport is closed by
// a lingering close, which the read lock the caller holds allows. Anything
// else is the transport's end without a close frame (EOF, a reset, the
// transport closed under the read): a *CloseError with code 1006 that wraps
// the cause. Both end the connection and become the sticky read error.
func (c *Conn) failRead(err error) error {
	r := &c.reader
	if code, ok := closeCode(err); ok {
		r.err = err
		c.life.record(err)
		c.writeClose(encodeClose(code, failReason(err)), time.Now().Add(c.closeTimeout))
		c.lingerClose()
		return err
	}
	if c.life.over() {
		err = c.life.err()
	} else if isTimeout(err) {
		return err
	} else if errors.Is(err, io.EOF) {
		err = errAbnormalClosure
	} else {
		err = abnormalClosure(err)
	}
	c.life.record(err)
	r.err = err
	c.closeTransport()
	return err
}

// advance reads frames, handing control frames to their handlers on the
// way, until it has read the header of a data frame.
func (c *Conn) advance() error {
	r := &c.reader
	for r.state != inDataFrame {
		if r.state == expectHeader {
			// A data frame without payload has been read whole.
			data, err := r.readHeader()
			if err != nil {
				return c.failRead(err)
			}
			if data {
				return nil
			}
			continue
		}
		if err := c.handleControl(); err != nil {
			return err
		}
	}
	return nil
}

// handleControl reads the control frame whose header was read and acts on
// it: the handler, the pong a ping asks for, a Ping call waiting for the
// pong, the closing handshake. It is kept out of advance, where an idle
// reader blocks, so that advance's frame stays small: a reading
// goroutine's stack grows to the next power of two when its deepest frames
// pass one (2 KiB for a client's goroutine, 4 KiB for a server's), and is
// shrunk back, once idle, only below a quarter of its size.
func (c *Conn) handleControl() error {
	op, payload, err := c.reader.readControl()
	if err != nil {
		return c.failRead(err)
	}
	c.mu.Lock()
	ping, pong := c.pingHandler, c.pongHandler
	c.mu.Unlock()
	switch op {
	case opPing:
		if ping == nil {
			// RFC 6455 §5.5.2: a pong carries the ping's payload.
			c.pong.put(payload)
			c.sendPongIfFree()
			return nil
		}
		err = ping(string(payload))
	case opPong:
		c.pings.arrived(payload)
		if pong != nil {
			err = pong(string(payload))
		}
	case opClose:
		return c.receivedClose(payload)
	}
	if err != nil && c.closeSent.Load() && errors.Is(err, ErrClosed) {
		// A handler's pong could not follow our close frame (RFC 6455
		// §5.5.1); reading must go on to the peer's close all the same.
		err = nil
	}
	if err != nil {
		c.reader.err = err
	}
	return err
}

// readRaw reads payload bytes as they are on the wire (unmasked), across
// the frames of the message in progress, and returns io.EOF after its last
// frame.
func (c *Conn) readRaw(p []byte) (int, error) {
	r := &c.reader
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if r.state == inDataFrame {
			n, err := r.readData(p)
			if err != nil {
				return 0, c.failRead(err)
			}
			return n, nil
		}
		if r.eof {
			return 0, io.EOF
		}
		if err := c.advance(); err != nil {
			return 0, err
		}
	}
}

// discardMessage reads and drops the rest of the message in progress,
// still checking its text.
func (c *Conn) discardMessage() error {
	r := &c.reader
	if r.compressed {
		if err := c.whole.discardCompressed(); err != nil {
			return err
		}
	}
	for !r.eof {
		if r.state != inDataFrame {
			if err := c.advance(); err != nil {
				return err
			}
		} else if err := r.skip(); err != nil {
			return c.failRead(err)
		}
	}
	return nil
}

// nextMessage drops what is left of the current message and reads up to
// the first data frame of the next one.
func (c *Conn) nextMessage() error {
	r := &c.reader
	if r.err != nil {
		return r.err
	}
	r.resume = false
	c.whole.drop()
	if r.open && !r.done() {
		if err := c.discardMessage(); err != nil {
			return err
		}
	}
	r.open = false
	if err := c.advance(); err != nil {
		return err
	}
	r.open = true
	r.seq++
	return nil
}

// appendMessage appends the payload of the next message, or of the message
// a timeout interrupted, to dst (readwhole.go says where the bytes go on
// the way). After an error the message resumes on the next call if
// r.resume says so; otherwise what it held is dropped.
func (c *Conn) appendMessage(ctx context.Context, dst []byte) (MessageType, []byte, error) {
	r := &c.reader
	if r.err != nil {
		return 0, dst, r.err
	}
	if !r.resume {
		if err := c.nextMessage(); err != nil {
			return 0, dst, err
		}
	}
	r.resume = false
	var err error
	if r.compressed {
		dst, err = c.whole.appendInflated(ctx, dst)
	} else {
		dst, err = c.whole.appendRaw(ctx, dst)
	}
	if err != nil {
		r.resume = r.err == nil
		if !r.resume {
			c.whole.drop()
		}
	}
	return r.msgType, dst, err
}

// bindReadContext makes the end of ctx interrupt a blocked transport read,
// by moving the read deadline into the past. The returned function undoes
// it and must be called when the read is over; it is nil when ctx cannot
// end.
func (c *Conn) bindReadContext(ctx context.Context) func() {
	if ctx.Done() == nil {
		return nil
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.dlMu.Lock()
		c.readInterrupted = true
		if !c.lingering.Load() {
			c.netConn.SetReadDeadline(aLongTimeAgo)
		}
		c.dlMu.Unlock()
		close(fired)
	})
	return func() {
		if stop() {
			return
		}
		<-fired
		c.dlMu.Lock()
		c.readInterrupted = false
		if !c.lingering.Load() {
			c.netConn.SetReadDeadline(c.readDeadline)
		}
		c.dlMu.Unlock()
	}
}

// readContextErr reports ctx's error in place of the timeout its end caused.
func readContextErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil && isTimeout(err) {
		return ctx.Err()
	}
	return err
}

// ReadMessage reads the next message and returns its type and payload, in a
// newly allocated slice the caller owns (a fragmented message larger than
// an eighth of the read limit comes with spare capacity, up to the limit:
// see Limits in the package documentation). Text payloads are valid UTF-8.
// Control frames that arrive meanwhile are handled (pings answered). After
// the peer's close it returns a *CloseError; after a protocol violation, the
// error that failed the connection. A timeout error (read deadline) leaves
// the Conn usable, and the next ReadMessage returns the same message whole.
// Call it from one goroutine at a time.
func (c *Conn) ReadMessage() (MessageType, []byte, error) {
	return c.ReadMessageContext(context.Background())
}

// ReadMessageContext is ReadMessage that gives up when ctx ends, returning
// ctx.Err(). The Conn stays usable: a later read resumes the message.
func (c *Conn) ReadMessageContext(ctx context.Context) (MessageType, []byte, error) {
	if err := c.lockRead(ctx); err != nil {
		return 0, nil, err
	}
	defer c.readLock.Unlock()
	stop := c.bindReadContext(ctx)
	w := &c.whole
	var buf []byte
	if w.asm != nil {
		buf, w.asm.partial = w.asm.partial, nil
	}
	typ, buf, err := c.appendMessage(ctx, buf)
	if stop != nil {
		stop()
	}
	if err != nil {
		if c.reader.resume {
			// Kept, with the budget it holds, for the next read.
			w.borrow().partial = buf
			return 0, nil, readContextErr(ctx, err)
		}
		w.handedOver()
		return 0, nil, readContextErr(ctx, err)
	}
	w.handedOver()
	return typ, buf, nil
}

// AppendMessage reads the next message and appends its payload to dst,
// returning the extended slice, so that a caller reusing one buffer reads
// without allocating; when dst has not the room, the slice returned is
// allocated once, at the size of dst and the message (and of dst and the
// read limit for a fragmented message, as for ReadMessage). On a timeout (read
// deadline) the returned slice holds the start of the message, possibly
// none of it, and the Conn keeps the rest it has read; the next
// AppendMessage continues the same message and appends the rest to the
// slice it is given, so pass the returned slice back to get the message
// whole. Other errors are as for ReadMessage. Call
// it from one goroutine at a time.
func (c *Conn) AppendMessage(dst []byte) (MessageType, []byte, error) {
	return c.AppendMessageContext(context.Background(), dst)
}

// AppendMessageContext is AppendMessage that gives up when ctx ends,
// returning ctx.Err() as it would a timeout.
func (c *Conn) AppendMessageContext(ctx context.Context, dst []byte) (MessageType, []byte, error) {
	if err := c.lockRead(ctx); err != nil {
		return 0, dst, err
	}
	defer c.readLock.Unlock()
	stop := c.bindReadContext(ctx)
	w := &c.whole
	if w.asm != nil && w.asm.partial != nil {
		// A ReadMessage was interrupted; its bytes belong to this message.
		dst = append(dst, w.asm.partial...)
		w.asm.partial = nil
	}
	typ, dst, err := c.appendMessage(ctx, dst)
	if stop != nil {
		stop()
	}
	w.handedOver()
	return typ, dst, readContextErr(ctx, err)
}

// NextReader waits for the next message and returns its type and a reader
// of its payload. The reader returns io.EOF at the end of the message,
// possibly together with the last bytes, and is valid until the next call of
// NextReader, ReadMessage or AppendMessage, which drop whatever it has not
// read; a reader that had returned io.EOF may be handed out again for a
// later message (reading messages allocates nothing), so a reference kept
// past that call reads the later message: do not keep one. Read errors are as for ReadMessage; a timeout leaves both
// the Conn and the reader usable, except inside a compressed message, which
// the reader inflates as it goes and cannot resume (see SetReadDeadline).
// Call it, and the reader's Read, from one goroutine at a time.
func (c *Conn) NextReader() (MessageType, io.Reader, error) {
	return c.NextReaderContext(context.Background())
}

// NextReaderContext is NextReader that gives up when ctx ends, returning
// ctx.Err() and leaving the Conn usable. The returned reader's reads also
// give up when ctx ends.
func (c *Conn) NextReaderContext(ctx context.Context) (MessageType, io.Reader, error) {
	if err := c.lockRead(ctx); err != nil {
		return 0, nil, err
	}
	defer c.readLock.Unlock()
	stop := c.bindReadContext(ctx)
	err := c.nextMessage()
	if stop != nil {
		stop()
	}
	if err != nil {
		return 0, nil, readContextErr(ctx, err)
	}
	r := &c.reader
	m := r.handedOut
	if m == nil || !m.eof {
		// The last reader may still be held by a caller who did not read it
		// to the end: it must see errStaleReader, not this message, so this
		// message gets a reader of its own. A reader that returned io.EOF
		// was used to its end and is taken again, so that a caller reading
		// every message through allocates nothing per message.
		if m != nil {
			m.staged, m.hasStaged = nil, false
		}
		m = &messageReader{c: c}
		r.handedOut = m
	}
	m.ctx, m.seq, m.eof = ctx, r.seq, false
	m.staged, m.hasStaged = r.takeSmall(&m.inline)
	return r.msgType, m, nil
}

// stagedMax is the largest message NextReader hands over whole inside its
// reader (frameReader.takeSmall).
const stagedMax = 128

// messageReader is the io.Reader NextReader returns.
type messageReader struct {
	c   *Conn
	ctx context.Context
	seq uint64
	eof bool // Read returned io.EOF: the reader may be handed out again

	// A small message NextReader found buffered whole is copied here
	// (frameReader.takeSmall), and Read returns it without the Conn.
	hasStaged bool
	staged    []byte // what is left of it
	inline    [stagedMax]byte
}

// Read reads payload bytes of the message, crossing frame boundaries. The
// Read that takes the last byte of an uncompressed message returns io.EOF
// with it, so that a small message costs one call (io.Reader allows it).
func (m *messageReader) Read(p []byte) (int, error) {
	if m.hasStaged {
		if len(p) == 0 && len(m.staged) > 0 {
			return 0, nil
		}
		n := copy(p, m.staged)
		m.staged = m.staged[n:]
		if len(m.staged) == 0 {
			m.eof = true
			return n, io.EOF
		}
		return n, nil
	}
	c := m.c
	if err := c.lockRead(m.ctx); err != nil {
		return 0, err
	}
	defer c.readLock.Unlock()
	r := &c.reader
	if m.seq != r.seq {
		if r.err != nil {
			return 0, r.err
		}
		return 0, errStaleReader
	}
	if !r.open && r.err == nil {
		// Close read on past the end of this message.
		m.eof = true
		return 0, io.EOF
	}
	stop := c.bindReadContext(m.ctx)
	var n int
	var err error
	switch {
	case r.err != nil:
		err = r.err
	case len(p) == 0:
	case r.compressed:
		n, err = c.whole.readInflated(p)
	default:
		n, err = c.readRaw(p)
	}
	if stop != nil {
		stop()
	}
	if err == nil && r.eof && r.state == expectHeader && !r.compressed {
		err = io.EOF
	}
	if err == io.EOF {
		m.eof = true
	}
	return n, readContextErr(m.ctx, err)
}
