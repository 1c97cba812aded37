package websocket

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"

	"github.com/rfc6455/websocket/internal/bufpool"
	"github.com/rfc6455/websocket/internal/deflate"
)

// NextWriter starts a message of type typ and returns a writer for its
// payload. Small writes are gathered in a buffer of the write buffer size,
// and a fragment goes out each time it fills; a write of at least a
// buffer's worth goes out at once, with what was gathered before it, as one
// fragment (one writev on a server). Close sends the last fragment, with
// FIN. Until Close, the message holds the Conn's message lock: other
// goroutines' messages wait (their control frames do not), and the same
// goroutine must not start another message. The writer is for one
// goroutine and must be closed; once its message is over, its Write and
// Close fail with an error and never touch a later message. The writer
// itself is the one allocation of a streamed message (a few dozen bytes):
// the buffer and the rest of the state are the Conn's, reused, and a
// message of at most a couple of hundred bytes borrows no pooled buffer.
//
// With permessage-deflate, the message is compressed when compression is
// enabled (EnableWriteCompression) and the payload either fills the buffer
// or reaches the compression threshold by Close; the fragments then carry
// the compressed stream, RSV1 set on the first only (RFC 7692 §6.1).
func (c *Conn) NextWriter(typ MessageType) (io.WriteCloser, error) {
	return c.NextWriterContext(context.Background(), typ)
}

// NextWriterContext is NextWriter whose waits (for the message lock, for
// each fragment's turn on the wire) give up when ctx ends. If ctx ends
// during a write, the connection fails.
func (c *Conn) NextWriterContext(ctx context.Context, typ MessageType) (io.WriteCloser, error) {
	if typ != TextMessage && typ != BinaryMessage {
		return nil, errNotDataType
	}
	if err := c.acquire(ctx, &c.msgLock); err != nil {
		return nil, err
	}
	if c.closeSent.Load() {
		c.msgLock.Unlock()
		return nil, ErrClosed
	}
	w := c.msgWriter
	if w == nil {
		// Made on the first message and kept: a Conn that never streams
		// does not pay for it.
		w = &messageWriter{c: c}
		w.sink.w = w
		c.msgWriter = w
	}
	return w.start(ctx, opcode(typ)), nil
}

// inlineWriteSize is the size of the writer's own buffer: room for a frame
// header and a couple of hundred payload bytes, as in frameWriter.small, so
// that a small message neither borrows nor returns a pooled buffer.
const inlineWriteSize = len(frameWriter{}.small)

// messageWriter is the state of the message NextWriter started; one per
// Conn, owned by the holder of the message lock. Its buffer (inline while
// the fragment fits there, else borrowed, see room) keeps
// maxFrameHeaderSize bytes free at the front, where the header goes when
// the fragment is sent; it holds at most the write buffer size. Uncompressed,
// the buffer holds payload; compressed, it holds deflate output, which the
// deflater hands to sink. A client's buffer holds them masked: each
// fragment's key is drawn before its first byte, and bytes are masked as
// they are copied in (put), so the fragment goes out as it is, with no
// second pass over it.
type messageWriter struct {
	c   *Conn
	ctx context.Context
	op  opcode  // opcode of the next fragment: the message's, then continuation
	buf *[]byte // borrowed once the fragment outgrows inline, until the message ends; else nil
	n   int     // bytes buffered
	key uint32  // a client's masking key for the fragment being buffered

	d           *deflater // may compress this message; nil when it goes uncompressed
	compressing bool      // the fragments carry d's output
	sink        fragmentSink

	inline [inlineWriteSize]byte // the buffer while buf is nil
}

// writerHandle is the io.WriteCloser NextWriter returns: the Conn's
// messageWriter for one message. Each message gets a handle of its own,
// never reused: a handle kept past its message (say, a deferred second
// Close while another goroutine streams) can then only fail, never write
// into or end another message, nor touch a buffer that went back to the
// pool.
type writerHandle struct {
	w *messageWriter
	// err is why the message ended (errWriterClosed after Close), nil
	// while it is open. Only the handle ends its message (finish), from
	// the handle's own goroutine, which alone reads err: a plain field
	// tells a stale handle without an atomic operation per message.
	err error
}

// start begins a message and returns its handle.
func (w *messageWriter) start(ctx context.Context, op opcode) *writerHandle {
	w.ctx, w.op, w.n, w.compressing = ctx, op, 0, false
	w.d = w.c.messageDeflater(-1)
	if w.c.client {
		w.key = rand.Uint32()
	}
	return &writerHandle{w: w}
}

// Write adds p to the message.
func (h *writerHandle) Write(p []byte) (int, error) {
	if h.err != nil {
		return 0, h.err
	}
	return h.w.write(h, p)
}

// Close sends the last fragment and ends the message. Closing twice
// returns an error.
func (h *writerHandle) Close() error {
	if h.err != nil {
		return h.err
	}
	return h.w.close(h)
}

// capacity returns how many payload bytes the buffer holds.
func (w *messageWriter) capacity() int {
	return w.c.writer.bufferSize - maxFrameHeaderSize
}

// room returns the buffer, with room for n payload bytes (at most the
// capacity): the inline array while they fit there, else the borrowed
// buffer, into which the bytes buffered inline move first.
func (w *messageWriter) room(n int) []byte {
	if w.buf != nil {
		return *w.buf
	}
	if maxFrameHeaderSize+n <= len(w.inline) {
		return w.inline[:]
	}
	p := bufpool.Get(w.c.writer.bufferSize)
	copy((*p)[maxFrameHeaderSize:], w.inline[maxFrameHeaderSize:maxFrameHeaderSize+w.n])
	w.buf = p
	return *p
}

// put copies p into the buffer b after the bytes buffered, masked when
// the writer is a client's (RFC 6455 §5.3: key position w.n mod 4), and
// counts it; b must have room for it.
func (w *messageWriter) put(b, p []byte) {
	dst := b[maxFrameHeaderSize+w.n:]
	if w.c.client {
		maskCopy(w.key, w.n&3, dst, p)
	} else {
		copy(dst, p)
	}
	w.n += len(p)
}

// unmask turns a client's buffered bytes back into payload, for a caller
// that sends them through a path that masks with a key of its own, or
// feeds them to the deflater. Masking is its own inverse.
func (w *messageWriter) unmask() {
	if w.c.client {
		maskBytes(w.key, 0, w.buffered())
	}
}

// buffered returns the bytes buffered: payload, masked for a client.
func (w *messageWriter) buffered() []byte {
	if w.buf != nil {
		return (*w.buf)[maxFrameHeaderSize : maxFrameHeaderSize+w.n]
	}
	return w.inline[maxFrameHeaderSize : maxFrameHeaderSize+w.n]
}

// write buffers p, sending a fragment each time the buffer fills; p of at
// least a buffer's worth goes out at once, with what is buffered.
func (w *messageWriter) write(h *writerHandle, p []byte) (int, error) {
	if w.compressing {
		return w.writeDeflate(h, p)
	}
	total := 0
	capacity := w.capacity()
	for len(p) > 0 {
		if w.n == capacity {
			if w.d != nil {
				// More than a buffer: worth compressing whatever the
				// threshold, since the total size is not known.
				if err := w.startDeflate(h); err != nil {
					return total, err
				}
				n, err := w.writeDeflate(h, p)
				return total + n, err
			}
			if err := w.flush(); err != nil {
				w.finish(h, err)
				return total, err
			}
		}
		if w.d == nil && len(p) >= capacity && len(p) > capacity-w.n {
			// A buffer's worth or more: no copy into the buffer, one
			// fragment of the buffered bytes and p.
			if err := w.sendWith(p); err != nil {
				w.finish(h, err)
				return total, err
			}
			return total + len(p), nil
		}
		k := min(len(p), capacity-w.n)
		w.put(w.room(w.n+k), p[:k])
		total += k
		p = p[k:]
	}
	return total, nil
}

// close sends the last fragment and ends the message.
func (w *messageWriter) close(h *writerHandle) error {
	if !w.compressing && w.d != nil && w.d.worthCompressing(w.n) {
		if err := w.startDeflate(h); err != nil {
			return err
		}
	}
	if w.compressing {
		if err := w.d.endMessage(); err != nil {
			w.finish(h, err)
			return err
		}
	}
	return w.closeLast(h)
}

// closeLast sends the buffered bytes as the last fragment and ends the
// message. On success it releases both write locks in one operation, as
// WriteMessage does (releaseWrite).
func (w *messageWriter) closeLast(h *writerHandle) error {
	c := w.c
	err := c.acquire(w.ctx, &c.frameLock)
	if err == nil {
		err = w.sendBuffered(true)
		if err == nil {
			w.end(h, errWriterClosed)
			c.releaseWrite()
			return nil
		}
		// Released before sent: failing the connection sends a close
		// frame, which takes the frame lock.
		c.releaseFrame()
	}
	err = w.sent(err)
	w.finish(h, err)
	return err
}

// startDeflate switches the message to compression, feeding the deflater
// what is buffered, unmasked. The deflater copies it in before it writes
// any output into the same buffer, masked with the same key from position
// 0: no byte under that key has gone out.
func (w *messageWriter) startDeflate(h *writerHandle) error {
	w.compressing = true
	w.unmask()
	raw := w.buffered()
	w.n = 0
	w.d.beginMessage(&w.sink)
	if _, err := w.d.Write(raw); err != nil {
		w.finish(h, err)
		return err
	}
	return nil
}

// writeDeflate compresses p into the message, by pieces of one deflate
// chunk so that the encoder's output buffer stays small.
func (w *messageWriter) writeDeflate(h *writerHandle, p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		k := min(len(p), deflate.ChunkSize)
		if _, err := w.d.Write(p[:k]); err != nil {
			w.finish(h, err)
			return total, err
		}
		total += k
		p = p[k:]
	}
	return total, nil
}

// fragmentSink receives the deflater's output and sends it in fragments.
type fragmentSink struct{ w *messageWriter }

// Write buffers compressed bytes, sending a fragment each time the buffer
// fills. On error it leaves the writer to the caller, which finishes it
// once the deflater has let go of the message.
func (s *fragmentSink) Write(p []byte) (int, error) {
	w := s.w
	total := 0
	capacity := w.capacity()
	for len(p) > 0 {
		if w.n == capacity {
			if err := w.flush(); err != nil {
				return total, err
			}
		}
		k := min(len(p), capacity-w.n)
		w.put(w.room(w.n+k), p[:k])
		total += k
		p = p[k:]
	}
	return total, nil
}

// header fills the zero h with the header of the next fragment, of n
// payload bytes. Filled in place: a header returned by value, built by
// byte stores, is copied with one wide load that waits for them.
func (w *messageWriter) header(h *frameHeader, fin bool, n int) {
	h.fin, h.opcode, h.length = fin, w.op, int64(n)
	if w.compressing && w.op != opContinuation {
		h.rsv = rsv1Bit // RFC 7692 §6.1: on the first frame only
	}
}

// flush sends the buffered bytes as one fragment, without FIN. On error
// the caller must finish the writer.
func (w *messageWriter) flush() error {
	c := w.c
	if err := c.acquire(w.ctx, &c.frameLock); err != nil {
		return w.sent(err)
	}
	err := w.sendBuffered(false)
	c.releaseFrame()
	return w.sent(err)
}

// sendBuffered sends the buffered bytes as one fragment, straight from the
// buffer, its header in the room kept in front; the caller holds the frame
// lock.
func (w *messageWriter) sendBuffered(fin bool) error {
	c := w.c
	if c.closeSent.Load() {
		return ErrClosed
	}
	var h frameHeader
	w.header(&h, fin, w.n)
	if c.client {
		// Masked as they came in (put).
		h.masked = true
		h.key = w.key
	}
	b := w.inline[:]
	if w.buf != nil {
		b = (*w.buf)[:cap(*w.buf)] // at least 256 bytes: a pool class
	}
	// The header is put in place, its size known first: built in a
	// scratch array and copied, its byte stores would stall the copy's
	// wide load (no store forwarding).
	off := maxFrameHeaderSize - putFrameHeaderSize(&h)
	putFrameHeader(b[off:], &h)
	return c.sendFrame(w.ctx, nil, b[off:maxFrameHeaderSize+w.n], nil)
}

// sendWith sends the buffered bytes followed by p as one fragment, without
// FIN. On error the caller must finish the writer.
func (w *messageWriter) sendWith(p []byte) error {
	// frameWriter.writeFrame masks both parts with a key of its own.
	w.unmask()
	var h frameHeader
	w.header(&h, false, w.n+len(p))
	return w.sent(w.c.writeFrame(w.ctx, &h, w.buffered(), p))
}

// sent ends a fragment's write with its error err: the next fragment is a
// continuation, or, after a failure, the connection may have to fail. On
// error the caller must finish the writer.
func (w *messageWriter) sent(err error) error {
	if err != nil {
		// Fragments already sent cannot be finished: the stream would
		// break RFC 6455 §5.4 for the next message. With context
		// takeover, a compressed message the peer did not get (whole)
		// leaves the two histories apart (RFC 7692 §7.2.3.2).
		broken := w.op == opContinuation || (w.compressing && w.d.takeover)
		switch {
		case !broken || errors.Is(err, ErrClosed):
		case isTimeout(err) || errors.Is(err, context.Canceled):
			// The write was stopped because the peer is not taking our
			// bytes: a close frame would wait behind them for the close
			// timeout, keeping the caller whose deadline has passed.
			w.c.life.record(err)
			w.c.closeTransport()
		default:
			w.c.fail(err, StatusInternalError)
		}
		return err
	}
	w.op = opContinuation
	w.n = 0
	if w.c.client {
		w.key = rand.Uint32() // RFC 6455 §5.3: a fresh key per frame
	}
	return nil
}

// finish ends the message: it records why in h, from then on a handle that
// only fails, returns the buffer and the deflater and releases the message
// lock.
func (w *messageWriter) finish(h *writerHandle, err error) {
	w.end(h, err)
	w.c.msgLock.Unlock()
}

// end is finish but for the message lock, which the caller releases.
func (w *messageWriter) end(h *writerHandle, err error) {
	if err == nil {
		err = errWriterClosed // not reached: every caller has a reason
	}
	h.err = err
	if w.compressing {
		w.d.abortMessage() // nothing when endMessage has run
		w.compressing = false
	}
	if w.buf != nil {
		bufpool.Put(w.buf)
		w.buf = nil
	}
	w.d = nil
	w.ctx = nil
}
