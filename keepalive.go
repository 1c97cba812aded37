package websocket

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"slices"
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

// Ping sends a ping with data (at most 125 bytes) and waits for a pong
// carrying the same data, or for ctx to end. Pongs arrive on the read side:
// some goroutine must be reading (ReadMessage, NextReader...) for Ping to
// return nil. Pings with equal data are all answered by one such pong. It may
// be called from many goroutines at once.
func (c *Conn) Ping(ctx context.Context, data []byte) error {
	if len(data) > maxControlPayload {
		return errControlSize
	}
	if err := c.checkControl(opPing); err != nil {
		return err
	}
	w := &pingWaiter{payload: bytes.Clone(data), done: make(chan struct{})}
	c.mu.Lock()
	c.pings = append(c.pings, w)
	c.mu.Unlock()
	defer c.dropPing(w)
	if err := c.writeControl(ctx, opPing, data); err != nil {
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

// dropPing forgets w if no pong answered it.
func (c *Conn) dropPing(w *pingWaiter) {
	c.mu.Lock()
	if i := slices.Index(c.pings, w); i >= 0 {
		c.pings = slices.Delete(c.pings, i, i+1)
	}
	c.mu.Unlock()
}

// pongArrived wakes the Ping calls whose payload the pong carries. Other
// pongs are unsolicited and ignored (RFC 6455 §5.5.3).
func (c *Conn) pongArrived(payload []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pings = slices.DeleteFunc(c.pings, func(w *pingWaiter) bool {
		if bytes.Equal(w.payload, payload) {
			close(w.done)
			return true
		}
		return false
	})
}

// keepAlive pings every interval and fails the connection with close code
// 1011 and ErrKeepAliveTimeout when, within timeout of a ping, neither its
// pong nor any other byte arrived. Since only reading sees pongs, it counts
// on a goroutine reading. It ends when the transport closes.
func (c *Conn) keepAlive(interval, timeout time.Duration) {
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
