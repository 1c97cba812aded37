//go:build linux

package patterns

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rfc6455/websocket/compat/gorilla"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds the whole browser session.
const browserTimeout = 90 * time.Second

// patternsPage drives each pattern from a page: echo, chat between two
// sockets, the server's clean close, and a keepalive that must hold for
// five pongs. It posts what it saw to /result.
const patternsPage = `<!doctype html>
<meta charset="utf-8">
<title>gorilla patterns</title>
<script>
"use strict";
const base = "ws://" + location.host;
const pause = (ms) => new Promise((r) => setTimeout(r, ms));
function open(path) {
  return new Promise((resolve, reject) => {
    const w = new WebSocket(base + path);
    w.onopen = () => resolve(w);
    w.onerror = () => reject(new Error("cannot open " + path));
  });
}
function closed(w) {
  return new Promise((r) => w.addEventListener("close", (e) => r({code: e.code, reason: e.reason, clean: e.wasClean})));
}
function collect(w) {
  const lines = [];
  w.onmessage = (e) => lines.push(...String(e.data).split("\n"));
  return lines;
}
async function until(what, fn) {
  for (let i = 0; i < 1000; i++) {
    if (fn()) return;
    await pause(20);
  }
  throw new Error("timed out waiting for " + what);
}
async function echo() {
  const w = await open("/echo");
  const done = closed(w);
  const got = collect(w);
  for (const m of ["one", "two", "κόσμε"]) w.send(m);
  await until("three echoes", () => got.length === 3);
  w.close(1000);
  return {got, close: await done};
}
async function chat() {
  const a = await open("/chat"), b = await open("/chat");
  const la = collect(a), lb = collect(b);
  // The hub registers a socket just after its handshake: greet until the
  // other socket hears it.
  for (let i = 0; !lb.includes("hello " + (i - 1)) && i < 200; i++) {
    a.send("hello " + i);
    await pause(20);
  }
  a.send("from a");
  b.send("from b");
  await until("both lines on both sockets", () =>
    ["from a", "from b"].every((l) => la.includes(l) && lb.includes(l)));
  a.close(); b.close();
  return {a: la.filter((l) => l.startsWith("from")), b: lb.filter((l) => l.startsWith("from"))};
}
async function serverClose() {
  const w = await open("/close");
  return await closed(w);
}
async function keepalive() {
  const w = await open("/keepalive");
  const got = collect(w);
  await until("five pongs", () => window.pongs >= 5);
  w.send("still here");
  await until("the echo", () => got.length === 1);
  w.close();
  return got[0];
}
async function pollPongs() {
  for (;;) {
    const r = await fetch("/pongs");
    window.pongs = Number(await r.text());
    await pause(20);
  }
}
async function main() {
  pollPongs();
  return {echo: await echo(), chat: await chat(), close: await serverClose(), keepalive: await keepalive()};
}
main().then(
  (r) => fetch("/result", {method: "POST", body: JSON.stringify(r)}),
  (e) => fetch("/result", {method: "POST", body: JSON.stringify({error: String(e)})}));
</script>
`

type closeSeen struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
	Clean  bool   `json:"clean"`
}

type pageResult struct {
	Echo struct {
		Got   []string  `json:"got"`
		Close closeSeen `json:"close"`
	} `json:"echo"`
	Chat struct {
		A []string `json:"a"`
		B []string `json:"b"`
	} `json:"chat"`
	Close     closeSeen `json:"close"`
	Keepalive string    `json:"keepalive"`
	Error     string    `json:"error"`
}

// TestPatternsWithChromium runs every pattern's server side against
// headless Chromium's WebSocket.
func TestPatternsWithChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		missingPeer(t, chromiumPath, "run: apt-get install chromium")
	}
	hub := NewHub()
	go hub.Run()
	defer hub.Stop()
	var pongs atomic.Int32
	pongCh := make(chan struct{}, 1)
	ka := &Keepalive{PingPeriod: 50 * time.Millisecond, PongWait: 500 * time.Millisecond, Pongs: pongCh}
	results := make(chan pageResult, 1)
	closeCodes := make(chan int, 1)
	var handlers sync.WaitGroup

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, patternsPage)
	})
	mux.HandleFunc("GET /echo", EchoHandler)
	mux.HandleFunc("GET /chat", hub.ServeChat)
	mux.HandleFunc("GET /keepalive", func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		ka.ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /close", func(w http.ResponseWriter, r *http.Request) {
		c, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		closeCodes <- CloseCleanly(c, 4000, "bye", browserTimeout)
	})
	mux.HandleFunc("GET /pongs", func(w http.ResponseWriter, r *http.Request) {
		for {
			select {
			case <-pongCh:
				pongs.Add(1)
				continue
			default:
			}
			break
		}
		fmt.Fprint(w, pongs.Load())
	})
	mux.HandleFunc("POST /result", func(w http.ResponseWriter, r *http.Request) {
		var res pageResult
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&res); err != nil {
			res.Error = "decoding the result: " + err.Error()
		}
		select {
		case results <- res:
		default:
		}
	})
	srv := httptest.NewServer(mux) // on 127.0.0.1
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	var out cappedBuffer
	cmd := exec.Command(chromiumPath,
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-quic", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(), srv.URL+"/")
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group, so that ending it ends its helpers.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		handlers.Wait()
	}()

	var res pageResult
	select {
	case res = <-results:
	case err := <-exited:
		exited <- err
		t.Fatalf("chromium exited before the page finished (%v); its output:\n%s", err, out.String())
	case <-ctx.Done():
		t.Fatalf("no result from the page within %v; chromium's output:\n%s", browserTimeout, out.String())
	}
	require.Empty(t, res.Error, "chromium's output:\n%s", out.String())
	assert.Equal(t, []string{"one", "two", "κόσμε"}, res.Echo.Got)
	assert.Equal(t, closeSeen{1000, "", true}, res.Echo.Close)
	assert.ElementsMatch(t, []string{"from a", "from b"}, res.Chat.A)
	assert.ElementsMatch(t, []string{"from a", "from b"}, res.Chat.B)
	assert.Equal(t, closeSeen{4000, "bye", true}, res.Close, "the page saw the server's close")
	assert.Equal(t, 4000, <-closeCodes, "the browser answered the close with its code")
	assert.Equal(t, "still here", res.Keepalive)
	assert.GreaterOrEqual(t, pongs.Load(), int32(5))
}

// cappedBuffer keeps the first 64 KiB written to it, from any goroutine.
type cappedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 64<<10 - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *cappedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
