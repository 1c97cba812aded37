package interop

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
)

// heartbeats is how many server heartbeats each framework test answers
// before it checks the server counted them: the servers beat every 200 ms.
const heartbeats = 3

// heartbeatFunc recognises a framework's heartbeat message and returns the
// answer to send, or ok false for an application message.
type heartbeatFunc func(m received) (answer string, ok bool)

// framework is a session with a realtime framework's server, which mixes
// heartbeats into the message stream.
type framework struct {
	*session
	beat     heartbeatFunc
	answered int // heartbeats answered so far
}

// dialFramework connects our client to rawURL on the fixture server srv.
func dialFramework(t *testing.T, srv *peerProcess, path string, beat heartbeatFunc) *framework {
	t.Helper()
	d := &websocket.Dialer{HandshakeTimeout: peerTimeout}
	conn, resp, err := d.Dial(dialContext(t), srv.url(path), nil)
	if err != nil {
		t.Fatalf("Dial %s: %v", srv.url(path), err)
	}
	s := newSession(t, conn)
	s.peer, s.path, s.client, s.resp = srv, path, true, resp
	return &framework{session: s, beat: beat}
}

// nextApp answers heartbeats until an application message arrives, and
// returns it.
func (f *framework) nextApp() received {
	f.t.Helper()
	for {
		m := f.next()
		if m.err != nil {
			return m
		}
		if answer, ok := f.beat(m); ok {
			f.sendText(answer)
			f.answered++
			continue
		}
		return m
	}
}

// nextAppText is nextApp for a text message.
func (f *framework) nextAppText() string {
	f.t.Helper()
	m := f.nextApp()
	if m.err != nil || m.typ != websocket.TextMessage {
		f.t.Fatalf("%s: want a text message, got %v %q (%v)", f.path, m.typ, truncate(m.data), m.err)
	}
	return string(m.data)
}

// answerHeartbeats answers heartbeats until n in all have been answered;
// an application message meanwhile fails the test.
func (f *framework) answerHeartbeats(n int) {
	f.t.Helper()
	for f.answered < n {
		m := f.next()
		answer, ok := f.beat(m)
		if m.err != nil || !ok {
			f.t.Fatalf("%s: unexpected message %v %q (%v) while answering heartbeats", f.path, m.typ, truncate(m.data), m.err)
		}
		f.sendText(answer)
		f.answered++
	}
}

// engineIOBeat: engine.io protocol 4 over WebSocket, the server pings with
// the packet "2" and the client answers "3".
func engineIOBeat(m received) (string, bool) {
	if m.typ == websocket.TextMessage && string(m.data) == "2" {
		return "3", true
	}
	return "", false
}

// engineIOOpen reads the open packet ("0" and a JSON handshake) and checks
// the heartbeat interval is the fixture's.
func engineIOOpen(f *framework) string {
	f.t.Helper()
	text := f.nextAppText()
	var hs struct {
		SID          string   `json:"sid"`
		Upgrades     []string `json:"upgrades"`
		PingInterval int      `json:"pingInterval"`
	}
	if !strings.HasPrefix(text, "0") || json.Unmarshal([]byte(text[1:]), &hs) != nil || hs.SID == "" {
		f.t.Fatalf("open packet %q", text)
	}
	if hs.PingInterval != 200 {
		f.t.Errorf("pingInterval %d, want the fixture's 200", hs.PingInterval)
	}
	return hs.SID
}

// TestEngineIO opens engine.io's websocket transport, answers its pings,
// and has messages echoed in both types.
func TestEngineIO(t *testing.T) {
	srv := startServerPeer(t, "engineio-server.js")
	f := dialFramework(t, srv, "/engine.io/?EIO=4&transport=websocket", engineIOBeat)
	sid := engineIOOpen(f)
	if ev := srv.waitEvent(t, "open", "/engine.io/"); ev.SID != sid {
		t.Errorf("the server reports sid %q, the open packet said %q", ev.SID, sid)
	}

	// A message packet is "4" and the data; binary data goes as a binary
	// frame without a type byte.
	f.sendText("4hello from Go")
	if got := f.nextAppText(); got != "4hello from Go" {
		t.Fatalf("echo %q", got)
	}
	bin := pattern(websocket.BinaryMessage, 1000)
	f.send(websocket.BinaryMessage, bin)
	if m := f.nextApp(); m.err != nil || m.typ != websocket.BinaryMessage || string(m.data) != string(bin) {
		t.Fatalf("binary echo: %v %d bytes, %v", m.typ, len(m.data), m.err)
	}

	f.answerHeartbeats(heartbeats)
	f.sendText("4pongs?")
	got := f.nextAppText()
	n, err := strconv.Atoi(strings.TrimPrefix(got, "4"))
	if err != nil || n < heartbeats {
		t.Fatalf("server counted %q heartbeats, want at least %d", got, heartbeats)
	}
	t.Logf("interop engine.io: sid %s, %d heartbeats answered, %d counted by the server; text and binary echoed", sid, f.answered, n)
	if err := f.conn.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	srv.waitEvent(t, "close", "/engine.io/")
}

// TestSocketIO opens socket.io's websocket transport, connects to the main
// namespace, answers heartbeats, receives the server's event and gets an
// acknowledgement for an emitted event.
func TestSocketIO(t *testing.T) {
	srv := startServerPeer(t, "socketio-server.js")
	f := dialFramework(t, srv, "/socket.io/?EIO=4&transport=websocket", engineIOBeat)
	engineIOOpen(f)

	// socket.io packets ride in engine.io message packets ("4"): CONNECT
	// is 0, EVENT 2, ACK 3; an ack id follows the type.
	f.sendText("40")
	connect := f.nextAppText()
	var c struct {
		SID string `json:"sid"`
	}
	if !strings.HasPrefix(connect, "40") || json.Unmarshal([]byte(connect[2:]), &c) != nil || c.SID == "" {
		t.Fatalf("CONNECT answered %q", connect)
	}
	if got := f.nextAppText(); got != `42["welcome","hello from socket.io"]` {
		t.Fatalf("welcome event %q", got)
	}
	f.sendText(`421["echo","hi",{"n":1}]`)
	if got := f.nextAppText(); got != `431["hi",{"n":1}]` {
		t.Fatalf("ack %q, want 431[\"hi\",{\"n\":1}]", got)
	}

	f.answerHeartbeats(heartbeats)
	f.sendText(`422["pongs"]`)
	ack := f.nextAppText()
	var counted []int
	if !strings.HasPrefix(ack, "432") || json.Unmarshal([]byte(ack[3:]), &counted) != nil || len(counted) != 1 || counted[0] < 1 {
		t.Fatalf("pongs ack %q", ack)
	}
	t.Logf("interop socket.io: socket %s, event received, ack received, %d heartbeats answered (%d counted)", c.SID, f.answered, counted[0])
	if err := f.conn.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	srv.waitEvent(t, "close", "/socket.io/")
}

// TestSockJS talks to SockJS's raw WebSocket endpoint (plain messages) and
// to its framed endpoint ("o", "a[...]", "c[...]"), whose heartbeats over
// WebSocket are ping frames.
func TestSockJS(t *testing.T) {
	srv := startServerPeer(t, "sockjs-server.js")
	noBeat := func(received) (string, bool) { return "", false }

	t.Run("raw", func(t *testing.T) {
		f := dialFramework(t, srv, "/echo/websocket", noBeat)
		f.sendText("hello sockjs")
		f.expectText("hello sockjs")
		f.sendText("cmd:close:4001:raw done")
		m := f.next()
		var ce *websocket.CloseError
		if !errors.As(m.err, &ce) || ce.Code != 4001 || ce.Reason != "raw done" {
			t.Fatalf("want close 4001 \"raw done\", got %v", m.err)
		}
		t.Logf("interop sockjs raw: echo and close 4001 received")
	})

	t.Run("framed", func(t *testing.T) {
		path := "/echo/000/" + strconv.FormatInt(time.Now().UnixNano(), 36) + "/websocket"
		f := dialFramework(t, srv, path, noBeat)
		pings := make(chan string, 16)
		f.conn.SetPingHandler(func(data string) error {
			select {
			case pings <- data:
			default:
			}
			// A custom handler answers for itself (RFC 6455 §5.5.2).
			return f.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(peerTimeout))
		})
		f.expectText("o")
		f.sendText(`["hello sockjs"]`)
		f.expectText(`a["hello sockjs"]`)
		for i := range heartbeats {
			select {
			case <-pings:
			case <-time.After(peerTimeout):
				t.Fatalf("heartbeat %d did not come", i+1)
			}
		}
		f.sendText(`["after heartbeats"]`)
		f.expectText(`a["after heartbeats"]`)
		f.sendText(`["cmd:close:4001:framed done"]`)
		f.expectText(`c[4001,"framed done"]`)
		t.Logf("interop sockjs framed: open, echo, %d ping heartbeats answered, close frame c[4001] received", heartbeats)
	})
}

// primusBeat: Primus writes "primus::ping::<ms>" (JSON-encoded, so in
// quotes) and expects "primus::pong::<ms>" back before its next beat.
func primusBeat(m received) (string, bool) {
	s := string(m.data)
	if m.typ == websocket.TextMessage && strings.HasPrefix(s, `"primus::ping::`) {
		return strings.Replace(s, "primus::ping::", "primus::pong::", 1), true
	}
	return "", false
}

// TestPrimus opens Primus's websockets transformer, asks its spark id,
// answers its heartbeats and has a message echoed.
func TestPrimus(t *testing.T) {
	srv := startServerPeer(t, "primus-server.js")
	path := "/primus/?_primuscb=" + strconv.FormatInt(time.Now().UnixMilli(), 10) + "-0"
	f := dialFramework(t, srv, path, primusBeat)
	opened := srv.waitEvent(t, "open", "/primus")

	f.sendText(`"primus::id::"`)
	if got, want := f.nextAppText(), `"primus::id::`+opened.ID+`"`; got != want {
		t.Fatalf("id answer %q, want %q", got, want)
	}
	f.sendText(`"hello primus"`)
	if got := f.nextAppText(); got != `"hello primus"` {
		t.Fatalf("echo %q", got)
	}
	f.answerHeartbeats(heartbeats)
	f.sendText(`"pongs?"`)
	var counted struct {
		Pongs int `json:"pongs"`
	}
	if got := f.nextAppText(); json.Unmarshal([]byte(got), &counted) != nil || counted.Pongs < heartbeats {
		t.Fatalf("pongs answer %q, want at least %d", got, heartbeats)
	}
	t.Logf("interop primus: id, echo, %d heartbeats answered (%d counted by the server)", f.answered, counted.Pongs)
	if err := f.conn.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	srv.waitEvent(t, "close", "/primus")
}
