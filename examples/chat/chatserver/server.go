// Package chatserver is the chat of examples/chat: rooms, member lists and
// messages between browser pages over WebSockets, with the protocol that
// examples/chat's doc describes. It is a package of its own so that more
// than one program can serve it: examples/chat in one process, and
// examples/chat/redis, whose Bus shares the rooms between instances.
package chatserver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/rfc6455/websocket"
)

// Config describes a chat server. The zero value serves one process's users,
// without a page.
type Config struct {
	// QueueLen is how many events a client may have queued before it is
	// dropped as too slow (1 if less).
	QueueLen int
	// PingInterval is how often each client is pinged; 0 never.
	PingInterval time.Duration
	// Logf receives the server's log lines; nil discards them.
	Logf func(format string, args ...any)
	// Page, if not nil, is served at / (index.html and its files).
	Page fs.FS
	// Bus, if not nil, joins this server to every other server on the same
	// bus: rooms, member lists and messages are shared. Nil keeps the chat
	// within this process.
	Bus Bus
	// Heartbeat is how often a server on a bus tells the others who is
	// connected to it (default 1s); a server not heard from for
	// 3×Heartbeat is taken as gone and its users leave the member lists.
	Heartbeat time.Duration
}

// Server is a chat: its hub and its HTTP endpoints. Its methods may be
// called from any goroutine.
type Server struct {
	hub      *hub
	upgrader websocket.Upgrader
	page     fs.FS
	// writeTimeout bounds one write to a page. A page whose socket stays
	// full that long is gone; one that is merely slow is caught earlier by
	// its queue filling up.
	writeTimeout time.Duration
	logf         func(format string, args ...any)

	cluster     *cluster // nil without a bus
	stopCluster context.CancelFunc
	clusterDone chan struct{}
}

// New returns a chat server for cfg. With a bus it starts talking to the
// other servers at once; Shutdown stops it.
func New(cfg Config) *Server {
	logf := cfg.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	s := &Server{
		hub:  newHub(cfg.QueueLen),
		page: cfg.Page,
		upgrader: websocket.Upgrader{
			ReadLimit: MaxRequestBytes,
			// A peer has one interval to answer a ping (the default
			// PongTimeout), and any byte it sends counts as an answer.
			PingInterval: cfg.PingInterval,
			// Without context takeover: a prepared broadcast is compressed
			// without reference to earlier messages anyway, so keeping a
			// window per connection would cost memory for nothing on the
			// way out. Events under the threshold (most of them) go as
			// they are.
			Compression: websocket.CompressionOptions{Mode: websocket.CompressionNoContextTakeover},
		},
		writeTimeout: 10 * time.Second,
		logf:         logf,
	}
	if cfg.Bus != nil {
		heartbeat := cfg.Heartbeat
		if heartbeat <= 0 {
			heartbeat = time.Second
		}
		s.cluster = newCluster(s.hub, cfg.Bus, heartbeat, logf)
		ctx, cancel := context.WithCancel(context.Background())
		s.stopCluster = cancel
		s.clusterDone = make(chan struct{})
		go func() {
			defer close(s.clusterDone)
			s.cluster.run(ctx)
		}()
	}
	return s
}

// Handler returns the handler of the page (when there is one) and of the
// WebSocket endpoint, /ws.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	if s.page != nil {
		mux.Handle("GET /", http.FileServerFS(s.page))
	}
	mux.HandleFunc("GET /ws", s.serveWS)
	return mux
}

// Shutdown refuses new clients, drops every client with code and reason
// (their connections send the close frame), and leaves the bus, telling
// the other servers that this one's users are gone.
func (s *Server) Shutdown(code websocket.StatusCode, reason string) {
	s.hub.shutdown(code, reason)
	if s.stopCluster != nil {
		s.stopCluster()
	}
}

// Wait returns once every client has been released and the server has left
// the bus, or ctx's error when it ends first.
func (s *Server) Wait(ctx context.Context) error {
	err := s.hub.wait(ctx)
	if s.clusterDone != nil {
		select {
		case <-s.clusterDone:
		case <-ctx.Done():
			err = errors.Join(err, ctx.Err())
		}
	}
	return err
}

// Members returns the sorted nicknames in room, on every server of the
// bus as this one knows them.
func (s *Server) Members(room string) []string { return s.hub.members(room) }

// Serve serves the chat's page and WebSockets on ln, through
// websocket.NewHTTPServer with errorLog, until ctx ends or serving fails.
// Then it stops accepting, closes every client with 1001 (RFC 6455 §7.4.1:
// the endpoint is going away) and waits up to timeout for their closing
// handshakes.
func (s *Server) Serve(ctx context.Context, ln net.Listener, errorLog *log.Logger, timeout time.Duration) error {
	srv := websocket.NewHTTPServer("", s.Handler())
	srv.ErrorLog = errorLog
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var err error
	select {
	case err = <-served:
		served <- err
	case <-ctx.Done():
		s.logf("shutting down")
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// Shutdown stops accepting and waits for plain HTTP requests; it does
	// not track the WebSocket connections, which were hijacked: the hub
	// closes those.
	if serr := srv.Shutdown(sctx); err == nil {
		err = serr
	}
	s.Shutdown(websocket.StatusGoingAway, ReasonGoingAway)
	if werr := s.Wait(sctx); werr != nil {
		err = errors.Join(err, fmt.Errorf("waiting for clients to close: %w", werr))
	}
	if serveErr := <-served; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}
