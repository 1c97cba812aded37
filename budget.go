package websocket

import (
	"context"
	"os"
	"sync"
	"time"
)

// MemoryBudget bounds the memory that messages being read hold at once,
// across all the connections that share it: the pooled chunks a message is
// collected in, the compressed payload of a compressed one, and the slice
// ReadMessage or AppendMessage is filling, until the call returns it. A
// reader whose message would take the budget past its size waits, in the
// read call, until other messages have been handed over; it never holds a
// lock a writer needs meanwhile, and it gives up like any read, when the
// read deadline passes (a timeout error: the message resumes on the next
// read) or the call's context ends. Slices already returned to the
// application are its own and no longer count.
//
// So that messages sharing a full budget cannot wait on each other forever,
// the message that began taking memory first never waits, and a message
// larger than the whole budget proceeds alone: the budget can be exceeded
// by at most one message's memory, about 1.125 times the read limit plus
// 1 MiB (see the Limits section of the package documentation). Streamed
// reads (NextReader) hold nothing that counts.
//
// Size it as the memory the server may spend on messages in flight, less
// that one message: for instance, 256 MiB lets 16 messages of the default
// 16 MiB read limit, or thousands of small ones, be read at once. A
// MemoryBudget is safe for concurrent use; share one among the Upgraders
// and Dialers whose connections it bounds.
type MemoryBudget struct {
	size int64

	mu      sync.Mutex
	used    int64
	peak    int64       // the most used has been, for tests
	oldest  *budgetHold // holders, oldest first, linked by next
	newest  *budgetHold
	waiters []*budgetWaiter
}

// NewMemoryBudget returns a budget of size bytes.
func NewMemoryBudget(size int64) *MemoryBudget {
	return &MemoryBudget{size: size}
}

// Size returns the budget's size in bytes.
func (b *MemoryBudget) Size() int64 { return b.size }

// InUse returns the bytes messages in flight hold now.
func (b *MemoryBudget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// budgetHold is what one connection's message in flight holds of a budget.
// Its fields are guarded by the budget's mutex.
type budgetHold struct {
	held       int64
	prev, next *budgetHold // in the budget's list of holders, while held > 0
	dead       bool        // the connection closed: it takes nothing more
}

// budgetWaiter is a reader waiting for n bytes.
type budgetWaiter struct {
	h       *budgetHold
	n       int64
	ready   chan struct{} // closed when granted
	granted bool
}

// grantable reports whether h may take n bytes now. The caller holds b.mu.
func (b *MemoryBudget) grantable(h *budgetHold, n int64) bool {
	return b.used+n <= b.size || b.used == 0 || h == b.oldest
}

// take gives n bytes to h. The caller holds b.mu.
func (b *MemoryBudget) take(h *budgetHold, n int64) {
	if h.held == 0 {
		h.prev, h.next = b.newest, nil
		if b.newest != nil {
			b.newest.next = h
		} else {
			b.oldest = h
		}
		b.newest = h
	}
	h.held += n
	b.used += n
	b.peak = max(b.peak, b.used)
}

// errBudgetWait is the timeout of a read whose deadline passed while it
// waited for its budget: a net.Error whose Timeout is true, as a transport's
// would be, so the read resumes like after any timeout.
var errBudgetWait = os.ErrDeadlineExceeded

// acquire takes n bytes for h, waiting while the budget cannot give them,
// until ctx ends, deadline passes (when not zero) or closed is closed.
func (b *MemoryBudget) acquire(ctx context.Context, deadline time.Time, closed <-chan struct{}, h *budgetHold, n int64) error {
	b.mu.Lock()
	if h.dead {
		b.mu.Unlock()
		return ErrClosed
	}
	// The oldest holder goes ahead of the queue: the others wait for it.
	if h == b.oldest && h.held > 0 || len(b.waiters) == 0 && b.grantable(h, n) {
		b.take(h, n)
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{h: h, n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()

	var timer <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timer = t.C
	}
	var err error
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-timer:
		err = errBudgetWait
	case <-closed:
		err = ErrClosed
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if w.granted {
		return nil // granted as it gave up: keep it
	}
	for i, o := range b.waiters {
		if o == w {
			b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
			break
		}
	}
	// It may have been the first in line, holding the others back.
	b.wake()
	return err
}

// force gives n bytes to h at once, whatever the budget holds: for bytes
// that are committed already, copied from one buffer to another.
func (b *MemoryBudget) force(h *budgetHold, n int64) {
	b.mu.Lock()
	if !h.dead {
		b.take(h, n)
	}
	b.mu.Unlock()
}

// closeHold gives back all h holds, for good: its connection closed, and
// whatever its reader kept (a message a timeout interrupted) will not be
// read. Any goroutine may call it; h's own later calls take nothing.
func (b *MemoryBudget) closeHold(h *budgetHold) {
	b.mu.Lock()
	h.dead = true
	b.mu.Unlock()
	b.release(h, h.heldNow(b))
}

// heldNow returns what h holds.
func (h *budgetHold) heldNow(b *MemoryBudget) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return h.held
}

// release gives back n of the bytes h holds.
func (b *MemoryBudget) release(h *budgetHold, n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	n = min(n, h.held)
	h.held -= n
	b.used -= n
	if h.held == 0 {
		if h.prev != nil {
			h.prev.next = h.next
		} else {
			b.oldest = h.next
		}
		if h.next != nil {
			h.next.prev = h.prev
		} else {
			b.newest = h.prev
		}
		h.prev, h.next = nil, nil
	}
	b.wake()
}

// wake grants waiters in their order while the budget allows, and the
// oldest holder wherever it waits. The caller holds b.mu.
func (b *MemoryBudget) wake() {
	blocked := false
	kept := b.waiters[:0]
	for _, w := range b.waiters {
		if w.h.dead {
			continue // it returns ErrClosed, its connection closed
		}
		oldest := w.h == b.oldest && w.h.held > 0
		if oldest || !blocked && b.grantable(w.h, w.n) {
			b.take(w.h, w.n)
			w.granted = true
			close(w.ready)
			continue
		}
		blocked = true
		kept = append(kept, w)
	}
	clear(b.waiters[len(kept):])
	b.waiters = kept
}
