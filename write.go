package websocket

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"time"

	"github.com/rfc6455/websocket/internal/bufpool"
	"github.com/rfc6455/websocket/internal/lock"
)

// minWriteBufferSize keeps room for a frame header and one payload byte:
// the smallest buffer makes NextWriter send one-byte fragments.
const minWriteBufferSize = maxFrameHeaderSize + 1

// maxWriteChunk is the largest scratch buffer a frame borrows to mask (a
// client) or gather (a server on a transport without vectored writes) a
// large payload on its way out, and so the most that one transport write
// of such a frame carries: a 1 MiB message leaves in two writes, where
// 64 KiB chunks took seventeen (and as many wake-ups of the peer). Each
// Conn that is writing a large frame holds at most this much.
const maxWriteChunk = 1 << 20

var (
	errNotDataType    = errors.New("websocket: message type is not text or binary")
	errNotControlType = errors.New("websocket: message type is not close, ping or pong")
	errControlSize    = errors.New("websocket: control frame payload longer than 125 bytes")
	errWriterClosed   = errors.New("websocket: write to a closed message writer")
)

// writeState is the write side's scratch space. It belongs to whoever holds
// Conn.frameLock.
type writeState struct {
	// small holds a whole frame when it fits: control frames and small
	// data messages go out in one write without borrowing a buffer.
	small [256]byte
	vec   [3][]byte // header and up to two payload parts, for writev
	bufs  net.Buffers
	pong  [maxControlPayload]byte // the queued pong's payload, copied out

	// stallRefresh is when the write stall guard's deadline is next moved
	// forward; on a socket, when the probe was last armed, zero before the
	// first write (writestall.go).
	stallRefresh time.Time
}

// bindWriteContext makes the end of ctx interrupt a blocked transport
// write, as bindReadContext does for reads. It returns nil when ctx cannot
// end.
func (c *Conn) bindWriteContext(ctx context.Context) func() {
	if ctx.Done() == nil {
		return nil
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.dlMu.Lock()
		c.writeInterrupted = true
		c.netConn.SetWriteDeadline(aLongTimeAgo)
		c.dlMu.Unlock()
		close(fired)
	})
	return func() {
		if stop() {
			return
		}
		<-fired
		c.dlMu.Lock()
		c.writeInterrupted = false
		c.applyWriteDeadlineLocked()
		c.dlMu.Unlock()
	}
}

// boundWrite applies d, or the user's write deadline when that is
// earlier, to the writes made under the frame lock until
// restoreWriteDeadline; it reports whether it changed anything (not for a
// zero d). A duty is a write the protocol owes the peer (a pong): a user
// deadline that has already passed bounded the user's own writes, not
// this one. Two methods rather than a returned closure: no allocation.
func (c *Conn) boundWrite(d time.Time, duty bool) bool {
	if d.IsZero() {
		return false
	}
	c.dlMu.Lock()
	wd := c.writeDeadline
	if !wd.IsZero() && wd.Before(d) && !(duty && wd.Before(time.Now())) {
		d = wd
	}
	c.writeBound = d
	c.applyWriteDeadlineLocked()
	c.dlMu.Unlock()
	return true
}

// restoreWriteDeadline gives the transport the user's write deadline back.
func (c *Conn) restoreWriteDeadline() {
	c.dlMu.Lock()
	c.writeBound = time.Time{}
	c.applyWriteDeadlineLocked()
	c.dlMu.Unlock()
}

// writeFailed classifies a transport write error. A timeout before any
// byte of the frame went out leaves the stream intact and is returned as
// is. Anything else leaves a partial frame on the wire, so the connection
// ends; a transport that failed on its own (a reset, a broken pipe, closed
// under the write) is an abrupt end, reported as a *CloseError with code
// 1006 that wraps its error, as reads report it.
func (c *Conn) writeFailed(ctx context.Context, partial bool, err error) error {
	if c.life.over() {
		return ErrClosed
	}
	if !isTimeout(err) && !errors.Is(err, ErrWriteStalled) {
		err = abnormalClosure(err)
	}
	if partial || !isTimeout(err) {
		c.life.record(err)
		c.closeTransport()
	}
	return readContextErr(ctx, err)
}

// writeFrame writes one frame under the frame lock. rsv is rsv1Bit for
// the first frame of a compressed message, else 0.
func (c *Conn) writeFrame(ctx context.Context, fin bool, rsv byte, op opcode, payload []byte) error {
	h := frameHeader{fin: fin, rsv: rsv, opcode: op, length: int64(len(payload))}
	return c.writeFrameParts(ctx, &h, payload, nil)
}

// writeFrameParts writes one frame, with header h and payload a then b,
// under the frame lock; h.length must be len(a)+len(b). The two parts let
// NextWriter's writer send what it has buffered and the caller's slice as
// one fragment without first copying them together.
func (c *Conn) writeFrameParts(ctx context.Context, h *frameHeader, a, b []byte) error {
	if err := c.acquire(ctx, &c.frameLock); err != nil {
		return err
	}
	defer c.releaseFrame()
	if c.closeSent.Load() {
		return ErrClosed
	}
	return c.sendFrameLocked(ctx, h, a, b)
}

// writeFrameLocked writes one frame without RSV bits; the caller holds the
// frame lock.
func (c *Conn) writeFrameLocked(ctx context.Context, fin bool, op opcode, payload []byte) error {
	h := frameHeader{fin: fin, opcode: op, length: int64(len(payload))}
	return c.sendFrameLocked(ctx, &h, payload, nil)
}

// sendFrameLocked writes the frame h with payload a then b; the caller
// holds the frame lock. A client masks with a fresh key per frame (RFC 6455
// §5.3); the key need not be cryptographic, only unpredictable to the page,
// so the runtime's fast ChaCha8 source serves.
func (c *Conn) sendFrameLocked(ctx context.Context, h *frameHeader, a, b []byte) error {
	if c.client {
		h.masked = true
		h.key = rand.Uint32()
	}
	stop := c.bindWriteContext(ctx)
	sent, err := c.sendFrame(h, a, b)
	if stop != nil {
		stop()
	}
	if err != nil {
		return c.writeFailed(ctx, sent > 0, err)
	}
	return nil
}

// sendFrame puts the frame h with payload a then b on the wire and returns
// how many bytes went out. The payload is not modified: a client masks it
// on its way into a buffer of ours.
func (c *Conn) sendFrame(h *frameHeader, a, b []byte) (int64, error) {
	w := &c.writer
	if n := len(a) + len(b); maxFrameHeaderSize+n <= len(w.small) {
		// Small frames: one buffer, one write.
		k := putFrameHeader(w.small[:], h)
		if h.masked {
			pos := maskCopy(h.key, 0, w.small[k:], a)
			if len(b) > 0 {
				// Most frames come in one part: no second call.
				maskCopy(h.key, pos, w.small[k+len(a):], b)
			}
		} else {
			copy(w.small[k:], a)
			copy(w.small[k+len(a):], b)
		}
		return c.writeTransport(w.small[:k+n])
	}
	if !h.masked {
		switch c.netConn.(type) {
		case *net.TCPConn, *net.UnixConn:
			return c.sendVectored(w, h, a, b)
		case buffersWriter:
			// A write cut by the stall guard cannot resume there: larger
			// frames go in pieces the guard bounds one by one.
			if c.stallTimeout <= 0 || len(a)+len(b) <= maxWriteChunk {
				return c.sendVectored(w, h, a, b)
			}
		}
	}
	return c.sendCopied(h, a, b)
}

// buffersWriter is a transport that writes several slices as one write,
// as h2stream.Conn does: over HTTP/2, header and payload then share a
// flush and a DATA frame.
type buffersWriter interface {
	WriteBuffers(bufs [][]byte) (int64, error)
}

// sendCopied writes the frame h through a scratch buffer of up to
// maxWriteChunk bytes, borrowed for this frame only, so that a large
// payload leaves in a few large writes, the header with the first. A
// client masks on the way in (it must not mask the caller's slice); a
// server's frame takes this path on transports without vectored writes
// (TLS, wrappers), where a header written alone would cost a record or a
// packet of its own.
func (c *Conn) sendCopied(h *frameHeader, a, b []byte) (int64, error) {
	total := len(a) + len(b)
	p := bufpool.Get(max(c.writeBufferSize, min(maxFrameHeaderSize+total, maxWriteChunk)))
	defer bufpool.Put(p)
	buf := *p
	off := putFrameHeader(buf, h)
	pos := 0
	var sent int64
	for len(a)+len(b) > 0 {
		// Fill the buffer from a, then from b.
		k := min(len(a), len(buf)-off)
		pos = c.copyPayload(h, pos, buf[off:], a[:k])
		a = a[k:]
		off += k
		k = min(len(b), len(buf)-off)
		pos = c.copyPayload(h, pos, buf[off:], b[:k])
		b = b[k:]
		off += k
		m, err := c.writeTransport(buf[:off])
		sent += m
		if err != nil {
			return sent, err
		}
		off = 0
	}
	return sent, nil
}

// copyPayload copies src to dst, masked from key position pos when h is
// masked, and returns the next key position.
func (c *Conn) copyPayload(h *frameHeader, pos int, dst, src []byte) int {
	if h.masked {
		return maskCopy(h.key, pos, dst, src)
	}
	copy(dst, src)
	return pos
}

// sendVectored writes an unmasked frame: header and payload parts in one
// writev, or one WriteBuffers.
func (c *Conn) sendVectored(w *writeState, h *frameHeader, a, b []byte) (int64, error) {
	n := putFrameHeader(w.small[:], h)
	w.vec[0] = w.small[:n]
	w.bufs = w.vec[:1]
	if len(a) > 0 {
		w.bufs = append(w.bufs, a)
	}
	if len(b) > 0 {
		w.bufs = append(w.bufs, b)
	}
	k, err := c.writeTransportBuffers(&w.bufs)
	w.vec = [3][]byte{}
	w.bufs = nil
	return k, err
}

// writeControl writes a control frame under the frame lock only, so that it
// can go out between the fragments of a message (RFC 6455 §5.4).
func (c *Conn) writeControl(ctx context.Context, op opcode, payload []byte) error {
	if err := c.acquire(ctx, &c.frameLock); err != nil {
		return err
	}
	defer c.releaseFrame()
	if c.closeSent.Load() {
		return ErrClosed
	}
	return c.writeFrameLocked(ctx, true, op, payload)
}

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
	h := frameHeader{fin: true, opcode: opcode(typ), length: int64(len(data))}
	err := c.sendHeld(ctx, &h, data)
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
		err = c.writeFrame(ctx, true, 0, op, data)
	}
	c.msgLock.Unlock()
	return err
}

// sendHeld writes WriteMessage's frame h with payload a; the caller holds
// the message and the frame locks. (NextWriter's Close sends its last
// fragment from its own buffer, masked already: sendRawHeld.)
func (c *Conn) sendHeld(ctx context.Context, h *frameHeader, a []byte) error {
	if c.closeSent.Load() {
		return ErrClosed
	}
	return c.sendFrameLocked(ctx, h, a, nil)
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
	// A pong queued as the locks were released: the pong slot's holder
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
	if err := c.checkControl(op); err != nil {
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
	if c.boundWrite(deadline, false) {
		defer c.restoreWriteDeadline()
	}
	return c.writeFrameLocked(context.Background(), true, op, data)
}

// writeRaw writes an encoded frame under the frame lock.
func (c *Conn) writeRaw(ctx context.Context, frame []byte) error {
	if err := c.acquire(ctx, &c.frameLock); err != nil {
		return err
	}
	defer c.releaseFrame()
	return c.sendRawHeld(ctx, frame)
}

// sendRawHeld writes an encoded frame; the caller holds the frame lock.
func (c *Conn) sendRawHeld(ctx context.Context, frame []byte) error {
	if c.closeSent.Load() {
		return ErrClosed
	}
	stop := c.bindWriteContext(ctx)
	n, err := c.writeTransport(frame)
	if stop != nil {
		stop()
	}
	if err != nil {
		return c.writeFailed(ctx, n > 0, err)
	}
	return nil
}
