package main

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rfc6455/websocket"
)

// serve accepts WebSocket connections on o.listen until standard input or
// ctx ends, sending every line to every client and printing what they send.
func serve(ctx context.Context, o options, lines *lineReader, stdout, stderr *printer) error {
	up := &websocket.Upgrader{
		Subprotocols: o.subprotocols,
		// A debugging tool accepts pages of any origin; a real server keeps
		// the default same-origin check (RFC 6455 §10.2).
		CheckOrigin:  func(*http.Request) bool { return true },
		ReadLimit:    o.readLimit,
		PingInterval: o.ping,
	}
	if o.compress {
		up.Compression = compression
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	stderr.printf("listening on ws://%s/\n", ln.Addr())
	screen := stdout.screen
	defer screen.hide()
	screen.show()

	clients := &clientSet{conns: make(map[*websocket.Conn]struct{})}
	srv := websocket.NewHTTPServer("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			stderr.printf("%s refused: %v\n", r.RemoteAddr, err)
			return
		}
		if !clients.add(conn) {
			conn.CloseWithStatus(websocket.StatusGoingAway, "going away")
			return
		}
		defer clients.remove(conn)
		stderr.printf("%s connected%s\n", r.RemoteAddr, describeConn(conn))
		err = copyMessages(conn, stdout, nil)
		stderr.printf("%s %s\n", r.RemoteAddr, describeEnd(err))
		conn.CloseNow()
	}))
	srv.ErrorLog = log.New(stderrWriter{stderr}, "", 0)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	code, reason := websocket.StatusNormalClosure, ""
loop:
	for {
		select {
		case line, ok := <-lines.lines:
			if !ok {
				screen.hide()
				if lines.err != nil {
					stderr.printf("reading standard input: %v\n", lines.err)
				}
				break loop
			}
			screen.taken()
			clients.broadcast(line, o.binary, stderr)
			screen.show()
		case err := <-served:
			screen.hide()
			clients.closeAll(websocket.StatusInternalError, "server failed")
			return err
		case <-ctx.Done():
			screen.hide()
			code, reason = websocket.StatusGoingAway, "going away"
			break loop
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx) // the WebSocket connections were hijacked: not its business
	clients.closeAll(code, reason)
	<-served
	return err
}

// clientSet is the connections of a serving wscat.
type clientSet struct {
	mu     sync.Mutex
	conns  map[*websocket.Conn]struct{}
	closed bool
	active sync.WaitGroup // handlers between add and remove
}

// add registers conn, unless the set is closing.
func (s *clientSet) add(conn *websocket.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[conn] = struct{}{}
	s.active.Add(1)
	return true
}

func (s *clientSet) remove(conn *websocket.Conn) {
	s.mu.Lock()
	delete(s.conns, conn)
	s.mu.Unlock()
	s.active.Done()
}

func (s *clientSet) snapshot() []*websocket.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	conns := make([]*websocket.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	return conns
}

// broadcast sends line to every client. A client that cannot take it is
// reported and left to its own reader to notice the end.
func (s *clientSet) broadcast(line []byte, binary bool, stderr *printer) {
	for _, c := range s.snapshot() {
		if err := sendLine(c, line, binary); err != nil {
			stderr.printf("%s: %v\n", c.RemoteAddr(), err)
			if errors.Is(err, errNotUTF8) {
				return
			}
		}
	}
}

// closeAll refuses new clients, sends every client a close frame with code
// and reason, and waits for their handlers, which print what the clients
// send until their close frames arrive. After closeWait, the clients that
// have not answered are cut off.
func (s *clientSet) closeAll(code websocket.StatusCode, reason string) {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	payload := websocket.FormatCloseMessage(code, reason)
	deadline := time.Now().Add(closeWait)
	for _, c := range s.snapshot() {
		c.WriteControl(websocket.CloseMessage, payload, deadline)
	}
	done := make(chan struct{})
	go func() {
		s.active.Wait()
		close(done)
	}()
	timer := time.NewTimer(closeWait)
	defer timer.Stop()
	select {
	case <-done:
		return
	case <-timer.C:
	}
	for _, c := range s.snapshot() {
		c.CloseNow()
	}
	<-done
}

// stderrWriter lets the HTTP server's log share the status printer.
type stderrWriter struct{ p *printer }

func (w stderrWriter) Write(b []byte) (int, error) {
	w.p.printf("%s", b)
	return len(b), nil
}
