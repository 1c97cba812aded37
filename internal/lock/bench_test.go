package lock

import (
	"context"
	"sync"
	"testing"
)

// BenchmarkLock compares, in one run, an uncontended take and release of
// a Mutex with what could replace it: a channel used as a semaphore, which
// can give up as a Mutex can, and sync.Mutex, which cannot (the floor).
// Pair is the write side's case, a message sent as one frame taking the
// message and frame locks together.
func BenchmarkLock(b *testing.B) {
	ctx := context.Background()
	closed := make(chan struct{})
	b.Run("Mutex", func(b *testing.B) {
		var l Mutex
		for b.Loop() {
			if err := l.Lock(ctx, closed); err != nil {
				b.Fatal(err)
			}
			l.Unlock()
		}
	})
	b.Run("Pair", func(b *testing.B) {
		var msg, frame Mutex
		Pair(&msg, &frame)
		for b.Loop() {
			if !TryLockBoth(&msg, &frame) || !TryUnlockBoth(&msg, &frame) {
				b.Fatal("paired locks not free")
			}
		}
	})
	b.Run("chan", func(b *testing.B) {
		sem := make(chan struct{}, 1)
		for b.Loop() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				b.Fatal(ctx.Err())
			case <-closed:
				b.Fatal("closed")
			}
			<-sem
		}
	})
	b.Run("sync.Mutex", func(b *testing.B) {
		var mu sync.Mutex
		n := 0
		for b.Loop() {
			mu.Lock()
			n++ // a critical section, as the others hold the lock over nothing more
			mu.Unlock()
		}
		_ = n
	})
}
