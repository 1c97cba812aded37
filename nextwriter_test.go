package websocket

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"
)

// TestNextWriterStaleHandle checks that a writer whose message is over
// fails, however many messages the Conn has started since with the same
// state, and that those are not touched by it.
func TestNextWriterStaleHandle(t *testing.T) {
	const laterMessages = 10
	client, server := connPair(t, nil)
	old, err := client.NextWriter(TextMessage)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Write([]byte("first")); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range laterMessages {
		w, err := client.NextWriter(BinaryMessage)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.Write([]byte("stale")); !errors.Is(err, errWriterClosed) {
			t.Fatalf("message %d: stale Write: %v, want errWriterClosed", i, err)
		}
		if err := old.Close(); !errors.Is(err, errWriterClosed) {
			t.Fatalf("message %d: stale Close: %v, want errWriterClosed", i, err)
		}
		msg := fmt.Appendf(nil, "message %d", i)
		if _, err := w.Write(msg); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); !errors.Is(err, errWriterClosed) {
			t.Fatalf("second Close: %v, want errWriterClosed", err)
		}
		if _, err := w.Write(msg); !errors.Is(err, errWriterClosed) {
			t.Fatalf("Write after Close: %v, want errWriterClosed", err)
		}
	}
	if _, b, err := server.ReadMessage(); err != nil || string(b) != "first" {
		t.Fatalf("first message %q, %v", b, err)
	}
	for i := range laterMessages {
		typ, b, err := server.ReadMessage()
		if want := fmt.Sprintf("message %d", i); err != nil || typ != BinaryMessage || string(b) != want {
			t.Fatalf("got %v %q, %v; want %q", typ, b, err, want)
		}
	}
}

// TestNextWriterLargeWriteOneFragment checks the fragments a writer sends:
// a Write of a buffer's worth or more leaves at once, with what was
// buffered before it, as one fragment; smaller writes are gathered.
func TestNextWriterLargeWriteOneFragment(t *testing.T) {
	for _, side := range []string{"server", "client"} {
		t.Run(side, func(t *testing.T) {
			edit := func(cfg *connConfig) { cfg.writeBufferSize = 1024 }
			c, peer := sideWithRawPeer(t, side, edit)
			head, big, tail := pattern(1, 10), pattern(2, 100_000), pattern(3, 5)
			errc := make(chan error, 1)
			go func() {
				w, err := c.NextWriter(BinaryMessage)
				if err == nil {
					_, err = w.Write(head)
				}
				if err == nil {
					_, err = w.Write(big)
				}
				if err == nil {
					_, err = w.Write(tail)
				}
				if err == nil {
					err = w.Close()
				}
				errc <- err
			}()
			want := []struct {
				op      opcode
				fin     bool
				payload []byte
			}{
				{opBinary, false, append(bytes.Clone(head), big...)},
				{opContinuation, true, tail},
			}
			for i, f := range want {
				h, b, err := peer.readFrame()
				if err != nil {
					t.Fatal(err)
				}
				if h.opcode != f.op || h.fin != f.fin || h.masked != (side == "client") || !bytes.Equal(b, f.payload) {
					t.Fatalf("fragment %d: %v fin=%v masked=%v %d bytes (first difference at %d); want %v fin=%v %d bytes",
						i, h.opcode, h.fin, h.masked, len(b), firstDiff(b, f.payload), f.op, f.fin, len(f.payload))
				}
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(big, pattern(2, 100_000)) {
				t.Fatal("the writer modified the caller's slice")
			}
		})
	}
}

// TestNextWriterEmptyMessage checks that a writer closed without a Write
// sends one empty final frame.
func TestNextWriterEmptyMessage(t *testing.T) {
	for _, side := range []string{"server", "client"} {
		c, peer := sideWithRawPeer(t, side, nil)
		w, err := c.NextWriter(TextMessage)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		h, b, err := peer.readFrame()
		if err != nil || h.opcode != opText || !h.fin || len(b) != 0 || h.masked != (side == "client") {
			t.Fatalf("%s: %v fin=%v masked=%v %q, %v", side, h.opcode, h.fin, h.masked, b, err)
		}
	}
}

// discardConn is a transport that takes every write and never reads.
type discardConn struct{ net.Conn }

func (discardConn) Write(p []byte) (int, error)      { return len(p), nil }
func (discardConn) Read([]byte) (int, error)         { return 0, io.EOF }
func (discardConn) Close() error                     { return nil }
func (discardConn) SetWriteDeadline(time.Time) error { return nil }
func (discardConn) SetReadDeadline(time.Time) error  { return nil }

// TestWriteAllocs checks that once pools are warm, writing a message
// allocates nothing whole, and only the writer handle streamed, client or
// server, small or large. Each case is measured on its own Conn and
// transport, with no other goroutine of the test running, and passes if
// any of three measurements shows no more (AllocsPerRun counts the whole
// process).
func TestWriteAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}
	for _, client := range []bool{false, true} {
		for _, size := range []int{16, 1000, 5000, 100_000} {
			for _, api := range []string{"whole", "stream"} {
				t.Run(fmt.Sprintf("client=%v/%d/%s", client, size, api), func(t *testing.T) {
					c := newConn(connConfig{netConn: discardConn{}, client: client})
					msg := pattern(size, size)
					write := func() {
						if api == "whole" {
							if err := c.WriteMessage(BinaryMessage, msg); err != nil {
								t.Fatal(err)
							}
							return
						}
						w, err := c.NextWriter(BinaryMessage)
						if err != nil {
							t.Fatal(err)
						}
						for off := 0; off < len(msg); off += 32 << 10 {
							if _, err := w.Write(msg[off:min(off+32<<10, len(msg))]); err != nil {
								t.Fatal(err)
							}
						}
						if err := w.Close(); err != nil {
							t.Fatal(err)
						}
					}
					write() // warm the pools
					want := 0.0
					if api == "stream" {
						want = 1 // the handle NextWriter returns
					}
					allocs := want + 1
					for range 3 {
						if allocs = testing.AllocsPerRun(100, write); allocs <= want {
							break
						}
					}
					if allocs > want {
						t.Errorf("%.2f allocations per message, want %v", allocs, want)
					}
				})
			}
		}
	}
}

// TestNextWriterFragmentsFillBuffer checks that small writes are gathered
// into fragments of exactly the buffer's capacity whatever holds them: the
// writer's inline array for the first bytes, then a borrowed buffer into
// which they move. Buffer sizes on both sides of the inline array's size
// are tried; the last fragment carries the rest, with FIN.
func TestNextWriterFragmentsFillBuffer(t *testing.T) {
	for _, side := range []string{"server", "client"} {
		for _, size := range []int{24, 100, inlineWriteSize - 1, inlineWriteSize, inlineWriteSize + 1, 1024} {
			t.Run(fmt.Sprintf("%s/buffer=%d", side, size), func(t *testing.T) {
				edit := func(cfg *connConfig) { cfg.writeBufferSize = size }
				c, peer := sideWithRawPeer(t, side, edit)
				capacity := size - maxFrameHeaderSize
				msg := pattern(7, 3*capacity+17)
				errc := make(chan error, 1)
				go func() {
					w, err := c.NextWriter(BinaryMessage)
					if err != nil {
						errc <- err
						return
					}
					// Pieces of 1 to 9 bytes, all shorter than the
					// capacity, so that none leaves on its own.
					for off, k := 0, 1; off < len(msg) && err == nil; off, k = off+k, k%9+1 {
						_, err = w.Write(msg[off:min(off+k, len(msg))])
					}
					if err == nil {
						err = w.Close()
					}
					errc <- err
				}()
				op := opBinary
				for off := 0; off < len(msg); off += capacity {
					want := msg[off:min(off+capacity, len(msg))]
					fin := off+capacity >= len(msg)
					h, b, err := peer.readFrame()
					if err != nil {
						t.Fatal(err)
					}
					if h.opcode != op || h.fin != fin || h.masked != (side == "client") || !bytes.Equal(b, want) {
						t.Fatalf("fragment at %d: %v fin=%v masked=%v %d bytes (first difference at %d); want %v fin=%v %d bytes",
							off, h.opcode, h.fin, h.masked, len(b), firstDiff(b, want), op, fin, len(want))
					}
					op = opContinuation
				}
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestNextWriterClientKeyPerFragment: a client's streamed message, masked
// as its bytes are buffered, goes out in fragments that each carry a key
// of their own (RFC 6455 §5.3) and the right payload once unmasked,
// whether a fragment was gathered inline, in a borrowed buffer, or sent
// with a large write after bytes buffered under another key.
func TestNextWriterClientKeyPerFragment(t *testing.T) {
	edit := func(cfg *connConfig) { cfg.writeBufferSize = 1024 }
	c, peer := sideWithRawPeer(t, "client", edit)
	parts := [][]byte{pattern(1, 7), pattern(2, 600), pattern(3, 600), pattern(4, 600), pattern(5, 3000), pattern(6, 5), pattern(7, 2000), pattern(8, 9)}
	var msg []byte
	for _, p := range parts {
		msg = append(msg, p...)
	}
	errc := make(chan error, 1)
	go func() {
		w, err := c.NextWriter(BinaryMessage)
		for _, p := range parts {
			if err == nil {
				_, err = w.Write(p)
			}
		}
		if err == nil {
			err = w.Close()
		}
		errc <- err
	}()
	var got []byte
	keys := map[uint32]bool{}
	for i := 0; ; i++ {
		if i == 100 {
			t.Fatal("no final fragment in 100 frames")
		}
		h, b, err := peer.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		if !h.masked {
			t.Fatalf("fragment %d unmasked", i)
		}
		if keys[h.key] {
			t.Fatalf("fragment %d reuses key %#x", i, h.key)
		}
		keys[h.key] = true
		got = append(got, b...)
		if h.fin {
			break
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("payload differs from what was written (%d bytes, want %d)", len(got), len(msg))
	}
	if len(keys) < 3 {
		t.Fatalf("%d fragments, want several", len(keys))
	}
}
