//go:build !js

package interop

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
)

// browserTimeout bounds the whole browser exchange.
const browserTimeout = 20 * time.Second

// echoResult is the page's report on one echoed message.
type echoResult struct {
	Type   string `json:"type"`
	Length int    `json:"length"`
	Same   bool   `json:"same"`
}

// closeResult is the page's report of a CloseEvent.
type closeResult struct {
	Code     int    `json:"code"`
	Reason   string `json:"reason"`
	WasClean bool   `json:"wasClean"`
}

// browserResults is what testdata/browser.html POSTs to /results.
type browserResults struct {
	Error       string      `json:"error"`
	Protocol    string      `json:"protocol"`
	Extensions  string      `json:"extensions"`
	Text        echoResult  `json:"text"`
	Binary      echoResult  `json:"binary"`
	BigBinary   echoResult  `json:"bigBinary"`
	BigText     echoResult  `json:"bigText"`
	OurClose    closeResult `json:"ourClose"`
	ServerClose closeResult `json:"serverClose"`
}

// TestChromium has headless Chromium run testdata/browser.html against our
// Upgrader: text, binary and 1 MiB messages echoed with permessage-deflate
// negotiated (the browser's offer and our answer both checked, and the
// server's socket byte counts showing compression), a close with 4000 and a
// reason from the page, and one from the server.
func TestChromium(t *testing.T) {
	chromium := requireChromium(t)

	u := &websocket.Upgrader{
		Subprotocols: serverProtocols,
		Compression:  websocket.CompressionOptions{Mode: websocket.CompressionContextTakeover},
	}
	offered := make(chan string, 2)  // Sec-WebSocket-Extensions of each handshake
	pageClose := make(chan error, 1) // what our read returned when the page closed
	results := make(chan []byte, 1)  // the page's report
	// The WebSocket handlers may still run when the test fails early; they
	// end once the browser is killed, and the test waits for them.
	var handlers sync.WaitGroup
	t.Cleanup(handlers.Wait)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, "testdata/browser.html")
	})
	mux.HandleFunc("GET /ws/echo", func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		trySend(offered, r.Header.Get("Sec-WebSocket-Extensions"))
		conn, err := u.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		defer conn.CloseNow()
		for {
			typ, data, err := conn.ReadMessage()
			if err != nil {
				trySend(pageClose, err)
				return
			}
			if err := conn.WriteMessage(typ, data); err != nil {
				trySend(pageClose, err)
				return
			}
		}
	})
	mux.HandleFunc("GET /ws/close", func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		trySend(offered, r.Header.Get("Sec-WebSocket-Extensions"))
		conn, err := u.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		defer conn.CloseNow()
		if _, _, err := conn.ReadMessage(); err != nil {
			t.Errorf("/ws/close read: %v", err)
			return
		}
		if err := conn.CloseWithStatus(4000, "server: done"); err != nil {
			t.Errorf("/ws/close CloseWithStatus: %v", err)
		}
	})
	mux.HandleFunc("POST /results", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			t.Errorf("reading the results: %v", err)
			return
		}
		select {
		case results <- body:
		default:
		}
	})
	srv := httptest.NewUnstartedServer(mux)
	counted := &countingListener{Listener: srv.Listener}
	srv.Listener = counted
	srv.Start()
	t.Cleanup(srv.Close)

	startChromium(t, chromium, srv.URL+"/")

	var raw []byte
	select {
	case raw = <-results:
	case <-time.After(browserTimeout):
		t.Fatalf("the page reported nothing within %v", browserTimeout)
	}
	var res browserResults
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("results %q: %v", raw, err)
	}
	if res.Error != "" {
		t.Fatalf("the page failed: %s", res.Error)
	}
	t.Logf("page results: %s", raw)

	// Negotiation.
	offer := <-offered
	if !strings.Contains(offer, "permessage-deflate") {
		t.Errorf("the browser offered Sec-WebSocket-Extensions %q, want permessage-deflate", offer)
	}
	if !strings.HasPrefix(res.Extensions, "permessage-deflate") {
		t.Errorf("the page's WebSocket.extensions = %q, want permessage-deflate accepted", res.Extensions)
	}
	if res.Protocol != "chat.v2" {
		t.Errorf("the page's WebSocket.protocol = %q, want chat.v2", res.Protocol)
	}

	// Messages.
	for name, got := range map[string]struct {
		res    echoResult
		typ    string
		length int
	}{
		"text":         {res.Text, "string", 13},
		"binary":       {res.Binary, "binary", 1000},
		"1 MiB binary": {res.BigBinary, "binary", 1 << 20},
		"1 MiB text":   {res.BigText, "string", 1 << 20},
	} {
		if !got.res.Same || got.res.Type != got.typ || got.res.Length != got.length {
			t.Errorf("%s echo: the page saw %+v, want a %s of %d bytes equal to what it sent", name, got.res, got.typ, got.length)
		}
	}

	// The page's close: our read returns its code and reason, and the page
	// sees the handshake complete with our echo of the code.
	select {
	case err := <-pageClose:
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != 4000 || ce.Reason != "browser: done" {
			t.Errorf("our read after the page's close returned %v, want close 4000 \"browser: done\"", err)
		}
	case <-time.After(browserTimeout):
		t.Errorf("our echo handler never saw the page's close")
	}
	if res.OurClose.Code != 4000 || !res.OurClose.WasClean {
		t.Errorf("the page's own close ended with %+v, want a clean 4000", res.OurClose)
	}
	// Our close: the page sees our code and reason, cleanly.
	if want := (closeResult{4000, "server: done", true}); res.ServerClose != want {
		t.Errorf("the page saw our close as %+v, want %+v", res.ServerClose, want)
	}
	// Compression at work: 2 MiB of patterned payload went each way, and
	// the server's sockets moved a small fraction of that.
	read, written := counted.read.Load(), counted.written.Load()
	if read > 256<<10 || written > 256<<10 {
		t.Errorf("the server's sockets read %d and wrote %d bytes for over 2 MiB each way: not compressed", read, written)
	}
	t.Logf("interop chromium: offered %q, accepted %q; text, binary, 1 MiB binary, 1 MiB text echoed (server sockets read %d B, wrote %d B); close 4000 both ways", offer, res.Extensions, read, written)
}

// startChromium runs headless Chromium on url in a process group of its own,
// with a fresh profile; the group is killed and the browser waited for when
// t ends.
func startChromium(t *testing.T, chromium, url string) {
	t.Helper()
	cmd := exec.Command(chromium,
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-quic",
		"--user-data-dir="+t.TempDir(),
		url)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logs := newLineLog()
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		// The renderer, GPU and utility processes share the group.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		if t.Failed() {
			t.Logf("chromium output:\n%s", logs)
		}
	})
}

// trySend sends v on ch unless ch is full: a handler never blocks on a
// test that stopped listening.
func trySend[T any](ch chan T, v T) {
	select {
	case ch <- v:
	default:
	}
}

// countingListener counts the bytes its connections read and write.
type countingListener struct {
	net.Listener
	read, written atomic.Int64
}

// Accept wraps each connection to count its bytes.
func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, l: l}, nil
}

// countingConn adds its traffic to its listener's totals.
type countingConn struct {
	net.Conn
	l *countingListener
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.read.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.l.written.Add(int64(n))
	return n, err
}
