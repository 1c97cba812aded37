package websocket

import "context"

// Pongs answering the peer's pings are queued rather than written by the
// reading goroutine, so that reading never waits for the frame lock: were
// both peers blocked writing large frames to each other, readers waiting to
// answer pings would never drain the other side. Whoever holds the frame
// lock sends the queued pong before letting go. RFC 6455 §5.5.3 allows
// answering only the most recent of several pings, so the queue has one
// slot.

// queuePong records payload as the pong to send, and sends it at once when
// the frame lock is free.
func (c *Conn) queuePong(payload []byte) {
	c.mu.Lock()
	c.pongLen = copy(c.pongPayload[:], payload)
	c.pongQueued.Store(true)
	c.mu.Unlock()
	if c.frameLock.tryLock() {
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
		c.frameLock.unlock()
		if !c.pongQueued.Load() || !c.frameLock.tryLock() {
			return
		}
	}
}

// writeQueuedPong writes the queued pong; the caller holds the frame lock. A
// write error ends the connection on its own, so it is not returned.
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
	c.writeFrameLocked(context.Background(), true, OpPong, c.writer.pong[:n])
}
