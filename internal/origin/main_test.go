package origin

import (
	"testing"

	"github.com/rfc6455/websocket/internal/leakcheck"
)

// TestMain fails the run when a test leaves goroutines behind.
func TestMain(m *testing.M) { leakcheck.Main(m) }
