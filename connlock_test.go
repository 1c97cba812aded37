package websocket

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestConnLockExclusion: goroutines taking the lock in turns, some of them
// giving up on a context that ends, never hold it together, and the lock
// is free at the end (no hand-over to a waiter that left was lost).
func TestConnLockExclusion(t *testing.T) {
	var l connLock
	var wg sync.WaitGroup
	inside, total := 0, 0
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				ctx := context.Background()
				var cancel context.CancelFunc = func() {}
				if (g+i)%3 == 0 {
					ctx, cancel = context.WithCancel(ctx)
					go cancel()
				}
				err := l.lock(ctx, nil)
				cancel()
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						t.Errorf("lock: %v", err)
					}
					continue
				}
				inside++
				if inside != 1 {
					t.Errorf("%d holders at once", inside)
				}
				total++
				inside--
				l.unlock()
			}
		})
	}
	wg.Wait()
	if !l.tryLock() {
		t.Fatal("lock held after every holder released it")
	}
	if l.nwait.Load() != 0 || len(l.waiters) != 0 {
		t.Fatalf("%d waiters left", len(l.waiters))
	}
	t.Logf("%d critical sections", total)
}

// TestConnLockGivesUp: a wait ends on the context, the closed channel and
// the timer, and the lock is then still the holder's.
func TestConnLockGivesUp(t *testing.T) {
	var l connLock
	if err := l.lock(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := l.lock(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("lock with an ending context: %v", err)
	}
	closed := make(chan struct{})
	close(closed)
	if err := l.lock(context.Background(), closed); !errors.Is(err, ErrClosed) {
		t.Fatalf("lock on a closed connection: %v", err)
	}
	timer := time.NewTimer(time.Millisecond)
	defer timer.Stop()
	if got := l.wait(nil, nil, timer.C); got != waitTimer {
		t.Fatalf("wait with a timer: %v", got)
	}
	if l.tryLock() {
		t.Fatal("tryLock took a held lock")
	}
	l.unlock()
	if !l.tryLock() {
		t.Fatal("lock not free after unlock")
	}
}

// TestConnLockFIFO: waiters get the lock in the order they queued.
func TestConnLockFIFO(t *testing.T) {
	var l connLock
	l.lock(context.Background(), nil)
	order := make(chan int, 3)
	for i := range 3 {
		queued := make(chan struct{})
		go func() {
			go func() {
				// Queued once nwait counts it.
				for range 1_000_000 {
					if l.nwait.Load() == int32(i+1) {
						break
					}
					runtime.Gosched()
				}
				close(queued)
			}()
			l.lock(context.Background(), nil)
			order <- i
			l.unlock()
		}()
		<-queued
	}
	if n := l.nwait.Load(); n != 3 {
		t.Fatalf("%d waiters queued, want 3", n)
	}
	l.unlock()
	for want := range 3 {
		if got := <-order; got != want {
			t.Fatalf("waiter %d got the lock in turn %d", got, want)
		}
	}
}
