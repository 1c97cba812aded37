package websocket

import (
	"context"
	"errors"
	"io"
)

// The message level of reading and the public reading API, on top of the
// frame level in readframe.go.

var errStaleReader = errors.New("websocket: reader used after the next read began")

// lockRead takes the read lock for a reading method of the application,
// giving up when ctx ends.
func (c *Conn) lockRead(ctx context.Context) error {
	if !c.userRead.Load() {
		c.userRead.Store(true)
	}
	return c.readLock.Lock(ctx, nil)
}

func (c *Conn) unlockRead() { c.readLock.Unlock() }

// readPayload reads from the message in progress, across its frames, and
// returns io.EOF after its last byte. A compressed message is inflated.
func (c *Conn) readPayload(p []byte) (int, error) {
	r := &c.reader
	if r.err != nil {
		return 0, r.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if r.compressed {
		return c.readInflated(p)
	}
	return c.readRaw(p)
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
			return c.readData(p)
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
	if c.reader.compressed {
		return c.discardCompressed()
	}
	return c.discardRaw()
}

// discardRaw reads and drops the rest of the frames of the message in
// progress; uncompressed text is still checked.
func (c *Conn) discardRaw() error {
	r := &c.reader
	for !r.eof {
		if r.state != inDataFrame {
			if err := c.advance(); err != nil {
				return err
			}
			continue
		}
		if r.pos == r.end {
			if err := c.fill(); err != nil {
				return err
			}
		}
		n := int(min(int64(r.end-r.pos), r.frameLeft))
		b := r.buf[r.pos : r.pos+n]
		r.pos += n
		if err := c.consumed(b); err != nil {
			return err
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
	c.dropAssembly()
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
		dst, err = c.appendInflated(ctx, dst)
	} else {
		dst, err = c.appendRaw(ctx, dst)
	}
	if err != nil {
		r.resume = r.err == nil
		if !r.resume {
			c.dropAssembly()
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
// newly allocated slice the caller owns. Text payloads are valid UTF-8.
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
	defer c.unlockRead()
	stop := c.bindReadContext(ctx)
	r := &c.reader
	var buf []byte
	if r.asm != nil {
		buf, r.asm.partial = r.asm.partial, nil
	}
	typ, buf, err := c.appendMessage(ctx, buf)
	if stop != nil {
		stop()
	}
	if err != nil {
		if r.resume {
			// Kept, with the budget it holds, for the next read.
			c.asm().partial = buf
			return 0, nil, readContextErr(ctx, err)
		}
		c.handedOver()
		return 0, nil, readContextErr(ctx, err)
	}
	c.handedOver()
	return typ, buf, nil
}

// AppendMessage reads the next message and appends its payload to dst,
// returning the extended slice, so that a caller reusing one buffer reads
// without allocating; when dst has not the room, the slice returned is
// allocated once, at the size of dst and the message. On a timeout (read
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
	defer c.unlockRead()
	stop := c.bindReadContext(ctx)
	r := &c.reader
	if r.asm != nil && r.asm.partial != nil {
		// A ReadMessage was interrupted; its bytes belong to this message.
		dst = append(dst, r.asm.partial...)
		r.asm.partial = nil
	}
	typ, dst, err := c.appendMessage(ctx, dst)
	if stop != nil {
		stop()
	}
	c.handedOver()
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
	defer c.unlockRead()
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
	m.hasStaged = c.stageSmall(m)
	return r.msgType, m, nil
}

// stagedMax is the largest message NextReader hands over whole inside its
// reader.
const stagedMax = 128

// stageSmall moves a small message that is already buffered whole (one
// frame, uncompressed, valid) into m, so that m.Read returns it without
// taking the read lock again: for a small message that lock round trip is a
// good part of its cost. It reports whether it did; if not, nothing
// changed and m reads the Conn as usual. The caller holds the read lock.
func (c *Conn) stageSmall(m *messageReader) bool {
	r := &c.reader
	if r.compressed {
		return false
	}
	if r.state == expectHeader && r.eof {
		m.staged = m.inline[:0] // an empty message
		return true
	}
	n := r.frameLeft
	if r.state != inDataFrame || !r.frame.fin || n > stagedMax || int64(r.end-r.pos) < n {
		return false
	}
	b := m.inline[:n]
	if r.frame.masked {
		// Unmasked on the way in: one pass over the bytes, not two.
		maskCopy(r.frame.key, r.maskPos, b, r.buf[r.pos:r.pos+int(n)])
	} else {
		copy(b, r.buf[r.pos:])
	}
	if r.msgType == TextMessage {
		// Invalid text is left to the Conn's own read, which fails the
		// connection where the caller expects it: in Read.
		v := r.utf8
		if v.feed(b) >= 0 || !v.done() {
			return false
		}
		r.utf8 = v
	}
	r.pos += int(n)
	r.frameLeft = 0
	if err := c.endDataFrame(); err != nil {
		return false // not reached: the text was checked above
	}
	m.staged = b
	return true
}

// messageReader is the io.Reader NextReader returns.
type messageReader struct {
	c   *Conn
	ctx context.Context
	seq uint64
	eof bool // Read returned io.EOF: the reader may be handed out again

	// A small message NextReader found buffered whole is copied here
	// (stageSmall), and Read returns it without the Conn.
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
	defer c.unlockRead()
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
	n, err := c.readPayload(p)
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
