// Package lock provides the connection's locks: mutual exclusion whose
// waits give up when a context ends, the connection closes or a timer
// fires, which sync.Mutex cannot do, at a compare-and-swap per operation
// where a channel used as a semaphore takes a runtime lock (BenchmarkLock).
package lock

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Mutex is a mutual exclusion lock whose waits can give up: when a
// context ends, the connection closes or a timer fires. Uncontended, taking
// and releasing it is one compare-and-swap each (after a load, for the lock
// in a word's second slot), where a channel used as a semaphore costs a
// runtime lock per operation (most of a small message's cost). Contended,
// waiters queue in order and the lock is handed to the first of them, so a goroutine that releases and takes it again in a loop
// cannot starve the others.
//
// Its state (held, and how many wait) is one slot of a word. Two locks
// may share a word (Pair), so that a goroutine that needs both, the
// write side's message and frame locks for a message sent as one frame,
// takes and releases them in one atomic operation each (TryLockBoth,
// TryUnlockBoth). A lock on its own uses its own word, in slot 0.
type Mutex struct {
	shared  *atomic.Uint64 // the word holding this lock's slot; nil: own
	own     atomic.Uint64
	slot    uint8      // 0 or 1: which slot of the word is this lock's
	mu      sync.Mutex // guards waiters
	waiters []chan struct{}
}

// A slot is a held bit (bit slot) and a count of waiters (31 bits from
// bit 2+31*slot); Unlock sees "no waiter" and releases in one
// compare-and-swap, so a waiter cannot count itself in between unseen.
const (
	lockWaitShift = 2
	lockWaitBits  = 31
)

// Pair makes b share a's word, in the second slot. Call it before
// either lock is used.
func Pair(a, b *Mutex) {
	b.shared = &a.own
	b.slot = 1
}

// word returns the word holding l's state.
func (l *Mutex) word() *atomic.Uint64 {
	if l.shared != nil {
		return l.shared
	}
	return &l.own
}

// heldBit is l's held bit in its word.
func (l *Mutex) heldBit() uint64 { return 1 << l.slot }

// waitUnit is one waiter in l's count.
func (l *Mutex) waitUnit() uint64 { return 1 << (lockWaitShift + lockWaitBits*uint64(l.slot)) }

// waitMask covers l's count of waiters.
func (l *Mutex) waitMask() uint64 { return (1<<lockWaitBits - 1) * l.waitUnit() }

// Waiting returns how many goroutines wait for l.
func (l *Mutex) Waiting() int {
	return int(l.word().Load() & l.waitMask() / l.waitUnit())
}

// TryLock takes the lock if it is free.
func (l *Mutex) TryLock() bool {
	if l.shared == nil && l.own.CompareAndSwap(0, 1) {
		// The word's owner, its word all clear: the common case, in one
		// operation without a load first.
		return true
	}
	w, held := l.word(), l.heldBit()
	// A failed swap means the word changed: the other slot's lock, or a
	// waiter counted; each retry follows another goroutine's progress.
	for {
		v := w.Load()
		if v&held != 0 {
			return false
		}
		if w.CompareAndSwap(v, v|held) {
			return true
		}
	}
}

// TryLockBoth takes a and b, paired by Pair, in one atomic operation
// when both are free and no one waits for either; otherwise it takes
// neither and returns false.
func TryLockBoth(a, b *Mutex) bool {
	return a.own.CompareAndSwap(0, a.heldBit()|b.heldBit())
}

// TryUnlockBoth releases a and b, paired by Pair and both held, in
// one atomic operation when no one waits for either; otherwise it
// releases neither and returns false (then Unlock each).
func TryUnlockBoth(a, b *Mutex) bool {
	return a.own.CompareAndSwap(a.heldBit()|b.heldBit(), 0)
}

// Lock takes the lock, giving up when ctx ends (ctx.Err()) or closed is
// closed (ErrClosed); closed may be nil.
func (l *Mutex) Lock(ctx context.Context, closed <-chan struct{}) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if l.TryLock() {
		return nil
	}
	switch l.Wait(ctx.Done(), closed, nil) {
	case Canceled:
		return ctx.Err()
	case Closed:
		return ErrClosed
	}
	return nil
}

// Result says why Wait returned.
type Result uint8

// Why Wait returned.
const (
	Locked   Result = iota // the lock is the caller's
	Canceled               // done was ready
	Closed                 // closed was ready
	TimedOut               // the timer fired
)

// ErrClosed is Lock's error when closed was closed first.
var ErrClosed = errors.New("lock: closed")

// Wait queues for the lock until it is handed over or one of the channels
// (any may be nil) is ready.
func (l *Mutex) Wait(done, closed <-chan struct{}, timer <-chan time.Time) Result {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	l.waiters = append(l.waiters, ch)
	l.word().Add(l.waitUnit())
	// Retried after counting ourselves: an Unlock that saw no waiter has
	// released the lock before this, so this cannot miss it.
	if l.TryLock() {
		l.dequeue(ch)
		l.mu.Unlock()
		return Locked
	}
	l.mu.Unlock()
	var why Result
	select {
	case <-ch:
		return Locked
	case <-done:
		why = Canceled
	case <-closed:
		why = Closed
	case <-timer:
		why = TimedOut
	}
	l.mu.Lock()
	queued := l.dequeue(ch)
	l.mu.Unlock()
	if !queued {
		// An Unlock handed the lock over meanwhile: pass it on.
		<-ch
		l.Unlock()
	}
	return why
}

// dequeue removes ch from the waiters and reports whether it was there.
// The caller holds mu.
func (l *Mutex) dequeue(ch chan struct{}) bool {
	i := slices.Index(l.waiters, ch)
	if i < 0 {
		return false
	}
	l.waiters = slices.Delete(l.waiters, i, i+1)
	l.word().Add(-l.waitUnit())
	return true
}

// Unlock releases the lock, handing it to the first waiter if any.
func (l *Mutex) Unlock() {
	if l.shared == nil && l.own.CompareAndSwap(1, 0) {
		return // the word's owner, alone in its word, no one waiting
	}
	w, held, waiters := l.word(), l.heldBit(), l.waitMask()
	for {
		v := w.Load()
		if v&waiters != 0 {
			break
		}
		// Released only if no waiter counted itself since the load; one
		// that counts itself after this retries TryLock.
		if w.CompareAndSwap(v, v&^held) {
			return
		}
	}
	l.mu.Lock()
	if len(l.waiters) == 0 {
		// The waiters counted gave up meanwhile; any new one counts
		// itself under mu, after this, and then retries TryLock.
		w.And(^held)
		l.mu.Unlock()
		return
	}
	ch := l.waiters[0]
	l.waiters = slices.Delete(l.waiters, 0, 1)
	w.Add(-l.waitUnit())
	ch <- struct{}{} // buffered: the waiter takes it now or when it gives up
	l.mu.Unlock()
}
