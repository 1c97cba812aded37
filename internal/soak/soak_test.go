package soak

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/internal/leakcheck"
)

// The soak's settings. The server's limits are small so that faults end
// quickly: a 1 MiB read limit for the oversized messages, and a write
// stall timeout of 5 s for the peers that stop reading (well above the
// few hundred milliseconds a healthy reader may wait for the CPU under
// -race on a loaded machine). The timeouts grow
// with the number of connections beyond 200 (timeScale): on two cores,
// a thousand connections moving 100 MB/s leave a reader or a close
// handshake waiting for the CPU for seconds.
const (
	readLimit    = 1 << 20
	stallTimeout = 5 * time.Second
	closeTimeout = 10 * time.Second
	window       = 4 // messages a healthy client has in flight
	// waitBound bounds every wait for an outcome; reaching it fails.
	waitBound = 30 * time.Second
)

// fault is what the injector does to a connection; healthy is nothing.
type fault int

const (
	healthy   fault = iota
	fin             // close the TCP connection: FIN, no close frame
	rst             // reset it: SO_LINGER 0
	halfClose       // shut down the sending half only, keep reading
	stopRead        // stop reading while the server's echoes pile up
	violation       // a frame with a reserved opcode
	oversized       // a message over the server's read limit
	numFaults
)

var faultNames = [...]string{"healthy", "fin", "rst", "half-close", "stop-reading", "violation", "oversized"}

func (f fault) String() string { return faultNames[f] }

// sizes are the payload sizes messages are drawn from, small ones most;
// the short run stops at 16 KiB.
var sizes = []int{16, 16, 64, 200, 200, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10}

const shortSizes = 8

// outcome is how the server side of a connection ended.
type outcome struct {
	err      error
	received uint64 // messages checked and echoed
}

// soak is one run's shared state.
type soak struct {
	url       string
	timeScale time.Duration // stallTimeout, closeTimeout and waitBound are multiplied by it
	maxMsgs   int           // messages per connection: 10 to 10+maxMsgs
	sizes     int           // message sizes are drawn from sizes[:sizes]

	mu      sync.Mutex
	waiting map[string]chan outcome // connection id -> its server outcome

	checked    atomic.Int64 // messages whose sequence and checksum were verified (both ends)
	bytes      atomic.Int64
	faults     [numFaults]atomic.Int64
	mismatches atomic.Int64
	codesMu    sync.Mutex
	codes      map[string]int // server-side endings, by close code or error
	resets     atomic.Int64   // rst endings that wrap ECONNRESET or EPIPE
}

// envConfig returns the soak's duration, concurrent connections, most
// messages per connection and sizes drawn from: a short run by default,
// for go test ./... (with -race too), the environment's otherwise.
func envConfig(t *testing.T) (time.Duration, int, int, int) {
	d, conns, msgs, nsizes := 2*time.Second, 12, 40, shortSizes
	if s := os.Getenv("WEBSOCKET_SOAK"); s != "" {
		v, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("WEBSOCKET_SOAK=%q: %v", s, err)
		}
		d, conns, msgs, nsizes = v, 200, 200, len(sizes)
	}
	if s := os.Getenv("WEBSOCKET_SOAK_CONNS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			t.Fatalf("WEBSOCKET_SOAK_CONNS=%q: want a positive number", s)
		}
		conns = v
	}
	return d, conns, msgs, nsizes
}

// TestSoak runs the soak and prints its closing figures.
func TestSoak(t *testing.T) {
	duration, conns, msgs, nsizes := envConfig(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("soak: %v, %d concurrent connections, seed %d, timeouts ×%d", duration, conns, seed, max(1, conns/200))

	runtime.GC()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	goroutinesBefore := runtime.NumGoroutine()

	s := &soak{timeScale: time.Duration(max(1, conns/200)), maxMsgs: msgs, sizes: nsizes, waiting: make(map[string]chan outcome), codes: make(map[string]int)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := websocket.NewHTTPServer("", http.HandlerFunc(s.serve))
	// A starved server goroutine may take longer than the default to
	// read a handshake that has arrived whole.
	srv.ReadHeaderTimeout *= s.timeScale
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.url = "ws://" + ln.Addr().String() + "/"

	end := time.Now().Add(duration)
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for slot := range conns {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(slot)))
			for n := 0; time.Now().Before(end); n++ {
				f := healthy
				if rng.IntN(10) < 4 {
					f = fault(1 + rng.IntN(int(numFaults)-1))
				}
				id := fmt.Sprintf("%d-%d", slot, n)
				if err := s.run(id, f, rng); err != nil {
					errs <- fmt.Errorf("connection %s (%v): %w", id, f, err)
					return
				}
				s.faults[f].Add(1)
			}
		})
	}
	wg.Wait()
	srv.Close()
	<-served
	close(errs)
	failed := 0
	for err := range errs {
		if failed++; failed <= 20 {
			t.Error(err)
		}
	}

	leaked := leakcheck.Wait(waitBound)
	runtime.GC()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)

	var b strings.Builder
	fmt.Fprintf(&b, "soak figures: %v, %d concurrent connections, seed %d\n", duration, conns, seed)
	total := int64(0)
	for f := range numFaults {
		total += s.faults[f].Load()
	}
	fmt.Fprintf(&b, "  connections: %d; message checks (server and client, sequence and CRC-32): %d (%.1f MiB)\n", total, s.checked.Load(), float64(s.bytes.Load())/(1<<20))
	for f := range numFaults {
		fmt.Fprintf(&b, "  %-13s %d\n", f.String()+":", s.faults[f].Load())
	}
	s.codesMu.Lock()
	keys := make([]string, 0, len(s.codes))
	for k := range s.codes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  server ended with %-24s %d\n", k+":", s.codes[k])
	}
	s.codesMu.Unlock()
	fmt.Fprintf(&b, "  resets seen as ECONNRESET/EPIPE under the 1006: %d\n", s.resets.Load())
	fmt.Fprintf(&b, "  goroutines: %d before, %d after\n", goroutinesBefore, runtime.NumGoroutine())
	fmt.Fprintf(&b, "  heap: %.1f MiB before, %.1f MiB after; peak sys %.0f MiB\n",
		float64(before.HeapAlloc)/(1<<20), float64(after.HeapAlloc)/(1<<20), float64(after.Sys)/(1<<20))
	t.Log(b.String())

	if len(leaked) > 0 {
		t.Errorf("%d goroutines left after the soak:\n%s", len(leaked), strings.Join(leaked, "\n\n"))
	}
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 16<<20 {
		t.Errorf("heap grew by %d bytes over the soak", grew)
	}
	if s.mismatches.Load() > 0 {
		t.Errorf("%d messages out of order or corrupted", s.mismatches.Load())
	}
	if s.faults[healthy].Load() == 0 || s.checked.Load() == 0 {
		t.Error("no healthy connection ran")
	}
}

// serve is the server: it checks every message (sequence, checksum) and
// sends it back, until the connection ends, then reports how.
func (s *soak) serve(w http.ResponseWriter, r *http.Request) {
	u := websocket.Upgrader{
		ReadLimit:         readLimit,
		WriteStallTimeout: stallTimeout * s.timeScale,
		CloseTimeout:      closeTimeout * s.timeScale,
		Compression:       websocket.CompressionOptions{Mode: websocket.CompressionContextTakeover},
	}
	id := r.URL.Query().Get("id")
	c, err := u.Upgrade(w, r, nil)
	if err != nil {
		s.report(id, outcome{err: err})
		return
	}
	var o outcome
	for {
		typ, msg, err := c.ReadMessage()
		if err != nil {
			o.err = err
			break
		}
		if err := s.check(msg, o.received); err != nil {
			o.err = err
			break
		}
		o.received++
		if err := c.WriteMessage(typ, msg); err != nil {
			o.err = err
			break
		}
	}
	c.Close()
	s.report(id, o)
}

// report hands the server's outcome to the client waiting for it.
func (s *soak) report(id string, o outcome) {
	s.mu.Lock()
	ch := s.waiting[id]
	delete(s.waiting, id)
	s.mu.Unlock()
	if ch != nil {
		ch <- o
	}
}

// message builds message seq: its number, the checksum of the payload,
// and a payload of size bytes, random in its first quarter (all of it when
// random is set) and a text repeated after, so that compression has work
// to do.
func message(rng *rand.Rand, seq uint64, size int, random bool) []byte {
	m := make([]byte, 12+size)
	binary.BigEndian.PutUint64(m, seq)
	p := m[12:]
	q := size / 4
	if random {
		q = size
	}
	for i := 0; i < q; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], rng.Uint64())
		copy(p[i:q], w[:])
	}
	for i := q; i < size; i += copy(p[i:], "the quick brown fox jumps over the lazy dog ") {
	}
	binary.BigEndian.PutUint32(m[8:], crc32.ChecksumIEEE(p))
	return m
}

// check verifies that msg is message want, intact.
func (s *soak) check(msg []byte, want uint64) error {
	if len(msg) < 12 {
		s.mismatches.Add(1)
		return fmt.Errorf("a %d-byte message", len(msg))
	}
	if seq := binary.BigEndian.Uint64(msg); seq != want {
		s.mismatches.Add(1)
		return fmt.Errorf("message %d where %d was due", seq, want)
	}
	if crc32.ChecksumIEEE(msg[12:]) != binary.BigEndian.Uint32(msg[8:]) {
		s.mismatches.Add(1)
		return fmt.Errorf("message %d corrupted", want)
	}
	s.checked.Add(1)
	s.bytes.Add(int64(len(msg)))
	return nil
}

// run plays one client connection with fault f and checks how both ends
// finished.
func (s *soak) run(id string, f fault, rng *rand.Rand) error {
	ch := make(chan outcome, 1)
	s.mu.Lock()
	s.waiting[id] = ch
	s.mu.Unlock()
	// The client's stall guard waits longer than the server's, so that
	// the server's is the one that ends a stop-reading connection.
	d := websocket.Dialer{ReadLimit: 4 << 20, WriteStallTimeout: 4 * stallTimeout * s.timeScale, CloseTimeout: closeTimeout * s.timeScale}
	if rng.IntN(2) == 0 {
		d.Compression = websocket.CompressionOptions{Mode: websocket.CompressionContextTakeover}
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitBound*s.timeScale)
	c, _, err := d.Dial(ctx, s.url+"?id="+id, nil)
	cancel()
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.CloseNow()

	// The reader checks the echoes in order and frees a window slot for
	// each; it stops reading when told to (stopRead).
	slots := make(chan struct{}, window)
	stop := make(chan struct{})
	readEnd := make(chan error, 1)
	go func() {
		for seq := uint64(0); ; seq++ {
			select {
			case <-stop:
				readEnd <- nil
				return
			default:
			}
			_, msg, err := c.ReadMessage()
			if err != nil {
				readEnd <- err
				return
			}
			if err := s.check(msg, seq); err != nil {
				readEnd <- err
				return
			}
			select {
			case <-slots:
			case <-stop:
				// An echo of the flood: no slot was taken for it.
				readEnd <- nil
				return
			}
		}
	}()
	n := 10 + rng.IntN(s.maxMsgs)
	var seq uint64
	for ; seq < uint64(n); seq++ {
		select {
		case slots <- struct{}{}:
		case err := <-readEnd:
			return fmt.Errorf("read before the fault: %v", err)
		case <-time.After(waitBound * s.timeScale):
			return errors.New("echoes stopped coming")
		}
		if err := c.WriteMessage(websocket.BinaryMessage, message(rng, seq, sizes[rng.IntN(s.sizes)], false)); err != nil {
			return fmt.Errorf("write %d: %w", seq, err)
		}
	}
	// All echoes back, before faults that need a quiet connection.
	if f != rst && f != stopRead {
		for range window {
			select {
			case slots <- struct{}{}:
			case err := <-readEnd:
				return fmt.Errorf("read before the fault: %v", err)
			case <-time.After(waitBound * s.timeScale):
				return errors.New("echoes stopped coming")
			}
		}
	}

	tcp := c.UnderlyingConn().(*net.TCPConn)
	wantRead := websocket.StatusCode(0) // the close code the client's reads must end with
	var floodEnd error                  // how the stop-reading flood ended
	switch f {
	case healthy:
		if err := c.Close(); err != nil {
			return fmt.Errorf("Close: %w", err)
		}
		wantRead = websocket.StatusNormalClosure
	case fin:
		tcp.CloseWrite()
		tcp.Close()
	case rst:
		tcp.SetLinger(0)
		tcp.Close()
	case halfClose:
		tcp.CloseWrite()
		wantRead = websocket.StatusAbnormalClosure // the server hangs up on us
	case stopRead:
		close(stop)
		// Big messages, incompressible, until the server, whose echoes we
		// no longer take, stops reading them too and our writes stall in
		// turn.
		start := time.Now()
		for i := 0; i < 400; i, seq = i+1, seq+1 {
			if err := c.WriteMessage(websocket.BinaryMessage, message(rng, seq, 256<<10, true)); err != nil {
				floodEnd = fmt.Errorf("flood write %d failed after %v: %w", i, time.Since(start).Round(time.Millisecond), err)
				break
			}
		}
	case violation:
		// A masked frame with the reserved opcode 3 (RFC 6455 §5.2),
		// without the deadline the write stall guard left.
		tcp.SetWriteDeadline(time.Time{})
		if _, err := tcp.Write([]byte{0x83, 0x80, 1, 2, 3, 4}); err != nil {
			return fmt.Errorf("writing the violation: %w", err)
		}
		wantRead = websocket.StatusProtocolError
	case oversized:
		c.WriteMessage(websocket.BinaryMessage, message(rng, seq, readLimit, false))
		wantRead = websocket.StatusMessageTooBig
	}

	var o outcome
	select {
	case o = <-ch:
	case <-time.After(waitBound * s.timeScale):
		return errors.New("the server side never ended")
	}
	if err := s.judge(f, o, uint64(n)); err != nil {
		if floodEnd != nil {
			err = fmt.Errorf("%w; %w", err, floodEnd)
		}
		return err
	}
	if wantRead != 0 {
		var err error
		select {
		case err = <-readEnd:
		case <-time.After(waitBound * s.timeScale):
			return errors.New("the client's reader never ended")
		}
		if websocket.CloseStatus(err) != wantRead {
			return fmt.Errorf("client read ended with %v, want close %d", err, wantRead)
		}
	}
	c.CloseNow()
	if f == stopRead {
		<-readEnd
	}
	return nil
}

// judge checks the server's outcome against the fault and tallies it.
func (s *soak) judge(f fault, o outcome, sent uint64) error {
	label := "other: " + fmt.Sprint(o.err)
	if code := websocket.CloseStatus(o.err); code != 0 {
		label = fmt.Sprintf("close %d", code)
	}
	var ok bool
	switch f {
	case healthy:
		ok = websocket.CloseStatus(o.err) == websocket.StatusNormalClosure && o.received == sent
	case fin, halfClose:
		ok = websocket.CloseStatus(o.err) == websocket.StatusAbnormalClosure && errors.Is(o.err, io.ErrUnexpectedEOF)
	case rst:
		ok = websocket.CloseStatus(o.err) == websocket.StatusAbnormalClosure
		if errors.Is(o.err, syscall.ECONNRESET) || errors.Is(o.err, syscall.EPIPE) {
			s.resets.Add(1)
		}
	case stopRead:
		ok = errors.Is(o.err, websocket.ErrWriteStalled)
	case violation:
		ok = errors.Is(o.err, websocket.ErrProtocol)
	case oversized:
		ok = errors.Is(o.err, websocket.ErrReadLimit)
	}
	switch {
	case errors.Is(o.err, websocket.ErrWriteStalled):
		label = "write stalled"
	case errors.Is(o.err, websocket.ErrProtocol):
		label = "1002 sent (protocol error)"
	case errors.Is(o.err, websocket.ErrReadLimit):
		label = "1009 sent (read limit)"
	}
	s.codesMu.Lock()
	s.codes[label]++
	s.codesMu.Unlock()
	if !ok {
		return fmt.Errorf("server ended with %v (after %d of %d messages)", o.err, o.received, sent)
	}
	return nil
}
