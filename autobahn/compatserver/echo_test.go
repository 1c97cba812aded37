package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/websocket/autobahn/internal/rawpeer"
)

// startServer runs serve on a loopback port and stops it at the end of the
// test, checking that it returns cleanly.
func startServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("serve did not return within 10s of its context ending")
		}
	})
	return ln.Addr().String()
}

// dial opens a raw client connection to path.
func dial(t *testing.T, addr, path string) *rawpeer.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	c, _, err := rawpeer.Dial(nc, addr, path, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// exchange sends one message and requires it back, same type, same bytes.
func exchange(t *testing.T, c *rawpeer.Conn, op byte, payload []byte) {
	t.Helper()
	if err := c.WriteFrame(op, payload); err != nil {
		t.Fatal(err)
	}
	gotOp, got, err := c.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	if gotOp != op || !bytes.Equal(got, payload) {
		t.Fatalf("echo of opcode %d, %d bytes: got opcode %d, %d bytes", op, len(payload), gotOp, len(got))
	}
}

// closeClean sends a close and requires the same code back and then the
// server's TCP close (RFC 6455 §7.1.1: the server closes first).
func closeClean(t *testing.T, c *rawpeer.Conn) {
	t.Helper()
	if err := c.WriteClose(1000, "done"); err != nil {
		t.Fatal(err)
	}
	op, p, err := c.ReadFrame()
	if err != nil || op != rawpeer.OpClose || rawpeer.CloseCode(p) != 1000 {
		t.Fatalf("after our close: opcode %d payload %x err %v, want close 1000", op, p, err)
	}
	if _, _, err := c.ReadFrame(); err == nil {
		t.Fatal("a frame after the close")
	}
}

func TestEndpointsEcho(t *testing.T) {
	addr := startServer(t)
	for _, path := range []string{"/", "/stream", "/plain"} {
		t.Run(path, func(t *testing.T) {
			c := dial(t, addr, path)
			exchange(t, c, rawpeer.OpText, []byte("Hello, κόσμε"))
			exchange(t, c, rawpeer.OpBinary, []byte{0, 1, 2, 0xff})
			exchange(t, c, rawpeer.OpText, nil)
			closeClean(t, c)
		})
	}
}

// TestSixteenMiB checks that the read limit admits section 9's largest
// message.
func TestSixteenMiB(t *testing.T) {
	addr := startServer(t)
	c := dial(t, addr, "/plain")
	exchange(t, c, rawpeer.OpBinary, bytes.Repeat([]byte{0xa5, 0x5a, 0x00}, 16<<20/3+1))
	closeClean(t, c)
}

// TestInvalidTextFails checks that an endpoint answers a protocol violation
// with its close code: invalid UTF-8 in a text message is 1007.
func TestInvalidTextFails(t *testing.T) {
	addr := startServer(t)
	c := dial(t, addr, "/stream")
	if err := c.WriteFrame(rawpeer.OpText, []byte{0xce, 0xba, 0xed, 0xa0, 0x80}); err != nil {
		t.Fatal(err)
	}
	op, p, err := c.ReadFrame()
	if err != nil || op != rawpeer.OpClose || rawpeer.CloseCode(p) != 1007 {
		t.Fatalf("got opcode %d payload %x err %v, want close 1007", op, p, err)
	}
}

func TestUnknownPath(t *testing.T) {
	addr := startServer(t)
	resp, err := http.Get("http://" + addr + "/nowhere")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d, want 404", resp.StatusCode)
	}
}

// TestShutdownClosesConnections checks that serve ends open connections
// when its context ends, so that the program exits promptly.
func TestShutdownClosesConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serve(ctx, ln) }()
	c := dial(t, ln.Addr().String(), "/")
	exchange(t, c, rawpeer.OpText, []byte("before shutdown"))
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return")
	}
	if _, _, err := c.ReadFrame(); err == nil {
		t.Fatal("connection still open after shutdown")
	}
}

// TestCompressionNegotiated checks which endpoints accept permessage-deflate
// and that a message still echoes on them.
func TestCompressionNegotiated(t *testing.T) {
	addr := startServer(t)
	for path, want := range map[string]bool{"/": true, "/stream": true, "/plain": false} {
		t.Run(path, func(t *testing.T) {
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
			c, resp, err := rawpeer.Dial(nc, addr, path, "permessage-deflate; client_max_window_bits")
			if err != nil {
				t.Fatal(err)
			}
			ext := resp.Header.Get("Sec-WebSocket-Extensions")
			if got := strings.HasPrefix(ext, "permessage-deflate"); got != want {
				t.Fatalf("answer to a permessage-deflate offer: %q, want accepted=%v", ext, want)
			}
			// Below the compression threshold: sent plain both ways, which
			// RFC 7692 §6 allows with the extension on.
			exchange(t, c, rawpeer.OpText, []byte("short"))
			closeClean(t, c)
		})
	}
}
