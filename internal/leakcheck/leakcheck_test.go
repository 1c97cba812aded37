package leakcheck

import (
	"strings"
	"testing"
	"time"
)

func blockedUntil(ch chan struct{}) { <-ch }

func TestWaitReportsRunningGoroutines(t *testing.T) {
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		blockedUntil(release)
	}()
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
