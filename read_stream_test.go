package websocket

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
)

// replayConn is a transport whose reads replay a stream of frames again and
// again and whose writes vanish. It runs no goroutine, so allocation counts
// taken around a read are the read's own.
type replayConn struct {
	stream []byte
	pos    int
	reads  int // Read calls that returned bytes
}

func (c *replayConn) Read(p []byte) (int, error) {
	n := copy(p, c.stream[c.pos:])
	c.pos += n
	if c.pos == len(c.stream) {
		c.pos = 0
	}
	c.reads++
	return n, nil
}

func (c *replayConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *replayConn) Close() error                     { return nil }
func (c *replayConn) LocalAddr() net.Addr              { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (c *replayConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }
func (c *replayConn) SetDeadline(time.Time) error      { return nil }
func (c *replayConn) SetReadDeadline(time.Time) error  { return nil }
func (c *replayConn) SetWriteDeadline(time.Time) error { return nil }

// replayServer returns a server Conn reading stream, masked client frames,
// in a loop.
func replayServer(t *testing.T, stream []byte) (*Conn, *replayConn) {
	t.Helper()
	rc := &replayConn{stream: stream}
	c := newConn(connConfig{netConn: rc})
	t.Cleanup(func() { c.CloseNow() })
	return c, rc
}

// readThrough reads the next message through NextReader into chunk-sized
// reads and returns its length.
func readThrough(c *Conn, chunk []byte) (MessageType, int, error) {
	typ, r, err := c.NextReader()
	if err != nil {
		return 0, 0, err
	}
	total := 0
	for range 1 << 20 {
		n, err := r.Read(chunk)
		total += n
		if err == io.EOF {
			return typ, total, nil
		}
		if err != nil {
			return typ, total, err
		}
	}
	return typ, total, errors.New("reader never reached io.EOF")
}

func TestNextReaderAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}
	for _, size := range []int{16, 1000, 64 << 10} {
		for _, op := range []opcode{opText, opBinary} {
			t.Run(fmt.Sprintf("%d/%v", size, op), func(t *testing.T) {
				msg := pattern(size, size)
				var stream []byte
				for len(stream) < 64<<10 {
					stream = append(stream, encodeFrame(true, true, 0, op, msg)...)
				}
				c, _ := replayServer(t, stream)
				chunk := make([]byte, min(size, 32<<10))
				read := func() {
					typ, n, err := readThrough(c, chunk)
					if err != nil || n != size || typ != MessageType(op) {
						t.Fatalf("read %v %d bytes, %v; want %v %d", typ, n, err, MessageType(op), size)
					}
				}
				read() // warm the pools
				if allocs := testing.AllocsPerRun(100, read); allocs != 0 {
					t.Errorf("%.2f allocations per message, want 0", allocs)
				}
			})
		}
	}
}

func TestNextReaderEOFWithLastBytes(t *testing.T) {
	c, peer := serverWithRawClient(t, nil)
	peer.writeFrame(false, opText, []byte("one "))
	peer.writeFrame(true, opContinuation, []byte("two"))
	peer.writeFrame(true, opBinary, []byte("three"))
	_, r, err := c.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 64)
	// The first fragment ends without the message: no io.EOF yet.
	if n, err := r.Read(p); n != 4 || err != nil {
		t.Fatalf("first fragment: %d, %v", n, err)
	}
	if n, err := r.Read(p); n != 3 || err != io.EOF {
		t.Fatalf("last fragment: %d, %v; want 3, io.EOF", n, err)
	}
	if n, err := r.Read(p); n != 0 || err != io.EOF {
		t.Fatalf("after the end: %d, %v; want 0, io.EOF", n, err)
	}
	typ, r2, err := c.NextReader()
	if err != nil || typ != BinaryMessage {
		t.Fatal(typ, err)
	}
	if b, err := io.ReadAll(r2); err != nil || string(b) != "three" {
		t.Fatalf("got %q, %v", b, err)
	}
}

func TestStaleReaderAfterPartialRead(t *testing.T) {
	c, peer := serverWithRawClient(t, nil)
	peer.writeFrame(true, opBinary, []byte("whole"))
	peer.writeFrame(true, opBinary, []byte("partly read"))
	peer.writeFrame(true, opBinary, []byte("third"))
	_, r1, err := c.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(r1); err != nil || string(b) != "whole" {
		t.Fatalf("got %q, %v", b, err)
	}
	_, r2, err := c.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r2.Read(make([]byte, 6)); n != 6 || err != nil {
		t.Fatalf("partial read: %d, %v", n, err)
	}
	_, r3, err := c.NextReader() // drops the rest of the second message
	if err != nil {
		t.Fatal(err)
	}
	// r2 stopped inside its message, so it may still be in use: it must
	// not read the third one.
	if _, err := r2.Read(make([]byte, 10)); !errors.Is(err, errStaleReader) {
		t.Fatalf("stale reader: %v", err)
	}
	if b, err := io.ReadAll(r3); err != nil || string(b) != "third" {
		t.Fatalf("got %q, %v", b, err)
	}
}

// fragmentedStream is msg as a binary message in masked fragments of frag
// bytes (the last one shorter if need be), as a client sends it.
func fragmentedStream(msg []byte, frag int) []byte {
	var stream []byte
	for off := 0; off < len(msg); off += frag {
		op := opContinuation
		if off == 0 {
			op = opBinary
		}
		end := min(off+frag, len(msg))
		stream = append(stream, encodeFrame(true, end == len(msg), 0, op, msg[off:end])...)
	}
	return stream
}

func TestAppendMessageFragmentedGrowth(t *testing.T) {
	const size, frag = 1 << 20, 64 << 10
	msg := pattern(3, size)
	stream := fragmentedStream(msg, frag)
	// Doubling allocates 64 KiB + 128 KiB + ... + 1 MiB, under 2 MiB; growing
	// by each fragment allocated about 5 MiB. The counter is the process's:
	// the margin, and the best of three reads, are for other goroutines.
	var alloc uint64
	for try := range 3 {
		c, _ := replayServer(t, stream)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, got, err := c.AppendMessage(nil)
		runtime.ReadMemStats(&after)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("read %d bytes, %v", len(got), err)
		}
		if a := after.TotalAlloc - before.TotalAlloc; try == 0 || a < alloc {
			alloc = a
		}
		if alloc <= 3*size {
			break
		}
	}
	t.Logf("%d KiB allocated for a %d KiB message in %d KiB fragments", alloc>>10, size>>10, frag>>10)
	if alloc > 3*size {
		t.Errorf("%d bytes allocated, want at most %d", alloc, 3*size)
	}
}

// BenchmarkReadMessageFragmented reads a 1 MiB message sent in 64 KiB
// fragments into a new slice each time, as ReadMessage does.
func BenchmarkReadMessageFragmented(b *testing.B) {
	const size, frag = 1 << 20, 64 << 10
	msg := pattern(5, size)
	stream := fragmentedStream(msg, frag)
	c := newConn(connConfig{netConn: &replayConn{stream: stream}})
	defer c.CloseNow()
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		if _, p, err := c.ReadMessage(); err != nil || len(p) != size {
			b.Fatal(len(p), err)
		}
	}
}

func TestNextReaderStagedSmallMessage(t *testing.T) {
	c, peer := serverWithRawClient(t, nil)
	peer.writeFrame(true, opText, []byte("héllo"))
	peer.writeFrame(true, opBinary, nil)
	peer.writeFrame(true, opText, []byte{'o', 'k', 0xff})
	_, r, err := c.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	// In pieces smaller than the message; the reader has it whole.
	var got []byte
	p := make([]byte, 2)
	for range 10 {
		n, err := r.Read(p)
		got = append(got, p[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if string(got) != "héllo" {
		t.Fatalf("got %q", got)
	}
	if n, err := r.Read(p); n != 0 || err != io.EOF {
		t.Fatalf("after the end: %d, %v", n, err)
	}
	typ, r, err := c.NextReader()
	if err != nil || typ != BinaryMessage {
		t.Fatal(typ, err)
	}
	if n, err := r.Read(p); n != 0 || err != io.EOF {
		t.Fatalf("empty message: %d, %v", n, err)
	}
	// Invalid text is not handed over whole: Read finds it and fails the
	// connection with 1007, as for any message.
	if _, r, err = c.NextReader(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(r); !errors.Is(err, ErrInvalidUTF8) {
		t.Fatalf("invalid text: %v", err)
	}
	peer.expectClose(StatusInvalidFramePayloadData)
}
