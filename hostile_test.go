package websocket

import (
	"bufio"
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Hostile peers: each test plays a peer that breaks the rules or the
// limits on purpose, against the public API (an Upgrader behind a loopback
// http.Server, or a Dialer), and checks the close code sent, how long the
// Conn took to give up and how much it allocated meanwhile.

// hostileBound is the time a Conn may take to give up on a hostile peer.
// Generous: the tests run under -race on a shared two-core machine, where
// CI's other packages compete for both cores (a flood of 65,536 empty
// fragments took 7.2 s there under -race): raceSlowdown scales it.
const hostileBound = raceSlowdown * 5 * time.Second

// startHostileServer serves u on a loopback http.Server and calls serve
// with every connection it upgrades; the connection is closed when serve
// returns. edit, when non-nil, configures the http.Server before it starts.
// The server is shut down, and every serve call waited for, when the test
// ends.
func startHostileServer(t *testing.T, u *Upgrader, edit func(*http.Server), serve func(c *Conn)) (addr string) {
	t.Helper()
	var handlers sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		c, err := u.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		serve(c)
	}))
	if edit != nil {
		edit(srv.Config)
	}
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		handlers.Wait()
	})
	return srv.Listener.Addr().String()
}

// dialRaw opens a TCP connection to addr, completes a hand-made handshake
// and returns a raw client peer on it. The connection's deadlines are set
// testTimeout ahead, so that a Conn that never answers fails the test
// instead of hanging it.
func dialRaw(t *testing.T, addr string) *rawPeer {
	t.Helper()
	p, _ := dialRawAnswer(t, addr)
	return p
}

// dialRawAnswer is dialRaw with extra request header lines, as rawRequest
// takes them; it also returns the server's 101 answer.
func dialRawAnswer(t *testing.T, addr string, extra ...string) (*rawPeer, *http.Response) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(testTimeout))
	if _, err := io.WriteString(conn, rawRequest(addr, extra...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake answered %s", resp.Status)
	}
	return &rawPeer{t: t, conn: conn, br: br, client: true}, resp
}

// flood writes chunk over and over, up to max times, until a write fails,
// in a goroutine; it reports how many chunks went out whole. It stops at the
// connection's write deadline at the latest.
func (p *rawPeer) flood(chunk []byte, max int) <-chan int {
	done := make(chan int, 1)
	go func() {
		n := 0
		for ; n < max; n++ {
			if _, err := p.conn.Write(chunk); err != nil {
				break
			}
		}
		done <- n
	}()
	return done
}

// totalAlloc returns the bytes allocated on the heap since the program
// started.
func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// readResult is how a server's read ended, and when.
type readResult struct {
	err error
	at  time.Time
}

// readUntilError reads messages from c, reusing one buffer, until a read
// fails, and reports that failure on the returned channel.
func readUntilError(c *Conn, results chan<- readResult) {
	var buf []byte
	for range 1 << 20 {
		var err error
		if _, buf, err = c.AppendMessage(buf[:0]); err != nil {
			results <- readResult{err, time.Now()}
			return
		}
	}
	results <- readResult{errors.New("too many messages"), time.Now()}
}

// waitRead waits for the server's read to end, at most testTimeout.
func waitRead(t *testing.T, results <-chan readResult) readResult {
	t.Helper()
	select {
	case r := <-results:
		return r
	case <-time.After(testTimeout):
		t.Fatal("the server's read did not end")
		return readResult{}
	}
}

// expectTooBig checks how a hostile exchange ended: the read of who
// ("server" or "client") failed with err, which must be ErrReadLimit, and
// the peer received a close frame with 1009 (RFC 6455 §7.4.1). It then
// closes the peer's connection, so that a writer still flooding it stops.
func (p *rawPeer) expectTooBig(t *testing.T, who string, err error) {
	t.Helper()
	if !errors.Is(err, ErrReadLimit) {
		t.Fatalf("%s read: %v, want ErrReadLimit", who, err)
	}
	p.expectClose(StatusMessageTooBig)
	p.conn.Close()
}

// checkBounds fails the test when the Conn took longer than hostileBound
// since start, or the process allocated more than maxAlloc bytes since
// alloc0.
func checkBounds(t *testing.T, start time.Time, end time.Time, alloc0 uint64, maxAlloc uint64) {
	t.Helper()
	took, alloc := end.Sub(start), totalAlloc()-alloc0
	t.Logf("gave up after %v, %d bytes allocated", took.Round(time.Millisecond), alloc)
	if took > hostileBound {
		t.Errorf("took %v to give up, want at most %v", took, hostileBound)
	}
	if alloc > maxAlloc {
		t.Errorf("allocated %d bytes, want at most %d", alloc, maxAlloc)
	}
}

// TestHostileFragmentFlood sends one message as an endless run of empty or
// one-byte continuation frames. The empty ones cost the read limit nothing,
// so the fragment ceiling (DefaultMaxFragments) must end them; the one-byte
// ones end at the read limit. Either way: 1009, promptly, and no memory
// per fragment.
func TestHostileFragmentFlood(t *testing.T) {
	for _, tc := range []struct {
		name      string
		payload   []byte
		readLimit int64
		fragments int // how many the Conn takes before giving up
	}{
		{"empty fragments", nil, 0, DefaultMaxFragments},
		{"one-byte fragments", []byte{'x'}, 64 << 10, 64 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			results := make(chan readResult, 1)
			addr := startHostileServer(t, &Upgrader{ReadLimit: tc.readLimit}, nil, func(c *Conn) { readUntilError(c, results) })
			peer := dialRaw(t, addr)
			const perChunk = 4096
			var chunk []byte
			for range perChunk {
				chunk = append(chunk, peer.frame(false, opContinuation, tc.payload)...)
			}
			start, alloc0 := time.Now(), totalAlloc()
			peer.writeFrame(false, opText, tc.payload)
			// The message never ends (no FIN): only a limit can end the
			// read. Four times what the Conn should take, and more than
			// the sockets' buffers hold, so that it is still coming then.
			sent := peer.flood(chunk, 4*tc.fragments/perChunk+(32<<20)/len(chunk))
			r := waitRead(t, results)
			peer.expectTooBig(t, "server", r.err)
			<-sent
			checkBounds(t, start, r.at, alloc0, 1<<20+2*uint64(tc.readLimit))
		})
	}
}

// announce returns a masked frame header with the given length and no
// payload.
func announce(fin bool, op opcode, length int64) []byte {
	h := frameHeader{fin: fin, opcode: op, masked: true, key: 0x01020304, length: length}
	b := make([]byte, maxFrameHeaderSize)
	return b[:putFrameHeader(b, &h)]
}

// TestHostileHugePayload announces a payload of 2^63-1 bytes, the largest
// a header can carry (RFC 6455 §5.2: the most significant bit must be 0),
// and then sends payload bytes. The Conn must refuse it on the header, with
// 1009, without reserving memory for it, on both sides of a connection.
func TestHostileHugePayload(t *testing.T) {
	const maxLength = 1<<63 - 1
	t.Run("to a server", func(t *testing.T) {
		results := make(chan readResult, 1)
		addr := startHostileServer(t, &Upgrader{}, nil, func(c *Conn) { readUntilError(c, results) })
		peer := dialRaw(t, addr)
		start, alloc0 := time.Now(), totalAlloc()
		peer.write(announce(true, opBinary, maxLength))
		sent := peer.flood(make([]byte, 64<<10), 1<<10)
		r := waitRead(t, results)
		peer.expectTooBig(t, "server", r.err)
		<-sent
		checkBounds(t, start, r.at, alloc0, 1<<20)
	})
	t.Run("to a client", func(t *testing.T) {
		peer, dial := rawServer(t)
		c := dial(&Dialer{})
		start, alloc0 := time.Now(), totalAlloc()
		h := frameHeader{fin: true, opcode: opBinary, length: maxLength}
		b := make([]byte, maxFrameHeaderSize)
		peer.write(b[:putFrameHeader(b, &h)])
		sent := peer.flood(make([]byte, 64<<10), 1<<10)
		_, _, err := c.ReadMessage()
		end := time.Now()
		peer.expectTooBig(t, "client", err)
		<-sent
		checkBounds(t, start, end, alloc0, 1<<20)
	})
}

// rawServer listens on loopback and returns a raw server peer and a dial
// function: dial connects a Dialer to the listener and answers its
// handshake by hand, with the header lines of extra added to the 101, then
// returns the client Conn, which is closed when the test ends.
func rawServer(t *testing.T, extra ...string) (*rawPeer, func(d *Dialer) *Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	peer := &rawPeer{t: t}
	dial := func(d *Dialer) *Conn {
		t.Helper()
		type answered struct {
			conn net.Conn
			br   *bufio.Reader
			err  error
		}
		ch := make(chan answered, 1)
		go func() {
			conn, err := ln.Accept()
			if err != nil {
				ch <- answered{err: err}
				return
			}
			conn.SetDeadline(time.Now().Add(testTimeout))
			br := bufio.NewReader(conn)
			req, err := http.ReadRequest(br)
			if err == nil {
				var answer strings.Builder
				answer.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
					acceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n")
				for _, line := range extra {
					answer.WriteString(line + "\r\n")
				}
				_, err = io.WriteString(conn, answer.String()+"\r\n")
			}
			ch <- answered{conn, br, err}
		}()
		c, _, err := d.Dial(t.Context(), "ws://"+ln.Addr().String()+"/", nil)
		a := <-ch
		if a.conn != nil {
			t.Cleanup(func() { a.conn.Close() })
		}
		if err != nil || a.err != nil {
			t.Fatalf("dial: %v; raw server: %v", err, a.err)
		}
		t.Cleanup(func() { c.CloseNow() })
		peer.conn, peer.br = a.conn, a.br
		return c
	}
	return peer, dial
}

// TestHostileJustOverLimit sends a message one byte over the read limit,
// in one frame and in fragments. Up to the limit, the bytes are the
// message's and may be buffered; the byte over it must fail the connection
// with 1009 on its header, before the frame's payload is read or memory is
// reserved for it.
func TestHostileJustOverLimit(t *testing.T) {
	const limit = 1 << 20
	t.Run("one frame", func(t *testing.T) {
		results := make(chan readResult, 1)
		addr := startHostileServer(t, &Upgrader{ReadLimit: limit}, nil, func(c *Conn) { readUntilError(c, results) })
		peer := dialRaw(t, addr)
		start, alloc0 := time.Now(), totalAlloc()
		peer.write(announce(true, opBinary, limit+1))
		sent := peer.flood(make([]byte, 64<<10), limit/(64<<10)+1)
		r := waitRead(t, results)
		peer.expectTooBig(t, "server", r.err)
		<-sent
		// Refused on its header: nothing like the announced size.
		checkBounds(t, start, r.at, alloc0, limit/4)
	})
	t.Run("fragments", func(t *testing.T) {
		results := make(chan readResult, 1)
		addr := startHostileServer(t, &Upgrader{ReadLimit: limit}, nil, func(c *Conn) { readUntilError(c, results) })
		peer := dialRaw(t, addr)
		const size = 64 << 10
		fragment := peer.frame(false, opContinuation, make([]byte, size))
		start, alloc0 := time.Now(), totalAlloc()
		peer.writeFrame(false, opBinary, make([]byte, size))
		for range limit/size - 1 {
			peer.write(fragment)
		}
		// The limit is reached exactly: one more byte is one too many,
		// and this fragment announces far more than that.
		peer.write(announce(false, opContinuation, 1<<40))
		r := waitRead(t, results)
		if !errors.Is(r.err, ErrReadLimit) {
			t.Fatalf("server read: %v, want ErrReadLimit", r.err)
		}
		peer.expectClose(StatusMessageTooBig)
		// The message up to the limit is buffered. The buffer grows one
		// fragment at a time, by append's steps (1.25x at this size), so
		// the buffers left behind on the way add up to about 5x the
		// limit (measured: 4.8 MB, 5.2 MB under -race); the raw peer's
		// frames count too. Far from the 2^40 bytes announced.
		checkBounds(t, start, r.at, alloc0, 8*limit)
	})
}

// TestHostileDecompressionBomb sends a small compressed message that
// inflates far beyond the read limit, whole or in fragments, to a server
// reading whole messages or streaming them. The Conn must fail it with 1009
// after inflating at most the limit: neither the compressed size, which is
// within the limit, nor the inflated size may decide what is allocated.
func TestHostileDecompressionBomb(t *testing.T) {
	const limit = 1 << 20
	bomb := deflateBomb(64 << 20)
	if len(bomb) > limit/2 {
		t.Fatalf("the bomb takes %d bytes", len(bomb))
	}
	readWhole := func(c *Conn, results chan<- readResult) { readUntilError(c, results) }
	readStreaming := func(c *Conn, results chan<- readResult) {
		for range 1 << 10 {
			_, rd, err := c.NextReader()
			if err == nil {
				_, err = io.Copy(io.Discard, rd)
			}
			if err != nil {
				results <- readResult{err, time.Now()}
				return
			}
		}
	}
	for _, tc := range []struct {
		name      string
		read      func(c *Conn, results chan<- readResult)
		fragments int
	}{
		{"whole message, one frame", readWhole, 1},
		{"whole message, 100 fragments", readWhole, 100},
		{"streamed, one frame", readStreaming, 1},
		{"streamed, 100 fragments", readStreaming, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := &Upgrader{ReadLimit: limit, Compression: CompressionOptions{Mode: CompressionNoContextTakeover}}
			results := make(chan readResult, 1)
			addr := startHostileServer(t, u, nil, func(c *Conn) { tc.read(c, results) })
			peer := dialRawDeflate(t, addr)
			var frames []byte
			size := (len(bomb) + tc.fragments - 1) / tc.fragments
			for i := 0; i < len(bomb); i += size {
				op, rsv := opContinuation, byte(0)
				if i == 0 {
					// RFC 7692 §6.1: RSV1 on the first frame only.
					op, rsv = opBinary, rsv1Bit
				}
				frames = append(frames, encodeFrame(true, i+size >= len(bomb), rsv, op, bomb[i:min(i+size, len(bomb))])...)
			}
			start, alloc0 := time.Now(), totalAlloc()
			sent := make(chan error, 1)
			go func() {
				_, err := peer.conn.Write(frames)
				sent <- err
			}()
			r := waitRead(t, results)
			peer.expectTooBig(t, "server", r.err)
			<-sent
			// The compressed payload, the limit's worth of inflated bytes
			// (by append's steps when reading whole), the inflater's
			// window and tables: a few times the limit (measured: 2.5 MB,
			// 3.5 MB under -race), not the 64 MiB the bomb holds.
			checkBounds(t, start, r.at, alloc0, 8*limit)
		})
	}
	t.Run("to a client", func(t *testing.T) {
		peer, dial := rawServer(t, "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover")
		c := dial(&Dialer{ReadLimit: limit, Compression: CompressionOptions{Mode: CompressionNoContextTakeover}})
		frame := encodeFrame(false, true, rsv1Bit, opBinary, bomb)
		start, alloc0 := time.Now(), totalAlloc()
		sent := make(chan error, 1)
		go func() {
			_, err := peer.conn.Write(frame)
			sent <- err
		}()
		_, _, err := c.ReadMessage()
		end := time.Now()
		peer.expectTooBig(t, "client", err)
		<-sent
		checkBounds(t, start, end, alloc0, 8*limit)
	})
}

// dialRawDeflate is dialRaw offering permessage-deflate without context
// takeover; the server must accept it.
func dialRawDeflate(t *testing.T, addr string) *rawPeer {
	t.Helper()
	offer := "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_no_context_takeover"
	p, resp := dialRawAnswer(t, addr, offer)
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); !strings.HasPrefix(ext, "permessage-deflate") {
		t.Fatalf("handshake answered %s with extensions %q", resp.Status, ext)
	}
	return p
}

// deflateBomb returns a message payload of permessage-deflate (RFC 7692
// §7.2.1: a DEFLATE stream, RFC 1951, ending with a sync flush whose last
// four bytes are removed) that inflates to n zero bytes: a literal zero,
// then back-references of length 258 at distance 1, in one non-final block
// with fixed Huffman codes. About 6.5 KiB per MiB inflated.
func deflateBomb(n int) []byte {
	var w bitWriter
	w.bits(0, 1) // BFINAL: not the last block
	w.bits(1, 2) // BTYPE 01: fixed Huffman codes
	w.fixedLiteral(0)
	left := n - 1
	for ; left >= 258; left -= 258 {
		// Length 258 is code 285 with no extra bits; distance 1 is
		// distance code 0 with no extra bits (RFC 1951 §3.2.5).
		w.fixedLiteral(285)
		w.reversed(0, 5)
	}
	for ; left > 0; left-- {
		w.fixedLiteral(0)
	}
	w.fixedLiteral(256) // end of block
	// The header of the empty stored block that a sync flush ends with;
	// its LEN and NLEN, 00 00 ff ff, are what RFC 7692 §7.2.1 removes.
	w.bits(0, 3)
	return w.flush()
}

// bitWriter packs DEFLATE bits, least significant first (RFC 1951 §3.1.1).
type bitWriter struct {
	out   []byte
	acc   uint64
	nbits uint
}

// bits appends the n low bits of v, least significant first.
func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.nbits
	w.nbits += n
	for w.nbits >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nbits -= 8
	}
}

// reversed appends a Huffman code of n bits, most significant bit first.
func (w *bitWriter) reversed(code uint64, n uint) {
	var r uint64
	for i := range n {
		r = r<<1 | (code>>i)&1
	}
	w.bits(r, n)
}

// fixedLiteral appends literal/length symbol sym with the fixed codes of
// RFC 1951 §3.2.6.
func (w *bitWriter) fixedLiteral(sym int) {
	switch {
	case sym <= 143:
		w.reversed(uint64(0x30+sym), 8)
	case sym <= 255:
		w.reversed(uint64(0x190+sym-144), 9)
	case sym <= 279:
		w.reversed(uint64(sym-256), 7)
	default:
		w.reversed(uint64(0xc0+sym-280), 8)
	}
}

// flush returns the stream, its last byte padded with zero bits.
func (w *bitWriter) flush() []byte {
	if w.nbits > 0 {
		w.out = append(w.out, byte(w.acc))
		w.acc, w.nbits = 0, 0
	}
	return w.out
}

// TestDeflateBomb checks the bomb against compress/flate, so that the
// decompression bomb test sends what it claims to.
func TestDeflateBomb(t *testing.T) {
	for _, n := range []int{1, 2, 258, 259, 260, 300, 1000, 1 << 20} {
		bomb := deflateBomb(n)
		r := flate.NewReader(io.MultiReader(bytes.NewReader(bomb), bytes.NewReader([]byte{0, 0, 0xff, 0xff})))
		// The stream has no final block: it ends when its input does.
		got, err := io.ReadAll(io.LimitReader(r, int64(n)+1))
		if !errors.Is(err, io.ErrUnexpectedEOF) || len(got) != n || !bytes.Equal(got, make([]byte, n)) {
			t.Fatalf("n=%d: inflated %d bytes, then %v", n, len(got), err)
		}
		if n == 1<<20 && len(bomb) > 8<<10 {
			t.Fatalf("1 MiB takes %d compressed bytes", len(bomb))
		}
	}
}
