package leakcheck

import (
	"strings"
	"testing"
	"time"
)

// blockedUntil says it has started, then blocks until ch is closed: once
// started is closed, the goroutine's stack holds blockedUntil.
func blockedUntil(started, ch chan struct{}) {
	close(started)
	<-ch
}

func TestWaitReportsRunningGoroutines(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		blockedUntil(started, release)
	}()
	<-started
	leaked := Wait(20 * time.Millisecond)
	found := false
	for _, s := range leaked {
		found = found || strings.Contains(s, "leakcheck.blockedUntil")
	}
	if !found {
		t.Fatalf("the blocked goroutine is not reported; got %d stacks", len(leaked))
	}
	close(release)
	<-done
	for _, s := range Wait(DefaultWait) {
		if strings.Contains(s, "leakcheck.blockedUntil") {
			t.Fatal("a finished goroutine is still reported")
		}
	}
}
