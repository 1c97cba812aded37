package websocket

import (
	"errors"
	"fmt"
	"io"
	"slices"
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
func (c *Conn) inflateLimit() int64 {
	if limit := c.readLimit.Load(); limit > 0 {
		return limit
	}
	return -1
}

// done reports whether the message in progress has been read to its end.
func (r *readState) done() bool {
	return r.eof && (!r.compressed || r.zmode == inflateDone)
}

// releaseZbuf returns the collected compressed payload to the pool.
func (r *readState) releaseZbuf() {
	if r.zbuf != nil {
		putBuffer(r.zbuf)
		r.zbuf = nil
	}
	r.zlen = 0
	r.zsrc.Reset(nil)
}

// compressedSource is the compressed payload of the message in progress,
// across its frames, as the inflater reads it.
type compressedSource struct{ c *Conn }

func (s compressedSource) Read(p []byte) (int, error) { return s.c.readRaw(p) }

// inflateFailed turns an error of the inflater into the error of the read.
func (c *Conn) inflateFailed(err error) error {
	r := &c.reader
	if r.err != nil {
		// The frames failed (a protocol error, the peer's close, the
		// transport): already handled where it happened.
		return r.err
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
func (c *Conn) inflatedTextFailed() error {
	if err := c.reader.err; err != nil {
		return err
	}
	return c.failRead(errBadText)
}

// readInflated is readPayload for a compressed message: streamed
// inflating.
func (c *Conn) readInflated(p []byte) (int, error) {
	r := &c.reader
	for range 2 {
		switch r.zmode {
		case inflateIdle:
			c.inflate.beginMessage(compressedSource{c}, c.inflateLimit())
			r.zmode = inflateStream
			fallthrough
		case inflateStream:
			n, err := c.inflate.Read(p)
			if n > 0 && r.msgType == TextMessage && r.utf8.feed(p[:n]) >= 0 {
				return 0, c.inflatedTextFailed()
			}
			if err == nil {
				return n, nil
			}
			if err != io.EOF {
				return 0, c.inflateFailed(err)
			}
			r.zmode = inflateDone
			if r.msgType == TextMessage && !r.utf8.done() {
				return 0, c.inflatedTextFailed()
			}
			if n > 0 {
				return n, nil
			}
		case inflateDone:
			// Frames after a final DEFLATE block (RFC 7692 §7.2.3.4) carry
			// nothing more; reading them is resumable.
			if err := c.discardRaw(); err != nil {
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

// collectCompressed reads the rest of the compressed payload into zbuf.
// Like every read of frames it can be interrupted and resumed.
func (c *Conn) collectCompressed() error {
	r := &c.reader
	r.zmode = inflateCollect
	for {
		if r.state == inDataFrame {
			if r.zbuf == nil || r.zlen == len(*r.zbuf) {
				r.growZbuf()
			}
			n, err := c.readData((*r.zbuf)[r.zlen:])
			r.zlen += n
			if err != nil {
				return err
			}
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

// growZbuf makes room in zbuf for more of the current frame: at least
// doubling, so that a message of many small frames is copied a few times
// only, and never more than maxGrowStep ahead of the bytes that arrived.
func (r *readState) growZbuf() {
	want := r.zlen + int(min(r.frameLeft, maxGrowStep))
	if r.zbuf != nil {
		want = max(want, min(2*len(*r.zbuf), r.zlen+maxGrowStep))
	}
	p := getBuffer(max(want, readSmallSize))
	*p = (*p)[:cap(*p)]
	if r.zbuf != nil {
		copy(*p, (*r.zbuf)[:r.zlen])
		putBuffer(r.zbuf)
	}
	r.zbuf = p
}

// appendInflated is appendMessage for a compressed message: it collects the
// payload, then inflates it from memory onto dst.
func (c *Conn) appendInflated(dst []byte) (MessageType, []byte, error) {
	r := &c.reader
	if err := c.collectCompressed(); err != nil {
		r.resume = r.err == nil
		return r.msgType, dst, err
	}
	var z []byte
	if r.zbuf != nil {
		z = (*r.zbuf)[:r.zlen]
	}
	r.zsrc.Reset(z)
	limit := c.inflateLimit()
	c.inflate.beginMessage(&r.zsrc, limit)
	start := len(dst)
	for {
		if cap(dst) == len(dst) {
			// Double what has been inflated so far, starting from twice
			// the compressed size, without running far past the limit.
			grow := max(len(dst)-start, 2*r.zlen, readSmallSize)
			grow = min(grow, maxGrowStep)
			if limit > 0 {
				grow = int(min(int64(grow), max(limit-int64(len(dst)-start), 0)+1))
			}
			dst = slices.Grow(dst, grow)
		}
		n, err := c.inflate.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			r.releaseZbuf()
			return r.msgType, dst[:start], c.inflateFailed(err)
		}
	}
	r.releaseZbuf()
	r.zmode = inflateDone
	if r.msgType == TextMessage && (r.utf8.feed(dst[start:]) >= 0 || !r.utf8.done()) {
		return r.msgType, dst[:start], c.failRead(errBadText)
	}
	return r.msgType, dst, nil
}

// discardCompressed reads and drops the rest of a compressed message. With
// context takeover it still inflates it, since the peer's next messages may
// refer to its bytes (RFC 7692 §7.2.2), and checks it as it goes.
func (c *Conn) discardCompressed() error {
	r := &c.reader
	f := c.inflate
	switch r.zmode {
	case inflateStream:
		if f.takeover {
			if err := f.discardMessage(); err != nil {
				return c.inflateFailed(err)
			}
		} else {
			f.release()
		}
	case inflateIdle, inflateCollect:
		if f.takeover {
			if err := c.collectCompressed(); err != nil {
				return err
			}
			var z []byte
			if r.zbuf != nil {
				z = (*r.zbuf)[:r.zlen]
			}
			r.zsrc.Reset(z)
			f.beginMessage(&r.zsrc, c.inflateLimit())
			err := f.discardMessage()
			r.releaseZbuf()
			if err != nil {
				return c.inflateFailed(err)
			}
		}
		r.releaseZbuf()
	}
	r.zmode = inflateDone
	return c.discardRaw()
}
