package websocket

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/wstest"
)

// pipeClient returns a client Conn over net.Pipe and the server's end of
// the pipe, on which a test writes raw frames (unmasked, as a server's).
func pipeClient(t testing.TB, edit func(cfg *connConfig)) (*Conn, net.Conn) {
	t.Helper()
	cn, sn := wstest.Pipe(t)
	cfg := connConfig{netConn: cn, client: true}
	if edit != nil {
		edit(&cfg)
	}
	c := newConn(cfg)
	// What the Conn writes (a close frame) is read and dropped: net.Pipe
	// has no buffer. It ends when the test closes the Conn.
	go io.Copy(io.Discard, sn)
	t.Cleanup(func() { c.CloseNow() })
	return c, sn
}

// withDeflate negotiates permessage-deflate without context takeover.
func withDeflate(cfg *connConfig) {
	cfg.deflate = &deflateConfig{
		write: deflateDirection{windowBits: 15},
		read:  deflateDirection{windowBits: 15},
		level: 1,
	}
}

// messageFrames returns msg as frames of at most size payload bytes (all of
// it in one frame when size is 0), RSV1 on the first when compressed.
func messageFrames(op opcode, msg []byte, size int, compressed bool) []byte {
	if size <= 0 {
		size = max(len(msg), 1)
	}
	var out []byte
	for i := 0; i == 0 || i < len(msg); i += size {
		o, rsv := opContinuation, byte(0)
		if i == 0 {
			o = op
			if compressed {
				rsv = rsv1Bit
			}
		}
		end := min(i+size, len(msg))
		out = append(out, encodeFrame(false, end == len(msg), rsv, o, msg[i:end])...)
	}
	return out
}

// deflated returns msg compressed as a permessage-deflate payload (RFC 7692
// §7.2.1: a sync flush, its last four octets removed).
func deflated(t testing.TB, msg []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.DefaultCompression)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(msg)
	w.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// words returns n bytes of text made of a few words in random order, which
// compresses about as well as chat or JSON does.
func words(seed uint64, n int) []byte {
	dict := []string{"alpha ", "beta ", "gamma ", "delta ", "epsilon ", "zeta ", "eta ", "theta ",
		"iota ", "kappa ", "lambda ", "mu ", "nu ", "xi ", "omicron ", "pi ", "rho ", "sigma ",
		"tau ", "upsilon ", "phi ", "chi ", "psi ", "omega ", "{\"id\":", "42,", "\"ok\":true}", "\n"}
	rng := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, 0, n+16)
	for len(b) < n {
		b = append(b, dict[rng.IntN(len(dict))]...)
	}
	return b[:n]
}

// feed writes wire to w in a goroutine, n times, and returns a channel
// that yields the write error when done.
func feed(w net.Conn, wire []byte, n int) <-chan error {
	done := make(chan error, 1)
	go func() {
		var err error
		for range n {
			if _, err = w.Write(wire); err != nil {
				break
			}
		}
		done <- err
	}()
	return done
}

// TestReadMessageAllocatesOnce checks that ReadMessage allocates a message
// once, at its size: a single-frame message of 1 MiB or 16 MiB costs at
// most 1.1 times its size in allocated bytes (the growth of old allocated
// 31 MiB for 16 MiB), a fragmented one at most twice (its chunks are
// pooled; the pool may be emptied by a collection on the way).
func TestReadMessageAllocatesOnce(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}
	for _, tc := range []struct {
		size, frag int
		text       bool
		compressed bool
		max        float64 // allocated bytes per message byte
	}{
		{100, 0, false, false, 1.1 + 64/100.0},
		{1 << 20, 0, false, false, 1.1},
		{1 << 20, 0, true, false, 1.1},
		{16 << 20, 0, false, false, 1.1},
		{1 << 20, 64 << 10, false, false, 2.1},
		// Compressed: the payload (about a fifth of the message here) is
		// collected in pooled chunks, which a collection on the way may
		// drop and which are then made again (1.131× seen in CI).
		{1 << 20, 0, true, true, 1.25},
		{4 << 20, 64 << 10, true, true, 1.25},
	} {
		name := fmt.Sprintf("%d bytes in frames of %d, text %v, compressed %v", tc.size, tc.frag, tc.text, tc.compressed)
		t.Run(name, func(t *testing.T) {
			var edit func(*connConfig)
			if tc.compressed {
				edit = withDeflate
			}
			c, peer := pipeClient(t, edit)
			msg := words(1, tc.size)
			op := opBinary
			if tc.text {
				op = opText
			}
			payload := msg
			if tc.compressed {
				payload = deflated(t, msg)
			}
			wire := messageFrames(op, payload, tc.frag, tc.compressed)
			// Many runs of a small message: TotalAlloc counts the other
			// goroutines of the process too.
			runs := min(max(8, (8<<20)/tc.size), 2000)
			sent := feed(peer, wire, runs+1)
			if _, got, err := c.ReadMessage(); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("warm-up read: %v, %d bytes", err, len(got))
			}
			var got []byte
			alloc0 := totalAlloc()
			for range runs {
				var err error
				if _, got, err = c.ReadMessage(); err != nil {
					t.Fatal(err)
				}
			}
			per := float64(totalAlloc()-alloc0) / float64(runs)
			if !bytes.Equal(got, msg) {
				t.Fatal("message damaged")
			}
			if err := <-sent; err != nil {
				t.Fatal(err)
			}
			t.Logf("%.0f bytes allocated per message of %d (%.3f×), cap %d", per, tc.size, per/float64(tc.size), cap(got))
			if per > tc.max*float64(tc.size) {
				t.Errorf("allocated %.0f bytes per message of %d, want at most %.2f×", per, tc.size, tc.max)
			}
			if float64(cap(got)) > 1.01*float64(len(got))+64 {
				t.Errorf("returned a slice of cap %d for %d bytes", cap(got), len(got))
			}
		})
	}
}

// TestWholeReadResumesAcrossTimeouts sends messages a few bytes at a time
// with read deadlines expiring in between: every whole-message read must
// resume and return each message intact, whichever path its bytes took
// (straight in, chunks, an exact slice, compressed chunks, a measured
// inflate).
func TestWholeReadResumesAcrossTimeouts(t *testing.T) {
	for _, tc := range []struct {
		size, frag int
		compressed bool
		append     bool
	}{
		{300 << 10, 0, false, false},
		{300 << 10, 0, false, true},
		{300 << 10, 20 << 10, false, false},
		{300 << 10, 20 << 10, false, true},
		// Past probeAfter: measured, then inflated again.
		{1 << 20, 128 << 10, true, false},
		{1 << 20, 128 << 10, true, true},
	} {
		name := fmt.Sprintf("%d bytes in frames of %d, compressed %v, append %v", tc.size, tc.frag, tc.compressed, tc.append)
		t.Run(name, func(t *testing.T) {
			var edit func(*connConfig)
			if tc.compressed {
				edit = withDeflate
			}
			c, peer := pipeClient(t, edit)
			msg := words(2, tc.size)
			payload := msg
			if tc.compressed {
				payload = deflated(t, msg)
			}
			wire := messageFrames(opText, payload, tc.frag, tc.compressed)
			// Pieces of the wire, each followed by a read that times out.
			var pieces [][]byte
			for len(wire) > 0 {
				n := min(len(wire), 1+len(wire)/7)
				pieces = append(pieces, wire[:n])
				wire = wire[n:]
			}
			// The peer writes a piece each time the reader asks, and the
			// reader reads until a short deadline, so that each read
			// stops somewhere inside the message.
			next := make(chan struct{}, len(pieces))
			sent := make(chan error, 1)
			go func() {
				for _, p := range pieces {
					<-next
					if _, err := peer.Write(p); err != nil {
						sent <- err
						return
					}
				}
				sent <- nil
			}()
			var got []byte
			timeouts := 0
			for i := range pieces {
				next <- struct{}{}
				if i == len(pieces)-1 {
					c.SetReadDeadline(time.Time{})
				} else {
					c.SetReadDeadline(time.Now().Add(5 * time.Millisecond))
				}
				var err error
				if tc.append {
					_, got, err = c.AppendMessage(got)
				} else {
					_, got, err = c.ReadMessage()
				}
				if i < len(pieces)-1 {
					if !isTimeout(err) {
						t.Fatalf("piece %d: %v, want a timeout", i, err)
					}
					timeouts++
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := <-sent; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, msg) {
				t.Fatalf("got %d bytes, want the %d sent", len(got), len(msg))
			}
			if timeouts == 0 {
				t.Fatal("no read timed out")
			}
		})
	}
}

// TestAnnouncedFramesCommitLittle has 1,000 connections each read a frame
// that announces 16 MiB and brings one byte: each may hold what
// readwhole.go documents for one byte received, a chunk of chunkMin and its
// read buffer, not the announced length (the old growth took 1 MiB each).
func TestAnnouncedFramesCommitLittle(t *testing.T) {
	const n = 1000
	held := func(announce bool) float64 {
		conns := make([]*Conn, n)
		peers := make([]net.Conn, n)
		results := make(chan error, n)
		// A budget too large to wait on, which counts what is taken.
		budget := NewMemoryBudget(1 << 40)
		for i := range n {
			conns[i], peers[i] = pipeClient(t, func(cfg *connConfig) { cfg.budget = budget })
			go func() {
				_, _, err := conns[i].ReadMessage()
				results <- err
			}()
		}
		runtime.GC()
		before := heapObjects()
		if announce {
			h := frameHeader{fin: true, opcode: opBinary, length: 16 << 20}
			wire := make([]byte, maxFrameHeaderSize+1)
			wire = append(wire[:putFrameHeader(wire, &h)], 'x')
			for _, p := range peers {
				if _, err := p.Write(wire); err != nil {
					t.Fatal(err)
				}
			}
			// net.Pipe's Write returns once the reader took every byte:
			// each Conn holds its byte now, or is about to take its chunk.
			// Wait until the chunks are all taken.
			for end := time.Now().Add(testTimeout); budget.InUse() < n*chunkMin; {
				if time.Now().After(end) {
					t.Fatalf("%d bytes of chunks taken, want %d", budget.InUse(), n*chunkMin)
				}
				runtime.Gosched()
			}
			if got := budget.InUse(); got != n*chunkMin {
				t.Fatalf("the connections took %d bytes, want %d", got, n*chunkMin)
			}
		}
		runtime.GC()
		after := heapObjects()
		for _, c := range conns {
			c.CloseNow()
		}
		for range n {
			if err := <-results; err == nil {
				t.Fatal("a read of an unfinished message succeeded")
			}
		}
		return float64(after-before) / n
	}
	idle := held(false)
	announced := held(true)
	t.Logf("per connection: %.0f bytes blocked idle in ReadMessage, %.0f with a 16 MiB frame announced and 1 byte received", idle, announced)
	if bound := float64(chunkMin + defaultReadBufferSize + 1024); announced-idle > bound {
		t.Errorf("a connection holds %.0f bytes more than an idle one, want at most %.0f", announced-idle, bound)
	}
}

// heapObjects returns the bytes of heap objects, live or not yet swept.
func heapObjects() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// peakHeap runs f while sampling the heap and returns the highest figure
// above the one before f, after a collection.
func peakHeap(f func()) int64 {
	runtime.GC()
	base := heapObjects()
	stop := make(chan struct{})
	done := make(chan int64)
	go func() {
		peak := base
		tick := time.NewTicker(100 * time.Microsecond)
		defer tick.Stop()
		for {
			peak = max(peak, heapObjects())
			select {
			case <-stop:
				done <- peak
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(stop)
	peak := max(<-done, heapObjects())
	return peak - base
}

// TestMessageMemoryPeak reads a message at the default read limit (16 MiB),
// plain or compressed, in one frame or in 64 KiB fragments, through each
// API, and a 1 GiB decompression bomb, and checks the heap's peak against
// the bounds of the Limits section of doc.go: 1.25 × the limit + 1 MiB.
func TestMessageMemoryPeak(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 16 MiB messages")
	}
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race: the heap's figures mean nothing")
	}
	const limit = DefaultReadLimit
	plain := words(3, limit)
	compressed := deflated(t, plain)
	bomb := deflateBomb(1 << 30)
	type api int
	const (
		readMessage api = iota
		appendMessage
		nextReader
	)
	apiNames := []string{"ReadMessage", "AppendMessage", "NextReader"}
	oneBound := int64(limit + limit/4 + 1<<20)
	for _, tc := range []struct {
		what    string
		payload []byte
		deflate bool
		frag    int
		bound   int64
	}{
		{"plain", plain, false, 0, oneBound},
		{"plain", plain, false, 64 << 10, oneBound},
		{"compressed", compressed, true, 0, oneBound},
		{"compressed", compressed, true, 64 << 10, oneBound},
		{"1 GiB bomb", bomb, true, 0, oneBound},
		{"1 GiB bomb", bomb, true, 64 << 10, oneBound},
	} {
		for _, a := range []api{readMessage, appendMessage, nextReader} {
			bound := tc.bound
			if a != readMessage && tc.what == "plain" {
				// AppendMessage into a buffer of the limit's size
				// (allocated before the measure) and NextReader hold no
				// copy.
				bound = 1 << 20
			}
			name := fmt.Sprintf("%s in frames of %d via %s", tc.what, tc.frag, apiNames[a])
			t.Run(name, func(t *testing.T) {
				var edit func(*connConfig)
				if tc.deflate {
					edit = withDeflate
				}
				c, peer := pipeClient(t, edit)
				wire := messageFrames(opText, tc.payload, tc.frag, tc.deflate)
				var buf []byte
				if a == appendMessage && tc.what == "plain" {
					buf = make([]byte, 0, limit)
				}
				var got []byte
				var err error
				peak := peakHeap(func() {
					sent := feed(peer, wire, 1)
					switch a {
					case readMessage:
						_, got, err = c.ReadMessage()
					case appendMessage:
						_, got, err = c.AppendMessage(buf)
					case nextReader:
						var r io.Reader
						if _, r, err = c.NextReader(); err == nil {
							var n int64
							n, err = io.Copy(io.Discard, r)
							got = plain[:n]
						}
					}
					if err != nil {
						c.CloseNow() // the peer may still be writing
					}
					<-sent
				})
				t.Logf("peak %.1f MiB above the start, bound %.1f MiB", float64(peak)/(1<<20), float64(bound)/(1<<20))
				if tc.what == "1 GiB bomb" {
					if !errors.Is(err, ErrReadLimit) {
						t.Fatalf("bomb read: %v, want ErrReadLimit", err)
					}
				} else if err != nil || !bytes.Equal(got, plain) {
					t.Fatalf("read: %v, %d bytes", err, len(got))
				}
				if peak > bound {
					t.Errorf("heap peaked %d bytes above the start, want at most %d", peak, bound)
				}
			})
		}
	}
	t.Run("20 bombs at once", func(t *testing.T) {
		const n = 20
		wire := messageFrames(opBinary, bomb, 0, true)
		peak := peakHeap(func() {
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for range n {
				c, peer := pipeClient(t, withDeflate)
				wg.Go(func() {
					sent := feed(peer, wire, 1)
					_, _, err := c.ReadMessage()
					c.CloseNow()
					<-sent
					errs <- err
				})
			}
			wg.Wait()
			for range n {
				if err := <-errs; !errors.Is(err, ErrReadLimit) {
					t.Errorf("bomb read: %v, want ErrReadLimit", err)
				}
			}
		})
		t.Logf("peak %.1f MiB for %d bombs", float64(peak)/(1<<20), n)
		if peak > n*oneBound {
			t.Errorf("heap peaked %d bytes above the start, want at most %d", peak, n*oneBound)
		}
	})
}

// TestReadMessageFragmentedAtLimit reads fragmented messages under
// different read limits: once an eighth of the limit has arrived, the slice
// is allocated with room for the whole limit (and returned so); without a
// limit, or below that eighth, it is allocated at the message's size; and
// AppendMessage keeps what dst held before the message.
func TestReadMessageFragmentedAtLimit(t *testing.T) {
	const size = 512 << 10
	msg := words(7, size)
	wire := messageFrames(opBinary, msg, 16<<10, false)
	for _, tc := range []struct {
		name    string
		limit   int64
		prefix  []byte
		wantCap int
	}{
		{"limit twice the message", 2 * size, nil, 2 * size},
		{"limit at the message", size, nil, size},
		{"limit 16 times the message", 16 * size, nil, size},
		{"no limit", -1, nil, size},
		{"append after a prefix", 2 * size, []byte("head"), 4 + 2*size},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, peer := pipeClient(t, func(cfg *connConfig) { cfg.readLimit = tc.limit })
			sent := feed(peer, wire, 1)
			var got []byte
			var err error
			if tc.prefix != nil {
				_, got, err = c.AppendMessage(tc.prefix[:len(tc.prefix):len(tc.prefix)])
			} else {
				_, got, err = c.ReadMessage()
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := <-sent; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, append(append([]byte(nil), tc.prefix...), msg...)) {
				t.Fatalf("read %d bytes, not the message", len(got))
			}
			// Size classes may round an exact-size slice up a little.
			if c := cap(got); c < tc.wantCap || c > tc.wantCap+tc.wantCap/8 {
				t.Errorf("capacity %d, want about %d", c, tc.wantCap)
			}
		})
	}
}
