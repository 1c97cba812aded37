package patterns

import (
	"io"
	"log"
	"os"
	"testing"

	"github.com/rfc6455/websocket/internal/leakcheck"
)

// TestMain silences the patterns' logging (their peers end connections
// abruptly on purpose) and fails the run when goroutines outlive the tests.
func TestMain(m *testing.M) {
	if os.Getenv("PATTERNS_LOG") == "" {
		log.SetOutput(io.Discard)
	}
	leakcheck.Main(m)
}
