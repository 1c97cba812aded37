package websocket

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

// stackChildEnv makes TestHandlerLoopStack's child run the server.
const stackChildEnv = "WEBSOCKET_STACK_CHILD"

// TestHandlerLoopStack checks that a handler which upgrades and then reads
// and echoes messages in a loop, as gorilla's echo example does, does not
// grow net/http's goroutine past 4 KiB: once grown, the runtime cannot
// shrink it again while the read waits below net/http's deep frames, so
// an idle connection would keep 8 KiB of stack for its life. A child
// process runs it with debug.SetMaxStack(4096), which turns the first
// growth past 4 KiB into a crash that shows the stack that grew.
func TestHandlerLoopStack(t *testing.T) {
	if os.Getenv(stackChildEnv) != "" {
		handlerLoopStackChild(t)
		return
	}
	if raceEnabled {
		t.Skip("the race detector's instrumentation grows every frame")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHandlerLoopStack$", "-test.count=1")
	cmd.Env = append(os.Environ(), stackChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("stack child: 2 connections, 8 messages echoed")) {
		t.Fatalf("child: %v\n%s", err, trimOutput(out, 6000))
	}
}

// trimOutput keeps the first n bytes of a crash, where the stack that grew
// is.
func trimOutput(out []byte, n int) []byte {
	if len(out) > n {
		return append(out[:n:n], "\n[…]"...)
	}
	return out
}

func handlerLoopStackChild(t *testing.T) {
	growStack() // this goroutine dials and writes; keep it out of the limit
	// No collection: an allocation that has to sweep first, or a pool
	// emptied by a collection, takes the runtime's slow path, some 900
	// bytes deeper, at random; the test measures this library's frames.
	// (With collections, a 1 MiB message's chunks going back to their pool
	// from appendRaw -> settle -> releaseChunks still reach past 4 KiB in
	// about one run of three.)
	debug.SetGCPercent(-1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	echoed := make(chan int, 2)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		n := 0
		for {
			typ, p, err := c.ReadMessage()
			if err != nil {
				break
			}
			if err := c.WriteMessage(typ, p); err != nil {
				break
			}
			n++
		}
		echoed <- n
	})}
	go srv.Serve(ln)
	defer srv.Close()
	// Each length encoding, and a message collected in pooled chunks.
	sizes := []int{5, 1000, 70000, 1 << 20}
	// The first connection runs before the limit: net/http's first request
	// initialises tables on a deeper stack, once per process.
	for i := range 2 {
		if i == 1 {
			debug.SetMaxStack(4096)
		}
		if err := echoRaw(ln.Addr().String(), sizes); err != nil {
			t.Fatal(err)
		}
		select {
		case n := <-echoed:
			if n != len(sizes) {
				t.Fatalf("connection %d: %d messages echoed, want %d", i, n, len(sizes))
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the handler did not end")
		}
	}
	debug.SetMaxStack(1 << 30)
	fmt.Printf("stack child: 2 connections, %d messages echoed\n", 2*len(sizes))
}

// growStack grows the calling goroutine's stack beyond what the child's
// client side needs.
//
//go:noinline
func growStack() byte {
	var b [64 << 10]byte
	for i := range b {
		b[i] = byte(i)
	}
	return b[len(b)/3]
}

// echoRaw opens a WebSocket to addr with a hand-written handshake, sends
// a masked binary message of each size, reads each echo, and closes.
func echoRaw(addr string, sizes []int) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Errorf("handshake answered %s", resp.Status)
	}
	for _, size := range sizes {
		msg := appendClientFrame(nil, 0x82, make([]byte, size))
		if _, err := conn.Write(msg); err != nil {
			return err
		}
		// The echo: a server frame, unmasked, whose length we know.
		hdr := 2
		switch {
		case size >= 1<<16:
			hdr = 10
		case size >= 126:
			hdr = 4
		}
		if _, err := io.CopyN(io.Discard, br, int64(hdr+size)); err != nil {
			return fmt.Errorf("echo of %d bytes: %w", size, err)
		}
	}
	return nil
}

// appendClientFrame appends a final frame of opcode byte b0 with payload
// p, masked with a zero key, so p goes out as it is.
func appendClientFrame(b []byte, b0 byte, p []byte) []byte {
	n := len(p)
	switch {
	case n < 126:
		b = append(b, b0, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, b0, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, b0, 0x80|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	b = append(b, 0, 0, 0, 0)
	return append(b, p...)
}

// TestIdleReaderStack checks that a goroutine blocked in ReadMessage, in
// the read loop an application writes, stays within the runtime's first
// 2 KiB of stack: a larger frame on the path where an idle reader waits
// (advance, readHeader, fill) doubles every idle client's stack.
func TestIdleReaderStack(t *testing.T) {
	if os.Getenv(stackChildEnv) != "" {
		idleReaderStackChild(t)
		return
	}
	if raceEnabled {
		t.Skip("the race detector's instrumentation grows every frame")
	}
	// In a child process, whose goroutines start with the runtime's first
	// 2 KiB: in this one, the runtime may start them larger, having seen
	// other tests' goroutines grow (GODEBUG adaptivestackstart).
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleReaderStack$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), stackChildEnv+"=1", "GODEBUG=adaptivestackstart=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, trimOutput(out, 6000))
	}
	t.Logf("child: %s", bytes.TrimSpace(out))
}

func idleReaderStackChild(t *testing.T) {
	// No collection, as in handlerLoopStackChild: an allocation that has to
	// assist or sweep takes the runtime's slow path, whose frames would grow
	// some readers at random (a purego run in CI saw 2,294 B per reader).
	debug.SetGCPercent(-1)
	const n = 200
	srv := httptest.NewServer(http.HandlerFunc(upgradeAndRead))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	conns := make([]*Conn, n)
	for i := range conns {
		c, _, err := (&Dialer{}).Dial(context.Background(), url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		conns[i] = c
	}
	// The servers' goroutines must have reached their read, and their
	// stacks their size, before the measure starts.
	waitParked(t, "upgradeAndRead", n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var started, done sync.WaitGroup
	for _, c := range conns {
		started.Add(1)
		done.Go(func() {
			started.Done()
			readLoop(c)
		})
	}
	started.Wait()
	waitParked(t, "readLoop", n)
	runtime.ReadMemStats(&after)
	per := float64(after.StackInuse-before.StackInuse) / n
	t.Logf("%.0f bytes of stack per blocked reader", per)
	// A frame too large on the path makes every reader 4 KiB (4,751 B
	// were measured so); a few grown by the runtime's own slow paths stay
	// well under 3 KiB on average.
	if per > 3072 {
		t.Errorf("%.0f bytes of stack per blocked reader, want about 2 KiB", per)
	}
	for _, c := range conns {
		c.CloseNow()
	}
	done.Wait()
}

// readLoop is an application's read loop.
func readLoop(c *Conn) {
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			return
		}
	}
}

// upgradeAndRead serves one connection and reads from it.
func upgradeAndRead(w http.ResponseWriter, r *http.Request) {
	c, err := (&Upgrader{}).Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c.ReadMessage()
}

// waitParked waits until n goroutines with fn in their stacks wait for
// their sockets: their stacks have reached their size.
func waitParked(t *testing.T, fn string, n int) {
	t.Helper()
	buf := make([]byte, 8<<20)
	for range 10000 {
		parked := 0
		for g := range bytes.SplitSeq(buf[:runtime.Stack(buf, true)], []byte("\n\n")) {
			if bytes.Contains(g, []byte(fn)) && bytes.Contains(g, []byte("[IO wait")) {
				parked++
			}
		}
		if parked >= n {
			return
		}
		runtime.Gosched()
	}
	t.Fatalf("fewer than %d goroutines in %s wait for their sockets", n, fn)
}
