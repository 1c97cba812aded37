package leakcheck

import "testing"

// TestMain fails the run when a test leaves goroutines behind, with the
// package's own check.
func TestMain(m *testing.M) { Main(m) }
