package interop

import (
	"strings"
	"sync"
	"testing"
)

// tally counts, for one peer, the rows (direction × feature) that passed,
// so the verbose log shows a count per peer.
type tally struct {
	peer    string
	mu      sync.Mutex
	passed  []string
	skipped []string
	failed  []string
}

func newTally(peer string) *tally { return &tally{peer: peer} }

// record files the row of subtest t; call it deferred at the subtest's start.
func (ty *tally) record(t *testing.T, direction, feature string) {
	row := direction + "/" + feature
	ty.mu.Lock()
	defer ty.mu.Unlock()
	switch {
	case t.Failed():
		ty.failed = append(ty.failed, row)
	case t.Skipped():
		ty.skipped = append(ty.skipped, row)
	default:
		ty.passed = append(ty.passed, row)
	}
}

// log writes the peer's counts and rows.
func (ty *tally) log(t *testing.T) {
	ty.mu.Lock()
	defer ty.mu.Unlock()
	t.Logf("interop %s: %d passed, %d failed, %d skipped", ty.peer, len(ty.passed), len(ty.failed), len(ty.skipped))
	t.Logf("interop %s passed: %s", ty.peer, strings.Join(ty.passed, " "))
	if len(ty.failed) > 0 {
		t.Logf("interop %s failed: %s", ty.peer, strings.Join(ty.failed, " "))
	}
	if len(ty.skipped) > 0 {
		t.Logf("interop %s skipped: %s", ty.peer, strings.Join(ty.skipped, " "))
	}
}
