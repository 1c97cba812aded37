package websocket

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Hostile peers during the opening handshake, and many connections
// dropped at the worst moments.

// TestHostileSlowHandshake plays clients that send their request one byte
// at a time, or stop before its end. Upgrade cannot see them (net/http
// calls the handler only with a whole request), so bounding them is the
// http.Server's ReadHeaderTimeout, as the Upgrader's documentation says:
// the server must drop each connection once that has passed, without ever
// upgrading it.
func TestHostileSlowHandshake(t *testing.T) {
	const headerTimeout = 200 * time.Millisecond
	var upgrades atomic.Int32
	addr := startHostileServer(t, &Upgrader{},
		func(s *http.Server) { s.ReadHeaderTimeout = headerTimeout },
		func(c *Conn) { upgrades.Add(1) })
	request := rawRequest(addr)
	for _, tc := range []struct {
		name   string
		first  string        // sent at once
		rest   string        // then sent one byte per pace
		pace   time.Duration // 0: rest is never sent
		cutOff bool          // the server must drop the connection before rest is all sent
	}{
		{"one byte every 50ms", "", request, 50 * time.Millisecond, true},
		{"request never finished", request[:len(request)-2], "", 0, false},
		{"nothing sent", "", "", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			start := time.Now()
			conn.SetDeadline(start.Add(testTimeout))
			// The server's answer, if any, and the end of the connection.
			type ended struct {
				answer []byte
				err    error
				at     time.Time
			}
			done := make(chan ended, 1)
			go func() {
				b, err := io.ReadAll(conn)
				done <- ended{b, err, time.Now()}
			}()
			if _, err := io.WriteString(conn, tc.first); err != nil {
				t.Fatal(err)
			}
			var e ended
			sent := 0
			if tc.pace > 0 {
				// Pacing, not synchronisation: the server's cut-off is
				// what the test waits for.
				tick := time.NewTicker(tc.pace)
				defer tick.Stop()
			feed:
				for sent < len(tc.rest) {
					select {
					case e = <-done:
						break feed
					case <-tick.C:
						if _, err := conn.Write([]byte{tc.rest[sent]}); err != nil {
							e = <-done
							break feed
						}
						sent++
					}
				}
			}
			if e.at.IsZero() {
				e = <-done
			}
			took := e.at.Sub(start)
			t.Logf("dropped after %v, %d of %d paced bytes sent, answer %q, read error %v", took.Round(time.Millisecond), sent, len(tc.rest), e.answer, e.err)
			if isTimeout(e.err) {
				t.Fatalf("the server kept the connection for %v", testTimeout)
			}
			if took < headerTimeout/2 || took > headerTimeout+2*time.Second {
				t.Errorf("dropped after %v, want about the ReadHeaderTimeout of %v", took, headerTimeout)
			}
			if tc.cutOff && sent == len(tc.rest) {
				t.Error("the whole request was taken")
			}
			// net/http may answer with a 4xx (400 for a request line cut
			// short) before it hangs up; it must not answer 101.
			if len(e.answer) > 0 && !bytesHasPrefix(e.answer, "HTTP/1.1 4") {
				t.Errorf("answered %q", e.answer)
			}
			if n := upgrades.Load(); n != 0 {
				t.Errorf("%d connections upgraded", n)
			}
		})
	}
}

func bytesHasPrefix(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix
}

// openFiles counts the process's open file descriptors, or returns -1 where
// /proc/self/fd does not exist.
func openFiles() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}

// pollUntil calls cond with growing pauses until it returns true or max has
// passed, and returns its last result.
func pollUntil(max time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(max)
	pause := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
	return true
}

// TestHostileConnectionChurn opens thousands of connections and drops each
// at a bad moment: before the request, in the middle of it, right after it,
// in the middle of a frame header, in the middle of a payload, and with a
// reset instead of a FIN. Once they are gone, the server must hold no
// goroutine and no file descriptor for any of them.
func TestHostileConnectionChurn(t *testing.T) {
	const conns = 2000
	const workers = 8
	var active, upgraded atomic.Int32
	addr := startHostileServer(t, &Upgrader{}, func(s *http.Server) { s.ReadHeaderTimeout = testTimeout }, func(c *Conn) {
		upgraded.Add(1)
		active.Add(1)
		defer active.Add(-1)
		var buf []byte
		for range 1 << 10 {
			var err error
			if _, buf, err = c.AppendMessage(buf[:0]); err != nil {
				return
			}
		}
	})
	request := []byte(rawRequest(addr))
	masked := func(fin bool, op opcode, p []byte) []byte { return encodeFrame(true, fin, 0, op, p) }
	drops := []drop{
		{name: "before the request"},
		{name: "mid-request", request: request[:len(request)/2]},
		{name: "before the answer", request: request},
		{name: "mid-header", request: request, frames: masked(true, opText, nil)[:3]},
		{name: "mid-payload", request: request, frames: masked(true, opBinary, make([]byte, 1000))[:500]},
		{name: "mid-message", request: request, frames: masked(false, opText, []byte("par"))},
		{name: "reset mid-payload", request: request, frames: masked(true, opBinary, make([]byte, 1000))[:500], rst: true},
	}

	// Let the server's own goroutines (the accept loop) settle first.
	goroutines0, files0 := runtime.NumGoroutine(), openFiles()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < conns; i += workers {
				d := drops[i%len(drops)]
				if err := dropConnection(addr, d); err != nil {
					errs <- fmt.Errorf("connection %d (%s): %w", i, d.name, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if !pollUntil(hostileBound, func() bool { return active.Load() == 0 }) {
		t.Fatalf("%d upgraded connections still served after their peers left", active.Load())
	}
	if !pollUntil(hostileBound, func() bool { return runtime.NumGoroutine() <= goroutines0 }) {
		t.Errorf("%d goroutines, %d before the connections", runtime.NumGoroutine(), goroutines0)
	}
	if files0 >= 0 && !pollUntil(hostileBound, func() bool { return openFiles() <= files0 }) {
		t.Errorf("%d open files, %d before the connections", openFiles(), files0)
	}
	took := time.Since(start)
	t.Logf("%d connections (%d upgraded) dropped and cleaned up in %v", conns, upgraded.Load(), took.Round(time.Millisecond))
	if upgraded.Load() == 0 {
		t.Error("no connection was upgraded: the drops after the request did not reach the Conn")
	}
	if took > 2*hostileBound {
		t.Errorf("took %v", took)
	}
}

// drop is a way to leave a server: what to send before going, and how to go.
type drop struct {
	name    string
	request []byte // sent first
	frames  []byte // sent once the 101 answer has been read; nil: leave without reading it
	rst     bool   // close with a reset instead of a FIN
}

// dropConnection connects to addr and leaves as d says.
func dropConnection(addr string, d drop) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(testTimeout))
	if _, err := conn.Write(d.request); err != nil {
		return err
	}
	if d.frames != nil {
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return fmt.Errorf("reading the answer: %w", err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			return errors.New("answered " + resp.Status)
		}
		if _, err := conn.Write(d.frames); err != nil {
			return err
		}
	}
	if d.rst {
		conn.(*net.TCPConn).SetLinger(0)
	}
	return nil
}

// TestHostileDialChurn is the client's side of the churn: a server that
// drops a thousand handshakes at bad moments, before answering, in the
// middle of its answer, right after it, in the middle of a frame. Each
// Dial must fail, or each read of the Conn it returns, and nothing may stay
// behind.
func TestHostileDialChurn(t *testing.T) {
	const conns = 1000
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	goroutines0, files0 := runtime.NumGoroutine(), openFiles()
	start := time.Now()
	// The server answers by the index of the connection: the cut below is
	// applied to the 101 answer followed by half a frame.
	served := make(chan struct{})
	go func() {
		defer close(served)
		for i := 0; ; i++ {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.SetDeadline(time.Now().Add(testTimeout))
			br := bufio.NewReader(conn)
			if req, err := http.ReadRequest(br); err == nil {
				answer := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
					acceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"
				full := append([]byte(answer), encodeFrame(false, true, 0, opBinary, make([]byte, 100))[:50]...)
				cuts := []int{0, len(answer) / 2, len(answer), len(answer) + 1, len(full)}
				conn.Write(full[:cuts[i%len(cuts)]])
				if i%2 == 1 {
					conn.(*net.TCPConn).SetLinger(0)
				}
			}
			conn.Close()
		}
	}()
	d := &Dialer{HandshakeTimeout: testTimeout}
	url := "ws://" + ln.Addr().String() + "/"
	dialed := 0
	for range conns {
		c, _, err := d.Dial(t.Context(), url, nil)
		if err != nil {
			continue
		}
		dialed++
		if _, _, err := c.ReadMessage(); err == nil {
			t.Fatal("read a message the server never finished")
		}
		c.CloseNow()
	}
	ln.Close()
	<-served
	if !pollUntil(hostileBound, func() bool { return runtime.NumGoroutine() <= goroutines0 }) {
		t.Errorf("%d goroutines, %d before the connections", runtime.NumGoroutine(), goroutines0)
	}
	if files0 >= 0 && !pollUntil(hostileBound, func() bool { return openFiles() <= files0 }) {
		t.Errorf("%d open files, %d before the connections", openFiles(), files0)
	}
	took := time.Since(start)
	t.Logf("%d dials (%d handshakes completed) dropped and cleaned up in %v", conns, dialed, took.Round(time.Millisecond))
	if dialed == 0 || dialed == conns {
		t.Errorf("%d of %d handshakes completed: the cuts do not fall where they should", dialed, conns)
	}
	if took > 2*hostileBound {
		t.Errorf("took %v", took)
	}
}
