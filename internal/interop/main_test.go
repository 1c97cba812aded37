package interop

import (
	"testing"

	"github.com/rfc6455/websocket/internal/leakcheck"
)

// TestMain fails the run when a test leaves goroutines behind: reading
// goroutines, HTTP handlers, or the waits on peer processes.
func TestMain(m *testing.M) { leakcheck.Main(m) }
