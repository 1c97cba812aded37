package websocket

import (
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestNewHTTPServerDefaults: the server has the documented limits.
func TestNewHTTPServerDefaults(t *testing.T) {
	h := http.NotFoundHandler()
	s := NewHTTPServer(":1234", h)
	if s.Addr != ":1234" || s.Handler == nil {
		t.Fatalf("addr %q handler %v", s.Addr, s.Handler)
	}
	if s.ReadHeaderTimeout != DefaultReadHeaderTimeout || s.IdleTimeout != DefaultIdleTimeout || s.MaxHeaderBytes != DefaultMaxHeaderBytes {
		t.Fatalf("ReadHeaderTimeout %v IdleTimeout %v MaxHeaderBytes %d", s.ReadHeaderTimeout, s.IdleTimeout, s.MaxHeaderBytes)
	}
	if s.ReadTimeout != 0 || s.WriteTimeout != 0 {
		t.Fatal("ReadTimeout or WriteTimeout set: they would cut other handlers' long responses")
	}
}

// TestNewHTTPServerSlowloris: 1,000 clients that trickle the bytes of a
// header that never ends are all cut off by the server NewHTTPServer
// returns, within its ReadHeaderTimeout (shortened here) of their
// connecting, plus scheduling slack on a loaded machine; none reaches the
// handler.
func TestNewHTTPServerSlowloris(t *testing.T) {
	const (
		clients = 1000
		bound   = time.Second
		slack   = 2 * time.Second
	)
	var handled atomic.Int32
	srv := NewHTTPServer("", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handled.Add(1)
	}))
	srv.ReadHeaderTimeout = bound
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Close()
		<-served
	})

	type client struct {
		conn  net.Conn
		start time.Time
		ended chan time.Time
	}
	cs := make([]*client, 0, clients)
	t.Cleanup(func() {
		for _, c := range cs {
			c.conn.Close()
		}
	})
	for range clients {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("dial %d: %v", len(cs), err)
		}
		c := &client{conn: conn, start: time.Now(), ended: make(chan time.Time, 1)}
		cs = append(cs, c)
		conn.SetDeadline(time.Now().Add(bound + slack + testTimeout))
		if _, err := io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
			t.Fatal(err)
		}
		go func() {
			io.Copy(io.Discard, conn) // until the server hangs up
			c.ended <- time.Now()
		}()
	}
	// The trickle: one more header byte per client every 100 ms, until
	// every client is cut off (pacing, not synchronisation).
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	ends := make([]time.Time, clients)
	left := clients
	timeout := time.After(bound + slack + testTimeout)
	for left > 0 {
		select {
		case <-tick.C:
			for i, c := range cs {
				if ends[i].IsZero() {
					c.conn.Write([]byte{'a'}) // fails once cut off: fine
				}
			}
		case <-timeout:
			t.Fatalf("%d of %d slow clients still connected", left, clients)
		}
		for i, c := range cs {
			if !ends[i].IsZero() {
				continue
			}
			select {
			case ends[i] = <-c.ended:
				left--
			default:
			}
		}
	}
	var longest time.Duration
	for i, c := range cs {
		took := ends[i].Sub(c.start)
		longest = max(longest, took)
		if took < bound/2 {
			t.Errorf("client %d cut after %v, before the %v bound", i, took, bound)
		}
	}
	t.Logf("%d slow clients all cut; the longest held on for %v (ReadHeaderTimeout %v)", clients, longest, bound)
	if longest > bound+slack {
		t.Errorf("a slow client held on for %v, bound %v", longest, bound)
	}
	if n := handled.Load(); n != 0 {
		t.Errorf("%d requests reached the handler", n)
	}
}
