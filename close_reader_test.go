package websocket

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"testing"
)

// TestCloseLeavesMessagesToReader: Close called from one goroutine while
// another reads must not take messages from that reader, even in the gap
// between two of its reads. The peer streams numbered messages until our
// close reaches it; every message it sent before its close answer must be
// read, in order, then the *CloseError.
func TestCloseLeavesMessagesToReader(t *testing.T) {
	for _, api := range []string{"ReadMessage", "NextReader"} {
		t.Run(api, func(t *testing.T) {
			for range 5 {
				closeWhileReading(t, api == "NextReader")
			}
		})
	}
}

func closeWhileReading(t *testing.T, stream bool) {
	client, server := connPair(t, nil)

	// The peer: a writer streaming messages until its writes fail (its
	// close answer went out), and a reader that answers our close.
	var sent int
	var wg sync.WaitGroup
	wg.Go(func() {
		var b [8]byte
		for i := range 1 << 20 {
			binary.BigEndian.PutUint64(b[:], uint64(i))
			if server.WriteMessage(BinaryMessage, b[:]) != nil {
				return
			}
			sent = i + 1
		}
	})
	wg.Go(func() {
		for range 1 << 20 {
			if _, _, err := server.ReadMessage(); err != nil {
				return
			}
		}
	})

	// Our reader, and Close from another goroutine once messages flow.
	got := 0
	var readErr error
	flowing := make(chan struct{})
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for i := range 1 << 20 {
			var p []byte
			var err error
			if stream {
				var r io.Reader
				if _, r, err = client.NextReader(); err == nil {
					p, err = io.ReadAll(r)
				}
			} else {
				_, p, err = client.ReadMessage()
			}
			if err != nil {
				readErr = err
				return
			}
			if len(p) != 8 || binary.BigEndian.Uint64(p) != uint64(i) {
				readErr = errors.New("message out of sequence")
				got = i
				return
			}
			got = i + 1
			if i == 100 {
				close(flowing)
			}
		}
	}()
	select {
	case <-flowing:
	case <-readDone:
		t.Fatalf("reader ended early after %d messages: %v", got, readErr)
	}
	closeErr := client.Close()
	<-readDone
	wg.Wait()
	if closeErr != nil {
		t.Fatalf("Close: %v", closeErr)
	}
	if CloseStatus(readErr) != StatusNormalClosure {
		t.Fatalf("reader ended with %v after %d messages, want the peer's close 1000", readErr, got)
	}
	if got != sent {
		t.Fatalf("reader got %d messages, the peer sent %d before its close", got, sent)
	}
}
