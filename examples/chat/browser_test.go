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
// display the other's line. A third page, as narrow as a phone (375 px),
// logs in as cy, joins too, then is disconnected by the server. At each
// step the driver records what each page shows, judged as a person would:
// an element counts as seen when it is laid out (offsetParent), has a box
// of some size and lies, at least in part, inside the page's window. It
// posts all this to /result.
const twoPagesHTML = `<!doctype html>
<meta charset="utf-8">
<title>two pages</title>
<iframe id="ann" src="/" width="700" height="400"></iframe>
<iframe id="bo" src="/" width="700" height="400"></iframe>
<iframe id="cy" src="/" width="375" height="667"></iframe>
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
// The parts of the page a person looks for, by id.
const parts = ["login", "nick", "connect", "chat", "room", "join-button", "room-title", "messages", "text", "send", "members"];
function seen(d, id) {
  const el = d.getElementById(id);
  const w = d.defaultView;
  if (!el || el.offsetParent === null || w.getComputedStyle(el).visibility !== "visible") return false;
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && r.right > 0 && r.bottom > 0 && r.left < w.innerWidth && r.top < w.innerHeight;
}
// view lists the parts a person sees.
const view = (id) => parts.filter((p) => seen(doc(id), p)).join(" ");
// cramped lists what a person cannot use without scrolling: a seen part
// cut by the window's edges, or a page wider than its window.
function cramped(id) {
  const d = doc(id), w = d.defaultView, out = [];
  for (const p of parts) {
    if (!seen(d, p)) continue;
    const r = d.getElementById(p).getBoundingClientRect();
    if (r.left < 0 || r.top < 0 || r.right > w.innerWidth + 0.5 || r.bottom > w.innerHeight + 0.5)
      out.push(p + " at " + [r.left, r.top, r.right, r.bottom].map(Math.round).join(",") + " in " + w.innerWidth + "x" + w.innerHeight);
  }
  if (d.documentElement.scrollWidth > w.innerWidth) out.push("page " + d.documentElement.scrollWidth + " px wide in a " + w.innerWidth + " px window");
  return out;
}
function lines(d) {
  return [...d.querySelectorAll("#messages li")].map((li) => li.textContent);
}
async function login(id, nick, room) {
  const d = doc(id);
  d.getElementById("nick").value = nick;
  d.getElementById("connect").click();
  // The welcome event clears the hidden attribute; what that shows is then
  // measured, not assumed.
  await waitFor(nick + "'s welcome", () => !d.getElementById("chat").hidden);
  const afterLogin = view(id);
  d.getElementById("room").value = room;
  d.getElementById("join-button").click();
  await waitFor(nick + " joining " + room, () => d.getElementById("room-title").textContent === room);
  return afterLogin;
}
async function say(id, text) {
  const d = doc(id);
  d.getElementById("text").value = text;
  d.getElementById("send").click();
}
async function main() {
  await Promise.all([loaded("ann"), loaded("bo"), loaded("cy")]);
  const views = {beforeLogin: view("ann"), phoneBeforeLogin: view("cy")};
  const phoneCramped = {beforeLogin: cramped("cy")};
  views.afterLogin = await login("ann", "ann", "lobby");
  await login("bo", "bo", "lobby");
  const members = (id) => [...doc(id).querySelectorAll("#member-list li")].map((li) => li.textContent).join(",");
  await waitFor("ann to see bo in the member list", () => members("ann") === "ann,bo");
  await say("ann", "hello from ann");
  const boSaw = await waitFor("bo to display ann's line", () => lines(doc("bo")).find((l) => l.includes("hello from ann")));
  await say("bo", "hi ann, bo here");
  const annSaw = await waitFor("ann to display bo's line", () => lines(doc("ann")).find((l) => l.includes("bo here")));
  const twoMembers = members("bo");

  views.phoneAfterLogin = await login("cy", "cy", "lobby");
  await waitFor("bo to see cy in the member list", () => members("bo") === "ann,bo,cy");
  const threeMembers = members("bo");
  await say("cy", "cy on a phone");
  const cySaw = await waitFor("cy to display its own line", () => lines(doc("cy")).find((l) => l.includes("on a phone")));
  views.phoneInRoom = view("cy");
  phoneCramped.inRoom = cramped("cy");
  // A request the server cannot parse: it closes the connection with 1008.
  document.getElementById("cy").contentWindow.eval("ws").send("not a request");
  const cyStatus = await waitFor("cy to be disconnected", () => {
    const s = doc("cy").getElementById("status").textContent;
    return s.startsWith("closed") && s;
  });
  views.phoneAfterDisconnect = view("cy");
  phoneCramped.afterDisconnect = cramped("cy");
  return {annSaw, boSaw, cySaw, members: twoMembers, membersWithCy: threeMembers, views, phoneCramped, cyStatus};
}
main().then(
  (r) => fetch("/result", {method: "POST", body: JSON.stringify(r)}),
  (e) => fetch("/result", {method: "POST", body: JSON.stringify({error: String(e)})}));
</script>
`

// browserResult is what the driver page posts.
type browserResult struct {
	AnnSaw  string `json:"annSaw"`
	BoSaw   string `json:"boSaw"`
	CySaw   string `json:"cySaw"`
	Members string `json:"members"` // bo's list once ann and bo have chatted
	// MembersWithCy is bo's list once the phone-width page has joined.
	MembersWithCy string `json:"membersWithCy"`
	// Views are the parts of a page seen at each step, by id, in the
	// driver's order.
	Views map[string]string `json:"views"`
	// PhoneCramped lists, at each step, what the phone-width page cuts off.
	PhoneCramped map[string][]string `json:"phoneCramped"`
	CyStatus     string              `json:"cyStatus"`
	Error        string              `json:"error"`
}

// TestBrowserTwoPagesChat runs the chat page in headless Chromium, twice,
// and checks that a line typed in one page is displayed by the other; and,
// on a third page at phone width too, that a person sees the login form
// alone before logging in and after a disconnect, and the room alone in
// between, with nothing cut off at phone width.
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
	assert.Equal(t, "ann,bo,cy", res.MembersWithCy)
	assert.Equal(t, "cycy on a phone", res.CySaw)

	const loginForm = "login nick connect"
	const room = "chat room join-button room-title messages text send members"
	assert.Equal(t, map[string]string{
		"beforeLogin":          loginForm,
		"afterLogin":           room,
		"phoneBeforeLogin":     loginForm,
		"phoneAfterLogin":      room,
		"phoneInRoom":          room,
		"phoneAfterDisconnect": loginForm,
	}, res.Views, "what each page shows, step by step")
	assert.Equal(t, "closed: 1008 malformed request", res.CyStatus, "the page says why it was disconnected")
	for step, cut := range res.PhoneCramped {
		assert.Empty(t, cut, "at phone width, %s", step)
	}
	assert.Len(t, res.PhoneCramped, 3)
	assert.Equal(t, []string{"ann", "bo"}, s.hub.members("lobby"), "the hub has the two connected pages in the room")
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
