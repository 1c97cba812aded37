package websocket

// The write side of permessage-deflate (RFC 7692 §7.2.1): the Conn's
// choice of compression per message, then the deflater that compresses
// for one connection. The read side is in compress_read.go, NextWriter's
// streaming in nextwriter.go.

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/rfc6455/websocket/internal/bufpool"
	"github.com/rfc6455/websocket/internal/deflate"
)

var errCompressionLevel = errors.New("websocket: compression level not -2, -1 or 0 to 9")

// EnableWriteCompression turns compression of the messages this Conn sends
// on or off, from the next message on; it is on by default. It matters only
// when permessage-deflate was negotiated: messages sent with it off go out
// uncompressed (without RSV1), and with context takeover they do not enter
// the history later messages refer to, as RFC 7692 §7.2.1 has it. It may be
// called at any time, from any goroutine.
func (c *Conn) EnableWriteCompression(enable bool) {
	c.compressOff.Store(!enable)
}

// SetCompressionLevel sets the compression level of the messages this
// Conn sends, from the next message on: as CompressionOptions.Level, 1
// (fastest) to 9 (smallest), -2 for Huffman-only, 0 or -1 for
// DefaultCompressionLevel. It returns an error for other values. It may be
// called at any time, from any goroutine, and does nothing when
// permessage-deflate was not negotiated.
func (c *Conn) SetCompressionLevel(level int) error {
	if level < -2 || level > 9 {
		return errCompressionLevel
	}
	if level == 0 || level == -1 {
		level = DefaultCompressionLevel
	}
	c.compressLevel.Store(int32(level))
	return nil
}

// messageDeflater returns the compressor for a message of n bytes (n < 0:
// not known yet), or nil when the message goes uncompressed. The caller
// holds the message lock.
func (c *Conn) messageDeflater(n int) *deflater {
	d := c.deflate
	if d == nil || c.compressOff.Load() {
		return nil
	}
	if level := int(c.compressLevel.Load()); level != c.compressNowLvl {
		d.setLevel(level)
		c.compressNowLvl = level
	}
	if n >= 0 && !d.worthCompressing(n) {
		return nil
	}
	return d
}

// writeCompressed sends data compressed as one frame with RSV1 set. The
// caller holds the message lock. The history takes data only once the
// frame is out: a write that fails before sending a byte leaves the Conn
// usable, and both sides' history as it was.
func (c *Conn) writeCompressed(ctx context.Context, d *deflater, op opcode, data []byte) error {
	// Room for incompressible data (stored blocks add 5 bytes per 64 KiB),
	// so that the pooled buffer rarely has to grow.
	p := bufpool.Get(len(data) + len(data)>>10 + 64)
	payload := d.encode((*p)[:0], data)
	err := c.writeFrame(ctx, &frameHeader{fin: true, rsv: rsv1Bit, opcode: op}, payload, nil)
	bufpool.Put(p)
	if err != nil {
		return err
	}
	d.addHistory(data)
	return nil
}

// encoderPool holds the compressors' big working state (about 370 KiB
// each), so that only connections in the middle of sending a compressed
// message hold one.
var encoderPool = sync.Pool{New: func() any { return deflate.NewEncoder() }}

// deflater compresses the messages one connection sends, message by
// message (RFC 7692 §7.2.1). Between messages it holds nothing but, with
// context takeover, the last bytes it sent (at most one window, and at most
// what the level re-hashes). A message sent uncompressed (below the
// threshold, or with compression turned off for it) simply bypasses the
// deflater: RFC 7692 §7.2.2 continues the window from "the last compressed
// message", so it must not enter the history and does not. It is not safe
// for concurrent use: the connection's message lock serialises messages.
type deflater struct {
	windowBits int
	level      deflate.Level
	takeover   bool // history is kept: negotiated, and the level has some
	negotiated bool // context takeover was negotiated for this direction
	threshold  int
	hist       []byte // history carried to the next message; nil without takeover

	// While a streamed message is open:
	enc *deflate.Encoder
	dst io.Writer
	err error
}

// newDeflater returns the compressor for the direction dir.
func newDeflater(dir deflateDirection, level, threshold int) *deflater {
	lp := deflate.LevelFor(level)
	return &deflater{
		windowBits: validWindowBits(dir.windowBits),
		level:      lp,
		takeover:   dir.takeover && lp.History > 0,
		negotiated: dir.takeover,
		threshold:  threshold,
	}
}

// setLevel switches to another compression level (1–9, or -2) between
// messages. The history is trimmed to what the new level keeps; a level
// that keeps none (Huffman-only) drops it, which is always allowed: a
// compressor need not refer back (RFC 7692 §7.2.1).
func (d *deflater) setLevel(level int) {
	d.level = deflate.LevelFor(level)
	d.takeover = d.negotiated && d.level.History > 0
	if !d.takeover {
		d.hist = nil
	} else if limit := d.histLimit(); len(d.hist) > limit {
		d.hist = d.hist[len(d.hist)-limit:]
	}
}

// worthCompressing reports whether a payload of n bytes should be
// compressed; smaller ones go out uncompressed, without RSV1.
func (d *deflater) worthCompressing(n int) bool { return n >= d.threshold }

// histLimit is how much history this deflater keeps.
func (d *deflater) histLimit() int { return min(1<<d.windowBits, d.level.History) }

// begin borrows an encoder and starts a message.
func (d *deflater) begin() *deflate.Encoder {
	e := encoderPool.Get().(*deflate.Encoder)
	var hist []byte
	if d.takeover {
		hist = d.hist
	}
	e.Reset(d.windowBits, d.level, hist)
	return e
}

// done keeps the history of the message just encoded and returns the
// encoder to the pool.
func (d *deflater) done(e *deflate.Encoder) {
	if d.takeover {
		d.hist = setHistory(d.hist, e.History(), d.histLimit())
	}
	e.Release()
	encoderPool.Put(e)
}

// compress appends the compressed payload of the whole message msg to dst
// and returns the extended slice: the DEFLATE data with the trailing
// 00 00 ff ff removed (RFC 7692 §7.2.1), to be sent with RSV1 set on the
// first frame. It must not be called while a streamed message is open.
func (d *deflater) compress(dst, msg []byte) []byte {
	dst = d.encode(dst, msg)
	d.addHistory(msg)
	return dst
}

// encode is compress without recording msg in the history: a connection
// records it with addHistory once the message is on the wire, so that a
// write that failed before sending anything leaves both sides' history as
// it was. The history it would have kept is the same: the last bytes of
// the old history followed by msg.
func (d *deflater) encode(dst, msg []byte) []byte {
	e := d.begin()
	own := e.Out()
	e.SetOut(dst)
	e.Add(msg)
	e.Finish()
	dst = e.Out()
	e.SetOut(own[:0])
	e.Release()
	encoderPool.Put(e)
	return dst
}

// beginMessage starts a streamed message whose compressed bytes go to w as
// they are produced: by blocks of up to 16 KiB of input, and the rest at
// endMessage. Until endMessage or abortMessage, d is an io.Writer of the
// message's uncompressed bytes.
func (d *deflater) beginMessage(w io.Writer) {
	d.enc = d.begin()
	d.enc.SetOut(d.enc.Out()[:0])
	d.dst = w
	d.err = nil
}

// Write compresses p as the continuation of the open message. An error
// comes from the destination writer and ends the message. p is copied into
// the encoder before any output reaches the destination, so p may lie in a
// buffer the destination writes to.
func (d *deflater) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.enc == nil {
		return 0, errNoMessage
	}
	d.enc.Add(p)
	if err := d.flush(); err != nil {
		return 0, err
	}
	return len(p), nil
}

// endMessage writes the end of the open message (its last block and the
// sync marker, without the four octets RFC 7692 §7.2.1 removes) and keeps
// the history for the next one.
func (d *deflater) endMessage() error {
	if d.err != nil {
		return d.err
	}
	if d.enc == nil {
		return errNoMessage
	}
	d.enc.Finish()
	if err := d.flush(); err != nil {
		return err
	}
	d.done(d.enc)
	d.enc, d.dst = nil, nil
	return nil
}

// abortMessage gives the encoder back without finishing the message. With
// context takeover, the peer's history no longer matches ours if part of
// the message was sent: the connection must then be failed.
func (d *deflater) abortMessage() {
	if d.enc != nil {
		d.enc.Release()
		encoderPool.Put(d.enc)
		d.enc, d.dst = nil, nil
	}
}

// flush hands the compressed bytes produced so far to the destination.
func (d *deflater) flush() error {
	out := d.enc.Out()
	if len(out) == 0 {
		return nil
	}
	_, err := d.dst.Write(out)
	d.enc.SetOut(out[:0])
	if err != nil {
		d.err = err
		d.abortMessage()
	}
	return err
}

// addHistory records a message that was sent compressed by other means (a
// prepared message compressed once for many connections, without context):
// the peer's decompressor appends its bytes to its window, so with context
// takeover ours must too.
func (d *deflater) addHistory(msg []byte) {
	if d.takeover {
		d.hist = appendHistory(d.hist, msg, d.histLimit())
	}
}

// compressMessage compresses msg on its own, with no history, for a window
// of 2^windowBits bytes: the payload of a prepared message that any
// connection whose negotiated window for our direction is at least that
// large can send (with addHistory on those that keep context).
func compressMessage(dst, msg []byte, windowBits, level int) []byte {
	d := deflater{windowBits: validWindowBits(windowBits), level: deflate.LevelFor(level)}
	return d.compress(dst, msg)
}

// errNoMessage reports a write to a deflater with no message open: a bug in
// the caller, not something the peer did.
var errNoMessage = errors.New("websocket: compressor used outside a message")

// setHistory replaces hist by h (at most limit bytes), reusing hist's
// memory when it is large enough. It grows by doubling up to limit, so a
// connection that sends few bytes keeps few.
func setHistory(hist, h []byte, limit int) []byte {
	if len(h) > limit {
		h = h[len(h)-limit:]
	}
	if cap(hist) < len(h) {
		hist = make([]byte, 0, min(limit, max(len(h), 2*cap(hist))))
	}
	hist = hist[:len(h)]
	copy(hist, h)
	return hist
}

// appendHistory returns the last limit bytes of hist followed by p, in
// hist's memory when it is large enough.
func appendHistory(hist, p []byte, limit int) []byte {
	if len(p) >= limit {
		return setHistory(hist, p, limit)
	}
	keep := min(len(hist), limit-len(p))
	total := keep + len(p)
	if cap(hist) < total {
		grown := make([]byte, total, min(limit, max(total, 2*cap(hist))))
		copy(grown, hist[len(hist)-keep:])
		copy(grown[keep:], p)
		return grown
	}
	copy(hist, hist[len(hist)-keep:])
	hist = hist[:total]
	copy(hist[keep:], p)
	return hist
}
