package main

import (
	"testing"

	"github.com/rfc6455/websocket/autobahn/internal/fuzzclient"
)

// TestAgainstFakeFuzzer runs the fuzzing clients' shared checks
// (autobahn/internal/fuzzclient) on this program's Peer.
func TestAgainstFakeFuzzer(t *testing.T) { fuzzclient.Check(t, newPeer) }
