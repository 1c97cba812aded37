package websocket

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rfc6455/websocket/internal/bufpool"
)

// The frame level of reading: the buffer, frame headers checked against
// the message in progress, payload unmasked and validated as it arrives,
// control frames handled between data frames. read.go builds messages on
// it.

const (
	// readSmallSize is the read buffer an idle connection keeps: enough for
	// any frame header and for small messages, so that only traffic in
	// flight borrows a full-size buffer from the pool.
	readSmallSize = 256
	// maxEmptyReads bounds how many times in a row the transport may return
	// no bytes and no error before the read gives up.
	maxEmptyReads = 100
)

// Read errors found by the connection itself.
var (
	errContinuationFirst = &protocolError{StatusProtocolError, "continuation frame without a message to continue"}
	errDataInFragmented  = &protocolError{StatusProtocolError, "new data frame inside a fragmented message"}
	errTooManyFragments  = &protocolError{StatusMessageTooBig, "too many fragments in one message"}
	errMessageTooBig     = &protocolError{StatusMessageTooBig, "message larger than the read limit"}
	errBadText           = &protocolError{StatusInvalidFramePayloadData, "text message is not valid UTF-8"}
	// errAbnormalClosure is returned when the transport ends without a
	// close frame: a *CloseError with code 1006 that also wraps
	// io.ErrUnexpectedEOF.
	errAbnormalClosure = fmt.Errorf("%w: %w", &CloseError{Code: StatusAbnormalClosure}, io.ErrUnexpectedEOF)
)

// frameState says what the reader expects next on the wire.
type frameState uint8

const (
	expectHeader   frameState = iota // the next frame header
	inDataFrame                      // payload of a data frame, frameLeft > 0
	inControlFrame                   // payload of a control frame, collected in ctrl
)

// readState is all the read progress of a Conn. It lives in the Conn, never
// in locals across a blocking read, so that a read interrupted by a deadline
// or a context resumes exactly where it stopped. It belongs to whoever holds
// Conn.readLock.
type readState struct {
	// Buffered bytes not yet parsed are buf[pos:end]. buf is small, the
	// pooled buffer in pooled, or the bytes left over from the handshake.
	buf        []byte
	pos, end   int
	small      [readSmallSize]byte
	pooled     *[]byte
	bufferSize int  // size of the buffer borrowed while traffic flows
	streaming  bool // frames are queued on the transport: keep a full-size buffer
	// The transport's socket for fillWoken (readwake.go), looked up on
	// the first read: nil if it is not one.
	sockChecked bool
	sock        *socketReader

	state     frameState
	frame     frameHeader
	frameLeft int64 // payload bytes of the current frame not yet read
	maskPos   int
	ctrl      [maxControlPayload]byte
	ctrlN     int

	// Message state. active: a data frame without FIN was read and its
	// final frame has not arrived (RFC 6455 §5.4). open: a message was
	// handed to a caller; eof: its last byte has been read.
	active       bool
	open         bool
	eof          bool
	msgType      MessageType
	frames       int
	msgLen       int64 // payload bytes on the wire so far
	maxFragments int
	utf8         utf8Validator

	// A compressed message (RSV1 on its first frame, RFC 7692 §6) is
	// decompressed in one of two ways, which zmode records: whole-message
	// reads collect the compressed payload in asm first and inflate it from
	// memory, so that a timeout while collecting can be resumed; streamed
	// reads (NextReader) inflate straight from the frames.
	compressed bool
	zmode      inflateMode

	// What a whole-message read collects, across calls (readwhole.go);
	// nil when it holds nothing.
	asm *assembly

	handedOut *messageReader // the reader NextReader handed out last

	seq    uint64 // counts messages handed out, to retire stale readers
	resume bool   // an Append/ReadMessage stopped on a timeout mid-message
	err    error  // sticky: once set, every read returns it
}

// init sets up the read side from cfg, taking over the bytes cfg.br holds.
func (r *readState) init(cfg connConfig) {
	r.buf = r.small[:]
	r.bufferSize = cfg.readBufferSize
	if r.bufferSize <= 0 {
		r.bufferSize = defaultReadBufferSize
	}
	if r.bufferSize < readSmallSize {
		r.bufferSize = readSmallSize
	}
	r.maxFragments = cfg.maxFragments
	if r.maxFragments == 0 {
		r.maxFragments = DefaultMaxFragments
	}
	if cfg.br != nil {
		if n := cfg.br.Buffered(); n > 0 {
			b, _ := cfg.br.Peek(n)
			if n > len(r.buf) {
				// Allocated once, not pooled; dropped when drained.
				r.buf = make([]byte, max(n, r.bufferSize))
			}
			r.end = copy(r.buf, b)
		}
	}
}

// releaseBuffer goes back to the small buffer, returning a pooled one. Only
// when nothing is buffered.
func (r *readState) releaseBuffer() {
	if r.pooled != nil {
		bufpool.Put(r.pooled)
		r.pooled = nil
	}
	r.buf = r.small[:]
	r.pos, r.end = 0, 0
}

// isSmall reports whether the small buffer is in use.
func (r *readState) isSmall() bool { return &r.buf[0] == &r.small[0] }

// borrowBuffer moves the buffered bytes into a pooled buffer.
func (r *readState) borrowBuffer() {
	p := bufpool.Get(r.bufferSize)
	n := copy(*p, r.buf[r.pos:r.end])
	r.buf, r.pooled = *p, p
	r.pos, r.end = 0, n
}

// fill reads more bytes from the transport into the buffer. When nothing is
// buffered it picks the buffer: the small one for an idle wait, a pooled
// one while traffic streams or a large payload is being skipped.
func (c *Conn) fill() error {
	r := &c.reader
	if r.pos == r.end {
		r.pos, r.end = 0, 0
		big := r.bufferSize > readSmallSize &&
			(r.streaming || (r.state == inDataFrame && r.frameLeft > readSmallSize))
		if big && r.isSmall() {
			r.borrowBuffer()
		} else if !big && !r.isSmall() {
			r.releaseBuffer()
		}
	} else if r.end == len(r.buf) {
		// Room for the rest of a header or control payload.
		r.end = copy(r.buf, r.buf[r.pos:r.end])
		r.pos = 0
	}
	for range maxEmptyReads {
		var n int
		var err error
		if s := c.socket(); s != nil && r.isSmall() && r.bufferSize > readSmallSize {
			n, err = c.fillWoken(s)
		} else {
			n, err = c.netConn.Read(r.buf[r.end:])
		}
		if n > 0 {
			r.end += n
			if r.end < len(r.buf) {
				r.streaming = false
			}
			c.readProgress.Add(1)
			// An error that came with bytes comes back on the next read.
			return nil
		}
		if err != nil {
			return c.transportReadFailed(err)
		}
	}
	return c.transportReadFailed(io.ErrNoProgress)
}

// transportReadFailed classifies a transport read error. A timeout is
// returned as is and changes nothing, so the read can be retried. Anything
// else ends the connection and becomes the sticky read error: an end
// without a close frame (EOF, a reset, the transport closed under the
// read) is a *CloseError with code 1006 that wraps the cause.
func (c *Conn) transportReadFailed(err error) error {
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
	c.reader.err = err
	c.closeTransport()
	return err
}

// failRead ends the connection because the peer broke a rule: err, a
// *protocolError, carries the close code to send. The peer may have sent
// more behind the offending bytes, so the transport is closed by a
// lingering close, which the read lock the caller holds allows.
func (c *Conn) failRead(err error) error {
	c.reader.err = err
	code, ok := closeCode(err)
	if !ok {
		code = StatusInternalError
	}
	c.life.record(err)
	c.writeClose(encodeClose(code, failReason(err)), time.Now().Add(c.closeTimeout))
	c.lingerClose()
	return err
}

// readHeader reads one frame header and checks it against the message in
// progress. It reports whether the frame is a data frame.
func (c *Conn) readHeader() (bool, error) {
	r := &c.reader
	for r.end-r.pos < 2 {
		if err := c.fill(); err != nil {
			return false, err
		}
	}
	size := frameHeaderSize(r.buf[r.pos+1])
	for r.end-r.pos < size {
		if err := c.fill(); err != nil {
			return false, err
		}
	}
	// Parsed straight into r.frame, which it changes only on success:
	// no copy of the header on the way.
	if _, err := parseFrameHeader(r.buf[r.pos:r.end], c.rules, &r.frame); err != nil {
		return false, c.failRead(err)
	}
	h := &r.frame
	if r.end == len(r.buf) && int64(r.end-r.pos-size) > h.length {
		// One read filled the buffer and brought more than this frame:
		// frames are queued, worth a full-size buffer.
		r.streaming = true
	}
	r.pos += size
	r.frameLeft = h.length
	r.maskPos = 0
	if h.opcode.isControl() {
		r.state = inControlFrame
		r.ctrlN = 0
		return false, nil
	}
	// RFC 6455 §5.4: continuation frames continue a message that a data
	// frame without FIN began; a new message cannot start inside one.
	if h.opcode == opContinuation {
		if !r.active {
			return false, c.failRead(errContinuationFirst)
		}
	} else {
		if r.active {
			return false, c.failRead(errDataInFragmented)
		}
		r.msgType = MessageType(h.opcode)
		r.frames = 0
		r.msgLen = 0
		r.eof = false
		r.utf8.reset()
		r.compressed = h.rsv&rsv1Bit != 0
		r.zmode = inflateIdle
	}
	r.active = !h.fin
	r.frames++
	if r.maxFragments > 0 && r.frames > r.maxFragments {
		return false, c.failRead(errTooManyFragments)
	}
	// Checked before any payload is read or memory reserved for it. The
	// limit is on the decompressed size (the inflater checks it); the
	// compressed payload gets a little slack for incompressible data, and a
	// bound all the same, since it could otherwise be a stream of empty
	// blocks that inflates to nothing, forever.
	if limit := c.readLimit.Load(); limit > 0 {
		if r.compressed {
			limit = compressedLimit(limit)
		}
		if h.length > limit-r.msgLen {
			return false, c.failRead(errMessageTooBig)
		}
	}
	r.msgLen += h.length
	r.state = inDataFrame
	if r.frameLeft == 0 {
		if err := c.endDataFrame(); err != nil {
			return false, err
		}
	}
	return true, nil
}

// endDataFrame runs when a data frame's payload has all been read.
func (c *Conn) endDataFrame() error {
	r := &c.reader
	r.state = expectHeader
	if !r.frame.fin {
		return nil
	}
	r.eof = true
	if r.pos == r.end && !r.isSmall() {
		// Between messages an idle Conn keeps only the small buffer.
		r.releaseBuffer()
	}
	// RFC 6455 §8.1: a text message ending inside a UTF-8 sequence is
	// invalid. A compressed message is checked as it is inflated.
	if r.msgType == TextMessage && !r.compressed && !r.utf8.done() {
		return c.failRead(errBadText)
	}
	return nil
}

// consumed unmasks and validates payload bytes just taken from the current
// data frame.
func (c *Conn) consumed(b []byte) error {
	r := &c.reader
	if r.frame.masked {
		r.maskPos = maskBytes(r.frame.key, r.maskPos, b)
	}
	return c.accepted(b)
}

// takeBuffered moves buffered payload bytes of the current data frame into
// p, unmasking them on the way: one pass over the bytes where copying and
// then unmasking in place would be two. p holds at most frameLeft bytes. It
// returns how many it moved, for accepted.
func (c *Conn) takeBuffered(p []byte) int {
	r := &c.reader
	n := min(len(p), r.end-r.pos)
	src := r.buf[r.pos : r.pos+n]
	if r.frame.masked {
		r.maskPos = maskCopy(r.frame.key, r.maskPos, p, src)
	} else {
		copy(p, src)
	}
	r.pos += n
	return n
}

// accepted validates payload bytes of the current data frame, already
// unmasked, and counts them off the frame.
func (c *Conn) accepted(b []byte) error {
	r := &c.reader
	r.frameLeft -= int64(len(b))
	// RFC 6455 §8.1: fail as soon as the text can no longer be valid.
	if r.msgType == TextMessage && !r.compressed && r.utf8.feed(b) >= 0 {
		return c.failRead(errBadText)
	}
	if r.frameLeft == 0 {
		return c.endDataFrame()
	}
	return nil
}

// readControl collects the payload of a control frame and acts on it.
func (c *Conn) readControl() error {
	r := &c.reader
	for r.frameLeft > 0 {
		if r.pos == r.end {
			if err := c.fill(); err != nil {
				return err
			}
		}
		n := copy(r.ctrl[r.ctrlN:r.ctrlN+int(r.frameLeft)], r.buf[r.pos:r.end])
		r.pos += n
		r.ctrlN += n
		r.frameLeft -= int64(n)
	}
	r.state = expectHeader
	payload := r.ctrl[:r.ctrlN]
	if r.frame.masked {
		maskBytes(r.frame.key, 0, payload)
	}
	return c.handleControl(r.frame.opcode, payload)
}

// handleControl acts on a whole control frame.
func (c *Conn) handleControl(op opcode, payload []byte) error {
	c.mu.Lock()
	ping, pong := c.pingHandler, c.pongHandler
	c.mu.Unlock()
	var err error
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

// advance reads frames, handling control frames on the way, until it has
// read the header of a data frame.
func (c *Conn) advance() error {
	r := &c.reader
	for {
		switch r.state {
		case inDataFrame:
			return nil
		case inControlFrame:
			if err := c.readControl(); err != nil {
				return err
			}
		default:
			data, err := c.readHeader()
			if err != nil {
				return err
			}
			if data {
				return nil
			}
		}
	}
}

// readData reads payload bytes of the current data frame into p. A large p
// with nothing buffered is filled straight from the transport.
func (c *Conn) readData(p []byte) (int, error) {
	r := &c.reader
	if int64(len(p)) > r.frameLeft {
		p = p[:r.frameLeft]
	}
	var n int
	switch {
	case r.pos < r.end:
		n = c.takeBuffered(p)
	case len(p) >= readSmallSize:
		for range maxEmptyReads {
			var err error
			n, err = c.netConn.Read(p)
			if n > 0 {
				c.readProgress.Add(1)
				break
			}
			if err != nil {
				return 0, c.transportReadFailed(err)
			}
		}
		if n == 0 {
			return 0, c.transportReadFailed(io.ErrNoProgress)
		}
		// Read straight into p: unmasked in place.
		if err := c.consumed(p[:n]); err != nil {
			return 0, err
		}
		return n, nil
	default:
		if err := c.fill(); err != nil {
			return 0, err
		}
		n = c.takeBuffered(p)
	}
	if err := c.accepted(p[:n]); err != nil {
		return 0, err
	}
	return n, nil
}
