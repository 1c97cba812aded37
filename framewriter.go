package websocket

import (
	"errors"
	"net"
	"time"
)

// The write stall guard ends a connection whose peer stopped taking our
// bytes: a transport write that gets no byte accepted for the stall
// timeout fails the connection with ErrWriteStalled. Without it, a write
// to a peer that never reads (or whose host vanished without a reset)
// blocks until the application's own deadline, and with none, forever,
// holding the frame lock that every other writer waits for.
//
// It works through the transport's write deadline. On a TCP or Unix
// socket the deadline is a probe, armed by the first write and moved only
// when it fires, so that a write that does not block costs nothing: it
// fires within 1/8 of a stall timeout of a blocked write's start (at once
// if it passed between writes), then every 1/8, and the write, which
// reports how much it wrote, goes on as long as some byte went out within
// the last stall timeout, so a slow but reading peer is never cut. Other
// transports (TLS, HTTP/2 streams, wrappers) cannot resume a write cut by
// a deadline: there the deadline is at least a stall timeout after a
// write's start (a clock read per write), and the writes of a large frame
// are at most maxWriteChunk bytes each, each of which must finish in time,
// as it does for a peer taking 1 MiB per stall timeout (35 KB/s at the
// default).

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

// initStallGuard sets the guard up; d is the configured timeout (0: the
// default, < 0: off).
func (c *Conn) initStallGuard(d time.Duration) {
	if d == 0 {
		d = DefaultWriteStallTimeout
	}
	if d < 0 {
		return
	}
	c.stallTimeout = d
	switch c.netConn.(type) {
	case *net.TCPConn, *net.UnixConn:
		c.stallResumable = true
	}
}

// applyWriteDeadlineLocked gives the transport the earliest of the write
// deadlines in force: boundWrite's or the user's, and the stall guard's.
// The caller holds dlMu and has checked writeInterrupted.
func (c *Conn) applyWriteDeadlineLocked() error {
	d := c.writeDeadline
	if !c.writeBound.IsZero() {
		d = c.writeBound
	}
	if s := c.stallDeadline; !s.IsZero() && (d.IsZero() || s.Before(d)) {
		d = s
	}
	return c.netConn.SetWriteDeadline(d)
}

// armStall makes sure the guard's deadline is set for the write about to
// start, and returns the write's last progress so far: now, or the zero
// time on a socket, where stallCheck reads the clock at the first probe.
// The caller holds the frame lock.
func (c *Conn) armStall() time.Time {
	if c.stallTimeout <= 0 {
		return time.Time{}
	}
	if c.stallResumable {
		// On a socket the probe is armed once, then moved only by
		// stallCheck when it fires: a write that does not block reads no
		// clock (time.Now costs 57 ns on this project's VM, more than a
		// whole 16-byte WriteMessage). A probe that fired between writes
		// fails the next write at once with nothing written; stallCheck
		// re-arms it and the write goes on, its stall timed from there.
		if c.writer.stallRefresh.IsZero() {
			c.writer.stallRefresh = time.Now()
			c.setStallDeadline(c.writer.stallRefresh.Add(c.stallTimeout / 8))
		}
		return time.Time{}
	}
	now := time.Now()
	if now.Before(c.writer.stallRefresh) {
		return now
	}
	c.writer.stallRefresh = now.Add(c.stallTimeout / 8)
	c.setStallDeadline(c.writer.stallRefresh.Add(c.stallTimeout))
	return now
}

// setStallDeadline moves the guard's deadline to d.
func (c *Conn) setStallDeadline(d time.Time) {
	c.dlMu.Lock()
	c.stallDeadline = d
	if !c.writeInterrupted {
		c.applyWriteDeadlineLocked()
	}
	c.dlMu.Unlock()
}

// stallCheck looks at a failed transport write; n bytes went out in the
// call that failed, and *last is when a byte last went out (or the write
// began). It returns nil when the write should go on: the guard's probe
// fired on a write that can resume, and a byte went out within the stall
// timeout. It returns ErrWriteStalled when the guard ended the write, and
// err otherwise (a transport error, the user's deadline, a context's
// end).
func (c *Conn) stallCheck(err error, n int64, last *time.Time) error {
	if c.stallTimeout <= 0 || !isTimeout(err) {
		return err
	}
	c.dlMu.Lock()
	user := c.writeDeadline
	if !c.writeBound.IsZero() {
		user = c.writeBound
	}
	now := time.Now()
	if c.writeInterrupted || (!user.IsZero() && !now.Before(user)) {
		c.dlMu.Unlock()
		return err
	}
	c.dlMu.Unlock()
	if n > 0 || last.IsZero() {
		*last = now // progress, or the first probe of a write on a socket
	}
	if !c.stallResumable || now.Sub(*last) >= c.stallTimeout {
		return ErrWriteStalled
	}
	c.setStallDeadline(now.Add(min(c.stallTimeout/8, last.Add(c.stallTimeout).Sub(now))))
	c.writer.stallRefresh = now // armed
	return nil
}

// writeTransport writes p to the transport under the stall guard and
// returns how many bytes went out. The caller holds the frame lock.
func (c *Conn) writeTransport(p []byte) (int64, error) {
	if c.stallTimeout <= 0 {
		n, err := c.netConn.Write(p)
		return int64(n), err
	}
	var sent int64
	for {
		q := p
		if !c.stallResumable && len(q) > maxWriteChunk {
			q = q[:maxWriteChunk]
		}
		last := c.armStall()
		for {
			n, err := c.netConn.Write(q)
			sent += int64(n)
			q, p = q[n:], p[n:]
			if err == nil {
				break
			}
			if err = c.stallCheck(err, int64(n), &last); err != nil {
				return sent, err
			}
		}
		if len(p) == 0 {
			return sent, nil
		}
	}
}

// writeTransportBuffers writes bufs, consuming them, to a transport with
// vectored writes (a TCP or Unix socket, or a buffersWriter), under the
// stall guard. The caller holds the frame lock.
func (c *Conn) writeTransportBuffers(bufs *net.Buffers) (int64, error) {
	if bw, ok := c.netConn.(buffersWriter); ok {
		last := c.armStall()
		n, err := bw.WriteBuffers(*bufs)
		if err != nil {
			err = c.stallCheck(err, n, &last)
		}
		return n, err
	}
	last := c.armStall()
	var sent int64
	for {
		n, err := bufs.WriteTo(c.netConn)
		sent += n
		if err == nil {
			return sent, nil
		}
		if err = c.stallCheck(err, n, &last); err != nil {
			return sent, err
		}
	}
}
