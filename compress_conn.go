package websocket

import (
	"context"
	"errors"

	"github.com/rfc6455/websocket/internal/bufpool"
)

// The write side of permessage-deflate on a Conn (RFC 7692 §7.2.1); the
// read side is in compress_read.go, NextWriter's streaming in nextwriter.go.

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
	err := c.writeFrame(ctx, true, rsv1Bit, op, payload)
	bufpool.Put(p)
	if err != nil {
		return err
	}
	d.addHistory(data)
	return nil
}
