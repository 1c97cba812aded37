package websocket

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrKeepAliveTimeout ends a connection whose peer did not answer a
// keepalive ping in time; reads return it. The peer is sent close code 1011.
var ErrKeepAliveTimeout = errors.New("websocket: keepalive: no pong from the peer in time")

// pingWaiter is a Ping call waiting for the pong that carries its payload.
type pingWaiter struct {
	payload []byte
	done    chan struct{}
}

// pingWaiters are the Ping calls waiting for their pongs.
type pingWaiters struct {
	mu      sync.Mutex
	waiting []*pingWaiter
}

// add registers w.
func (p *pingWaiters) add(w *pingWaiter) {
	p.mu.Lock()
	p.waiting = append(p.waiting, w)
	p.mu.Unlock()
}

// drop forgets w if no pong answered it.
func (p *pingWaiters) drop(w *pingWaiter) {
	p.mu.Lock()
	if i := slices.Index(p.waiting, w); i >= 0 {
		p.waiting = slices.Delete(p.waiting, i, i+1)
	}
	p.mu.Unlock()
}

// arrived wakes the Ping calls whose payload the pong carries. Other pongs
// are unsolicited and ignored (RFC 6455 §5.5.3).
func (p *pingWaiters) arrived(payload []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waiting = slices.DeleteFunc(p.waiting, func(w *pingWaiter) bool {
		if bytes.Equal(w.payload, payload) {
			close(w.done)
			return true
		}
		return false
	})
}

// Ping sends a ping with data (at most 125 bytes) and waits for a pong
// carrying the same data, or for ctx to end. Pongs arrive on the read side:
// some goroutine must be reading (ReadMessage, NextReader...) for Ping to
// return nil. Pings with equal data are all answered by one such pong. It may
// be called from many goroutines at once.
func (c *Conn) Ping(ctx context.Context, data []byte) error {
	if len(data) > maxControlPayload {
		return errControlSize
	}
	if err := checkControl(c.netConn, opPing); err != nil {
		return err
	}
	w := &pingWaiter{payload: bytes.Clone(data), done: make(chan struct{})}
	c.pings.add(w)
	defer c.pings.drop(w)
	if err := c.writeFrame(ctx, &frameHeader{fin: true, opcode: opPing}, data, nil); err != nil {
		return err
	}
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.life.closed:
		return c.life.err()
	}
}

// keepAlive pings c every interval and fails it with close code 1011 and
// ErrKeepAliveTimeout when, within timeout of a ping, neither its pong nor
// any other byte arrived. Since only reading sees pongs, it counts on a
// goroutine reading. It ends when the transport closes.
func keepAlive(c *Conn, interval, timeout time.Duration) {
	t := time.NewTimer(interval)
	defer t.Stop()
	var payload [8]byte
	for seq := uint64(1); ; seq++ {
		select {
		case <-c.life.closed:
			return
		case <-t.C:
		}
		binary.BigEndian.PutUint64(payload[:], seq)
		progress := c.readProgress.Load()
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err := c.Ping(ctx, payload[:])
		cancel()
		if err != nil {
			if c.life.over() || c.closeSent.Load() {
				return
			}
			// Bytes still flowing mean a live peer whose pong is queued
			// behind a large frame. Other errors (a write deadline of the
			// user's) say nothing about the peer.
			if errors.Is(err, context.DeadlineExceeded) && c.readProgress.Load() == progress {
				c.fail(ErrKeepAliveTimeout, StatusInternalError)
				return
			}
		}
		t.Reset(interval)
	}
}

// Pongs answering the peer's pings are queued rather than written by the
// reading goroutine, so that reading never waits for the frame lock: were
// both peers blocked writing large frames to each other, readers waiting to
// answer pings would never drain the other side. Whoever holds the frame
// lock sends the queued pong before letting go. RFC 6455 §5.5.3 allows
// answering only the most recent of several pings, so the queue has one
// slot.
//
// A pong's write is bounded by the close timeout (or the user's write
// deadline, when earlier): the reading goroutine may be the one writing
// it, and a peer that sends pings but never reads would otherwise hold
// that goroutine, and with it every read, until keepalive or Close.

// errPongStalled ends a connection whose pong could not be written in
// time: the peer sends pings but does not read what we send.
var errPongStalled = fmt.Errorf("websocket: pong not written in time, the peer is not reading: %w", os.ErrDeadlineExceeded)

// pongSlot holds the pong to send, the most recent ping's payload.
type pongSlot struct {
	queued  atomic.Bool
	mu      sync.Mutex
	payload [maxControlPayload]byte
	n       int
}

// put records payload as the pong to send. The caller then sends it at
// once if the frame lock is free (sendPongIfFree); otherwise the lock's
// holder sends it in releaseFrame.
func (s *pongSlot) put(payload []byte) {
	s.mu.Lock()
	s.n = copy(s.payload[:], payload)
	s.queued.Store(true)
	s.mu.Unlock()
}

// take copies the queued pong into dst and empties the slot; ok is false
// when none was queued.
func (s *pongSlot) take(dst []byte) (n int, ok bool) {
	if !s.queued.Load() {
		return 0, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.queued.Swap(false) {
		return 0, false
	}
	return copy(dst, s.payload[:s.n]), true
}

// releaseFrame sends the queued pong, if any, and lets go of the frame lock.
// A pong queued just as the lock was released is sent by taking the lock
// again, unless another goroutine took it, which then sends it.
func (c *Conn) releaseFrame() {
	for {
		c.writeQueuedPong()
		c.frameLock.Unlock()
		if !c.pong.queued.Load() || !c.frameLock.TryLock() {
			return
		}
	}
}

// sendPongIfFree sends a queued pong when the frame lock is free, for a
// goroutine that let the lock go without releaseFrame's check: one that
// released it together with the message lock, or one whose wait for it
// gave up, possibly after the lock had been handed over to it and so
// passed on (a releaser and a pong's sender that found it taken both left the
// pong to it).
func (c *Conn) sendPongIfFree() {
	if c.pong.queued.Load() && c.frameLock.TryLock() {
		c.releaseFrame()
	}
}

// writeQueuedPong writes the queued pong; the caller holds the frame lock.
// A pong that fails, or does not go out within the close timeout, ends the
// connection at once (errPongStalled, or the write's error), and the reads
// then report it; it is not returned here. No close frame is tried: the
// peer that does not read our pongs would not read it either.
func (c *Conn) writeQueuedPong() {
	if !c.pong.queued.Load() {
		return // the common case, kept cheap: every write's release comes here
	}
	n, ok := c.pong.take(c.writer.pong[:])
	if !ok || c.closeSent.Load() {
		return
	}
	c.writer.bound(time.Now().Add(c.closeTimeout), true)
	// The frame writer, not sendFrame, so that a pong cut short by the
	// deadline reports errPongStalled too, not the transport's timeout.
	h := frameHeader{fin: true, opcode: opPong}
	_, err := c.writer.writeFrame(&h, c.writer.pong[:n], nil)
	c.writer.unbound()
	if err == nil || c.life.over() {
		return
	}
	if isTimeout(err) {
		err = errPongStalled
	} else if !errors.Is(err, ErrWriteStalled) {
		err = abnormalClosure(err) // the transport failed: a reset, a broken pipe
	}
	c.life.record(err)
	c.closeTransport()
}
