//go:build js

package jsws

import (
	"sync"
	"time"
)

// Deadline is a deadline that blocked reads and writes wait on as a
// channel, closed when it passes. Its zero value is not ready: a Socket's
// are.
type Deadline struct {
	mu    sync.Mutex
	timer *time.Timer
	ch    chan struct{}
}

func (d *Deadline) init() { d.ch = make(chan struct{}) }

// Set moves the deadline to t; the zero time means none.
func (d *Deadline) Set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		// It fired, or is firing: its channel is spent.
		d.ch = make(chan struct{})
	}
	d.timer = nil
	select {
	case <-d.ch:
		d.ch = make(chan struct{})
	default:
	}
	if t.IsZero() {
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		close(d.ch)
		return
	}
	ch := d.ch
	d.timer = time.AfterFunc(wait, func() { close(ch) })
}

// Channel returns the channel closed when the deadline passes. A waiter
// woken by it checks Expired: a deadline moved meanwhile has a new one.
func (d *Deadline) Channel() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}

// Expired reports whether the deadline has passed.
func (d *Deadline) Expired() bool {
	select {
	case <-d.Channel():
		return true
	default:
		return false
	}
}
