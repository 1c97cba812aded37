package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/rfc6455/websocket/internal/inflate"
)

// The read side of permessage-deflate (RFC 7692 §7.2.2): messages whose
// first frame has RSV1 set are inflated on their way to the caller, text is
// checked after inflating, and the read limit applies to the inflated size.
//
// Whole-message reads (ReadMessage, AppendMessage) first collect the
// compressed payload, frame by frame, exactly as uncompressed payload is
// read, and inflate it from memory once the last frame is in. So a timeout
// or a cancelled context while the frames arrive leaves the Conn usable and
// the next read resumes, as without compression. Streamed reads (NextReader)
// inflate straight from the frames instead, so that a long message need not
// be held in memory; but compress/flate keeps the first error of its
// source, so a timeout in the middle of a streamed compressed message
// cannot be resumed and fails the connection (close code 1001).

// inflateMode says how far the compressed message in progress has been
// inflated.
type inflateMode uint8

const (
	inflateIdle    inflateMode = iota // nothing collected or inflated yet
	inflateCollect                    // payload being collected into zbuf
	inflateStream                     // the inflater reads the frames
	inflateDone                       // all output produced; frames may remain to skip
)

// errInflateTooBig fails a message whose decompressed size passes the read
// limit (close code 1009), before any byte beyond the limit reaches the
// caller.
var errInflateTooBig = &protocolError{StatusMessageTooBig, "decompressed message larger than the read limit"}

// errInflateCorrupt fails a message whose payload is not a valid DEFLATE
// stream (close code 1007, RFC 6455 §7.4.1: data inconsistent with the type
// of the message).
var errInflateCorrupt = &protocolError{StatusInvalidFramePayloadData, "invalid compressed data"}

// newInflater returns the decompressor for the direction dir. Any window is
// accepted on input; dir.windowBits only sizes the history kept with
// context takeover. It keeps at least 9 bits' worth, because zlib, which
// most peers use, cannot compress with an 8-bit window and uses 9 when 8 is
// negotiated (RFC 7692 §7.1.2.1 allows 8; zlib's deflateInit2 does not).
func newInflater(dir deflateDirection) *inflate.Reader {
	return inflate.New(dir.takeover, 1<<max(validWindowBits(dir.windowBits), 9))
}

// errInflateInterrupted is wrapped, with the timeout or context error, when
// a streamed read stops inside a compressed message.
var errInflateInterrupted = errors.New("websocket: read interrupted inside a compressed message, which cannot resume")

// compressedLimit bounds the compressed payload of a message whose inflated
// size may be limit: DEFLATE needs at most 1/8 more than its input (9-bit
// fixed codes for every literal, or 5 bytes per stored block of 64 KiB),
// plus a few bytes of headers.
func compressedLimit(limit int64) int64 {
	const maxInt64 = 1<<63 - 1
	slack := limit/8 + 1024
	if limit > maxInt64-slack {
		return maxInt64
	}
	return limit + slack
}

// inflateLimit returns the largest inflated message, or -1 for no limit.
func (w *assembler) inflateLimit() int64 {
	if limit := w.c.readLimit.Load(); limit > 0 {
		return limit
	}
	return -1
}

// compressedSource is the compressed payload of the message in progress,
// across its frames, as the inflater reads it.
type compressedSource struct{ c *Conn }

func (s compressedSource) Read(p []byte) (int, error) { return s.c.readRaw(p) }

// inflateFailed turns an error of the inflater into the error of the read.
func (w *assembler) inflateFailed(err error) error {
	c := w.c
	r := &c.reader
	if r.err != nil {
		// The frames failed (a protocol error, the peer's close, the
		// transport): already handled where it happened.
		return r.err
	}
	switch err {
	case inflate.ErrTooBig:
		err = errInflateTooBig
	case inflate.ErrCorrupt:
		err = errInflateCorrupt
	}
	if _, ok := closeCode(err); ok {
		return c.failRead(err) // 1007 corrupt, 1009 too big
	}
	// A timeout or a cancelled context: see the top of this file.
	err = fmt.Errorf("%w: %w", errInflateInterrupted, err)
	r.err = err
	c.fail(err, StatusGoingAway)
	return err
}

// inflatedTextFailed fails the connection with 1007 for invalid text found
// in inflated bytes. The inflater reads ahead of what it returns, so the
// frames may have failed already (the peer's stream ended, a protocol error):
// then that error stands, as in inflateFailed, since the connection is gone
// and no close frame can follow it.
func (w *assembler) inflatedTextFailed() error {
	if err := w.c.reader.err; err != nil {
		return err
	}
	return w.c.failRead(errBadText)
}

// readInflated is messageReader.Read for a compressed message: streamed
// inflating.
func (w *assembler) readInflated(p []byte) (int, error) {
	c := w.c
	r := &c.reader
	for range 2 {
		switch r.zmode {
		case inflateIdle:
			c.inflate.Begin(compressedSource{c}, w.inflateLimit())
			r.zmode = inflateStream
			fallthrough
		case inflateStream:
			n, err := c.inflate.Read(p)
			if n > 0 && r.msgType == TextMessage && r.utf8.feed(p[:n]) >= 0 {
				return 0, w.inflatedTextFailed()
			}
			if err == nil {
				return n, nil
			}
			if err != io.EOF {
				return 0, w.inflateFailed(err)
			}
			r.zmode = inflateDone
			if r.msgType == TextMessage && !r.utf8.done() {
				return 0, w.inflatedTextFailed()
			}
			if n > 0 {
				return n, nil
			}
		case inflateDone:
			// Frames after a final DEFLATE block (RFC 7692 §7.2.3.4) carry
			// nothing more; reading them is resumable.
			if err := c.discardMessage(); err != nil {
				return 0, err
			}
			return 0, io.EOF
		default:
			// inflateCollect: a whole-message read was interrupted, and
			// only appendMessage resumes it.
			return 0, errStaleReader
		}
	}
	return 0, nil
}

// probeAfter is how much inflated output a whole-message read collects in
// chunks before it measures the message instead: past it, the output is
// counted without being kept (so a bomb stops at the read limit having
// taken no more than this), then inflated again, from the collected
// compressed payload, into one slice of its exact size.
const probeAfter = 512 << 10

// collectCompressed reads the rest of the compressed payload into the
// assembly's chunks. Like every read of frames it can be interrupted and
// resumed.
func (w *assembler) collectCompressed(ctx context.Context) error {
	c := w.c
	r := &c.reader
	r.zmode = inflateCollect
	for {
		if r.state == inDataFrame {
			a := w.borrow()
			room := a.z.free()
			if len(room) == 0 {
				// The last frame says how much is left: no chunk past it.
				want := 0
				if r.frame.fin {
					want = int(r.frameLeft)
				}
				var err error
				if room, err = w.nextChunk(ctx, &a.z, want); err != nil {
					return err
				}
			}
			n, err := c.readRaw(room)
			if err != nil {
				// a may be gone: a failed read drops the assembly.
				return err
			}
			a.z.n += n
			continue
		}
		if r.eof {
			return nil
		}
		if err := c.advance(); err != nil {
			return err
		}
	}
}

// beginCollected starts inflating the collected compressed payload from
// its start.
func (w *assembler) beginCollected() {
	a := w.borrow()
	a.zr.reset(&a.z)
	w.c.inflate.Begin(&a.zr, w.inflateLimit())
}

// appendInflated is appendMessage for a compressed message: it collects the
// payload, then inflates it from memory onto dst. The output goes into
// dst's room, then into chunks; past probeAfter bytes of them it is
// measured, and inflated again into a slice of its exact size.
func (w *assembler) appendInflated(ctx context.Context, dst []byte) ([]byte, error) {
	if err := w.collectCompressed(ctx); err != nil {
		return dst, err
	}
	a := w.borrow()
	start := len(dst)
	w.beginCollected()
	f := w.c.inflate
	for {
		p := dst[len(dst):cap(dst)]
		intoDst := len(p) > 0
		if !intoDst {
			if a.out.n >= probeAfter {
				return w.inflateMeasured(ctx, dst[:start])
			}
			if p = a.out.free(); len(p) == 0 {
				var err error
				if p, err = w.nextChunk(ctx, &a.out, 0); err != nil {
					// A timeout: the next call inflates anew.
					f.Release()
					w.releaseChunks(&a.out)
					return dst[:start], err
				}
			}
		}
		n, err := f.Read(p)
		if intoDst {
			dst = dst[:len(dst)+n]
		} else {
			a.out.n += n
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			w.releaseChunks(&a.out)
			return dst[:start], w.inflateFailed(err)
		}
	}
	// The message is inflated and its history kept, so this cannot wait
	// and start again: the budget lends what the copy needs (at most
	// probeAfter and a chunk).
	dst = w.settleNow(dst, len(dst)+a.out.n)
	return w.inflatedWhole(dst, start)
}

// inflateMeasured goes on inflating the open message without keeping the
// output, to learn its size (a bomb ends here at the read limit), then
// inflates it again from the start into a slice of exactly that size
// after dst.
func (w *assembler) inflateMeasured(ctx context.Context, dst []byte) ([]byte, error) {
	a := w.borrow()
	f := w.c.inflate
	size := int64(a.out.n)
	w.releaseChunks(&a.out)
	n, err := f.Measure()
	if err != nil {
		return dst, w.inflateFailed(err)
	}
	size += n
	start := len(dst)
	total := start + int(size)
	if cap(dst) < total {
		grown, err := w.allocOut(ctx, total)
		if err != nil {
			return dst, err // a timeout: the next call starts again
		}
		dst = append(grown, dst...)
	}
	w.beginCollected()
	out := dst[start:total]
	for len(out) > 0 {
		n, err := f.Read(out)
		out = out[n:]
		if err != nil && (err != io.EOF || len(out) > 0) {
			return dst[:start], w.inflateFailed(err)
		}
	}
	if n, err := f.Skip(); n != 0 || err != nil {
		// Not reached: the same input inflates to the same output.
		return dst[:start], w.inflateFailed(errInflateCorrupt)
	}
	return w.inflatedWhole(dst[:total], start)
}

// inflatedWhole ends a whole-message read of a compressed message whose
// output is dst[start:]: the collected payload goes back, and text is
// checked.
func (w *assembler) inflatedWhole(dst []byte, start int) ([]byte, error) {
	r := &w.c.reader
	w.releaseChunks(&w.asm.z)
	r.zmode = inflateDone
	if r.msgType == TextMessage && (r.utf8.feed(dst[start:]) >= 0 || !r.utf8.done()) {
		return dst[:start], w.c.failRead(errBadText)
	}
	return dst, nil
}

// discardCompressed drops what is inflated of a compressed message that
// is left unread; Conn.discardMessage then drops the rest of its frames.
// With context takeover it still inflates it, since the peer's next
// messages may refer to its bytes (RFC 7692 §7.2.2), and checks it as it
// goes.
func (w *assembler) discardCompressed() error {
	r := &w.c.reader
	f := w.c.inflate
	switch r.zmode {
	case inflateStream:
		if f.Takeover() {
			if err := f.Discard(); err != nil {
				return w.inflateFailed(err)
			}
		} else {
			f.Release()
		}
	case inflateIdle, inflateCollect:
		if f.Takeover() {
			if err := w.collectCompressed(context.Background()); err != nil {
				return err
			}
			w.beginCollected()
			err := f.Discard()
			w.releaseChunks(&w.asm.z)
			if err != nil {
				return w.inflateFailed(err)
			}
		}
		if a := w.asm; a != nil {
			w.releaseChunks(&a.z)
		}
	}
	r.zmode = inflateDone
	return nil
}
