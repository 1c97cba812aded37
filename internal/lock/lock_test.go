package lock

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMutexExclusion: goroutines taking the lock in turns, some of them
// giving up on a context that ends, never hold it together, and the lock
// is free at the end (no hand-over to a waiter that left was lost).
func TestMutexExclusion(t *testing.T) {
	var l Mutex
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
				err := l.Lock(ctx, nil)
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
				l.Unlock()
			}
		})
	}
	wg.Wait()
	if !l.TryLock() {
		t.Fatal("lock held after every holder released it")
	}
	if l.Waiting() != 0 || len(l.waiters) != 0 {
		t.Fatalf("%d waiters left", len(l.waiters))
	}
	t.Logf("%d critical sections", total)
}

// TestMutexGivesUp: a wait ends on the context, the closed channel and
// the timer, and the lock is then still the holder's.
func TestMutexGivesUp(t *testing.T) {
	var l Mutex
	if err := l.Lock(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := l.Lock(ctx, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("lock with an ending context: %v", err)
	}
	closed := make(chan struct{})
	close(closed)
	if err := l.Lock(context.Background(), closed); !errors.Is(err, ErrClosed) {
		t.Fatalf("lock on a closed connection: %v", err)
	}
	timer := time.NewTimer(time.Millisecond)
	defer timer.Stop()
	if got := l.Wait(nil, nil, timer.C); got != TimedOut {
		t.Fatalf("wait with a timer: %v", got)
	}
	if l.TryLock() {
		t.Fatal("TryLock took a held lock")
	}
	l.Unlock()
	if !l.TryLock() {
		t.Fatal("lock not free after Unlock")
	}
}

// TestMutexFIFO: waiters get the lock in the order they queued.
func TestMutexFIFO(t *testing.T) {
	var l Mutex
	l.Lock(context.Background(), nil)
	order := make(chan int, 3)
	for i := range 3 {
		queued := make(chan struct{})
		go func() {
			go func() {
				// Queued once the word counts it.
				for range 1_000_000 {
					if l.Waiting() == i+1 {
						break
					}
					runtime.Gosched()
				}
				close(queued)
			}()
			l.Lock(context.Background(), nil)
			order <- i
			l.Unlock()
		}()
		<-queued
	}
	if n := l.Waiting(); n != 3 {
		t.Fatalf("%d waiters queued, want 3", n)
	}
	l.Unlock()
	for want := range 3 {
		if got := <-order; got != want {
			t.Fatalf("waiter %d got the lock in turn %d", got, want)
		}
	}
}

// TestMutexPairExclusion: goroutines take two paired locks together
// (one operation when both are free, else one after the other), the second
// alone (as control frames do), or the first and then the second (as a
// streamed message's last fragment does), some giving up on a context that
// ends. Each lock has at most one holder at a time, and both end free,
// with no waiter counted in their shared word.
func TestMutexPairExclusion(t *testing.T) {
	var msg, frame Mutex
	Pair(&msg, &frame)
	var wg sync.WaitGroup
	var inMsg, inFrame atomic.Int32
	enter := func(n *atomic.Int32, what string) {
		if n.Add(1) != 1 {
			t.Errorf("two holders of the %s lock at once", what)
		}
	}
	for g := range 6 {
		wg.Go(func() {
			for i := range 2000 {
				ctx := context.Background()
				var cancel context.CancelFunc = func() {}
				if (g+i)%5 == 0 {
					ctx, cancel = context.WithCancel(ctx)
					go cancel()
				}
				switch (g + i) % 3 {
				case 0: // a message in one frame
					if !TryLockBoth(&msg, &frame) {
						if msg.Lock(ctx, nil) != nil {
							break
						}
						if frame.Lock(context.Background(), nil) != nil {
							t.Error("frame lock refused without a context end")
						}
					}
					enter(&inMsg, "message")
					enter(&inFrame, "frame")
					inFrame.Add(-1)
					inMsg.Add(-1)
					if !TryUnlockBoth(&msg, &frame) {
						frame.Unlock()
						msg.Unlock()
					}
				case 1: // a control frame
					if frame.Lock(ctx, nil) != nil {
						break
					}
					enter(&inFrame, "frame")
					inFrame.Add(-1)
					frame.Unlock()
				case 2: // a fragment, then the last one
					if msg.Lock(ctx, nil) != nil {
						break
					}
					enter(&inMsg, "message")
					for range 2 {
						if frame.Lock(ctx, nil) != nil {
							break
						}
						enter(&inFrame, "frame")
						inFrame.Add(-1)
						frame.Unlock()
					}
					inMsg.Add(-1)
					msg.Unlock()
				}
				cancel()
			}
		})
	}
	wg.Wait()
	if v := msg.own.Load(); v != 0 {
		t.Fatalf("shared word %#x after every holder left, want 0", v)
	}
	if len(msg.waiters)+len(frame.waiters) != 0 {
		t.Fatalf("%d waiters left", len(msg.waiters)+len(frame.waiters))
	}
	if !TryLockBoth(&msg, &frame) {
		t.Fatal("paired locks not free together")
	}
}

// TestMutexPairWaiterBlocksJointRelease: a waiter for one of two paired
// locks makes the joint release refuse, so the lock is handed to it.
func TestMutexPairWaiterBlocksJointRelease(t *testing.T) {
	var msg, frame Mutex
	Pair(&msg, &frame)
	if !TryLockBoth(&msg, &frame) {
		t.Fatal("free paired locks not taken together")
	}
	got := make(chan error, 1)
	go func() { got <- frame.Lock(context.Background(), nil) }()
	for i := 0; frame.Waiting() != 1; i++ {
		if i == 1_000_000 {
			t.Fatal("the waiter never queued")
		}
		runtime.Gosched()
	}
	if TryLockBoth(&msg, &frame) {
		t.Fatal("paired locks taken twice")
	}
	if TryUnlockBoth(&msg, &frame) {
		t.Fatal("joint release passed over a waiter")
	}
	frame.Unlock()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	msg.Unlock()
	if frame.TryLock() {
		t.Fatal("frame lock free while the waiter holds it")
	}
	if !msg.TryLock() {
		t.Fatal("message lock not free after Unlock")
	}
	frame.Unlock()
	msg.Unlock()
	if v := msg.own.Load(); v != 0 {
		t.Fatalf("shared word %#x, want 0", v)
	}
}
