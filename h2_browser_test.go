package websocket

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/wstest"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// requireChromium returns the browser's path, or skips the test when it is
// missing, unless WEBSOCKET_INTEROP_REQUIRED=1 (as in .ci/run) makes that
// a failure.
func requireChromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("%s is missing (apt-get install chromium): %v", chromiumPath, err)
		if os.Getenv("WEBSOCKET_INTEROP_REQUIRED") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return chromiumPath
}

// browserPage opens a WebSocket to /ws on its own origin, sends a message,
// answers the server's message, and posts what happened to /result.
const browserPage = `<!doctype html>
<title>WebSocket over HTTP/2</title>
<script>
const report = (r) => fetch("/result", {method: "POST", body: JSON.stringify(r)});
const r = {received: []};
const ws = new WebSocket("wss://" + location.host + "/ws", ["chat"]);
ws.onopen = () => { r.protocol = ws.protocol; ws.send("hello from the browser"); };
ws.onmessage = (e) => { r.received.push(e.data); ws.send("echo: " + e.data); };
ws.onerror = () => { r.error = true; };
ws.onclose = (e) => { r.code = e.code; r.reason = e.reason; r.clean = e.wasClean; report(r); };
</script>`

// testLogWriter writes a logger's lines to the test's log.
type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// browserResult is what the page posts.
type browserResult struct {
	Protocol string   `json:"protocol"`
	Received []string `json:"received"`
	Error    bool     `json:"error"`
	Code     int      `json:"code"`
	Reason   string   `json:"reason"`
	Clean    bool     `json:"clean"`
}

// TestHTTP2Browser has headless Chromium load a page over HTTPS and HTTP/2
// from our server and open a WebSocket, which must come as an extended
// CONNECT on the page's own HTTP/2 connection; then they exchange messages
// and the server closes.
func TestHTTP2Browser(t *testing.T) {
	browser := requireChromium(t)

	type wsSeen struct {
		req        h2Request
		remoteAddr string
		first      string // the browser's first message
		answer     string // its answer to ours
		closeErr   error
	}
	var mu sync.Mutex
	var pageAddr string
	seen := make(chan wsSeen, 1)
	results := make(chan browserResult, 1)
	var handlers sync.WaitGroup

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		pageAddr = r.RemoteAddr
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, browserPage)
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		s := wsSeen{req: h2Request{r.Method, r.ProtoMajor, r.Header.Get(":protocol")}, remoteAddr: r.RemoteAddr}
		defer func() { seen <- s }()
		c, err := (&Upgrader{Subprotocols: []string{"chat"}}).Upgrade(w, r, nil)
		if err != nil {
			s.closeErr = err
			return
		}
		defer c.CloseNow()
		c.SetReadDeadline(time.Now().Add(testTimeout))
		_, msg, err := c.ReadMessage()
		if err != nil {
			s.closeErr = err
			return
		}
		s.first = string(msg)
		if err := c.WriteMessage(TextMessage, []byte("hello from Go")); err != nil {
			s.closeErr = err
			return
		}
		_, msg, err = c.ReadMessage()
		if err != nil {
			s.closeErr = err
			return
		}
		s.answer = string(msg)
		s.closeErr = c.CloseWithStatus(StatusNormalClosure, "done")
	})
	mux.HandleFunc("POST /result", func(w http.ResponseWriter, r *http.Request) {
		var res browserResult
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&res); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case results <- res:
		default:
		}
	})
	mux.HandleFunc("/favicon.ico", http.NotFound)
	srv := wstest.H2Server(t, mux, func(s *http.Server) {
		// Chromium opens and drops spare connections; keep the server's
		// complaints about them in the test's log.
		s.ErrorLog = log.New(testLogWriter{t}, "server: ", 0)
	})
	t.Cleanup(handlers.Wait)

	ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-quic", "--ignore-certificate-errors",
		"--user-data-dir="+t.TempDir(),
		srv.URL+"/")
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", browser, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("chromium's stderr:\n%s", stderr.Bytes())
		}
	}()

	var res browserResult
	select {
	case res = <-results:
	case err := <-exited:
		exited <- err
		t.Fatalf("chromium exited before reporting: %v", err)
	case <-ctx.Done():
		t.Fatal("no report from the page")
	}
	s := <-seen

	if !s.req.isWebSocketOverHTTP2() {
		t.Errorf("the WebSocket request came as %+v, want an extended CONNECT over HTTP/2", s.req)
	}
	mu.Lock()
	if s.remoteAddr != pageAddr {
		t.Errorf("the WebSocket came from %s, the page's request from %s: not one HTTP/2 connection", s.remoteAddr, pageAddr)
	}
	mu.Unlock()
	if s.first != "hello from the browser" || s.answer != "echo: hello from Go" || s.closeErr != nil {
		t.Errorf("server side: first %q, answer %q, close %v", s.first, s.answer, s.closeErr)
	}
	if res.Error || res.Protocol != "chat" || len(res.Received) != 1 || res.Received[0] != "hello from Go" ||
		res.Code != int(StatusNormalClosure) || res.Reason != "done" || !res.Clean {
		t.Errorf("browser side: %+v", res)
	}
}
