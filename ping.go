package websocket

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

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

// queuePong records payload as the pong to send, and sends it at once when
// the frame lock is free.
func (c *Conn) queuePong(payload []byte) {
	c.mu.Lock()
	c.pongLen = copy(c.pongPayload[:], payload)
	c.pongQueued.Store(true)
	c.mu.Unlock()
	if c.frameLock.TryLock() {
		c.releaseFrame()
	}
	// Otherwise the holder sends it in releaseFrame.
}

// releaseFrame sends the queued pong, if any, and lets go of the frame lock.
// A pong queued just as the lock was released is sent by taking the lock
// again, unless another goroutine took it, which then sends it.
func (c *Conn) releaseFrame() {
	for {
		c.writeQueuedPong()
		c.frameLock.Unlock()
		if !c.pongQueued.Load() || !c.frameLock.TryLock() {
			return
		}
	}
}

// sendPongIfFree sends a queued pong when the frame lock is free, for a
// goroutine that let the lock go without releaseFrame's check: one that
// released it together with the message lock, or one whose wait for it
// gave up, possibly after the lock had been handed over to it and so
// passed on (a releaser and queuePong that found it taken both left the
// pong to it).
func (c *Conn) sendPongIfFree() {
	if c.pongQueued.Load() && c.frameLock.TryLock() {
		c.releaseFrame()
	}
}

// writeQueuedPong writes the queued pong; the caller holds the frame lock.
// A pong that fails, or does not go out within the close timeout, ends the
// connection at once (errPongStalled, or the write's error), and the reads
// then report it; it is not returned here. No close frame is tried: the
// peer that does not read our pongs would not read it either.
func (c *Conn) writeQueuedPong() {
	if !c.pongQueued.Load() {
		return
	}
	c.mu.Lock()
	c.pongQueued.Store(false)
	n := copy(c.writer.pong[:], c.pongPayload[:c.pongLen])
	c.mu.Unlock()
	if c.closeSent.Load() {
		return
	}
	c.boundWrite(time.Now().Add(c.closeTimeout), true)
	// sendFrame, not writeFrameLocked, so that a pong cut short by the
	// deadline reports errPongStalled too, not the transport's timeout.
	h := frameHeader{fin: true, opcode: opPong, length: int64(n), masked: c.client}
	if c.client {
		h.key = rand.Uint32() // RFC 6455 §5.3: a fresh key per frame
	}
	_, err := c.sendFrame(&h, c.writer.pong[:n], nil)
	c.restoreWriteDeadline()
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
