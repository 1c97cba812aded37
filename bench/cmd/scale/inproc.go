package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/rfc6455/websocket/bench"
)

// inproc is the in-process step: the library alone, over pipes, without
// net/http's server or any file descriptor. Each connection is a server
// Conn upgraded from a request over a pipe, with a goroutine reading it in
// the echo loop; its client side is raw bytes on the pipe.
type inproc struct {
	lib     bench.Library
	mu      sync.Mutex
	pipes   []*pipe
	readers sync.WaitGroup
}

// hijacker is the http.ResponseWriter the in-process upgrade answers
// through: the pipe is its hijacked connection.
type hijacker struct {
	conn net.Conn
	h    http.Header
}

func (w *hijacker) Header() http.Header {
	if w.h == nil {
		w.h = http.Header{}
	}
	return w.h
}

func (w *hijacker) Write(p []byte) (int, error) { return 0, errRefused }
func (w *hijacker) WriteHeader(int)             {}

func (w *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	// The smallest buffers bufio allows: the upgrade drops them anyway.
	return w.conn, bufio.NewReadWriter(bufio.NewReaderSize(w.conn, 16), bufio.NewWriterSize(w.conn, 16)), nil
}

// errRefused is an upgrade answered with an HTTP error.
var errRefused = errors.New("scale: the upgrade was refused")

// upgradeRequest returns a client's handshake request of RFC 6455 §4.1.
func upgradeRequest() *http.Request {
	r, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://127.0.0.1/ws", nil)
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	return r
}

// add opens n more connections, dialWorkers at a time, and returns the
// failures.
func (s *inproc) add(n int) (int, error) {
	return openMany(n, s.open, func(p *pipe) {
		s.mu.Lock()
		s.pipes = append(s.pipes, p)
		s.mu.Unlock()
	})
}

// switching is how a server's answer to the handshake begins.
var switching = []byte("HTTP/1.1 101 ")

// open upgrades one connection over a new pipe, starts its reader, and
// checks the answer the client side got.
func (s *inproc) open() (*pipe, error) {
	p := newPipe()
	upgraded := make(chan error, 1)
	s.readers.Go(func() {
		c, err := s.lib.Upgrade(&hijacker{conn: p.server()}, upgradeRequest(), bench.Options{})
		upgraded <- err
		if err != nil {
			return
		}
		defer c.Close()
		bench.Echo(c, "alloc")
	})
	if err := <-upgraded; err != nil {
		p.server().Close()
		return nil, err
	}
	cl := p.client()
	answer, err := cl.readFull(len(switching))
	if err == nil && !bytes.Equal(answer, switching) {
		err = fmt.Errorf("scale: handshake answered %q", answer)
	}
	if err == nil {
		err = cl.skipHeader()
	}
	if err != nil {
		cl.Close()
		return nil, err
	}
	return p, nil
}

// skipHeader reads the rest of a handshake answer, to its empty line.
func (e *pipeEnd) skipHeader() error {
	var last [4]byte
	for range 4096 {
		b, err := e.readFull(1)
		if err != nil {
			return err
		}
		last = [4]byte{last[1], last[2], last[3], b[0]}
		if last == [4]byte{'\r', '\n', '\r', '\n'} {
			return nil
		}
	}
	return errors.New("scale: handshake answer too long")
}

// maskedFrame is a masked binary message of echoSize bytes, as a client
// sends it (RFC 6455 §5.2, §5.3), and echoFrame's length is the server's
// unmasked echo of it.
var maskedFrame, echoFrameLen = func() ([]byte, int) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	p := bench.Payload(bench.Binary, echoSize)
	b := append([]byte{0x82, 0x80 | echoSize}, key[:]...)
	for i, v := range p {
		b = append(b, v^key[i%4])
	}
	return b, 2 + echoSize
}()

// echo makes n of the connections active, as the client processes do, and
// returns the sorted round-trip times in microseconds and the failures.
func (s *inproc) echo(n, rounds int, interval time.Duration) ([]int64, int, error) {
	s.mu.Lock()
	active := s.pipes[:min(n, len(s.pipes))]
	s.mu.Unlock()
	return echoMany(len(active), rounds, interval, func(i int) func() error {
		cl := active[i].client()
		return func() error {
			if _, err := cl.Write(maskedFrame); err != nil {
				return err
			}
			b, err := cl.readFull(echoFrameLen)
			if err == nil && (b[0] != 0x82 || int(b[1]) != echoSize) {
				err = fmt.Errorf("scale: echo header % x", b[:2])
			}
			return err
		}
	})
}

// closeAll closes every pipe and waits for every reader to return.
func (s *inproc) closeAll() {
	s.mu.Lock()
	pipes := s.pipes
	s.pipes = nil
	s.mu.Unlock()
	for _, p := range pipes {
		p.server().Close()
	}
	s.readers.Wait()
}

// runInproc is the in-process step's process: it holds the connections of
// the library alone and plays both the server and the client for the
// orchestrator's commands.
func runInproc() {
	s := &inproc{lib: bench.LibraryByName(os.Getenv(libEnv))}
	if s.lib == nil {
		serveCommands(reply{Err: "unknown library " + os.Getenv(libEnv)}, nil)
		return
	}
	serveCommands(reply{PipeBytes: pipeBytes()}, s.command)
}

func (s *inproc) command(c command) reply {
	var r reply
	var err error
	switch c.Op {
	case "dial":
		r.Failures, err = s.add(c.N)
	case "echo":
		r.RTT, r.Failures, err = s.echo(c.N, c.Rounds, c.Interval)
	case "close":
		s.closeAll()
	case "mem":
		r.Mem = measure()
	case "active":
	case "profile":
		if err := writeHeapProfile(c.Path); err != nil {
			r.Err = err.Error()
		}
	default:
		r.Err = "unknown command " + c.Op
	}
	if err != nil {
		r.FirstEr = err.Error()
	}
	s.mu.Lock()
	r.Active = len(s.pipes)
	s.mu.Unlock()
	r.Open = r.Active
	return r
}

// pipeBytes measures what an idle pipe alone costs, so that the report can
// tell the transport from the library.
func pipeBytes() int64 {
	const n = 10000
	before := measure()
	pipes := make([]*pipe, n)
	for i := range pipes {
		pipes[i] = newPipe()
	}
	after := measure()
	runtime.KeepAlive(pipes)
	return (after.Heap - before.Heap) / n
}
