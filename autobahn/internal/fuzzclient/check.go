package fuzzclient

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/autobahn/internal/rawpeer"
)

// fakeFuzzer plays the fuzzing server's protocol with a raw peer: it
// reports a case count, sends each case a text and a binary message and
// checks their echoes, and records what was asked of it.
type fakeFuzzer struct {
	count int

	mu      sync.Mutex
	log     []string // requests, in order
	offers  []string // Sec-WebSocket-Extensions of each request
	echoErr []error  // wrong echoes
}

func (f *fakeFuzzer) serve(ln net.Listener) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for range f.count + 2 { // getCaseCount, the cases at most, updateReports
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		wg.Go(func() {
			defer nc.Close()
			_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
			if err := f.handle(nc); err != nil {
				f.mu.Lock()
				f.echoErr = append(f.echoErr, err)
				f.mu.Unlock()
			}
		})
	}
}

func (f *fakeFuzzer) handle(nc net.Conn) error {
	c, req, err := rawpeer.Accept(nc)
	if err != nil {
		return err
	}
	f.mu.Lock()
	f.log = append(f.log, req.URL.RequestURI())
	f.offers = append(f.offers, req.Header.Get("Sec-WebSocket-Extensions"))
	f.mu.Unlock()
	switch req.URL.Path {
	case "/getCaseCount":
		if err := c.WriteFrame(rawpeer.OpText, fmt.Append(nil, f.count)); err != nil {
			return err
		}
	case "/runCase":
		n := req.URL.Query().Get("case")
		for _, m := range []struct {
			op byte
			p  []byte
		}{{rawpeer.OpText, []byte("case " + n + " κόσμε")}, {rawpeer.OpBinary, []byte{0, 0xff, byte(len(n))}}} {
			if err := c.WriteFrame(m.op, m.p); err != nil {
				return err
			}
			op, p, err := c.ReadFrame()
			if err != nil {
				return err
			}
			if op != m.op || !bytes.Equal(p, m.p) {
				return fmt.Errorf("case %s: echo of opcode %d %q came back as opcode %d %q", n, m.op, m.p, op, p)
			}
		}
	}
	// The server closes; the client answers with the same code.
	if err := c.WriteClose(1000, ""); err != nil {
		return err
	}
	op, p, err := c.ReadFrame()
	if err != nil || op != rawpeer.OpClose || rawpeer.CloseCode(p) != 1000 {
		return fmt.Errorf("%s: close answered with opcode %d %x, %v", req.URL.Path, op, p, err)
	}
	return nil
}

// Check runs a client program's Peer, as newPeer makes it, against a fake
// fuzzing server, with and without compression, and without a server.
func Check(t *testing.T, newPeer func(compress bool) Peer) {
	for _, compress := range []bool{true, false} {
		t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) { checkRun(t, newPeer(compress), compress) })
	}
	t.Run("no server", func(t *testing.T) { checkNoServer(t, newPeer(true)) })
}

func checkRun(t *testing.T, p Peer, compress bool) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f := &fakeFuzzer{count: 4}
	served := make(chan struct{})
	go func() { defer close(served); f.serve(ln) }()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	cfg := Config{URL: "ws://" + ln.Addr().String(), Agent: "tester", Cases: "2-3,1,3", Compress: compress, CaseTimeout: 10 * time.Second, Verbose: true}
	if err := Run(ctx, cfg, p, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	ln.Close()
	<-served

	want := []string{
		"/getCaseCount",
		"/runCase?agent=tester&case=2",
		"/runCase?agent=tester&case=3",
		"/runCase?agent=tester&case=1",
		"/updateReports?agent=tester",
	}
	if !slices.Equal(f.log, want) {
		t.Errorf("requests %q, want %q", f.log, want)
	}
	// The fake server declines the offer, which RFC 7692 §5 allows: the
	// cases then run uncompressed.
	for i, o := range f.offers {
		if got := strings.HasPrefix(o, "permessage-deflate"); got != compress {
			t.Errorf("request %d offered %q with compress=%v", i, o, compress)
		}
	}
	for _, err := range f.echoErr {
		t.Error(err)
	}
	for _, line := range []string{"4 cases on the server, running 3", "case 2: closed by the server with 1000", "reports updated"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("output lacks %q:\n%s", line, out.String())
		}
	}
}

func checkNoServer(t *testing.T, p Peer) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Run(ctx, Config{URL: "ws://" + addr, Agent: "x", CaseTimeout: time.Second}, p, &bytes.Buffer{}); err == nil {
		t.Fatal("run succeeded without a server")
	}
}
