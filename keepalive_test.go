package websocket

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestKeepAliveDetectsSilentPeer(t *testing.T) {
	const interval, timeout = 20 * time.Millisecond, 50 * time.Millisecond
	c, peer := serverWithRawClient(t, func(cfg *connConfig) {
		cfg.pingInterval = interval
		cfg.pongTimeout = timeout
		cfg.closeTimeout = time.Second
	})
	start := time.Now()
	_, _, err := c.ReadMessage()
	elapsed := time.Since(start)
	if !errors.Is(err, ErrKeepAliveTimeout) {
		t.Fatalf("read: %v, want ErrKeepAliveTimeout", err)
	}
	if elapsed < interval+timeout {
		t.Fatalf("failed after %v, before interval+timeout", elapsed)
	}
	// Generous: scheduling under -race on a shared machine.
	if elapsed > interval+timeout+2*time.Second {
		t.Fatalf("took %v to notice", elapsed)
	}
	h, _, err := peer.readFrame()
	if err != nil || h.opcode != opPing {
		t.Fatalf("first frame: %v %v, want a ping", h.opcode, err)
	}
	peer.expectClose(StatusInternalError)
	if err := c.WriteMessage(TextMessage, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("write: %v", err)
	}
}

func TestKeepAliveHealthyPeer(t *testing.T) {
	client, server := connPair(t, func(cfg *connConfig) {
		cfg.pingInterval = 5 * time.Millisecond
		cfg.pongTimeout = 2 * time.Second
	})
	var pongs atomic.Int32
	enough := make(chan struct{})
	server.SetPongHandler(func(string) error {
		if pongs.Add(1) == 5 {
			close(enough)
		}
		return nil
	})
	clientDone := make(chan error, 1)
	go func() {
		_, _, err := client.ReadMessage()
		clientDone <- err
	}()
	serverDone := make(chan error, 1)
	go func() {
		_, _, err := server.ReadMessage()
		serverDone <- err
	}()
	select {
	case <-enough:
	case err := <-serverDone:
		t.Fatalf("server read ended: %v", err)
	case <-time.After(testTimeout):
		t.Fatal("no pongs")
	}
	if err := client.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-serverDone; CloseStatus(err) != StatusNormalClosure {
		t.Fatalf("server: %v", err)
	}
	if err := <-clientDone; CloseStatus(err) != StatusNormalClosure {
		t.Fatalf("client: %v", err)
	}
}

func TestPing(t *testing.T) {
	client, server := connPair(t, nil)
	go server.ReadMessage()
	go client.ReadMessage()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	for i := range 3 {
		if err := client.Ping(ctx, []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
		if err := server.Ping(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	client.Close()
}

func TestPingWithoutReaderTimesOut(t *testing.T) {
	c, peer := clientWithRawServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	// The pong is on the wire but nobody reads it.
	go func() {
		if h, b, err := peer.readFrame(); err == nil && h.opcode == opPing {
			peer.writeFrame(true, opPong, b)
		}
	}()
	if err := c.Ping(ctx, []byte("x")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ping: %v, want DeadlineExceeded", err)
	}
	if len(c.pings.waiting) != 0 {
		t.Fatal("the waiter was not removed")
	}
}

func TestUnsolicitedPongIgnored(t *testing.T) {
	c, peer := serverWithRawClient(t, nil)
	peer.writeFrame(true, opPong, []byte("nobody asked"))
	peer.writeFrame(true, opText, []byte("after"))
	if _, b, err := c.ReadMessage(); err != nil || string(b) != "after" {
		t.Fatalf("got %q, %v", b, err)
	}
}
