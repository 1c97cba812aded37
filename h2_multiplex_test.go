package websocket

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rfc6455/websocket/internal/wstest"
)

// TestHTTP2Multiplexing opens several WebSockets and ordinary requests at
// once through one HTTP/2 transport, and checks that they all share one
// TCP connection and keep their streams apart.
func TestHTTP2Multiplexing(t *testing.T) {
	const sockets, messages, pages = 5, 20, 10
	var newConns atomic.Int32
	var mu sync.Mutex
	var wsRequests, pageRequests []h2Request
	var handlers sync.WaitGroup
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		mu.Lock()
		wsRequests = append(wsRequests, h2Request{r.Method, r.ProtoMajor, r.Header.Get(":protocol")})
		mu.Unlock()
		c, err := (&Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		echoMessages(c)
	})
	mux.HandleFunc("GET /page/{n}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		pageRequests = append(pageRequests, h2Request{r.Method, r.ProtoMajor, ""})
		mu.Unlock()
		fmt.Fprintf(w, "page %s", r.PathValue("n"))
	})
	srv := wstest.H2Server(t, mux, func(s *http.Server) {
		s.ConnState = func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				newConns.Add(1)
			}
		}
	})
	t.Cleanup(handlers.Wait) // after the sockets' cleanups, before the server's

	ct := newCountingTransport(wstest.TLSConfigFor(srv))
	//lint:ignore SA1019 x/net's transport: net/http's of Go 1.26 cannot send an extended CONNECT.
	t.Cleanup(ct.CloseIdleConnections)
	client := &http.Client{Transport: ct.Transport}
	d := &Dialer{HandshakeTimeout: testTimeout, TLSClientConfig: wstest.TLSConfigFor(srv), HTTP2Transport: ct.Transport}
	wsURL := "wss" + strings.TrimPrefix(srv.URL, "https") + "/ws"

	get := func(n int) error {
		resp, err := client.Get(fmt.Sprintf("%s/page/%d", srv.URL, n))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.ProtoMajor != 2 || string(body) != fmt.Sprintf("page %d", n) {
			return fmt.Errorf("GET page %d: %s %q", n, resp.Proto, body)
		}
		return nil
	}
	if err := get(0); err != nil {
		t.Fatal(err)
	}

	// Open every socket before any exchange, so that they are all open at
	// once.
	conns := make([]*Conn, sockets)
	for i := range conns {
		conns[i], _ = dialWith(t, d, wsURL)
	}
	errs := make(chan error, sockets+pages)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			for m := range messages {
				want := fmt.Sprintf("socket %d message %d %s", i, m, strings.Repeat("x", 100*m))
				if err := c.WriteMessage(TextMessage, []byte(want)); err != nil {
					errs <- err
					return
				}
				_, got, err := c.ReadMessage()
				if err != nil {
					errs <- err
					return
				}
				if string(got) != want {
					errs <- fmt.Errorf("socket %d got %.30q…, want %.30q…", i, got, want)
					return
				}
			}
		})
	}
	for n := 1; n <= pages; n++ {
		wg.Go(func() {
			if err := get(n); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	for i, c := range conns {
		if c.LocalAddr().String() != conns[0].LocalAddr().String() {
			t.Errorf("socket %d runs from %v, socket 0 from %v", i, c.LocalAddr(), conns[0].LocalAddr())
		}
		if err := c.Close(); err != nil {
			t.Errorf("socket %d: Close: %v", i, err)
		}
	}
	// The connection outlives its WebSockets.
	if err := get(pages + 1); err != nil {
		t.Fatal(err)
	}
	if n := ct.dialCount(); n != 1 {
		t.Errorf("the transport dialed %d connections, want 1", n)
	}
	if n := newConns.Load(); n != 1 {
		t.Errorf("the server accepted %d connections, want 1", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(wsRequests) != sockets || len(pageRequests) != pages+2 {
		t.Fatalf("server saw %d WebSocket and %d page requests, want %d and %d", len(wsRequests), len(pageRequests), sockets, pages+2)
	}
	for _, r := range wsRequests {
		if !r.isWebSocketOverHTTP2() {
			t.Errorf("WebSocket request %+v, want an extended CONNECT over HTTP/2", r)
		}
	}
	for _, r := range pageRequests {
		if r.protoMajor != 2 {
			t.Errorf("page request over HTTP/%d", r.protoMajor)
		}
	}
}
