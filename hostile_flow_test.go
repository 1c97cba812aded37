package websocket

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Hostile peers once the connection is open: floods of pings, a peer that
// never reads, a peer that vanishes.

// smallSocketBuffer is the kernel buffer size the tests below ask for on
// both ends of a connection whose writer must block soon.
const smallSocketBuffer = 16 << 10

// shrinkBuffers makes the kernel buffers of conn small.
func shrinkBuffers(conn net.Conn) error {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return fmt.Errorf("transport is %T, not TCP", conn)
	}
	if err := tc.SetReadBuffer(smallSocketBuffer); err != nil {
		return err
	}
	return tc.SetWriteBuffer(smallSocketBuffer)
}

// pingFlood returns n masked ping frames, back to back, each with a
// 125-byte payload that starts with its index, big-endian.
func pingFlood(n int) []byte {
	var out []byte
	payload := make([]byte, maxControlPayload)
	for i := range n {
		binary.BigEndian.PutUint64(payload, uint64(i))
		out = append(out, encodeFrame(true, true, 0, opPing, payload)...)
	}
	return out
}

// nextFrame reads one frame from the Conn, unmasked, into buf, grown as
// needed, so that reading many frames does not allocate.
func (p *rawPeer) nextFrame(buf []byte) (frameHeader, []byte, error) {
	var h frameHeader
	if err := readFrameHeader(p.br, headerRules{fromClient: !p.client}, &h); err != nil {
		return h, buf, err
	}
	if int64(cap(buf)) < h.length {
		buf = make([]byte, h.length)
	}
	buf = buf[:h.length]
	if _, err := io.ReadFull(p.br, buf); err != nil {
		return h, buf, err
	}
	if h.masked {
		maskBytes(h.key, 0, buf)
	}
	return h, buf, nil
}

// TestHostilePingFlood sends pings as fast as the socket takes them. The
// Conn must answer them, allocate nothing per ping, and, while its peer
// does not read, keep reading and hold at most one pong (RFC 6455 §5.5.3
// lets it answer only the latest), not a backlog.
func TestHostilePingFlood(t *testing.T) {
	// The allocation counter is the whole process's, so other tests'
	// leftovers and the runtime add to it; the bound leaves room for that
	// and still fails any allocation per ping: even the smallest one, 8
	// bytes, makes 400 KB for 50,000 pings.
	const (
		pings    = 50000
		maxAlloc = 256 << 10
	)
	flood := pingFlood(pings)
	lastPing := binary.BigEndian.AppendUint64(nil, pings-1)

	t.Run("peer reading", func(t *testing.T) {
		results := make(chan readResult, 1)
		addr := startHostileServer(t, &Upgrader{}, nil, func(c *Conn) {
			readUntilError(c, results)
		})
		peer := dialRaw(t, addr)
		start, alloc0 := time.Now(), totalAlloc()
		sent := make(chan error, 1)
		go func() {
			_, err := peer.conn.Write(flood)
			if err == nil {
				_, err = peer.conn.Write(peer.frame(true, opClose, closePayload(1000, "")))
			}
			sent <- err
		}()
		pongs, next := 0, uint64(0)
		var buf []byte
		for {
			h, b, err := peer.nextFrame(buf)
			if err != nil {
				t.Fatalf("after %d pongs: %v", pongs, err)
			}
			buf = b
			if h.opcode == opClose {
				break
			}
			if h.opcode != opPong || len(b) != maxControlPayload {
				t.Fatalf("got %v frame of %d bytes, want a pong of 125", h.opcode, len(b))
			}
			seq := binary.BigEndian.Uint64(b)
			if seq < next || seq >= pings {
				t.Fatalf("pong %d after pong %d", seq, next-1)
			}
			next = seq + 1
			pongs++
		}
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
		r := waitRead(t, results)
		if CloseStatus(r.err) != StatusNormalClosure {
			t.Fatalf("server read: %v, want the peer's close", r.err)
		}
		t.Logf("%d pings, %d pongs", pings, pongs)
		if next != pings {
			t.Errorf("last pong answered ping %d, want %d", next-1, pings-1)
		}
		// The peer's flood was built before; the server may allocate a
		// little for the close and the pooled buffer, not per ping.
		checkBounds(t, start, r.at, alloc0, maxAlloc)
	})

	t.Run("peer not reading", func(t *testing.T) {
		big := make([]byte, 4<<20)
		endRead := make(chan time.Time, 1)
		addr := startHostileServer(t, &Upgrader{}, nil, func(c *Conn) {
			// A small send buffer makes the big message block soon; it
			// then holds the frame lock until the peer reads it, and
			// pongs meanwhile can only be queued.
			tc := c.UnderlyingConn().(*net.TCPConn)
			if err := tc.SetWriteBuffer(smallSocketBuffer); err != nil {
				t.Error(err)
				return
			}
			bigDone := make(chan error, 1)
			go func() { bigDone <- c.WriteMessage(BinaryMessage, big) }()
			typ, msg, err := c.ReadMessage()
			if err != nil || typ != TextMessage || string(msg) != "end" {
				t.Errorf("server read %v %q %v, want the text end", typ, msg, err)
				c.CloseNow()
				<-bigDone
				return
			}
			endRead <- time.Now()
			// Only to drain the big message quickly: the peer reads now.
			tc.SetWriteBuffer(4 << 20)
			if err := <-bigDone; err != nil {
				t.Errorf("server write: %v", err)
			}
			c.WriteMessage(TextMessage, []byte("bye"))
			c.Close()
		})
		peer := dialRaw(t, addr)
		// Once the big message's header is here, its writer holds the
		// frame lock.
		var h frameHeader
		if err := readFrameHeader(peer.br, headerRules{}, &h); err != nil || h.opcode != opBinary || h.length != int64(len(big)) {
			t.Fatalf("first frame %+v, %v; want the big message", h, err)
		}
		start, alloc0 := time.Now(), totalAlloc()
		peer.write(flood)
		peer.writeFrame(true, opText, []byte("end"))
		var at time.Time
		select {
		case at = <-endRead:
		case <-time.After(testTimeout):
			t.Fatal("the server stopped reading while its pongs could not go out")
		}
		checkBounds(t, start, at, alloc0, maxAlloc)
		// Now read: the big message, then one pong, for the last ping,
		// then the rest.
		if _, err := io.CopyN(io.Discard, peer.br, h.length); err != nil {
			t.Fatal(err)
		}
		var pongs [][]byte
		for range 10 {
			h, b, err := peer.readFrame()
			if err != nil {
				t.Fatal(err)
			}
			if h.opcode == opPong {
				pongs = append(pongs, b)
				continue
			}
			if h.opcode != opText || string(b) != "bye" {
				t.Fatalf("got %v %q, want pongs then the text bye", h.opcode, b)
			}
			break
		}
		if len(pongs) != 1 || !bytes.HasPrefix(pongs[0], lastPing) {
			t.Fatalf("%d pongs queued behind the message (%q...), want one for the last ping", len(pongs), pongs)
		}
		peer.expectClose(StatusNormalClosure)
	})
}

// TestHostilePingFloodNeverReading floods pings at a Conn and never reads
// its pongs. Once the socket is full, answering blocks, and so does reading:
// the flood is held back by TCP, not buffered. Keepalive then ends the
// connection, since no pong, and no byte, arrives in time, unless the
// bound on the stuck pong's write (the close timeout, here as long as the
// pong timeout) does first: either error is right.
func TestHostilePingFloodNeverReading(t *testing.T) {
	const interval, timeout = 100 * time.Millisecond, 200 * time.Millisecond
	results := make(chan readResult, 1)
	u := &Upgrader{PingInterval: interval, PongTimeout: timeout, CloseTimeout: 200 * time.Millisecond}
	addr := startHostileServer(t, u, nil, func(c *Conn) {
		if err := shrinkBuffers(c.UnderlyingConn()); err != nil {
			results <- readResult{err, time.Now()}
			return
		}
		readUntilError(c, results)
	})
	goroutines0 := runtime.NumGoroutine()
	start := time.Now()
	peer := dialRaw(t, addr)
	if err := shrinkBuffers(peer.conn); err != nil {
		t.Fatal(err)
	}
	flood := pingFlood(1000)
	alloc0 := totalAlloc()
	// Endless but for the write deadline: about 130 KB per chunk.
	sent := peer.flood(flood, 1<<20)
	r := waitRead(t, results)
	t.Logf("read failed after %v: %v", time.Since(start).Round(time.Millisecond), r.err)
	if !errors.Is(r.err, ErrKeepAliveTimeout) && !errors.Is(r.err, errPongStalled) {
		t.Errorf("read: %v, want ErrKeepAliveTimeout or errPongStalled", r.err)
	}
	checkBounds(t, start, r.at, alloc0, 256<<10)
	peer.conn.Close()
	n := <-sent
	t.Logf("%d chunks of 1000 pings went out whole before the server gave up", n)
	if !pollUntil(hostileBound, func() bool { return runtime.NumGoroutine() <= goroutines0 }) {
		t.Errorf("%d goroutines, %d before the connection", runtime.NumGoroutine(), goroutines0)
	}
}

// TestHostilePongStall floods pings at a Conn without keepalive and never
// reads its pongs. Once the socket is full, the reading goroutine is the
// one stuck writing a pong; that write is bounded by the close timeout, so
// the read returns errPongStalled soon after, rather than never.
//
// Only the server's send buffer is made small: shrinking a receive buffer
// after the kernel advertised a larger window makes it drop what arrives
// beyond the new size, and the peer's retransmissions then back off for
// seconds, during which the Conn is rightly waiting to read, not stuck
// writing.
func TestHostilePongStall(t *testing.T) {
	const closeTimeout = 300 * time.Millisecond
	results := make(chan readResult, 1)
	u := &Upgrader{CloseTimeout: closeTimeout}
	addr := startHostileServer(t, u, nil, func(c *Conn) {
		tc, ok := c.UnderlyingConn().(*net.TCPConn)
		if !ok {
			results <- readResult{fmt.Errorf("transport is %T, not TCP", c.UnderlyingConn()), time.Now()}
			return
		}
		if err := tc.SetWriteBuffer(smallSocketBuffer); err != nil {
			results <- readResult{err, time.Now()}
			return
		}
		readUntilError(c, results)
	})
	start := time.Now()
	peer := dialRaw(t, addr)
	if err := shrinkBuffers(peer.conn); err != nil {
		t.Fatal(err)
	}
	sent := peer.flood(pingFlood(1000), 1<<20)
	r := waitRead(t, results)
	took := r.at.Sub(start)
	t.Logf("read failed after %v: %v", took.Round(time.Millisecond), r.err)
	if !errors.Is(r.err, errPongStalled) || !errors.Is(r.err, os.ErrDeadlineExceeded) {
		t.Errorf("read: %v, want errPongStalled", r.err)
	}
	// The pong's write began after start and waited closeTimeout.
	if took < closeTimeout || took > hostileBound {
		t.Errorf("read failed after %v, want between %v and %v", took, closeTimeout, hostileBound)
	}
	peer.conn.Close()
	<-sent
}

// TestHostileNeverReads writes to a peer that never reads. A write must
// block, not buffer, and fail at its deadline or when its context ends;
// writers queued behind it give up the same way, and nothing is held for
// them.
func TestHostileNeverReads(t *testing.T) {
	const wait = 300 * time.Millisecond
	big := make([]byte, 8<<20)
	chunk := make([]byte, 64<<10)
	cases := []struct {
		name  string
		write func(c *Conn) error
	}{
		{"WriteMessage and a deadline", func(c *Conn) error {
			c.SetWriteDeadline(time.Now().Add(wait))
			return c.WriteMessage(BinaryMessage, big)
		}},
		{"WriteMessageContext", func(c *Conn) error {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			return c.WriteMessageContext(ctx, BinaryMessage, big)
		}},
		{"NextWriter streaming", func(c *Conn) error {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			w, err := c.NextWriterContext(ctx, BinaryMessage)
			if err != nil {
				return err
			}
			for range 1 << 12 { // 256 MiB: far more than any buffer
				if _, err := w.Write(chunk); err != nil {
					return err
				}
			}
			return w.Close()
		}},
		{"100 writers queued", func(c *Conn) error {
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			errs := make(chan error, 100)
			var wg sync.WaitGroup
			for range 100 {
				wg.Go(func() { errs <- c.WriteMessageContext(ctx, BinaryMessage, chunk) })
			}
			wg.Wait()
			close(errs)
			var first error
			for err := range errs {
				if err == nil {
					continue // went out before the buffers filled
				}
				if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrClosed) {
					return err
				}
				if first == nil || errors.Is(err, context.DeadlineExceeded) {
					first = err
				}
			}
			return first
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			results := make(chan readResult, 1)
			addr := startHostileServer(t, &Upgrader{}, nil, func(c *Conn) {
				if err := shrinkBuffers(c.UnderlyingConn()); err != nil {
					results <- readResult{err, time.Now()}
					return
				}
				err := tc.write(c)
				results <- readResult{err, time.Now()}
				// The failed write left part of a frame on the wire.
				if werr := c.WriteMessage(TextMessage, nil); werr == nil {
					t.Error("a write after the failed one succeeded")
				}
			})
			goroutines0 := runtime.NumGoroutine()
			peer := dialRaw(t, addr)
			if err := shrinkBuffers(peer.conn); err != nil {
				t.Fatal(err)
			}
			start, alloc0 := time.Now(), totalAlloc()
			r := waitRead(t, results)
			if !errors.Is(r.err, os.ErrDeadlineExceeded) && !errors.Is(r.err, context.DeadlineExceeded) {
				t.Fatalf("write: %v, want a deadline error", r.err)
			}
			if took := r.at.Sub(start); took < wait/2 {
				t.Errorf("failed after %v, before its deadline of %v", took, wait)
			}
			checkBounds(t, start, r.at, alloc0, 1<<20)
			peer.conn.Close()
			if !pollUntil(hostileBound, func() bool { return runtime.NumGoroutine() <= goroutines0 }) {
				t.Errorf("%d goroutines, %d before the connection", runtime.NumGoroutine(), goroutines0)
			}
		})
	}
}

// TestHostileVanishedPeer plays a peer that goes away without a close
// frame: silently (as behind a dead link, which keepalive must detect),
// with a FIN, or with a reset. Reads must fail promptly with the right
// error, and no goroutine of the connection may stay behind.
func TestHostileVanishedPeer(t *testing.T) {
	const interval, timeout = 50 * time.Millisecond, 100 * time.Millisecond
	keepalive := &Upgrader{PingInterval: interval, PongTimeout: timeout, CloseTimeout: 200 * time.Millisecond}
	cases := []struct {
		name    string
		up      *Upgrader
		vanish  func(p *rawPeer) // nil: stay connected and silent
		wantErr error
		within  time.Duration // how long detecting it may take, before slack
	}{
		{"silent, keepalive", keepalive, nil, ErrKeepAliveTimeout, interval + timeout},
		{"FIN", &Upgrader{}, func(p *rawPeer) { p.conn.Close() }, io.ErrUnexpectedEOF, 0},
		{"reset", &Upgrader{}, func(p *rawPeer) {
			p.conn.(*net.TCPConn).SetLinger(0)
			p.conn.Close()
		}, nil, 0},
		{"FIN mid-message, keepalive", keepalive, func(p *rawPeer) {
			p.writeFrame(false, opText, []byte("half a mess"))
			p.conn.Close()
		}, io.ErrUnexpectedEOF, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			results := make(chan readResult, 1)
			addr := startHostileServer(t, tc.up, nil, func(c *Conn) { readUntilError(c, results) })
			goroutines0 := runtime.NumGoroutine()
			// Before the dial: keepalive starts with the Conn.
			start := time.Now()
			peer := dialRaw(t, addr)
			if tc.vanish != nil {
				tc.vanish(peer)
			}
			r := waitRead(t, results)
			took := r.at.Sub(start)
			t.Logf("read failed after %v: %v", took.Round(time.Millisecond), r.err)
			if tc.wantErr != nil && !errors.Is(r.err, tc.wantErr) {
				t.Errorf("read: %v, want %v", r.err, tc.wantErr)
			}
			if tc.wantErr == nil && r.err == nil {
				t.Error("read: no error")
			}
			if tc.wantErr == io.ErrUnexpectedEOF && CloseStatus(r.err) != StatusAbnormalClosure {
				t.Errorf("read: %v, want close code 1006", r.err)
			}
			if took < tc.within || took > tc.within+2*time.Second {
				t.Errorf("read failed after %v, want about %v", took, tc.within)
			}
			if tc.vanish == nil {
				// The silent peer finds the close frame when it looks.
				peer.expectClose(StatusInternalError)
			}
			peer.conn.Close()
			if !pollUntil(hostileBound, func() bool { return runtime.NumGoroutine() <= goroutines0 }) {
				t.Errorf("%d goroutines, %d before the connection", runtime.NumGoroutine(), goroutines0)
			}
		})
	}
	t.Run("silent server, client keepalive", func(t *testing.T) {
		goroutines0 := runtime.NumGoroutine()
		peer, dial := rawServer(t)
		start := time.Now()
		c := dial(&Dialer{PingInterval: interval, PongTimeout: timeout, CloseTimeout: 200 * time.Millisecond})
		_, _, err := c.ReadMessage()
		took := time.Since(start)
		if !errors.Is(err, ErrKeepAliveTimeout) {
			t.Fatalf("read: %v, want ErrKeepAliveTimeout", err)
		}
		if took < interval+timeout || took > interval+timeout+2*time.Second {
			t.Errorf("read failed after %v, want about %v", took, interval+timeout)
		}
		peer.expectClose(StatusInternalError)
		peer.conn.Close()
		if !pollUntil(hostileBound, func() bool { return runtime.NumGoroutine() <= goroutines0 }) {
			t.Errorf("%d goroutines, %d before the connection", runtime.NumGoroutine(), goroutines0)
		}
	})
}
