package websocket

import (
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/wstest"
)

// smallSocketBuffers shrinks the kernel buffers of a loopback pair, so that
// a writer blocks after tens of kilobytes instead of megabytes.
func smallSocketBuffers(t *testing.T, w, r net.Conn) {
	t.Helper()
	if err := w.(*net.TCPConn).SetWriteBuffer(16 << 10); err != nil {
		t.Fatal(err)
	}
	if err := r.(*net.TCPConn).SetReadBuffer(16 << 10); err != nil {
		t.Fatal(err)
	}
}

// TestWriteStallNeverReadingPeer: a write to a peer that reads nothing
// fails with ErrWriteStalled once a stall timeout passed without a byte
// accepted (not before, and within 5/4 of it plus scheduling), closes the
// transport, and wakes the writer waiting behind it and the reader.
// "tcp" can resume a cut write; "wrapped" is a transport that cannot.
func TestWriteStallNeverReadingPeer(t *testing.T) {
	const stall = 200 * time.Millisecond
	for _, kind := range []string{"tcp", "wrapped"} {
		t.Run(kind, func(t *testing.T) {
			wn, peer := wstest.TCPPair(t)
			smallSocketBuffers(t, wn, peer)
			var tr net.Conn = wn
			if kind == "wrapped" {
				tr = &writeCountingConn{Conn: wn}
			}
			c := newConn(connConfig{netConn: tr, client: true, stallTimeout: stall})
			t.Cleanup(func() { c.CloseNow() })
			if got := c.writer.stallResumable; got != (kind == "tcp") {
				t.Fatalf("stallResumable = %v", got)
			}
			readErr := make(chan error, 1)
			go func() {
				_, _, err := c.ReadMessage()
				readErr <- err
			}()
			first := make(chan error, 1)
			start := time.Now()
			go func() { first <- c.WriteMessage(BinaryMessage, make([]byte, 4<<20)) }()
			// A second writer queues behind the first for the message lock,
			// once the first holds it.
			for i := 0; c.msgLock.TryLock(); i++ {
				c.msgLock.Unlock()
				if i == 1e6 {
					t.Fatal("the first writer never took the message lock")
				}
				runtime.Gosched()
			}
			second := make(chan error, 1)
			go func() { second <- c.WriteMessage(TextMessage, []byte("behind")) }()

			var err error
			select {
			case err = <-first:
			case <-time.After(testTimeout):
				t.Fatal("the stalled write never ended")
			}
			took := time.Since(start)
			if !errors.Is(err, ErrWriteStalled) {
				t.Fatalf("write: %v, want ErrWriteStalled", err)
			}
			t.Logf("stalled write ended after %v (stall timeout %v)", took, stall)
			if took < stall {
				t.Fatalf("ended after %v, before the stall timeout %v", took, stall)
			}
			if took > stall*5/4+time.Second {
				t.Fatalf("ended after %v, far past the stall timeout %v", took, stall)
			}
			if !c.life.over() {
				t.Fatal("transport still open")
			}
			select {
			case err := <-second:
				if err == nil {
					t.Fatal("the waiting writer succeeded")
				}
			case <-time.After(testTimeout):
				t.Fatal("the waiting writer was not woken")
			}
			select {
			case err := <-readErr:
				if !errors.Is(err, ErrWriteStalled) {
					t.Fatalf("read: %v, want ErrWriteStalled", err)
				}
			case <-time.After(testTimeout):
				t.Fatal("the reader was not woken")
			}
		})
	}
}

// TestWriteStallSlowReaderNotCut: a peer that reads slowly but steadily
// (8 KiB every 10 ms, about 800 KB/s) takes a 1 MiB message over several
// stall timeouts, and the write completes intact: only a stall timeout
// without progress ends it. The timeout is kept above the time the peer
// takes to drain what the kernel buffers on loopback (about 100 KB), in
// which no byte of ours can be accepted.
func TestWriteStallSlowReaderNotCut(t *testing.T) {
	const stall = 250 * time.Millisecond
	wn, peer := wstest.TCPPair(t)
	smallSocketBuffers(t, wn, peer)
	c := newConn(connConfig{netConn: wn, stallTimeout: stall})
	t.Cleanup(func() { c.CloseNow() })
	msg := pattern(5, 1<<20)

	got := make(chan []byte, 1)
	go func() {
		var buf bytes.Buffer
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		p := make([]byte, 8<<10)
		want := maxFrameHeaderSize - 4 + len(msg) // an unmasked 64-bit length header
		for range 100_000 {
			if buf.Len() >= want {
				break
			}
			<-tick.C
			peer.SetReadDeadline(time.Now().Add(testTimeout))
			n, err := peer.Read(p)
			buf.Write(p[:n])
			if err != nil {
				break
			}
		}
		got <- buf.Bytes()
	}()
	start := time.Now()
	if err := c.WriteMessage(BinaryMessage, msg); err != nil {
		t.Fatalf("write to a slow reader: %v", err)
	}
	took := time.Since(start)
	b := <-got
	t.Logf("1 MiB to a slow reader took %v (stall timeout %v)", took, stall)
	if took < 3*stall {
		t.Fatalf("the write took %v: too fast to show that a slow peer is not cut", took)
	}
	if len(b) < 10 || !bytes.Equal(b[10:], msg) {
		t.Fatalf("the peer got %d bytes, not the frame", len(b))
	}
}

// TestWriteStallDefaults: a connection gets DefaultWriteStallTimeout
// unless the Upgrader or Dialer says otherwise; a negative value turns
// the guard off, and then no deadline is put on the transport.
func TestWriteStallDefaults(t *testing.T) {
	cn, _ := wstest.TCPPair(t)
	for _, tc := range []struct {
		set, want time.Duration
	}{{0, DefaultWriteStallTimeout}, {time.Second, time.Second}, {-1, 0}} {
		u := &Upgrader{WriteStallTimeout: tc.set}
		d := &Dialer{WriteStallTimeout: tc.set}
		for _, cfg := range []connConfig{u.connConfig(cn, nil, negotiated{}), d.connConfig(cn, nil, "")} {
			c := newConn(cfg)
			if c.writer.stallTimeout != tc.want {
				t.Errorf("WriteStallTimeout %v: guard %v, want %v", tc.set, c.writer.stallTimeout, tc.want)
			}
			if tc.want == 0 {
				if err := c.WriteMessage(TextMessage, []byte("x")); err != nil {
					t.Fatal(err)
				}
				if !c.writer.stallRefresh.IsZero() {
					t.Error("guard off, yet armed")
				}
			}
		}
	}
}

// TestFrameWriterBytes checks the frame writer on its own, over a
// transport that records: a server's frames byte for byte, whether the
// frame fits the small buffer or goes through a borrowed one, the two
// payload parts joined; a client's masked with a key that unmasks to the
// payload, a fresh one per frame (RFC 6455 §5.3).
func TestFrameWriterBytes(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789"), 30) // past the small buffer
	for _, tc := range []struct {
		name string
		h    frameHeader
		a, b []byte
		want string // a server's bytes
	}{
		{"small", frameHeader{fin: true, opcode: opText}, []byte("Hel"), []byte("lo"), "\x81\x05Hello"},
		{"empty", frameHeader{fin: true, opcode: opPong}, nil, nil, "\x8a\x00"},
		{"rsv1 fragment", frameHeader{rsv: rsv1Bit, opcode: opBinary}, []byte{1, 2}, nil, "\x42\x02\x01\x02"},
		{"copied", frameHeader{fin: true, opcode: opBinary}, big[:100], big[100:], "\x82\x7e\x01\x2c" + string(big)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload := append(append([]byte(nil), tc.a...), tc.b...)
			var keys []uint32
			for _, client := range []bool{false, true} {
				rec := &recordingConn{}
				var w frameWriter
				w.init(rec, client, 0, -1)
				for range 2 {
					h := tc.h
					n, err := w.writeFrame(&h, tc.a, tc.b)
					if err != nil || int(n) != rec.out.Len() {
						t.Fatalf("client=%v: wrote %d (%d recorded), %v", client, n, rec.out.Len(), err)
					}
					got := rec.out.Bytes()
					rec.out.Reset()
					if !client {
						if string(got) != tc.want {
							t.Fatalf("server wrote %q, want %q", got, tc.want)
						}
						continue
					}
					var parsed frameHeader
					k, err := parseFrameHeader(got, headerRules{fromClient: true, allowedRSV: rsv1Bit}, &parsed)
					if err != nil || !parsed.masked || parsed.length != int64(len(payload)) || k+len(payload) != len(got) {
						t.Fatalf("client frame %q: %+v, %d, %v", got, parsed, k, err)
					}
					body := append([]byte(nil), got[k:]...)
					maskBytes(parsed.key, 0, body)
					if !bytes.Equal(body, payload) {
						t.Fatalf("client payload unmasks to %q, want %q", body, payload)
					}
					keys = append(keys, parsed.key)
				}
			}
			if keys[0] == keys[1] {
				t.Errorf("two client frames with the same key %#x", keys[0])
			}
		})
	}
}

// deadlineRecordingConn records the write deadlines put on it.
type deadlineRecordingConn struct {
	net.Conn
	mu        sync.Mutex
	deadlines []time.Time
}

func (c *deadlineRecordingConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadlines = append(c.deadlines, t)
	c.mu.Unlock()
	return c.Conn.SetWriteDeadline(t)
}

func (c *deadlineRecordingConn) recorded() []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.deadlines)
}

// TestWriteStallDeadlineRefresh: on a transport that cannot resume a cut
// write, the guard's deadline is moved by the first write, not by the
// writes after it while it is fresh (they read no clock), and again by
// the first write once 1/8 of a stall timeout has passed; each time to at
// least a stall timeout past that write's start.
func TestWriteStallDeadlineRefresh(t *testing.T) {
	const stall = 1600 * time.Millisecond // fresh for 200 ms
	cn, peer := wstest.TCPPair(t)
	go io.Copy(io.Discard, peer)
	rec := &deadlineRecordingConn{Conn: cn}
	c := newConn(connConfig{netConn: rec, stallTimeout: stall})
	t.Cleanup(func() { c.CloseNow() })
	if c.writer.stallResumable {
		t.Fatal("a wrapped transport counted as resumable")
	}
	write := func() time.Time {
		t.Helper()
		start := time.Now()
		if err := c.WriteMessage(BinaryMessage, []byte("tick")); err != nil {
			t.Fatal(err)
		}
		return start
	}
	first := write()
	for range 100 {
		write()
	}
	d := rec.recorded()
	if len(d) != 1 {
		t.Fatalf("101 writes within 1/8 of a stall timeout set %d deadlines, want 1", len(d))
	}
	if d[0].Before(first.Add(stall)) {
		t.Fatalf("deadline %v after the write's start, want at least %v", d[0].Sub(first), stall)
	}
	// Wait, bounded, for the timer to mark the deadline stale.
	deadline := time.Now().Add(testTimeout)
	for c.writer.stallFresh.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the deadline was never marked stale")
		}
		runtime.Gosched()
	}
	later := write()
	d = rec.recorded()
	if len(d) != 2 {
		t.Fatalf("the write after the timer set %d deadlines in all, want 2", len(d))
	}
	if d[1].Before(later.Add(stall)) {
		t.Fatalf("moved deadline %v after the write's start, want at least %v", d[1].Sub(later), stall)
	}
}

// TestWriteStallTimerKeepsNoConn: the timer that marks the guard's deadline
// stale on a transport that cannot resume a cut write may still be pending
// long after the Conn ended (1/8 of the stall timeout: 3.75 s at the
// default); it must not keep the Conn alive meanwhile, or a server closing
// many TLS connections a second would hold all of them.
func TestWriteStallTimerKeepsNoConn(t *testing.T) {
	cn, peer := wstest.TCPPair(t)
	go io.Copy(io.Discard, peer)
	collected := make(chan struct{})
	func() {
		c := newConn(connConfig{netConn: &deadlineRecordingConn{Conn: cn}, stallTimeout: time.Hour})
		if err := c.WriteMessage(BinaryMessage, []byte("tick")); err != nil {
			t.Fatal(err)
		}
		if c.writer.stallTimer == nil {
			t.Fatal("no stall timer after a write")
		}
		c.CloseNow()
		runtime.AddCleanup(c, func(ch chan struct{}) { close(ch) }, collected)
	}()
	deadline := time.Now().Add(testTimeout)
	for {
		runtime.GC()
		select {
		case <-collected:
			return
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the Conn is still reachable after it closed: the pending stall timer holds it")
		}
		runtime.Gosched()
	}
}
