// Package echotest holds the tests of the Autobahn echo servers
// (autobahn/server, written against the native API, and
// autobahn/compatserver, against compat/gorilla): both serve the same
// endpoints, so one set of checks, run by each program's test through
// Run, judges both.
package echotest

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

// Serve is an echo server program's entry point: it serves the suite's
// endpoints on ln until ctx ends, then closes the connections and returns.
type Serve func(ctx context.Context, ln net.Listener) error

// Run runs every check against serve, each as a subtest.
func Run(t *testing.T, serve Serve) {
	t.Run("EndpointsEcho", func(t *testing.T) { testEndpointsEcho(t, serve) })
	t.Run("SixteenMiB", func(t *testing.T) { testSixteenMiB(t, serve) })
	t.Run("InvalidTextFails", func(t *testing.T) { testInvalidTextFails(t, serve) })
	t.Run("UnknownPath", func(t *testing.T) { testUnknownPath(t, serve) })
	t.Run("ShutdownClosesConnections", func(t *testing.T) { testShutdownClosesConnections(t, serve) })
	t.Run("CompressionNegotiated", func(t *testing.T) { testCompressionNegotiated(t, serve) })
}

// startServer runs serve on a loopback port and stops it at the end of the
// test, checking that it returns cleanly.
func startServer(t *testing.T, serve Serve) string {
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

func testEndpointsEcho(t *testing.T, serve Serve) {
	addr := startServer(t, serve)
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

// testSixteenMiB checks that the read limit admits section 9's largest
// message.
func testSixteenMiB(t *testing.T, serve Serve) {
	addr := startServer(t, serve)
	c := dial(t, addr, "/plain")
	exchange(t, c, rawpeer.OpBinary, bytes.Repeat([]byte{0xa5, 0x5a, 0x00}, 16<<20/3+1))
	closeClean(t, c)
}

// testInvalidTextFails checks that an endpoint answers a protocol violation
// with its close code: invalid UTF-8 in a text message is 1007.
func testInvalidTextFails(t *testing.T, serve Serve) {
	addr := startServer(t, serve)
	c := dial(t, addr, "/stream")
	if err := c.WriteFrame(rawpeer.OpText, []byte{0xce, 0xba, 0xed, 0xa0, 0x80}); err != nil {
		t.Fatal(err)
	}
	op, p, err := c.ReadFrame()
	if err != nil || op != rawpeer.OpClose || rawpeer.CloseCode(p) != 1007 {
		t.Fatalf("got opcode %d payload %x err %v, want close 1007", op, p, err)
	}
}

func testUnknownPath(t *testing.T, serve Serve) {
	addr := startServer(t, serve)
	resp, err := http.Get("http://" + addr + "/nowhere")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %d, want 404", resp.StatusCode)
	}
}

// testShutdownClosesConnections checks that serve ends open connections
// when its context ends, so that the program exits promptly.
func testShutdownClosesConnections(t *testing.T, serve Serve) {
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

// testCompressionNegotiated checks which endpoints accept permessage-deflate
// and that a message still echoes on them.
func testCompressionNegotiated(t *testing.T, serve Serve) {
	addr := startServer(t, serve)
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
