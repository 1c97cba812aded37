package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
	"time"

	"github.com/rfc6455/websocket/bench"
)

// Environment of a server process.
const (
	libEnv       = "SCALE_LIB"       // the library: ours, gorilla, tcp
	addrEnv      = "SCALE_ADDR"      // where to listen; port 0 picks one
	reusePortEnv = "SCALE_REUSEPORT" // "1": share the port with other servers
)

// server counts the connections of one server process.
type server struct {
	lib      bench.Library
	active   atomic.Int64
	failures atomic.Int64
}

// runServer is a server process: it raises its open-file limit, listens,
// serves WebSocket connections of one library in the handler-loop pattern,
// and answers the orchestrator's commands until its standard input ends.
func runServer() {
	soft, hard := raiseFileLimit()
	s := &server{lib: bench.LibraryByName(os.Getenv(libEnv))}
	if s.lib == nil {
		serveCommands(reply{Err: "unknown library " + os.Getenv(libEnv)}, nil)
		return
	}
	var lc net.ListenConfig
	if os.Getenv(reusePortEnv) == "1" {
		lc.Control = reusePort
	}
	ln, err := lc.Listen(context.Background(), "tcp", os.Getenv(addrEnv))
	if err != nil {
		serveCommands(reply{Err: err.Error()}, nil)
		return
	}
	srv := &http.Server{
		Handler:           http.HandlerFunc(s.serveWS),
		ReadHeaderTimeout: time.Minute,
		// Accept errors (too many open files) are failures to report.
		ErrorLog: log.New(countWriter{&s.failures}, "", 0),
	}
	go srv.Serve(ln)
	serveCommands(reply{Addr: ln.Addr().String(), Soft: soft, Hard: hard}, s.command)
}

// reusePort sets SO_REUSEPORT on a listening socket, so that several
// processes accept on one port and the kernel spreads the connections
// among them by a hash of their addresses.
func reusePort(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

// countWriter counts the lines net/http logs: each is an accept or serve
// failure.
type countWriter struct{ n *atomic.Int64 }

func (w countWriter) Write(p []byte) (int, error) {
	w.n.Add(1)
	return len(p), nil
}

// serveWS upgrades and runs the echo loop inside the handler, as most
// applications do: net/http's connection goroutine is the connection's
// reader, blocked in ReadMessage while the connection is idle.
func (s *server) serveWS(w http.ResponseWriter, r *http.Request) {
	c, err := s.lib.Upgrade(w, r, bench.Options{})
	if err != nil {
		s.failures.Add(1)
		return
	}
	s.active.Add(1)
	defer s.active.Add(-1)
	defer c.Close()
	bench.Echo(c, "alloc")
}

// command answers mem (figures after garbage collection), active (the
// open connections) and profile (a heap profile to a file).
func (s *server) command(c command) reply {
	var r reply
	switch c.Op {
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
	r.Active = int(s.active.Load())
	r.Failures = int(s.failures.Load())
	return r
}

// writeHeapProfile writes the heap profile, after a collection, to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	measure()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	return nil
}
