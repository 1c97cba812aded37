package websocket

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// connLock is a mutual exclusion lock whose waits can give up: when a
// context ends, the connection closes or a timer fires. Uncontended, taking
// and releasing it is one compare-and-swap and two atomic loads, where a
// channel used as a semaphore costs a runtime lock per operation (most of a
// small message's cost). Contended, waiters queue in order and the lock is
// handed to the first of them, so a goroutine that releases and takes it
// again in a loop cannot starve the others.
type connLock struct {
	held    atomic.Bool  // the lock is taken (or being handed to a waiter)
	nwait   atomic.Int32 // len(waiters), read without mu by unlock
	mu      sync.Mutex   // guards waiters
	waiters []chan struct{}
}

// tryLock takes the lock if it is free.
func (l *connLock) tryLock() bool { return l.held.CompareAndSwap(false, true) }

// lock takes the lock, giving up when ctx ends (ctx.Err()) or closed is
// closed (ErrClosed); closed may be nil.
func (l *connLock) lock(ctx context.Context, closed <-chan struct{}) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if l.tryLock() {
		return nil
	}
	switch l.wait(ctx.Done(), closed, nil) {
	case waitCtx:
		return ctx.Err()
	case waitClosed:
		return ErrClosed
	}
	return nil
}

// waitResult says why wait returned.
type waitResult uint8

const (
	waitLocked waitResult = iota
	waitCtx
	waitClosed
	waitTimer
)

// wait queues for the lock until it is handed over or one of the channels
// (any may be nil) is ready.
func (l *connLock) wait(done, closed <-chan struct{}, timer <-chan time.Time) waitResult {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	l.waiters = append(l.waiters, ch)
	l.nwait.Add(1)
	// Retried after counting ourselves: an unlock that saw no waiter has
	// released the lock before this, so this cannot miss it.
	if l.tryLock() {
		l.dequeue(ch)
		l.mu.Unlock()
		return waitLocked
	}
	l.mu.Unlock()
	var why waitResult
	select {
	case <-ch:
		return waitLocked
	case <-done:
		why = waitCtx
	case <-closed:
		why = waitClosed
	case <-timer:
		why = waitTimer
	}
	l.mu.Lock()
	queued := l.dequeue(ch)
	l.mu.Unlock()
	if !queued {
		// An unlock handed the lock over meanwhile: pass it on.
		<-ch
		l.unlock()
	}
	return why
}

// dequeue removes ch from the waiters and reports whether it was there.
// The caller holds mu.
func (l *connLock) dequeue(ch chan struct{}) bool {
	i := slices.Index(l.waiters, ch)
	if i < 0 {
		return false
	}
	l.waiters = slices.Delete(l.waiters, i, i+1)
	l.nwait.Add(-1)
	return true
}

// unlock releases the lock, handing it to the first waiter if any.
func (l *connLock) unlock() {
	if l.nwait.Load() == 0 {
		l.held.Store(false)
		// A waiter that queued meanwhile retries tryLock after counting
		// itself, unless it counted itself before this load: then hand
		// the lock over, if no one else took it.
		if l.nwait.Load() == 0 || !l.tryLock() {
			return
		}
	}
	l.mu.Lock()
	if len(l.waiters) == 0 {
		l.held.Store(false)
		l.mu.Unlock()
		return
	}
	ch := l.waiters[0]
	l.waiters = slices.Delete(l.waiters, 0, 1)
	l.nwait.Add(-1)
	ch <- struct{}{} // buffered: the waiter takes it now or when it gives up
	l.mu.Unlock()
}
