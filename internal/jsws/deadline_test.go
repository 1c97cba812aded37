//go:build js

package jsws

import (
	"testing"
	"time"
)

// waitClosed reports whether ch closes within d.
func waitClosed(ch <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

func TestDeadline(t *testing.T) {
	var d Deadline
	d.init()
	if d.Expired() {
		t.Fatal("a new deadline has expired")
	}

	d.Set(time.Now().Add(-time.Second))
	if !d.Expired() {
		t.Fatal("a deadline in the past has not expired")
	}

	// Clearing it gives a fresh channel that never closes.
	d.Set(time.Time{})
	if d.Expired() {
		t.Fatal("a cleared deadline has expired")
	}

	// A deadline in the future closes its channel when it passes.
	d.Set(time.Now().Add(20 * time.Millisecond))
	if d.Expired() {
		t.Fatal("a deadline 20ms ahead has expired at once")
	}
	if !waitClosed(d.Channel(), 5*time.Second) {
		t.Fatal("the channel of a 20ms deadline did not close within 5s")
	}
	if !d.Expired() {
		t.Fatal("a passed deadline does not report expired")
	}

	// Moving a fired deadline to the future re-arms it.
	d.Set(time.Now().Add(time.Hour))
	if d.Expired() {
		t.Fatal("a deadline moved an hour ahead has expired")
	}
	// And moving a pending one away stops its timer.
	d.Set(time.Now().Add(10 * time.Millisecond))
	d.Set(time.Time{})
	if waitClosed(d.Channel(), 50*time.Millisecond) {
		t.Fatal("a cleared deadline's channel closed")
	}
}
