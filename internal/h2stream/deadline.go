package h2stream

import (
	"sync"
	"time"
)

// deadline is one direction's deadline: a channel that is closed when the
// deadline passes, and an optional function run at that moment. Setting a
// new deadline after the old one fired installs a fresh channel, so that the
// direction becomes usable again, as on a net.Conn.
type deadline struct {
	mu      sync.Mutex
	timer   *time.Timer
	expired chan struct{} // closed when the deadline passes
	onFire  func()        // run, without mu held, when the deadline passes; may be nil
}

func newDeadline(onFire func()) *deadline {
	return &deadline{expired: make(chan struct{}), onFire: onFire}
}

// set arms the deadline for t; the zero time means none. A time in the past
// fires at once, before set returns.
func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	if d.timer != nil {
		d.timer.Stop() // a callback already running finds its channel replaced
		d.timer = nil
	}
	if isClosed(d.expired) {
		d.expired = make(chan struct{})
	}
	if t.IsZero() {
		d.mu.Unlock()
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		close(d.expired)
		d.mu.Unlock()
		if d.onFire != nil {
			d.onFire()
		}
		return
	}
	expired := d.expired
	d.timer = time.AfterFunc(wait, func() { d.fire(expired) })
	d.mu.Unlock()
}

// fire closes expired unless set replaced it meanwhile, then runs onFire.
func (d *deadline) fire(expired chan struct{}) {
	d.mu.Lock()
	if d.expired != expired || isClosed(expired) {
		d.mu.Unlock()
		return
	}
	close(expired)
	d.mu.Unlock()
	if d.onFire != nil {
		d.onFire()
	}
}

// done returns the channel that is closed when the current deadline passes.
func (d *deadline) done() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.expired
}

// passed reports whether the current deadline has passed.
func (d *deadline) passed() bool {
	return isClosed(d.done())
}

// stop disarms the timer for good; the channel stays as it is.
func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
