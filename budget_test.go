package websocket

import (
	"bytes"
	"context"
	"errors"
	"net"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMemoryBudgetWaits checks the budget's rules on its own: a request
// that does not fit waits; waiters are served in order; the oldest holder
// never waits (otherwise two holders that each need more would wait on
// each other forever); a wait gives up at its deadline with a timeout and
// when its context ends.
func TestMemoryBudgetWaits(t *testing.T) {
	ctx := context.Background()
	b := NewMemoryBudget(100)
	var h1, h2, h3 budgetHold
	if err := b.acquire(ctx, time.Time{}, nil, &h1, 60); err != nil {
		t.Fatal(err)
	}
	if err := b.acquire(ctx, time.Time{}, nil, &h2, 30); err != nil {
		t.Fatal(err)
	}
	// h2 needs 30 more: it must wait for h1.
	got := make(chan error, 1)
	go func() { got <- b.acquire(ctx, time.Time{}, nil, &h2, 30) }()
	// h3 asks with a deadline already past: a timeout, and nothing taken.
	if err := b.acquire(ctx, time.Now().Add(-time.Second), nil, &h3, 20); !isTimeout(err) {
		t.Fatalf("a wait past its deadline returned %v, want a timeout", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.acquire(cctx, time.Time{}, nil, &h3, 20); !errors.Is(err, context.Canceled) {
		t.Fatalf("a wait with its context ended returned %v", err)
	}
	// h1, the oldest holder, needs 50 more than the budget has: it goes
	// ahead, over the budget, rather than wait for h2, which waits on it.
	if err := b.acquire(ctx, time.Now().Add(-time.Second), nil, &h1, 50); err != nil {
		t.Fatalf("the oldest holder waited: %v", err)
	}
	if used := b.InUse(); used != 140 {
		t.Fatalf("in use %d, want 140", used)
	}
	select {
	case err := <-got:
		t.Fatalf("h2 was served with h1 holding 110 of 100: %v", err)
	default:
	}
	b.release(&h1, 110)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if used := b.InUse(); used != 60 || h2.held != 60 || h3.held != 0 {
		t.Fatalf("in use %d (h2 %d, h3 %d), want 60 (60, 0)", used, h2.held, h3.held)
	}
	b.release(&h2, 60)
	// Alone, a request larger than the whole budget proceeds.
	if err := b.acquire(ctx, time.Now().Add(-time.Second), nil, &h3, 500); err != nil {
		t.Fatal(err)
	}
	b.release(&h3, 500)
	if b.InUse() != 0 || b.oldest != nil || b.newest != nil || len(b.waiters) != 0 {
		t.Fatal("the budget is not empty after every release")
	}
}

// TestBudgetReadGivesUpAndResumes has a read wait for a budget another
// connection's message fills: the end of its context ends the wait, the
// Conn stays usable, and once the other message is handed over the next
// read returns the waiting message intact.
func TestBudgetReadGivesUpAndResumes(t *testing.T) {
	budget := NewMemoryBudget(1 << 20)
	c, peer := pipeClient(t, func(cfg *connConfig) { cfg.budget = budget })
	msg := words(5, 900<<10)
	// Another connection's message, older, holds the whole budget.
	var other budgetHold
	if err := budget.acquire(context.Background(), time.Time{}, nil, &other, 1<<20); err != nil {
		t.Fatal(err)
	}
	sent := feed(peer, messageFrames(opBinary, msg, 0, false), 1)
	ctx, cancel := context.WithCancel(context.Background())
	read := make(chan error, 1)
	go func() {
		_, _, err := c.ReadMessageContext(ctx)
		read <- err
	}()
	for end := time.Now().Add(testTimeout); ; {
		budget.mu.Lock()
		waiting := len(budget.waiters)
		budget.mu.Unlock()
		if waiting == 1 {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the read did not wait for the budget")
		}
		runtime.Gosched()
	}
	cancel()
	if err := <-read; !errors.Is(err, context.Canceled) {
		t.Fatalf("read over the budget: %v, want context.Canceled", err)
	}
	if used := budget.InUse(); used != 1<<20 {
		t.Fatalf("the budget holds %d bytes, want only the other message's", used)
	}
	budget.release(&other, 1<<20)
	if _, got, err := c.ReadMessage(); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("resumed read: %v, %d bytes", err, len(got))
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if used := budget.InUse(); used != 0 {
		t.Fatalf("%d bytes of the budget still held after the message was handed over", used)
	}
}

// TestBudgetManyLargeMessages has 100 connections each receive a 16 MiB
// message at once under a 256 MiB budget: every message arrives intact,
// the budget never holds more than its size and one message (the oldest
// holder's overdraft), and the heap stays within the budget plus the
// overhead MemoryBudget documents (one message, and the collector's
// slack, held low here by GOGC=10).
func TestBudgetManyLargeMessages(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 1.6 GiB")
	}
	const msgN = DefaultReadLimit
	n, size := 100, 256<<20
	if raceEnabled {
		n, size = 25, 64<<20 // the same proportions, a quarter of the bytes
	}
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	budget := NewMemoryBudget(int64(size))
	msg := words(6, msgN)
	wire := messageFrames(opBinary, msg, 0, false)
	conns := make([]*Conn, n)
	peers := make([]net.Conn, n)
	sent := make([]<-chan error, n)
	for i := range conns {
		conns[i], peers[i] = pipeClient(t, func(cfg *connConfig) { cfg.budget = budget })
	}
	var bad atomic.Int32
	// The live heap that each collection finds: what the budget bounds,
	// whatever the collector's pace under load (sampled heap objects add
	// the garbage allocated while a collection runs).
	liveSample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	live := func() int64 {
		metrics.Read(liveSample)
		return int64(liveSample[0].Value.Uint64())
	}
	runtime.GC()
	live0 := live()
	var peakLive int64
	peak := peakHeap(func() {
		stop, watched := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(watched)
			tick := time.NewTicker(200 * time.Microsecond)
			defer tick.Stop()
			for {
				peakLive = max(peakLive, live()-live0)
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
		}()
		var wg sync.WaitGroup
		for i, c := range conns {
			sent[i] = feed(peers[i], wire, 1)
			wg.Go(func() {
				_, got, err := c.ReadMessage()
				if err != nil || !bytes.Equal(got, msg) {
					bad.Add(1)
				}
			})
		}
		wg.Wait()
		close(stop)
		<-watched
	})
	for _, s := range sent {
		if err := <-s; err != nil {
			t.Fatal(err)
		}
	}
	overdraft := int64(msgN + msgN/8 + 1<<20)
	t.Logf("budget %d MiB: at most %.1f MiB held; live heap at most %.1f MiB, heap objects %.1f MiB above the start",
		size>>20, float64(budget.peak)/(1<<20), float64(peakLive)/(1<<20), float64(peak)/(1<<20))
	if bad.Load() != 0 {
		t.Fatalf("%d messages failed or arrived damaged", bad.Load())
	}
	if budget.peak > int64(size)+overdraft {
		t.Errorf("the budget held %d bytes, want at most %d", budget.peak, int64(size)+overdraft)
	}
	// Each connection's read buffer and state, and the messages just
	// handed over, not yet dropped, beside the budget and its overdraft.
	// Under -race, sync.Pool drops chunks at random: they become garbage.
	if bound := int64(size) + overdraft + int64(n*(16<<10)+2*msgN); peakLive > bound && !raceEnabled {
		t.Errorf("the live heap peaked %d bytes above the start, want at most %d", peakLive, bound)
	}
	// Heap objects (logged above) add the garbage allocated while a
	// collection runs, which grows with how starved the collector is on a
	// busy machine (434 MB seen at load 22, over a 357 MB bound): the live heap
	// is what the budget bounds, so only it is judged.
}

// TestBudgetGivenBackOnClose checks that a closed connection gives back
// the budget of a message a timeout left half read, which nobody will read
// now, and that a read waiting for the budget when its connection closes
// ends with the connection's error, holding nothing.
func TestBudgetGivenBackOnClose(t *testing.T) {
	budget := NewMemoryBudget(1 << 20)
	edit := func(cfg *connConfig) { cfg.budget = budget }
	c, peer := pipeClient(t, edit)
	wire := messageFrames(opBinary, words(7, 512<<10), 0, false)
	// Half the message, then a read that times out: it keeps its chunks.
	sent := feed(peer, wire[:len(wire)/2], 1)
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, _, err := c.ReadMessage(); !isTimeout(err) {
		t.Fatalf("read of half a message: %v, want a timeout", err)
	}
	<-sent
	if budget.InUse() == 0 {
		t.Fatal("the half-read message holds nothing of the budget")
	}
	c.CloseNow()
	if used := budget.InUse(); used != 0 {
		t.Fatalf("%d bytes still held after the connection closed", used)
	}

	// Another connection waits for a budget an older message fills.
	var other budgetHold
	if err := budget.acquire(context.Background(), time.Time{}, nil, &other, 1<<20); err != nil {
		t.Fatal(err)
	}
	c2, peer2 := pipeClient(t, edit)
	sent = feed(peer2, wire, 1)
	read := make(chan error, 1)
	go func() {
		_, _, err := c2.ReadMessage()
		read <- err
	}()
	for end := time.Now().Add(testTimeout); ; {
		budget.mu.Lock()
		waiting := len(budget.waiters)
		budget.mu.Unlock()
		if waiting == 1 {
			break
		}
		if time.Now().After(end) {
			t.Fatal("the read did not wait for the budget")
		}
		runtime.Gosched()
	}
	c2.CloseNow()
	if err := <-read; err == nil || isTimeout(err) {
		t.Fatalf("read waiting when its connection closed: %v, want the connection's end", err)
	}
	if _, _, err := c2.ReadMessage(); err == nil {
		t.Fatal("a read after the close succeeded")
	}
	budget.release(&other, 1<<20)
	if used := budget.InUse(); used != 0 {
		t.Fatalf("%d bytes still held", used)
	}
	peer2.Close()
	<-sent
}
