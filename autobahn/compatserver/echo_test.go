package main

import (
	"testing"

	"github.com/rfc6455/websocket/autobahn/internal/echotest"
)

// TestServe runs the echo servers' shared checks (autobahn/internal/echotest)
// against this program's serve, written against compat/gorilla.
func TestServe(t *testing.T) { echotest.Run(t, serve) }
