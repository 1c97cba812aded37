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
// and releasing it is one compare-and-swap each (after a load, for the lock
// in a word's second slot), where a channel used as a semaphore costs a
// runtime lock per operation (most of a small message's cost). Contended, waiters queue in order and the lock is handed to the
// first of them, so a goroutine that releases and takes it again in a loop
// cannot starve the others.
//
// Its state (held, and how many wait) is one slot of a word. Two locks
// may share a word (pairLocks), so that a goroutine that needs both, the
// write side's message and frame locks for a message sent as one frame,
// takes and releases them in one atomic operation each (tryLockBoth,
// tryUnlockBoth). A lock on its own uses its own word, in slot 0.
type connLock struct {
	shared  *atomic.Uint64 // the word holding this lock's slot; nil: own
	own     atomic.Uint64
	slot    uint8      // 0 or 1: which slot of the word is this lock's
	mu      sync.Mutex // guards waiters
	waiters []chan struct{}
}

// A slot is a held bit (bit slot) and a count of waiters (31 bits from
// bit 2+31*slot); unlock sees "no waiter" and releases in one
// compare-and-swap, so a waiter cannot count itself in between unseen.
const (
	lockWaitShift = 2
	lockWaitBits  = 31
)

// pairLocks makes b share a's word, in the second slot. Call it before
// either lock is used.
func pairLocks(a, b *connLock) {
	b.shared = &a.own
	b.slot = 1
}

// word returns the word holding l's state.
func (l *connLock) word() *atomic.Uint64 {
	if l.shared != nil {
		return l.shared
	}
	return &l.own
}

// heldBit is l's held bit in its word.
func (l *connLock) heldBit() uint64 { return 1 << l.slot }

// waitUnit is one waiter in l's count.
func (l *connLock) waitUnit() uint64 { return 1 << (lockWaitShift + lockWaitBits*uint64(l.slot)) }

// waitMask covers l's count of waiters.
func (l *connLock) waitMask() uint64 { return (1<<lockWaitBits - 1) * l.waitUnit() }

// waiting returns how many goroutines wait for l.
func (l *connLock) waiting() int {
	return int(l.word().Load() & l.waitMask() / l.waitUnit())
}

// tryLock takes the lock if it is free.
func (l *connLock) tryLock() bool {
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

// tryLockBoth takes a and b, paired by pairLocks, in one atomic operation
// when both are free and no one waits for either; otherwise it takes
// neither and returns false.
func tryLockBoth(a, b *connLock) bool {
	return a.own.CompareAndSwap(0, a.heldBit()|b.heldBit())
}

// tryUnlockBoth releases a and b, paired by pairLocks and both held, in
// one atomic operation when no one waits for either; otherwise it
// releases neither and returns false (then unlock each).
func tryUnlockBoth(a, b *connLock) bool {
	return a.own.CompareAndSwap(a.heldBit()|b.heldBit(), 0)
}

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
	l.word().Add(l.waitUnit())
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
	l.word().Add(-l.waitUnit())
	return true
}

// unlock releases the lock, handing it to the first waiter if any.
func (l *connLock) unlock() {
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
		// that counts itself after this retries tryLock.
		if w.CompareAndSwap(v, v&^held) {
			return
		}
	}
	l.mu.Lock()
	if len(l.waiters) == 0 {
		// The waiters counted gave up meanwhile; any new one counts
		// itself under mu, after this, and then retries tryLock.
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
