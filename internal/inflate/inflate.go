// Package inflate decompresses the messages of one direction of a
// permessage-deflate connection (RFC 7692 §7.2.2) with compress/flate: each
// message's payload followed by the octets the sender removed, a limit on
// the decompressed size checked before any byte beyond it is returned, and
// with context takeover the window of earlier messages primed as the next
// one's dictionary. The decompressor's state (about 50 KiB) is pooled and
// held only while a message is open.
package inflate

import (
	"compress/flate"
	"errors"
	"io"
	"sync"
)

// maxDistance is the farthest back a DEFLATE match may refer (RFC 1951
// §3.2.5), and so the largest history a message may need.
const maxDistance = 32 << 10

// inflateTrailer follows every compressed message on its way into the
// decompressor. Its first four octets are the ones RFC 7692 §7.2.2 says to
// append: they complete the empty stored block the sender ended the message
// with. The rest is a final empty stored block (BFINAL 1), so that a message
// that ends on a block boundary makes compress/flate report io.EOF, while
// one cut inside a block runs into the trailer and fails, instead of ending
// silently short.
var inflateTrailer = [...]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// ErrTooBig fails a message whose decompressed size passes the limit. It is
// returned before any byte beyond the limit reaches the caller.
var ErrTooBig = errors.New("inflate: decompressed message larger than the limit")

// ErrCorrupt fails a message whose payload is not a valid DEFLATE stream.
var ErrCorrupt = errors.New("inflate: invalid compressed data")

// errNoProgress fails a source that keeps returning no bytes and no error.
var errNoProgress = errors.New("inflate: compressed payload reader made no progress")

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

// Reader decompresses the messages one connection receives, message by
// message (RFC 7692 §7.2.2). Between messages it holds nothing but, when
// the peer may take over its context, the last window of decompressed
// bytes, which primes the next message's decompressor as its dictionary.
// It is not safe for concurrent use: one goroutine reads a connection.
type Reader struct {
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

// New returns the decompressor of one direction: with takeover, the peer
// may refer to the last histSize bytes (at most 32 KiB) of the messages
// before; without, each message stands alone. Any window is accepted on
// input; histSize only sizes the history kept.
func New(takeover bool, histSize int) *Reader {
	return &Reader{takeover: takeover, histSize: min(histSize, maxDistance)}
}

// Takeover reports whether messages may refer to earlier ones.
func (f *Reader) Takeover() bool { return f.takeover }

// Begin starts decompressing a message whose compressed payload src yields
// (without the removed trailer) until io.EOF at the end of the message's
// last frame. limit caps the decompressed size (< 0: no cap).
func (f *Reader) Begin(src io.Reader, limit int64) {
	f.Release() // a message left open is abandoned
	w := inflatePool.Get().(*inflateWork)
	w.src.reset(src)
	var dict []byte
	if f.takeover {
		dict = f.hist
		if w.ring == nil {
			w.ring = make([]byte, maxDistance)
		}
	}
	// Reset with a source that is a flate.Reader cannot fail.
	_ = w.fr.(flate.Resetter).Reset(&w.src, dict)
	f.work, f.limit, f.n, f.err, f.probe = w, limit, 0, nil, false
}

// Read reads decompressed bytes of the open message. It returns io.EOF once
// the message has ended (with the last bytes or on a later call), ErrTooBig
// when the message would exceed the limit, ErrCorrupt when the payload is
// not valid DEFLATE data, and any error of src as it is. The bytes beyond
// the limit are never returned.
//
// After an error other than io.EOF the message is lost and, with context
// takeover, so is the shared history: the connection must be failed. That
// includes a timeout from src: compress/flate keeps the first error of its
// source, so a read deadline that expires inside a compressed message
// cannot be resumed the way an uncompressed read can. A caller that needs
// resumable reads can gather the compressed payload first and decompress
// it from memory.
func (f *Reader) Read(p []byte) (int, error) {
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
				return 0, f.fail(ErrTooBig)
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

// Discard consumes the rest of the open message. With context takeover it
// decompresses it, since the history must include it, still under the
// limit; without, it drops the remaining compressed payload unread.
func (f *Reader) Discard() error {
	w := f.work
	if f.err != nil || w == nil {
		return f.err
	}
	if !f.takeover {
		src := w.src.src
		f.Release()
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

// Measure reads the rest of the open message without keeping it and
// returns how many bytes it produced (io.EOF is not an error here). The
// pass does not become the history: the caller means to decompress the
// message again from its start, to keep it.
func (f *Reader) Measure() (int64, error) {
	f.probe = true
	return f.drain()
}

// Skip reads the rest of the open message without keeping it and returns
// how many bytes it produced; with takeover they still become the history.
func (f *Reader) Skip() (int64, error) { return f.drain() }

func (f *Reader) drain() (int64, error) {
	var size int64
	for f.work != nil {
		n, err := f.Read(f.work.scratch[:])
		size += int64(n)
		if err == io.EOF {
			return size, nil
		}
		if err != nil {
			return size, err
		}
	}
	return size, f.err
}

// readError maps an error from compress/flate: an error of the source
// passes through; anything else means the payload was corrupt.
func (f *Reader) readError(err error) error {
	if f.work.src.err != nil {
		return f.work.src.err
	}
	return ErrCorrupt
}

// fail ends the message with err.
func (f *Reader) fail(err error) error {
	f.err = err
	f.Release()
	return err
}

// record copies decompressed bytes into the ring of recent output.
func (f *Reader) record(p []byte) {
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
func (f *Reader) finish() {
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
				f.hist = appendHistory(f.hist[:0], ring[start:end], f.histSize)
			} else {
				f.hist = appendHistory(f.hist[:0], ring[start:], f.histSize)
				f.hist = appendHistory(f.hist, ring[:end], f.histSize)
			}
		}
	}
	f.Release()
}

// Release returns the pooled state, dropping the reference to the source;
// the open message, if any, is abandoned.
func (f *Reader) Release() {
	if w := f.work; w != nil {
		w.src.src = nil
		inflatePool.Put(w)
		f.work = nil
	}
}

// appendHistory returns the last limit bytes of hist followed by p, in
// hist's memory when it has the room. It grows by doubling up to limit, so
// that a connection that receives few bytes keeps few.
func appendHistory(hist, p []byte, limit int) []byte {
	if len(p) >= limit {
		hist, p = hist[:0], p[len(p)-limit:]
	} else if keep := limit - len(p); len(hist) > keep {
		hist = hist[:copy(hist, hist[len(hist)-keep:])]
	}
	if total := len(hist) + len(p); cap(hist) < total {
		grown := make([]byte, len(hist), min(limit, max(total, 2*cap(hist))))
		copy(grown, hist)
		hist = grown
	}
	return append(hist, p...)
}
