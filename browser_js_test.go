//go:build js

package websocket

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The tests of this file run the Conn over the JavaScript host's WebSocket:
// under Node (with the ws package's WebSocket as a global) and in headless
// Chromium, both driven by internal/interop's TestWasm, which serves the
// endpoints below natively and checks afterwards what its side saw.
//
//	/echo       echoes every message; records the close it receives
//	/close      closes with 4002 "server: bye" after one message
//	/refuse     answers 403 instead of upgrading
//
// The server's base URL (ws://127.0.0.1:port) comes in serverEnv.
const serverEnv = "WEBSOCKET_WASM_SERVER"

// browserTimeout bounds each test's exchange.
const browserTimeout = 20 * time.Second

// wasmServer returns the driving test's base URL, or skips t when the
// binary was not started by it (fails t when peers are required).
func wasmServer(t *testing.T) string {
	t.Helper()
	base := os.Getenv(serverEnv)
	if base == "" {
		if os.Getenv("WEBSOCKET_INTEROP_REQUIRED") == "1" {
			t.Fatalf("%s is not set: run these tests through internal/interop's TestWasm", serverEnv)
		}
		t.Skipf("%s is not set: internal/interop's TestWasm runs these tests against its server", serverEnv)
	}
	return base
}

// dialBrowser dials path on the driving test's server with d (nil: a
// zero Dialer) and closes the connection when t ends.
func dialBrowser(t *testing.T, d *Dialer, path string) (*Conn, *http.Response) {
	t.Helper()
	if d == nil {
		d = &Dialer{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	c, resp, err := d.Dial(ctx, wasmServer(t)+path, nil)
	if err != nil {
		t.Fatalf("Dial %s: %v", path, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c, resp
}

// echo sends one message and checks that the same comes back.
func echo(t *testing.T, c *Conn, typ MessageType, data []byte) {
	t.Helper()
	if err := c.WriteMessage(typ, data); err != nil {
		t.Fatalf("WriteMessage(%v, %d bytes): %v", typ, len(data), err)
	}
	gotType, got, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("ReadMessage after %v of %d bytes: %v", typ, len(data), err)
	}
	if gotType != typ || !bytes.Equal(got, data) {
		t.Fatalf("echo of a %v of %d bytes came back as a %v of %d bytes, equal: %v", typ, len(data), gotType, len(got), bytes.Equal(got, data))
	}
}

// patterned returns n bytes that are not all alike.
func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>10)
	}
	return b
}

// TestBrowserMessages: text, binary, empty, 1 MiB text and binary, a
// message streamed by NextWriter in pieces, and JSON round-trip through
// the server, with the subprotocol negotiated.
func TestBrowserMessages(t *testing.T) {
	c, resp := dialBrowser(t, &Dialer{Subprotocols: []string{"wasm.v1", "other"}}, "/echo")
	if c.Subprotocol() != "wasm.v1" || resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Protocol") != "wasm.v1" {
		t.Errorf("Subprotocol() = %q, response %d %q; want wasm.v1 and 101", c.Subprotocol(), resp.StatusCode, resp.Header.Get("Sec-WebSocket-Protocol"))
	}
	echo(t, c, TextMessage, []byte("hello, wasm ✓"))
	echo(t, c, BinaryMessage, []byte{0, 1, 2, 0xff, 0xfe})
	echo(t, c, BinaryMessage, nil)
	echo(t, c, TextMessage, nil)
	echo(t, c, BinaryMessage, patterned(1<<20))
	echo(t, c, TextMessage, bytes.Repeat([]byte("0123456789abcdé"), (1<<20)/16))

	w, err := c.NextWriter(BinaryMessage)
	if err != nil {
		t.Fatal(err)
	}
	want := patterned(100_000)
	for i := 0; i < len(want); i += 7000 {
		if _, err := w.Write(want[i:min(i+7000, len(want))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	typ, r, err := c.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || typ != BinaryMessage || !bytes.Equal(got, want) {
		t.Fatalf("streamed message came back as %v of %d bytes (%v), want binary of %d", typ, len(got), err, len(want))
	}

	type point struct {
		X, Y int
		Name string
	}
	if err := c.WriteJSON(point{3, 4, "p"}); err != nil {
		t.Fatal(err)
	}
	var p point
	if err := c.ReadJSON(&p); err != nil || p != (point{3, 4, "p"}) {
		t.Fatalf("ReadJSON = %+v, %v", p, err)
	}
	if err := c.CloseWithStatus(StatusNormalClosure, "messages: done"); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestBrowserOneCopy: a received binary message is copied once, from the
// JavaScript buffer straight into the slice AppendMessage fills.
func TestBrowserOneCopy(t *testing.T) {
	c, _ := dialBrowser(t, nil, "/echo")
	b := c.netConn.(*browserConn)
	const n = 1 << 20
	msg := patterned(n)
	if err := c.WriteMessage(BinaryMessage, msg); err != nil {
		t.Fatal(err)
	}
	dst := make([]byte, 0, n)
	before, copies := b.copiedIn, b.copies
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	allocated := ms.TotalAlloc
	typ, got, err := c.AppendMessage(dst)
	runtime.ReadMemStats(&ms)
	if err != nil || typ != BinaryMessage || !bytes.Equal(got, msg) {
		t.Fatalf("AppendMessage: %v, %d bytes, %v", typ, len(got), err)
	}
	if &got[0] != &dst[:1][0] {
		t.Errorf("AppendMessage did not fill the buffer it was given")
	}
	// One copy call for the whole payload, so not through the Conn's read
	// buffer (4 KiB), and no buffer of the message's size in between.
	if copied, calls := b.copiedIn-before, b.copies-copies; copied != n || calls != 1 {
		t.Errorf("%d bytes copied from JavaScript in %d copies for a message of %d, want one copy", copied, calls, n)
	}
	if grew := ms.TotalAlloc - allocated; grew > 64<<10 {
		t.Errorf("receiving %d bytes into a buffer of that size allocated %d bytes", n, grew)
	}
}

// TestBrowserClose: the client's close code and reason reach the server
// (which TestWasm checks), and the server's reach the client.
func TestBrowserClose(t *testing.T) {
	t.Run("client", func(t *testing.T) {
		c, _ := dialBrowser(t, nil, "/echo")
		echo(t, c, TextMessage, []byte("before the close"))
		if err := c.CloseWithStatus(4001, "client: bye"); err != nil {
			t.Fatalf("CloseWithStatus: %v", err)
		}
		// The server's answer carried our code back.
		if _, _, err := c.ReadMessage(); !errors.Is(err, ErrClosed) && !IsCloseError(err, 4001) {
			t.Errorf("ReadMessage after Close = %v, want ErrClosed or the echo of 4001", err)
		}
	})
	t.Run("server", func(t *testing.T) {
		c, _ := dialBrowser(t, nil, "/close")
		echo(t, c, TextMessage, []byte("close, please"))
		_, _, err := c.ReadMessage()
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Code != 4002 || ce.Reason != "server: bye" {
			t.Fatalf("ReadMessage = %v, want the server's close 4002 \"server: bye\"", err)
		}
		if err := c.WriteMessage(TextMessage, []byte("late")); err == nil {
			t.Errorf("WriteMessage after the server's close succeeded")
		}
	})
}

// TestBrowserReadLimit: a message over the read limit fails the read with
// ErrReadLimit (1009 here; 4009 on the wire, which TestWasm checks).
func TestBrowserReadLimit(t *testing.T) {
	c, _ := dialBrowser(t, &Dialer{ReadLimit: 1000}, "/echo")
	echo(t, c, BinaryMessage, make([]byte, 1000))
	if err := c.WriteMessage(BinaryMessage, make([]byte, 1001)); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.ReadMessage()
	if !errors.Is(err, ErrReadLimit) {
		t.Fatalf("ReadMessage of 1001 bytes with a limit of 1000 = %v, want ErrReadLimit", err)
	}
	if code, _ := closeCode(err); code != StatusMessageTooBig {
		t.Errorf("the error carries close code %v, want 1009", code)
	}
	// The connection ends: the close frame went out, the server answered.
	select {
	case <-c.life.closed:
	case <-time.After(browserTimeout):
		t.Fatal("the connection did not end after the read limit")
	}
}

// TestBrowserDeadlines: a read deadline and a context ending interrupt a
// read with their own errors, and the connection stays usable.
func TestBrowserDeadlines(t *testing.T) {
	c, _ := dialBrowser(t, nil, "/echo")
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, _, err := c.ReadMessage(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadMessage past its deadline = %v, want os.ErrDeadlineExceeded", err)
	}
	c.SetReadDeadline(time.Time{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := c.ReadMessageContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadMessageContext past its context's deadline = %v, want context.DeadlineExceeded", err)
	}
	echo(t, c, TextMessage, []byte("still usable"))

	// A write deadline already passed refuses the write without harm.
	c.SetWriteDeadline(time.Now().Add(-time.Second))
	if err := c.WriteMessage(TextMessage, []byte("late")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("WriteMessage past its deadline = %v, want os.ErrDeadlineExceeded", err)
	}
	c.SetWriteDeadline(time.Time{})
	echo(t, c, TextMessage, []byte("usable again"))
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestBrowserNetConn: NetConn's byte stream over the browser's WebSocket.
func TestBrowserNetConn(t *testing.T) {
	c, _ := dialBrowser(t, nil, "/echo")
	nc := NetConn(context.Background(), c, BinaryMessage)
	if _, err := nc.Write([]byte("stream bytes")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len("stream bytes"))
	if _, err := io.ReadFull(nc, got); err != nil || string(got) != "stream bytes" {
		t.Fatalf("read back %q, %v", got, err)
	}
	if !strings.HasPrefix(nc.RemoteAddr().String(), "ws://127.0.0.1:") || nc.RemoteAddr().Network() != "websocket" {
		t.Errorf("RemoteAddr = %s %q", nc.RemoteAddr().Network(), nc.RemoteAddr())
	}
	if err := nc.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestBrowserUnsupported: what a browser's WebSocket cannot do fails at
// once with an error that says so, and leaves the connection usable.
func TestBrowserUnsupported(t *testing.T) {
	c, _ := dialBrowser(t, nil, "/echo")
	if err := c.Ping(context.Background(), nil); !errors.Is(err, errBrowserControl) {
		t.Errorf("Ping = %v, want errBrowserControl", err)
	}
	if err := c.WriteControl(PongMessage, nil, time.Time{}); !errors.Is(err, errBrowserControl) {
		t.Errorf("WriteControl(pong) = %v, want errBrowserControl", err)
	}
	echo(t, c, TextMessage, []byte("after the refusals"))

	base := wasmServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	for name, d := range map[string]*Dialer{
		"Header":       {Header: http.Header{"X-Token": {"1"}}},
		"Compression":  {Compression: CompressionOptions{Mode: CompressionContextTakeover}},
		"PingInterval": {PingInterval: time.Second},
		"Proxy": {Proxy: func(*http.Request) (*url.URL, error) {
			return url.Parse("http://127.0.0.1:1")
		}},
	} {
		if c, _, err := d.Dial(ctx, base+"/echo", nil); err == nil || !strings.Contains(err.Error(), "GOOS=js") {
			if c != nil {
				c.CloseNow()
			}
			t.Errorf("Dial with %s = %v, want an error naming GOOS=js", name, err)
		}
	}
	if _, _, err := (&Dialer{}).Dial(ctx, base+"/refuse", nil); !errors.Is(err, ErrBadHandshake) {
		t.Errorf("Dial of a refusing endpoint = %v, want ErrBadHandshake", err)
	}
}

// TestBrowserConcurrentWriters: writers on many goroutines, as on other
// ports; every message arrives whole, once.
func TestBrowserConcurrentWriters(t *testing.T) {
	c, _ := dialBrowser(t, nil, "/echo")
	const writers, each = 8, 25
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			var err error
			for i := range each {
				msg := bytes.Repeat([]byte{byte('a' + w)}, 1000+i)
				if i%2 == 0 {
					err = c.WriteMessage(BinaryMessage, msg)
				} else {
					var nw io.WriteCloser
					if nw, err = c.NextWriter(BinaryMessage); err == nil {
						nw.Write(msg[:500])
						nw.Write(msg[500:])
						err = nw.Close()
					}
				}
				if err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	seen := make(map[string]bool)
	for range writers * each {
		_, got, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) < 1000 || !bytes.Equal(got, bytes.Repeat(got[:1], len(got))) {
			t.Fatalf("a message of %d bytes came back mixed", len(got))
		}
		key := fmt.Sprintf("%c/%d", got[0], len(got))
		if seen[key] {
			t.Fatalf("message %q came back twice", key)
		}
		seen[key] = true
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Errorf("writer: %v", err)
		}
	}
}

// TestBrowserCloseCodes: the codes a browser's close() refuses go out as
// 4000 plus their last three digits.
func TestBrowserCloseCodes(t *testing.T) {
	for code, want := range map[StatusCode]StatusCode{
		1000: 1000, 1001: 4001, 1002: 4002, 1007: 4007, 1009: 4009, 1011: 4011,
		3000: 3000, 4999: 4999, 2999: 1000,
	} {
		if got := browserCloseCode(code); got != want {
			t.Errorf("browserCloseCode(%d) = %d, want %d", code, got, want)
		}
	}
}
