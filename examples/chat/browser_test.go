//go:build linux

package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// interopRequiredEnv, set to 1 (as .ci/run does), turns a missing browser
// from a skip into a failure.
const interopRequiredEnv = "WEBSOCKET_INTEROP_REQUIRED"

// browserTimeout bounds the whole browser session: start, two logins, two
// messages.
const browserTimeout = 90 * time.Second

// twoPagesHTML shows the chat page twice, side by side, as two users would,
// and drives both through their forms as a person would type and click:
// ann and bo join the room "lobby", each says something, and each page must
// display the other's line. It posts what each page displayed to /result.
const twoPagesHTML = `<!doctype html>
<meta charset="utf-8">
<title>two pages</title>
<iframe id="ann" src="/" width="700" height="400"></iframe>
<iframe id="bo" src="/" width="700" height="400"></iframe>
<script>
"use strict";
const pause = () => new Promise((r) => setTimeout(r, 20));
async function waitFor(what, fn) {
  for (const end = Date.now() + 30000; Date.now() < end; await pause()) {
    const v = fn();
    if (v) return v;
  }
  throw new Error("timed out waiting for " + what);
}
const doc = (id) => document.getElementById(id).contentDocument;
const loaded = (id) => new Promise((r) => {
  const f = document.getElementById(id);
  if (f.contentDocument && f.contentDocument.readyState === "complete" && f.contentDocument.getElementById("nick")) r();
  else f.addEventListener("load", () => r(), {once: true});
});
function lines(d) {
  return [...d.querySelectorAll("#messages li")].map((li) => li.textContent);
}
async function login(id, nick, room) {
  const d = doc(id);
  d.getElementById("nick").value = nick;
  d.getElementById("connect").click();
  await waitFor(nick + "'s welcome", () => !d.getElementById("chat").hidden);
  d.getElementById("room").value = room;
  d.getElementById("join-button").click();
  await waitFor(nick + " joining " + room, () => d.getElementById("room-title").textContent === room);
}
async function say(id, text) {
  const d = doc(id);
  d.getElementById("text").value = text;
  d.getElementById("send").click();
}
async function main() {
  await Promise.all([loaded("ann"), loaded("bo")]);
  await login("ann", "ann", "lobby");
  await login("bo", "bo", "lobby");
  const members = (id) => [...doc(id).querySelectorAll("#member-list li")].map((li) => li.textContent).join(",");
  await waitFor("ann to see bo in the member list", () => members("ann") === "ann,bo");
  await say("ann", "hello from ann");
  const boSaw = await waitFor("bo to display ann's line", () => lines(doc("bo")).find((l) => l.includes("hello from ann")));
  await say("bo", "hi ann, bo here");
  const annSaw = await waitFor("ann to display bo's line", () => lines(doc("ann")).find((l) => l.includes("bo here")));
  return {annSaw, boSaw, members: members("bo")};
}
main().then(
  (r) => fetch("/result", {method: "POST", body: JSON.stringify(r)}),
  (e) => fetch("/result", {method: "POST", body: JSON.stringify({error: String(e)})}));
</script>
`

// browserResult is what the two-pages driver posts.
type browserResult struct {
	AnnSaw  string `json:"annSaw"`
	BoSaw   string `json:"boSaw"`
	Members string `json:"members"`
	Error   string `json:"error"`
}

// TestBrowserTwoPagesChat runs the chat page in headless Chromium, twice,
// and checks that a line typed in one page is displayed by the other.
func TestBrowserTwoPagesChat(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv(interopRequiredEnv) == "1" {
			t.Fatalf("%s is missing and %s=1: run: apt-get install chromium", chromiumPath, interopRequiredEnv)
		}
		t.Skipf("%s is missing: run apt-get install chromium (set %s=1 to make this a failure)", chromiumPath, interopRequiredEnv)
	}

	s := newServer(64, 0, t.Logf)
	results := make(chan browserResult, 1)
	mux := http.NewServeMux()
	mux.Handle("/", s.routes())
	mux.HandleFunc("GET /two", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, twoPagesHTML)
	})
	mux.HandleFunc("POST /result", func(w http.ResponseWriter, r *http.Request) {
		var res browserResult
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&res); err != nil {
			res.Error = "decoding the result: " + err.Error()
		}
		select {
		case results <- res:
		default: // only the first result counts
		}
	})
	ts := httptest.NewServer(mux) // on 127.0.0.1
	defer ts.Close()

	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	out := &cappedBuffer{max: 64 << 10}
	cmd := exec.Command(chromiumPath,
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-quic", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(),
		ts.URL+"/two")
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so that ending it ends its helper processes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		s.hub.shutdown(1001, reasonGoingAway)
		wctx, wcancel := context.WithTimeout(context.Background(), ioTimeout)
		defer wcancel()
		assert.NoError(t, s.hub.wait(wctx))
	}()

	var res browserResult
	select {
	case res = <-results:
	case err := <-exited:
		exited <- err // for the deferred wait
		t.Fatalf("chromium exited before the pages chatted (%v); its output:\n%s", err, out)
	case <-ctx.Done():
		t.Fatalf("no result from the pages within %v; chromium's output:\n%s", browserTimeout, out)
	}
	require.Empty(t, res.Error, "chromium's output:\n%s", out)
	// A line is displayed as the sender's name followed by the text.
	assert.Equal(t, "annhello from ann", res.BoSaw)
	assert.Equal(t, "bohi ann, bo here", res.AnnSaw)
	assert.Equal(t, "ann,bo", res.Members)
	assert.Equal(t, []string{"ann", "bo"}, s.hub.members("lobby"), "the hub has both pages in the room")
}

// cappedBuffer keeps the first max bytes written to it, from any goroutine.
type cappedBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *cappedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
