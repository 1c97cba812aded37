package websocket

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// messageSizes cover every length encoding and the default read limit.
var messageSizes = []int{0, 1, 125, 126, 65535, 65536, 1 << 20, DefaultReadLimit}

func TestMessageRoundTrip(t *testing.T) {
	client, server := connPair(t, nil)
	for _, dir := range []struct {
		name     string
		from, to *Conn
	}{{"client to server", client, server}, {"server to client", server, client}} {
		for _, typ := range []MessageType{TextMessage, BinaryMessage} {
			for _, size := range messageSizes {
				for _, how := range []string{"whole", "writer", "writer-1B"} {
					if how == "writer-1B" && size > 4096 {
						continue
					}
					if size >= 1<<20 && (how == "writer") != (typ == TextMessage) {
						continue // one way per type for the large sizes keeps -race runs short
					}
					name := fmt.Sprintf("%s/%v/%d/%s", dir.name, typ, size, how)
					t.Run(name, func(t *testing.T) {
						msg := pattern(size, size)
						errc := make(chan error, 1)
						go func() { errc <- send(dir.from, typ, msg, how) }()
						gotTyp, got, err := dir.to.ReadMessage()
						if err != nil {
							t.Fatal(err)
						}
						if err := <-errc; err != nil {
							t.Fatal(err)
						}
						if gotTyp != typ || !bytes.Equal(got, msg) {
							t.Fatalf("got %v with %d bytes, want %v with %d", gotTyp, len(got), typ, len(msg))
						}
					})
				}
			}
		}
	}
}

// send writes msg whole, through NextWriter, or through NextWriter one byte
// per Write with a flush-sized buffer of 1 byte payload per fragment.
func send(c *Conn, typ MessageType, msg []byte, how string) error {
	switch how {
	case "whole":
		return c.WriteMessage(typ, msg)
	case "writer":
		w, err := c.NextWriter(typ)
		if err != nil {
			return err
		}
		// Uneven writes across the buffer boundary.
		for i := 0; i < len(msg); {
			n := min(len(msg)-i, 1+i%7000)
			if _, err := w.Write(msg[i : i+n]); err != nil {
				return err
			}
			i += n
		}
		return w.Close()
	default:
		w, err := c.NextWriter(typ)
		if err != nil {
			return err
		}
		for i := range msg {
			if _, err := w.Write(msg[i : i+1]); err != nil {
				return err
			}
		}
		return w.Close()
	}
}

func TestOneByteFragments(t *testing.T) {
	// The smallest write buffer holds one payload byte: NextWriter sends
	// one-byte fragments, which split the UTF-8 sequences too.
	client, server := connPair(t, func(cfg *connConfig) { cfg.writeBufferSize = maxFrameHeaderSize + 1 })
	msg := []byte("fragments, one byte each: ✓ 𝄞 κόσμε")
	for _, pair := range [][2]*Conn{{client, server}, {server, client}} {
		errc := make(chan error, 1)
		go func() { errc <- send(pair[0], TextMessage, msg, "writer") }()
		_, got, err := pair[1].ReadMessage()
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("got %q, %v", got, err)
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	// And the fragments of one-byte writes really are one byte each. (A
	// write of a buffer's worth or more goes out as one fragment: the
	// "writer" way would send "a", then "bc".)
	c, peer := clientWithRawServer(t, func(cfg *connConfig) { cfg.writeBufferSize = maxFrameHeaderSize + 1 })
	go send(c, BinaryMessage, []byte("abc"), "bytes")
	for i := range 3 {
		h, b, err := peer.readFrame()
		if err != nil || len(b) != 1 || b[0] != "abc"[i] || h.fin != (i == 2) {
			t.Fatalf("fragment %d: %q fin=%v %v", i, b, h.fin, err)
		}
	}
}

func TestWriterFragmentsWithPingBetween(t *testing.T) {
	c, peer := clientWithRawServer(t, func(cfg *connConfig) { cfg.writeBufferSize = 64 })
	w, err := c.NextWriter(TextMessage)
	if err != nil {
		t.Fatal(err)
	}
	part := pattern(1, 64-maxFrameHeaderSize+10) // fills the buffer once: one fragment goes out
	if _, err := w.Write(part); err != nil {
		t.Fatal(err)
	}
	// Another goroutine's control frame does not wait for the message.
	if err := c.WriteControl(PingMessage, []byte("between"), time.Now().Add(testTimeout)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("tail")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		op  opcode
		fin bool
	}{{opText, false}, {opPing, true}, {opContinuation, true}}
	var payload []byte
	for i, f := range want {
		h, b, err := peer.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		if h.opcode != f.op || h.fin != f.fin || !h.masked {
			t.Fatalf("frame %d: %v fin=%v masked=%v, want %v fin=%v masked", i, h.opcode, h.fin, h.masked, f.op, f.fin)
		}
		if h.opcode == opPing {
			if string(b) != "between" {
				t.Fatalf("ping payload %q", b)
			}
			continue
		}
		payload = append(payload, b...)
	}
	if string(payload) != string(part)+"tail" {
		t.Fatalf("payload %q", payload)
	}
}

func TestConcurrentWriters(t *testing.T) {
	const writers, perWriter = 16, 50
	client, server := connPair(t, func(cfg *connConfig) { cfg.writeBufferSize = 512 })
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range perWriter {
				msg := taggedMessage(g, i)
				var err error
				if i%2 == 0 {
					err = client.WriteMessage(BinaryMessage, msg)
				} else {
					err = send(client, BinaryMessage, msg, "writer")
				}
				if err != nil {
					t.Error(err)
					return
				}
				if i%10 == 0 {
					client.WriteControl(PingMessage, []byte{byte(g)}, time.Time{})
				}
			}
		})
	}
	next := make([]int, writers)
	for range writers * perWriter {
		_, b, err := server.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		g, i := int(binary.BigEndian.Uint16(b)), int(binary.BigEndian.Uint16(b[2:]))
		if g >= writers || i != next[g] || !bytes.Equal(b, taggedMessage(g, i)) {
			t.Fatalf("message from writer %d, number %d (expected %d), damaged or out of order", g, i, next[g])
		}
		next[g]++
	}
	wg.Wait()
	// The client's reader handles the pongs; nothing else is pending.
	go io.Copy(io.Discard, readerOf(client))
	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
}

// readerOf drains c's messages until it fails.
func readerOf(c *Conn) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		_, _, err := c.ReadMessage()
		return 0, err
	})
}

type readerFunc func(p []byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// taggedMessage is message i of writer g: the tag, then a pattern whose
// size varies across the fragmenting threshold.
func taggedMessage(g, i int) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(g))
	b = binary.BigEndian.AppendUint16(b, uint16(i))
	return append(b, pattern(g*1000+i, (g*131+i*977)%3000)...)
}

func TestServerSendsUnmaskedClientMasked(t *testing.T) {
	c, peer := serverWithRawClient(t, nil)
	for _, size := range []int{10, 300, 70000} {
		if err := c.WriteMessage(BinaryMessage, pattern(size, size)); err != nil {
			t.Fatal(err)
		}
		h, b, err := peer.readFrame()
		if err != nil || h.masked || !bytes.Equal(b, pattern(size, size)) {
			t.Fatalf("size %d: masked=%v err=%v", size, h.masked, err)
		}
	}
	cc, speer := clientWithRawServer(t, nil)
	keys := map[uint32]bool{}
	for _, size := range []int{10, 300, 70000, 10, 10} {
		msg := pattern(size, size)
		if err := cc.WriteMessage(BinaryMessage, msg); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(msg, pattern(size, size)) {
			t.Fatal("WriteMessage modified the caller's slice")
		}
		h, b, err := speer.readFrame()
		if err != nil || !h.masked || !bytes.Equal(b, msg) {
			t.Fatalf("size %d: masked=%v err=%v", size, h.masked, err)
		}
		keys[h.key] = true
	}
	if len(keys) < 4 {
		t.Fatalf("masking keys repeat: %d distinct in 5 frames", len(keys))
	}
}

// heldWriteConn is a transport that records every write and holds the
// first one until release is closed, after closing entered.
type heldWriteConn struct {
	discardConn
	entered, release chan struct{}
	once             sync.Once
	mu               sync.Mutex
	writes           [][]byte
}

func (c *heldWriteConn) Write(p []byte) (int, error) {
	c.once.Do(func() {
		close(c.entered)
		<-c.release
	})
	c.mu.Lock()
	c.writes = append(c.writes, bytes.Clone(p))
	c.mu.Unlock()
	return len(p), nil
}

// TestPongQueuedDuringMessageFollowsIt: a pong queued while a message's
// frame is being written (both write locks held, released together) is
// sent by the writer before its call returns, right after the message, for
// a message written whole or streamed, small (sent from the inline
// buffer) or not, client or server.
func TestPongQueuedDuringMessageFollowsIt(t *testing.T) {
	for _, client := range []bool{false, true} {
		for _, size := range []int{16, 1000} {
			for _, api := range []string{"whole", "stream"} {
				t.Run(fmt.Sprintf("client=%v/%d/%s", client, size, api), func(t *testing.T) {
					tc := &heldWriteConn{entered: make(chan struct{}), release: make(chan struct{})}
					c := newConn(connConfig{netConn: tc, client: client})
					msg := pattern(size, size)
					done := make(chan error, 1)
					go func() {
						if api == "whole" {
							done <- c.WriteMessage(BinaryMessage, msg)
							return
						}
						w, err := c.NextWriter(BinaryMessage)
						if err == nil {
							_, err = w.Write(msg)
						}
						if err == nil {
							err = w.Close()
						}
						done <- err
					}()
					<-tc.entered
					c.pong.put([]byte("p")) // the frame lock is held: queued
					close(tc.release)
					if err := <-done; err != nil {
						t.Fatal(err)
					}
					tc.mu.Lock()
					defer tc.mu.Unlock()
					if len(tc.writes) != 2 {
						t.Fatalf("%d writes, want the message then the pong", len(tc.writes))
					}
					if got := opcode(tc.writes[0][0] & 0x0f); got != opBinary {
						t.Fatalf("first write is %v, want the message", got)
					}
					pong := tc.writes[1]
					if opcode(pong[0]&0x0f) != opPong || pong[1]&0x7f != 1 || (pong[1]&0x80 != 0) != client {
						t.Fatalf("second write % x, want a pong of 1 byte, masked=%v", pong, client)
					}
				})
			}
		}
	}
}

// opcodeRecorder is a discarding transport that records the opcode of each
// frame written to it (one write per frame, as a server's small frames go).
type opcodeRecorder struct {
	discardConn
	mu  sync.Mutex
	ops []opcode
}

func (r *opcodeRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	r.ops = append(r.ops, opcode(p[0]&0x0f))
	r.mu.Unlock()
	return len(p), nil
}

// TestPongAfterFrameWaiterGivesUp: a writer waiting for the frame lock
// whose context ends just as the lock is handed to it passes the lock on;
// a pong queued meanwhile (its holder and queuePong both found the lock
// taken, so both left the pong to the one it was handed to) must still go
// out. With one P the order is fixed: the waiter is woken by its context
// before the hand-over, and runs only when the test blocks.
func TestPongAfterFrameWaiterGivesUp(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	tr := &opcodeRecorder{}
	c := newConn(connConfig{netConn: tr})
	if !c.frameLock.TryLock() { // a control frame being written, say
		t.Fatal("frame lock not free")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.WriteMessageContext(ctx, BinaryMessage, []byte("hello")) }()
	for i := 0; c.frameLock.Waiting() != 1; i++ {
		if i == 1_000_000 {
			t.Fatal("the writer never waited for the frame lock")
		}
		runtime.Gosched()
	}
	cancel()
	c.releaseFrame()        // hands the lock to the waiter
	c.pong.put([]byte("p")) // finds it taken: left to the waiter
	c.sendPongIfFree()
	err := <-done
	// Had the waiter been preempted before it parked (rare), its select
	// could take the hand-over instead: then the write succeeds, and the
	// pong must still follow it.
	if err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("write: %v, want context.Canceled (the wait gave up) or success", err)
	}
	tr.mu.Lock()
	ops := slices.Clone(tr.ops)
	tr.mu.Unlock()
	if c.pong.queued.Load() || !slices.Contains(ops, opPong) {
		t.Fatalf("frames written %v, pong still queued %v: want the pong sent", ops, c.pong.queued.Load())
	}
}

// BenchmarkWriteMessage measures WriteMessage alone: to a TCP loopback
// peer that discards the bytes (the write path and its syscall, one per
// small message), and to a transport that discards them without a
// syscall, the write stall guard off (the CPU cost of the path alone).
func BenchmarkWriteMessage(b *testing.B) {
	for _, transport := range []string{"tcp", "discard"} {
		for _, client := range []bool{false, true} {
			for _, size := range []int{16, 1024, 65536} {
				name := fmt.Sprintf("%s/client=%v/%d", transport, client, size)
				b.Run(name, func(b *testing.B) {
					cfg := connConfig{netConn: discardConn{}, client: client, stallTimeout: -1}
					if transport == "tcp" {
						cfg = connConfig{netConn: tcpDiscard(b), client: client}
					}
					c := newConn(cfg)
					msg := pattern(1, size)
					b.SetBytes(int64(size))
					b.ReportAllocs()
					for b.Loop() {
						if err := c.WriteMessage(BinaryMessage, msg); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// tcpDiscard returns the client end of a loopback TCP connection whose
// server end discards what it reads; both close when b ends.
func tcpDiscard(b *testing.B) net.Conn {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		if p, err := ln.Accept(); err == nil {
			io.Copy(io.Discard, p)
			p.Close()
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	ln.Close()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		nc.Close()
		<-drained
	})
	return nc
}
