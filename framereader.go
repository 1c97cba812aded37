package websocket

import (
	"fmt"
	"io"
	"net"
	"sync/atomic"

	"github.com/rfc6455/websocket/internal/bufpool"
)

// The frame level of reading (DESIGN.md layer 1b): the frameReader owns the
// transport's reading half and the read buffer, parses frame headers and
// checks them against the message in progress, unmasks and validates the
// payload as it arrives, and collects control frames. It returns errors (a
// *protocolError carries the close code) and never acts on them: Conn's
// failRead (read.go) sends the close frame or ends the connection, and
// Conn's advance hands control frames to their handlers.

const (
	// readSmallSize is the read buffer an idle connection keeps: enough for
	// any frame header and for small messages, so that only traffic in
	// flight borrows a full-size buffer from the pool.
	readSmallSize = 256
	// maxEmptyReads bounds how many times in a row the transport may return
	// no bytes and no error before the read gives up.
	maxEmptyReads = 100
)

// Read errors found by the frame reader.
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

// frameReader is all the read progress of a Conn. It lives in the Conn, never
// in locals across a blocking read, so that a read interrupted by a deadline
// or a context resumes exactly where it stopped. Its methods are called by
// whoever holds Conn.readLock.
type frameReader struct {
	nc       net.Conn
	rules    *headerRules   // the Conn's: what headers the peer may send
	limit    *atomic.Int64  // the Conn's read limit; 0 for none
	progress *atomic.Uint64 // counts transport reads that returned bytes

	// Buffered bytes not yet parsed are buf[pos:end]. buf is small, the
	// pooled buffer in pooled, or the bytes left over from the handshake.
	buf        []byte
	pos, end   int
	small      [readSmallSize]byte
	pooled     *[]byte
	bufferSize int  // size of the buffer borrowed while traffic flows
	streaming  bool // frames are queued on the transport: keep a full-size buffer
	// The transport's socket for fillWoken (readwake_unix.go), looked up
	// on the first read: nil if it is not one.
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
	// reads collect the compressed payload first and inflate it from
	// memory, so that a timeout while collecting can be resumed; streamed
	// reads (NextReader) inflate straight from the frames.
	compressed bool
	zmode      inflateMode

	handedOut *messageReader // the reader NextReader handed out last

	seq    uint64 // counts messages handed out, to retire stale readers
	resume bool   // an Append/ReadMessage stopped on a timeout mid-message
	err    error  // sticky: once set, every read returns it
}

// init sets up the read side of c from cfg, taking over the bytes cfg.br
// holds.
func (r *frameReader) init(c *Conn, cfg connConfig) {
	r.nc, r.rules, r.limit, r.progress = c.netConn, &c.rules, &c.readLimit, &c.readProgress
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
func (r *frameReader) releaseBuffer() {
	if r.pooled != nil {
		bufpool.Put(r.pooled)
		r.pooled = nil
	}
	r.buf = r.small[:]
	r.pos, r.end = 0, 0
}

// isSmall reports whether the small buffer is in use.
func (r *frameReader) isSmall() bool { return &r.buf[0] == &r.small[0] }

// borrowBuffer moves the buffered bytes into a pooled buffer.
func (r *frameReader) borrowBuffer() {
	p := bufpool.Get(r.bufferSize)
	n := copy(*p, r.buf[r.pos:r.end])
	r.buf, r.pooled = *p, p
	r.pos, r.end = 0, n
}

// fill reads more bytes from the transport into the buffer. When nothing is
// buffered it picks the buffer: the small one for an idle wait, a pooled
// one while traffic streams or a large payload is being skipped. It returns
// the transport's error as it is.
func (r *frameReader) fill() error {
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
		if s := r.socket(); s != nil && r.isSmall() && r.bufferSize > readSmallSize {
			n, err = r.fillWoken(s)
		} else {
			n, err = r.nc.Read(r.buf[r.end:])
		}
		if n > 0 {
			r.end += n
			if r.end < len(r.buf) {
				r.streaming = false
			}
			r.progress.Add(1)
			// An error that came with bytes comes back on the next read.
			return nil
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// readHeader reads one frame header and checks it against the message in
// progress. It reports whether the frame is a data frame.
func (r *frameReader) readHeader() (bool, error) {
	for r.end-r.pos < 2 {
		if err := r.fill(); err != nil {
			return false, err
		}
	}
	size := frameHeaderSize(r.buf[r.pos+1])
	for r.end-r.pos < size {
		if err := r.fill(); err != nil {
			return false, err
		}
	}
	// Parsed straight into r.frame, which it changes only on success:
	// no copy of the header on the way.
	if _, err := parseFrameHeader(r.buf[r.pos:r.end], *r.rules, &r.frame); err != nil {
		return false, err
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
			return false, errContinuationFirst
		}
	} else {
		if r.active {
			return false, errDataInFragmented
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
		return false, errTooManyFragments
	}
	// Checked before any payload is read or memory reserved for it. The
	// limit is on the decompressed size (the inflater checks it); the
	// compressed payload gets a little slack for incompressible data, and a
	// bound all the same, since it could otherwise be a stream of empty
	// blocks that inflates to nothing, forever.
	if limit := r.limit.Load(); limit > 0 {
		if r.compressed {
			limit = compressedLimit(limit)
		}
		if h.length > limit-r.msgLen {
			return false, errMessageTooBig
		}
	}
	r.msgLen += h.length
	r.state = inDataFrame
	if r.frameLeft == 0 {
		if err := r.endDataFrame(); err != nil {
			return false, err
		}
	}
	return true, nil
}

// endDataFrame runs when a data frame's payload has all been read.
func (r *frameReader) endDataFrame() error {
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
		return errBadText
	}
	return nil
}

// consumed unmasks and validates payload bytes just taken from the current
// data frame.
func (r *frameReader) consumed(b []byte) error {
	if r.frame.masked {
		r.maskPos = maskBytes(r.frame.key, r.maskPos, b)
	}
	return r.accepted(b)
}

// takeBuffered moves buffered payload bytes of the current data frame into
// p, unmasking them on the way: one pass over the bytes where copying and
// then unmasking in place would be two. p holds at most frameLeft bytes. It
// returns how many it moved, for accepted.
func (r *frameReader) takeBuffered(p []byte) int {
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
func (r *frameReader) accepted(b []byte) error {
	r.frameLeft -= int64(len(b))
	// RFC 6455 §8.1: fail as soon as the text can no longer be valid.
	if r.msgType == TextMessage && !r.compressed && r.utf8.feed(b) >= 0 {
		return errBadText
	}
	if r.frameLeft == 0 {
		return r.endDataFrame()
	}
	return nil
}

// readControl collects the payload of a control frame, unmasked, for the
// Conn to act on.
func (r *frameReader) readControl() (opcode, []byte, error) {
	for r.frameLeft > 0 {
		if r.pos == r.end {
			if err := r.fill(); err != nil {
				return 0, nil, err
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
	return r.frame.opcode, payload, nil
}

// skip drops the buffered payload of the current data frame, reading more
// first if none is buffered; uncompressed text is still checked.
func (r *frameReader) skip() error {
	if r.pos == r.end {
		if err := r.fill(); err != nil {
			return err
		}
	}
	n := int(min(int64(r.end-r.pos), r.frameLeft))
	b := r.buf[r.pos : r.pos+n]
	r.pos += n
	return r.consumed(b)
}

// readData reads payload bytes of the current data frame into p. A large p
// with nothing buffered is filled straight from the transport.
func (r *frameReader) readData(p []byte) (int, error) {
	if int64(len(p)) > r.frameLeft {
		p = p[:r.frameLeft]
	}
	var n int
	switch {
	case r.pos < r.end:
		n = r.takeBuffered(p)
	case len(p) >= readSmallSize:
		for range maxEmptyReads {
			var err error
			n, err = r.nc.Read(p)
			if n > 0 {
				r.progress.Add(1)
				break
			}
			if err != nil {
				return 0, err
			}
		}
		if n == 0 {
			return 0, io.ErrNoProgress
		}
		// Read straight into p: unmasked in place.
		if err := r.consumed(p[:n]); err != nil {
			return 0, err
		}
		return n, nil
	default:
		if err := r.fill(); err != nil {
			return 0, err
		}
		n = r.takeBuffered(p)
	}
	if err := r.accepted(p[:n]); err != nil {
		return 0, err
	}
	return n, nil
}

// takeSmall takes a small message that is already buffered whole (one
// frame, uncompressed, valid text) out of the buffer into dst, so that
// NextReader's reader returns it without taking the read lock again: for a
// small message that lock round trip is a good part of its cost. It returns
// the message and true, or false with nothing changed.
func (r *frameReader) takeSmall(dst *[stagedMax]byte) ([]byte, bool) {
	if r.compressed {
		return nil, false
	}
	if r.state == expectHeader && r.eof {
		return dst[:0], true // an empty message
	}
	n := r.frameLeft
	if r.state != inDataFrame || !r.frame.fin || n > stagedMax || int64(r.end-r.pos) < n {
		return nil, false
	}
	b := dst[:n]
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
			return nil, false
		}
		r.utf8 = v
	}
	r.pos += int(n)
	r.frameLeft = 0
	if r.endDataFrame() != nil {
		return nil, false // not reached: the text was checked above
	}
	return b, true
}

// done reports whether the message in progress has been read to its end.
func (r *frameReader) done() bool {
	return r.eof && (!r.compressed || r.zmode == inflateDone)
}
