package websocket

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/internal/bufpool"
)

// frameWriter is the write side of the wire (DESIGN.md layer 1b): it owns
// the transport for writes, the write buffers and the transport's write
// deadline, encodes and masks frames, writes them (vectored where the
// transport allows) under the write stall guard, and returns the
// transport's errors as they are. It sends no frame of its own accord,
// fails nothing and takes none of the Conn's locks: that is the Conn's
// policy (write.go). Its methods are called by whoever holds Conn.frameLock,
// except the deadline methods, which take dlMu and may be called at any
// time.
type frameWriter struct {
	conn       net.Conn
	client     bool // frames are masked (RFC 6455 §5.3)
	bufferSize int  // the write buffer size, at least minWriteBufferSize

	// small holds a whole frame when it fits: control frames and small
	// data messages go out in one write without borrowing a buffer.
	small [256]byte
	vec   [3][]byte // header and up to two payload parts, for writev
	bufs  net.Buffers
	pong  [maxControlPayload]byte // the queued pong's payload, copied out (ping.go)

	stallTimeout   time.Duration // the write stall guard's bound; 0: off
	stallResumable bool          // a write cut by a deadline may continue (TCP, Unix sockets)
	// stallRefresh is when the probe on a socket was last armed, zero
	// before the first write.
	stallRefresh time.Time
	// On other transports stallFresh says that the guard's deadline was
	// moved within the last 1/8 of a stall timeout; stallTimer clears it
	// when that time is up, so that a write reads the clock only then. Both
	// are made by the first write; the timer holds the flag alone, so a
	// timer still pending after the Conn ends keeps nothing else alive.
	stallFresh *atomic.Bool
	stallTimer *time.Timer

	// The transport's write deadline is the earliest of these; dlMu
	// guards them and the calls that set it.
	dlMu        sync.Mutex
	deadline    time.Time // the user's (SetWriteDeadline)
	bounded     time.Time // bound's, zero when none
	stall       time.Time // the stall guard's, zero when off
	interrupted bool      // a context ended: the deadline is in the past until it is let go
}

// minWriteBufferSize keeps room for a frame header and one payload byte:
// the smallest buffer makes NextWriter send one-byte fragments.
const minWriteBufferSize = maxFrameHeaderSize + 1

// maxWriteChunk is the largest scratch buffer a frame borrows to mask (a
// client) or gather (a server on a transport without vectored writes) a
// large payload on its way out, and so the most that one transport write
// of such a frame carries: a 1 MiB message leaves in two writes, where
// 64 KiB chunks took seventeen (and as many wake-ups of the peer). Each
// Conn that is writing a large frame holds at most this much.
const maxWriteChunk = 1 << 20

// init sets the writer up over conn; bufferSize and stall are as
// configured (0: the defaults; stall < 0: no guard).
func (w *frameWriter) init(conn net.Conn, client bool, bufferSize int, stall time.Duration) {
	w.conn, w.client = conn, client
	if bufferSize <= 0 {
		bufferSize = defaultWriteBufferSize
	}
	w.bufferSize = max(bufferSize, minWriteBufferSize)
	if stall == 0 {
		stall = DefaultWriteStallTimeout
	}
	if stall < 0 {
		return
	}
	w.stallTimeout = stall
	switch conn.(type) {
	case *net.TCPConn, *net.UnixConn:
		w.stallResumable = true
	}
}

// writeFrame puts the frame h, with payload a then b, on the wire and
// returns how many bytes went out; it sets h's length, and a client's
// mask. The payload is not modified: a client masks it on its way into a
// buffer of ours, with a fresh key per frame (RFC 6455 §5.3) that need not
// be cryptographic, only unpredictable to the page, so the runtime's fast
// ChaCha8 source serves. The two parts let NextWriter send what it has
// buffered and the caller's slice as one fragment without copying them
// together.
func (w *frameWriter) writeFrame(h *frameHeader, a, b []byte) (int64, error) {
	n := len(a) + len(b)
	h.length = int64(n)
	if w.client {
		h.masked = true
		h.key = rand.Uint32()
	}
	if maxFrameHeaderSize+n <= len(w.small) {
		// Small frames: one buffer, one write.
		k := putFrameHeader(w.small[:], h)
		if h.masked {
			pos := maskCopy(h.key, 0, w.small[k:], a)
			if len(b) > 0 {
				// Most frames come in one part: no second call.
				maskCopy(h.key, pos, w.small[k+len(a):], b)
			}
		} else {
			copy(w.small[k:], a)
			copy(w.small[k+len(a):], b)
		}
		return w.write(w.small[:k+n])
	}
	if !h.masked {
		switch w.conn.(type) {
		case *net.TCPConn, *net.UnixConn:
			return w.writeVectored(h, a, b)
		case buffersWriter:
			// A write cut by the stall guard cannot resume there: larger
			// frames go in pieces the guard bounds one by one.
			if w.stallTimeout <= 0 || n <= maxWriteChunk {
				return w.writeVectored(h, a, b)
			}
		}
	}
	return w.writeCopied(h, a, b)
}

// buffersWriter is a transport that writes several slices as one write,
// as h2stream.Conn does: over HTTP/2, header and payload then share a
// flush and a DATA frame.
type buffersWriter interface {
	WriteBuffers(bufs [][]byte) (int64, error)
}

// writeCopied writes the frame h through a scratch buffer of up to
// maxWriteChunk bytes, borrowed for this frame only, so that a large
// payload leaves in a few large writes, the header with the first. A
// client masks on the way in (it must not mask the caller's slice); a
// server's frame takes this path on transports without vectored writes
// (TLS, wrappers), where a header written alone would cost a record or a
// packet of its own.
func (w *frameWriter) writeCopied(h *frameHeader, a, b []byte) (int64, error) {
	p := bufpool.Get(max(w.bufferSize, min(maxFrameHeaderSize+len(a)+len(b), maxWriteChunk)))
	defer bufpool.Put(p)
	buf := *p
	off := putFrameHeader(buf, h)
	pos := 0
	var sent int64
	for len(a)+len(b) > 0 {
		// Fill the buffer from a, then from b.
		k := min(len(a), len(buf)-off)
		pos = copyPayload(h, pos, buf[off:], a[:k])
		a = a[k:]
		off += k
		k = min(len(b), len(buf)-off)
		pos = copyPayload(h, pos, buf[off:], b[:k])
		b = b[k:]
		off += k
		m, err := w.write(buf[:off])
		sent += m
		if err != nil {
			return sent, err
		}
		off = 0
	}
	return sent, nil
}

// copyPayload copies src to dst, masked from key position pos when h is
// masked, and returns the next key position.
func copyPayload(h *frameHeader, pos int, dst, src []byte) int {
	if h.masked {
		return maskCopy(h.key, pos, dst, src)
	}
	copy(dst, src)
	return pos
}

// writeVectored writes an unmasked frame: header and payload parts in one
// writev, or one WriteBuffers.
func (w *frameWriter) writeVectored(h *frameHeader, a, b []byte) (int64, error) {
	n := putFrameHeader(w.small[:], h)
	w.vec[0] = w.small[:n]
	w.bufs = w.vec[:1]
	if len(a) > 0 {
		w.bufs = append(w.bufs, a)
	}
	if len(b) > 0 {
		w.bufs = append(w.bufs, b)
	}
	k, err := w.writeBuffers(&w.bufs)
	w.vec = [3][]byte{}
	w.bufs = nil
	return k, err
}

// The write stall guard ends a connection whose peer stopped taking our
// bytes: a transport write that gets no byte accepted for the stall
// timeout fails with ErrWriteStalled, and the Conn then fails. Without it,
// a write to a peer that never reads (or whose host vanished without a
// reset) blocks until the application's own deadline, and with none,
// forever, holding the frame lock that every other writer waits for.
//
// It works through the transport's write deadline. On a TCP or Unix
// socket the deadline is a probe, armed by the first write and moved only
// when it fires, so that a write that does not block costs nothing: it
// fires within 1/8 of a stall timeout of a blocked write's start (at once
// if it passed between writes), then every 1/8, and the write, which
// reports how much it wrote, goes on as long as some byte went out within
// the last stall timeout, so a slow but reading peer is never cut. Other
// transports (TLS, HTTP/2 streams, wrappers) cannot resume a write cut by
// a deadline: there the deadline is moved to 5/4 of a stall timeout ahead
// by the first write after a timer marked it stale, 1/8 of a stall timeout
// after it was last moved, so that it is at least a stall timeout after
// any write's start (unless the timer fires later than 1/8 of a stall
// timeout) and a write reads no clock in between. The writes of a large
// frame there are at most maxWriteChunk bytes each, each of which must
// finish in time, as it does for a peer taking 1 MiB per stall timeout
// (35 KB/s at the default).

// DefaultWriteStallTimeout is how long a write may wait without the
// transport accepting a single byte before the connection fails with
// ErrWriteStalled, when the Upgrader or Dialer sets no WriteStallTimeout.
const DefaultWriteStallTimeout = 30 * time.Second

// ErrWriteStalled ends a connection whose peer accepted no byte of a write
// for the write stall timeout (Upgrader.WriteStallTimeout,
// Dialer.WriteStallTimeout; the end comes within 5/4 of it): the peer does
// not read. The write returns it, the transport is closed, other writers
// waiting for their turn return ErrClosed, and reads return it.
var ErrWriteStalled = errors.New("websocket: write stalled: the peer accepted no byte within the write stall timeout")

// write writes p to the transport under the stall guard and returns how
// many bytes went out.
func (w *frameWriter) write(p []byte) (int64, error) {
	if w.stallTimeout <= 0 {
		n, err := w.conn.Write(p)
		return int64(n), err
	}
	var sent int64
	for {
		q := p
		if !w.stallResumable && len(q) > maxWriteChunk {
			q = q[:maxWriteChunk]
		}
		var last time.Time // when a byte last went out; zero: not yet probed
		w.armStall()
		for {
			n, err := w.conn.Write(q)
			sent += int64(n)
			q, p = q[n:], p[n:]
			if err == nil {
				break
			}
			if err = w.stallCheck(err, int64(n), &last); err != nil {
				return sent, err
			}
		}
		if len(p) == 0 {
			return sent, nil
		}
	}
}

// writeBuffers writes bufs, consuming them, to a transport with vectored
// writes (a TCP or Unix socket, or a buffersWriter), under the stall
// guard.
func (w *frameWriter) writeBuffers(bufs *net.Buffers) (int64, error) {
	var last time.Time // as in write
	w.armStall()
	if bw, ok := w.conn.(buffersWriter); ok {
		n, err := bw.WriteBuffers(*bufs)
		if err != nil {
			err = w.stallCheck(err, n, &last)
		}
		return n, err
	}
	var sent int64
	for {
		n, err := bufs.WriteTo(w.conn)
		sent += n
		if err == nil {
			return sent, nil
		}
		if err = w.stallCheck(err, n, &last); err != nil {
			return sent, err
		}
	}
}

// armStall makes sure the guard's deadline is set for the write about to
// start. It reads the clock only to move that deadline: the write's
// progress is timed by stallCheck, from its first probe.
func (w *frameWriter) armStall() {
	if w.stallTimeout <= 0 {
		return
	}
	if w.stallResumable {
		// On a socket the probe is armed once, then moved only by
		// stallCheck when it fires: a write that does not block reads no
		// clock (time.Now costs 57 ns on this project's VM, more than a
		// whole 16-byte WriteMessage). A probe that fired between writes
		// fails the next write at once with nothing written; stallCheck
		// re-arms it and the write goes on, its stall timed from there.
		if w.stallRefresh.IsZero() {
			w.stallRefresh = time.Now()
			w.setStall(w.stallRefresh.Add(w.stallTimeout / 8))
		}
		return
	}
	if f := w.stallFresh; f != nil && f.Load() {
		return
	}
	// Stale: move the deadline, and mark it stale again in 1/8 of a
	// stall timeout.
	w.setStall(time.Now().Add(w.stallTimeout + w.stallTimeout/4))
	if w.stallTimer == nil {
		f := new(atomic.Bool)
		f.Store(true)
		w.stallFresh = f
		w.stallTimer = time.AfterFunc(w.stallTimeout/8, func() { f.Store(false) })
		return
	}
	w.stallFresh.Store(true)
	w.stallTimer.Reset(w.stallTimeout / 8)
}

// stallCheck looks at a failed transport write; n bytes went out in the
// call that failed, and *last is when a byte last went out (zero until
// the write's first probe, which sets it). It returns nil when the write
// should go on: the guard's probe fired on a write that can resume, and a
// byte went out within the stall timeout. It returns ErrWriteStalled when the guard ended the write, and
// err otherwise (a transport error, the user's deadline, a context's
// end).
func (w *frameWriter) stallCheck(err error, n int64, last *time.Time) error {
	if w.stallTimeout <= 0 || !isTimeout(err) {
		return err
	}
	w.dlMu.Lock()
	user := w.deadline
	if !w.bounded.IsZero() {
		user = w.bounded
	}
	now := time.Now()
	if w.interrupted || (!user.IsZero() && !now.Before(user)) {
		w.dlMu.Unlock()
		return err
	}
	w.dlMu.Unlock()
	if n > 0 || last.IsZero() {
		*last = now // progress, or the first probe of a write on a socket
	}
	if !w.stallResumable || now.Sub(*last) >= w.stallTimeout {
		return ErrWriteStalled
	}
	w.setStall(now.Add(min(w.stallTimeout/8, last.Add(w.stallTimeout).Sub(now))))
	w.stallRefresh = now // armed
	return nil
}

// setStall moves the guard's deadline to d.
func (w *frameWriter) setStall(d time.Time) {
	w.dlMu.Lock()
	w.stall = d
	if !w.interrupted {
		w.applyDeadline()
	}
	w.dlMu.Unlock()
}

// setDeadline sets the user's write deadline (SetWriteDeadline).
func (w *frameWriter) setDeadline(t time.Time) error {
	w.dlMu.Lock()
	defer w.dlMu.Unlock()
	w.deadline = t
	if w.interrupted {
		return nil
	}
	return w.applyDeadline()
}

// bound applies d, or the user's write deadline when that is earlier, to
// the writes until unbound; it reports whether it changed anything (not
// for a zero d). A duty is a write the protocol owes the peer (a pong): a
// user deadline that has already passed bounded the user's own writes, not
// this one. Two methods rather than a returned closure: no allocation.
func (w *frameWriter) bound(d time.Time, duty bool) bool {
	if d.IsZero() {
		return false
	}
	w.dlMu.Lock()
	if u := w.deadline; !u.IsZero() && u.Before(d) && !(duty && u.Before(time.Now())) {
		d = u
	}
	w.bounded = d
	w.applyDeadline()
	w.dlMu.Unlock()
	return true
}

// unbound gives the transport the user's write deadline back.
func (w *frameWriter) unbound() {
	w.dlMu.Lock()
	w.bounded = time.Time{}
	w.applyDeadline()
	w.dlMu.Unlock()
}

// bindContext makes the end of ctx interrupt a blocked transport write, as
// bindReadContext does for reads; the returned function undoes it and must
// be called when the write is over. It returns nil when ctx cannot end.
func (w *frameWriter) bindContext(ctx context.Context) func() {
	if ctx.Done() == nil {
		return nil
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		w.dlMu.Lock()
		w.interrupted = true
		w.conn.SetWriteDeadline(aLongTimeAgo)
		w.dlMu.Unlock()
		close(fired)
	})
	return func() {
		if stop() {
			return
		}
		<-fired
		w.dlMu.Lock()
		w.interrupted = false
		w.applyDeadline()
		w.dlMu.Unlock()
	}
}

// applyDeadline gives the transport the earliest of the write deadlines in
// force: bound's or the user's, and the stall guard's. The caller holds
// dlMu and has checked interrupted.
func (w *frameWriter) applyDeadline() error {
	d := w.deadline
	if !w.bounded.IsZero() {
		d = w.bounded
	}
	if s := w.stall; !s.IsZero() && (d.IsZero() || s.Before(d)) {
		d = s
	}
	return w.conn.SetWriteDeadline(d)
}
