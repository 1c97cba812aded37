package websocket

// The write path, from the call to the transport [file]:
//
//	WriteMessage(Context) [write.go]: both locks at once (TryLockBoth),
//	  sendFrame, releaseWrite; compressed: writeCompressed [compress_write.go]
//	  (deflater.encode, writeFrame); a lock taken: writeMessageQueued
//	WritePreparedMessage [prepared.go]: msgLock, PreparedMessage.form,
//	  writeFrame (a server's frame encoded once: nil header)
//	NextWriter [nextwriter.go]: msgLock; messageWriter.write buffers
//	  (masked for a client), or deflater.Write -> fragmentSink.Write; a full
//	  buffer: flush -> sendBuffered -> sendFrame (nil header, encoded in
//	  place); a buffer's worth at once: sendWith -> writeFrame; Close: closeLast
//	WriteControl [write.go]: frameLock, sendFrame; a close: writeClose [close.go]
//	writeFrame [write.go]: frameLock, sendFrame, releaseFrame [ping.go]
//	sendFrame [write.go]: frameWriter.bindContext, frameWriter.writeFrame,
//	  and fails the connection on an error
//	frameWriter.writeFrame [framewriter.go]: header and mask into small ->
//	  write | writeVectored -> writeBuffers (writev) | writeCopied -> write,
//	  the transport's Write under the stall guard (armStall, stallCheck)

import (
	"context"
	"errors"
	"time"

	"github.com/rfc6455/websocket/internal/lock"
)

var (
	errNotDataType    = errors.New("websocket: message type is not text or binary")
	errNotControlType = errors.New("websocket: message type is not close, ping or pong")
	errControlSize    = errors.New("websocket: control frame payload longer than 125 bytes")
	errWriterClosed   = errors.New("websocket: write to a closed message writer")
)

// WriteMessage sends data as one message of type typ, in one frame,
// compressed when permessage-deflate was negotiated, compression is enabled
// (EnableWriteCompression) and data is at least the compression threshold
// long. The control types (CloseMessage, PingMessage, PongMessage) are sent as with
// WriteControl. It may be called from many goroutines at once; each message
// goes out whole, never interleaved with another. data is not modified and
// may be reused when it returns. Text is sent as given: invalid UTF-8 makes
// the peer fail the connection with 1007. After a close frame was sent it
// returns ErrClosed.
func (c *Conn) WriteMessage(typ MessageType, data []byte) error {
	return c.WriteMessageContext(context.Background(), typ, data)
}

// WriteMessageContext is WriteMessage that gives up when ctx ends. If ctx
// ends while the frame is partly written, the connection fails, since the
// rest of the frame can never follow.
func (c *Conn) WriteMessageContext(ctx context.Context, typ MessageType, data []byte) error {
	switch typ {
	case TextMessage, BinaryMessage:
	case CloseMessage, PingMessage, PongMessage:
		d, _ := ctx.Deadline()
		return c.WriteControl(typ, data, d)
	default:
		return errNotDataType
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !lock.TryLockBoth(&c.msgLock, &c.frameLock) {
		return c.writeMessageQueued(ctx, opcode(typ), data)
	}
	// Both locks in one operation: the message is one frame.
	if c.deflate != nil {
		if d := c.messageDeflater(len(data)); d != nil {
			c.releaseFrame()
			err := c.writeCompressed(ctx, d, opcode(typ), data)
			c.msgLock.Unlock()
			return err
		}
	}
	err := ErrClosed
	if !c.closeSent.Load() {
		err = c.sendFrame(ctx, &frameHeader{fin: true, opcode: opcode(typ)}, data, nil)
	}
	c.releaseWrite()
	return err
}

// writeMessageQueued is WriteMessageContext when a write lock is taken or
// waited for: it waits for the message lock, then for the frame lock.
func (c *Conn) writeMessageQueued(ctx context.Context, op opcode, data []byte) error {
	if err := c.acquire(ctx, &c.msgLock); err != nil {
		return err
	}
	var err error
	if d := c.messageDeflater(len(data)); d != nil {
		err = c.writeCompressed(ctx, d, op, data)
	} else {
		err = c.writeFrame(ctx, &frameHeader{fin: true, opcode: op}, data, nil)
	}
	c.msgLock.Unlock()
	return err
}

// releaseWrite lets go of the frame lock and the message lock, in one
// atomic operation when no one waits for either, after sending the
// queued pong, as releaseFrame does.
func (c *Conn) releaseWrite() {
	c.writeQueuedPong()
	if !lock.TryUnlockBoth(&c.msgLock, &c.frameLock) {
		c.releaseFrame()
		c.msgLock.Unlock()
		return
	}
	// A pong queued as the locks were released: queuePong's tryLock
	// failed, so send it here, unless someone else took the lock.
	c.sendPongIfFree()
}

// WriteControl sends a close, ping or pong frame with data (at most 125
// bytes), waiting at most until deadline (none when zero) for the frame
// lock and for the write. Control frames may go out between the fragments
// of a message another goroutine is writing. A close frame's data must be a
// valid close payload (see FormatCloseMessage); after it, only reading
// remains: read until the peer's close arrives, or call Close. It may be
// called from many goroutines at once.
func (c *Conn) WriteControl(typ MessageType, data []byte, deadline time.Time) error {
	op := opcode(typ)
	if !op.isControl() || op.isReserved() {
		return errNotControlType
	}
	if len(data) > maxControlPayload {
		return errControlSize
	}
	if err := checkControl(c.netConn, op); err != nil {
		return err
	}
	if op == opClose {
		if _, _, err := parseClosePayload(data); err != nil {
			return err
		}
		return c.writeClose(data, deadline)
	}
	if err := c.acquireUntil(&c.frameLock, deadline); err != nil {
		return err
	}
	defer c.releaseFrame()
	if c.closeSent.Load() {
		return ErrClosed
	}
	if c.writer.bound(deadline, false) {
		defer c.writer.unbound()
	}
	return c.sendFrame(context.Background(), &frameHeader{fin: true, opcode: op}, data, nil)
}

// writeFrame sends the frame h with payload a then b, as sendFrame does,
// taking the frame lock for it; after a close frame it returns ErrClosed.
func (c *Conn) writeFrame(ctx context.Context, h *frameHeader, a, b []byte) error {
	if err := c.acquire(ctx, &c.frameLock); err != nil {
		return err
	}
	defer c.releaseFrame()
	if c.closeSent.Load() {
		return ErrClosed
	}
	return c.sendFrame(ctx, h, a, b)
}

// sendFrame sends the frame h (whose length it sets) with payload a then
// b, or, for a nil h, a as a whole frame encoded (and masked) already; the
// caller holds the frame lock and has checked closeSent. The end of ctx
// interrupts the write.
//
// A write error is classified here. A timeout before any byte of the frame
// went out leaves the stream intact and is returned as is. Anything else
// leaves a partial frame on the wire, so the connection ends; a transport
// that failed on its own (a reset, a broken pipe, closed under the write)
// is an abrupt end, reported as a *CloseError with code 1006 that wraps
// its error, as reads report it.
func (c *Conn) sendFrame(ctx context.Context, h *frameHeader, a, b []byte) error {
	stop := c.writer.bindContext(ctx)
	var sent int64
	var err error
	if h != nil {
		sent, err = c.writer.writeFrame(h, a, b)
	} else {
		sent, err = c.writer.write(a)
	}
	if stop != nil {
		stop()
	}
	if err == nil {
		return nil
	}
	if c.life.over() {
		return ErrClosed
	}
	if !isTimeout(err) && !errors.Is(err, ErrWriteStalled) {
		err = abnormalClosure(err)
	}
	if sent > 0 || !isTimeout(err) {
		c.life.record(err)
		c.closeTransport()
	}
	return readContextErr(ctx, err)
}
