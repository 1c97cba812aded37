package websocket

import (
	"compress/flate"
	"errors"
	"io"
	"sync"

	"github.com/rfc6455/websocket/internal/deflate"
)

// inflateTrailer follows every compressed message on its way into the
// decompressor. Its first four octets are the ones RFC 7692 §7.2.2 says to
// append: they complete the empty stored block the sender ended the message
// with. The rest is a final empty stored block (BFINAL 1), so that a message
// that ends on a block boundary makes compress/flate report io.EOF, while
// one cut inside a block runs into the trailer and fails, instead of ending
// silently short.
var inflateTrailer = [...]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// errInflateTooBig fails a message whose decompressed size passes the read
// limit (close code 1009). It is returned before any byte beyond the limit
// reaches the caller.
var errInflateTooBig = &protocolError{StatusMessageTooBig, "decompressed message larger than the read limit"}

// errInflateCorrupt fails a message whose payload is not a valid DEFLATE
// stream (close code 1007, RFC 6455 §7.4.1: data inconsistent with the type
// of the message).
var errInflateCorrupt = &protocolError{StatusInvalidFramePayloadData, "invalid compressed data"}

// errNoProgress fails a source that keeps returning no bytes and no error.
var errNoProgress = errors.New("websocket: compressed payload reader made no progress")

// inflateSource feeds the decompressor one message: the compressed payload
// read from src, then inflateTrailer. It implements io.ByteReader, so that
// compress/flate reads exactly what it decodes and needs no bufio.Reader of
// its own.
type inflateSource struct {
	src  io.Reader
	buf  [2048]byte
	r, w int
	tail int   // bytes of inflateTrailer served so far
	eof  bool  // src has ended
	seen bool  // src yielded at least one byte
	err  error // src failed: passed to the caller as it is
}

func (s *inflateSource) reset(src io.Reader) {
	*s = inflateSource{src: src}
}

// fill reads more of the payload, or marks its end. It reports false when
// src failed.
func (s *inflateSource) fill() bool {
	for range 100 {
		n, err := s.src.Read(s.buf[:])
		s.r, s.w = 0, n
		s.seen = s.seen || n > 0
		if err == io.EOF {
			s.eof = true
			if !s.seen {
				// No payload at all: not even the empty block RFC 7692
				// §7.2.3.6 prescribes. Accept it as an empty message by
				// serving only the final block of the trailer.
				s.tail = 4
			}
			return true
		}
		if err != nil {
			s.err = err
			return false
		}
		if n > 0 {
			return true
		}
	}
	s.err = errNoProgress
	return false
}

// ReadByte returns the next byte of the payload, then of the trailer.
func (s *inflateSource) ReadByte() (byte, error) {
	for s.r == s.w && !s.eof {
		if !s.fill() {
			return 0, s.err
		}
	}
	if s.r < s.w {
		c := s.buf[s.r]
		s.r++
		return c, nil
	}
	if s.tail < len(inflateTrailer) {
		s.tail++
		return inflateTrailer[s.tail-1], nil
	}
	return 0, io.EOF
}

// Read is ReadByte for whole slices; compress/flate uses it for stored
// blocks.
func (s *inflateSource) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for s.r == s.w && !s.eof {
		if !s.fill() {
			return 0, s.err
		}
	}
	if s.r < s.w {
		n := copy(p, s.buf[s.r:s.w])
		s.r += n
		return n, nil
	}
	n := copy(p, inflateTrailer[s.tail:])
	s.tail += n
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// inflateWork is the pooled state of a message being decompressed: a
// compress/flate reader (its 32 KiB window and tables), the source buffer
// and, with context takeover, a ring of the last output bytes.
type inflateWork struct {
	fr      io.ReadCloser // from flate.NewReader; also a flate.Resetter
	src     inflateSource
	ring    []byte // maxDistance bytes, allocated on first use with takeover
	scratch [512]byte
}

var inflatePool = sync.Pool{New: func() any {
	w := new(inflateWork)
	w.fr = flate.NewReader(&w.src)
	return w
}}

// inflater decompresses the messages one connection receives, message by
// message (RFC 7692 §7.2.2). Between messages it holds nothing but, when
// the peer may take over its context, the last window of decompressed
// bytes, which primes the next message's decompressor as its dictionary.
// Reads are not safe for concurrent use: one goroutine reads a connection.
type inflater struct {
	takeover bool
	histSize int    // bytes of history the peer may refer back to
	hist     []byte // history carried to the next message

	// While a message is open:
	work  *inflateWork
	limit int64 // largest decompressed size; < 0 for none
	n     int64 // decompressed bytes produced so far
	err   error
	// probe: this pass only measures the message, which will be inflated
	// again from the start; its output must not become the history.
	probe bool
}

// newInflater returns the decompressor for the direction dir. Any window is
// accepted on input; dir.windowBits only sizes the history kept with
// context takeover. It keeps at least 9 bits' worth, because zlib, which
// most peers use, cannot compress with an 8-bit window and uses 9 when 8 is
// negotiated (RFC 7692 §7.1.2.1 allows 8; zlib's deflateInit2 does not).
func newInflater(dir deflateDirection) *inflater {
	return &inflater{
		takeover: dir.takeover,
		histSize: 1 << max(validWindowBits(dir.windowBits), 9),
	}
}

// beginMessage starts decompressing a message whose compressed payload src
// yields (without the removed trailer) until io.EOF at the end of the
// message's last frame. limit caps the decompressed size (< 0: no cap).
func (f *inflater) beginMessage(src io.Reader, limit int64) {
	f.release() // a message left open is abandoned
	w := inflatePool.Get().(*inflateWork)
	w.src.reset(src)
	var dict []byte
	if f.takeover {
		dict = f.hist
		if w.ring == nil {
			w.ring = make([]byte, deflate.MaxDistance)
		}
	}
	// Reset with a source that is a flate.Reader cannot fail.
	_ = w.fr.(flate.Resetter).Reset(&w.src, dict)
	f.work, f.limit, f.n, f.err, f.probe = w, limit, 0, nil, false
}

// Read reads decompressed bytes of the open message. It returns io.EOF once
// the message has ended (with the last bytes or on a later call), a
// *protocolError for close code 1009 when the message would exceed the
// limit, one for 1007 when the payload is not valid DEFLATE data, and any
// error of src as it is. The bytes beyond the limit are never returned.
//
// After an error other than io.EOF the message is lost and, with context
// takeover, so is the shared history: the connection must be failed. That
// includes a timeout from src: compress/flate keeps the first error of its
// source, so a read deadline that expires inside a compressed message
// cannot be resumed the way an uncompressed read can. A caller that needs
// resumable reads can gather the compressed payload first and decompress
// it from memory.
func (f *inflater) Read(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	w := f.work
	if w == nil {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if f.limit >= 0 {
		room := f.limit - f.n
		if room <= 0 {
			// At the limit: the message may still end right here.
			n, err := w.fr.Read(w.scratch[:1])
			switch {
			case n > 0:
				return 0, f.fail(errInflateTooBig)
			case err == io.EOF:
				f.finish()
				return 0, io.EOF
			case err != nil:
				return 0, f.fail(f.readError(err))
			}
			return 0, nil
		}
		if int64(len(p)) > room {
			p = p[:room]
		}
	}
	n, err := w.fr.Read(p)
	if n > 0 {
		if f.takeover && !f.probe {
			f.record(p[:n])
		}
		f.n += int64(n)
	}
	switch {
	case err == nil:
		return n, nil
	case err == io.EOF:
		f.finish()
		return n, io.EOF
	default:
		return n, f.fail(f.readError(err))
	}
}

// discardMessage consumes the rest of the open message. With context
// takeover it decompresses it, since the history must include it, still
// under the limit; without, it drops the remaining compressed payload
// unread.
func (f *inflater) discardMessage() error {
	w := f.work
	if f.err != nil || w == nil {
		return f.err
	}
	if !f.takeover {
		src := w.src.src
		f.release()
		if w.src.eof {
			return nil
		}
		if _, err := io.Copy(io.Discard, src); err != nil {
			f.err = err
			return err
		}
		return nil
	}
	for {
		_, err := f.Read(w.scratch[:])
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// readError maps an error from compress/flate: an error of the source
// passes through; anything else means the payload was corrupt.
func (f *inflater) readError(err error) error {
	if f.work.src.err != nil {
		return f.work.src.err
	}
	return errInflateCorrupt
}

// fail ends the message with err.
func (f *inflater) fail(err error) error {
	f.err = err
	f.release()
	return err
}

// record copies decompressed bytes into the ring of recent output.
func (f *inflater) record(p []byte) {
	ring := f.work.ring
	at := f.n
	if len(p) > len(ring) {
		at += int64(len(p) - len(ring))
		p = p[len(p)-len(ring):]
	}
	i := int(at & int64(len(ring)-1))
	n := copy(ring[i:], p)
	copy(ring, p[n:])
}

// finish keeps the history of the message that just ended and releases
// the pooled state.
func (f *inflater) finish() {
	if f.takeover && !f.probe {
		ring := f.work.ring
		if f.n < int64(len(ring)) {
			// The whole message is ring[:n].
			f.hist = appendHistory(f.hist, ring[:f.n], f.histSize)
		} else {
			// The last histSize bytes end at ring index n mod len(ring).
			end := int(f.n & int64(len(ring)-1))
			start := (end - f.histSize) & (len(ring) - 1)
			if start < end {
				f.hist = setHistory(f.hist, ring[start:end], f.histSize)
			} else {
				f.hist = setHistory(f.hist, ring[start:], f.histSize)
				f.hist = appendHistory(f.hist, ring[:end], f.histSize)
			}
		}
	}
	f.release()
}

// release returns the pooled state, dropping the reference to the source.
func (f *inflater) release() {
	if w := f.work; w != nil {
		w.src.src = nil
		inflatePool.Put(w)
		f.work = nil
	}
}
