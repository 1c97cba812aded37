package main

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/rfc6455/websocket/internal/leakcheck"
)

// instanceArgsEnv, when set, makes the test binary a chat instance: the
// tests start each instance as a process of its own, this binary run
// again, so that one can be killed as a crashed server would be.
const instanceArgsEnv = "CHAT_REDIS_TEST_INSTANCE_ARGS"

// TestMain runs a chat instance when asked to, and otherwise the tests,
// failing the run when they leave goroutines behind.
func TestMain(m *testing.M) {
	if args := os.Getenv(instanceArgsEnv); args != "" {
		var list []string
		if err := json.Unmarshal([]byte(args), &list); err != nil {
			panic(err)
		}
		os.Args = append([]string{"chat"}, list...)
		main()
		os.Exit(0)
	}
	leakcheck.Main(m)
}
