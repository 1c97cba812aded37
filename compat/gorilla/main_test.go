package websocket

import (
	"testing"

	"github.com/rfc6455/websocket/internal/leakcheck"
)

// TestMain fails the run when goroutines outlive the tests.
func TestMain(m *testing.M) { leakcheck.Main(m) }
