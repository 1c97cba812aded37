package websocket

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
)

// NextWriter starts a message of type typ and returns a writer for its
// payload. Each time the writer's buffer (the write buffer size) fills, it
// sends a fragment; Close sends the last one, with FIN. Until Close, the
// message holds the Conn's message lock: other goroutines' messages wait
// (their control frames do not), and the same goroutine must not start
// another message. The writer is for one goroutine; it must be closed.
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
		c.msgLock.unlock()
		return nil, ErrClosed
	}
	w := &messageWriter{c: c, ctx: ctx, op: Opcode(typ), buf: getBuffer(c.writeBufferSize)}
	w.d = c.messageDeflater(-1)
	w.sink.w = w
	return w, nil
}

// messageWriter is the io.WriteCloser NextWriter returns. Its buffer keeps
// maxFrameHeaderSize bytes free at the front, where the header goes when
// the fragment is sent. Uncompressed, the buffer holds payload; compressed,
// it holds deflate output, which the deflater hands to sink.
type messageWriter struct {
	c   *Conn
	ctx context.Context
	op  Opcode  // opcode of the next fragment: the message's, then continuation
	buf *[]byte // borrowed until the writer is done; nil after
	n   int     // bytes buffered
	err error   // sticky; errWriterClosed after Close

	d           *deflater // may compress this message; nil when it goes uncompressed
	compressing bool      // the fragments carry d's output
	sink        fragmentSink
}

// Write buffers p, sending a fragment each time the buffer fills.
func (w *messageWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.compressing {
		return w.writeDeflate(p)
	}
	total := 0
	for len(p) > 0 {
		b := *w.buf
		if maxFrameHeaderSize+w.n == len(b) {
			if w.d != nil {
				// More than a buffer: worth compressing whatever the
				// threshold, since the total size is not known.
				if err := w.startDeflate(); err != nil {
					return total, err
				}
				n, err := w.writeDeflate(p)
				return total + n, err
			}
			if err := w.flush(false); err != nil {
				w.finish(err)
				return total, err
			}
		}
		k := copy(b[maxFrameHeaderSize+w.n:], p)
		w.n += k
		total += k
		p = p[k:]
	}
	return total, nil
}

// Close sends the last fragment and ends the message. Closing twice
// returns an error.
func (w *messageWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	if !w.compressing && w.d != nil && w.d.worthCompressing(w.n) {
		if err := w.startDeflate(); err != nil {
			return err
		}
	}
	if w.compressing {
		if err := w.d.endMessage(); err != nil {
			w.finish(err)
			return err
		}
	}
	err := w.flush(true)
	if err != nil {
		w.finish(err)
		return err
	}
	w.finish(errWriterClosed)
	return nil
}

// startDeflate switches the message to compression, feeding the deflater
// what is buffered. The deflater copies it in before it writes any output
// into the same buffer.
func (w *messageWriter) startDeflate() error {
	w.compressing = true
	raw := (*w.buf)[maxFrameHeaderSize : maxFrameHeaderSize+w.n]
	w.n = 0
	w.d.beginMessage(&w.sink)
	if _, err := w.d.Write(raw); err != nil {
		w.finish(err)
		return err
	}
	return nil
}

// writeDeflate compresses p into the message, by pieces of one deflate
// chunk so that the encoder's output buffer stays small.
func (w *messageWriter) writeDeflate(p []byte) (int, error) {
	total := 0
	for len(p) > 0 {
		k := min(len(p), chunkSize)
		if _, err := w.d.Write(p[:k]); err != nil {
			w.finish(err)
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
	for len(p) > 0 {
		b := *w.buf
		if maxFrameHeaderSize+w.n == len(b) {
			if err := w.flush(false); err != nil {
				return total, err
			}
		}
		k := copy(b[maxFrameHeaderSize+w.n:], p)
		w.n += k
		total += k
		p = p[k:]
	}
	return total, nil
}

// flush sends the buffered bytes as one fragment. On error the caller
// must finish the writer.
func (w *messageWriter) flush(fin bool) error {
	c := w.c
	b := *w.buf
	payload := b[maxFrameHeaderSize : maxFrameHeaderSize+w.n]
	h := frameHeader{fin: fin, opcode: w.op, length: int64(w.n), masked: c.client}
	if w.compressing && w.op != OpContinuation {
		h.rsv = rsv1Bit // RFC 7692 §6.1: on the first frame only
	}
	if c.client {
		h.key = rand.Uint32()
		maskBytes(h.key, 0, payload)
	}
	var hb [maxFrameHeaderSize]byte
	hn := putFrameHeader(hb[:], &h)
	frame := b[maxFrameHeaderSize-hn : maxFrameHeaderSize+w.n]
	copy(frame, hb[:hn])
	err := c.writeRaw(w.ctx, frame)
	if err != nil {
		// Fragments already sent cannot be finished: the stream would
		// break RFC 6455 §5.4 for the next message. With context
		// takeover, a compressed message the peer did not get (whole)
		// leaves the two histories apart (RFC 7692 §7.2.3.2).
		broken := w.op == OpContinuation || (w.compressing && w.d.takeover)
		if broken && !errors.Is(err, ErrClosed) {
			c.fail(err, StatusInternalError)
		}
		return err
	}
	w.op = OpContinuation
	w.n = 0
	return nil
}

// finish returns the buffer, the deflater and the message lock, once.
func (w *messageWriter) finish(err error) {
	w.err = err
	if w.buf != nil {
		if w.compressing {
			w.d.abortMessage() // nothing when endMessage has run
		}
		putBuffer(w.buf)
		w.buf = nil
		w.c.msgLock.unlock()
	}
}
