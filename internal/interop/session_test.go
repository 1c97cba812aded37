package interop

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
)

// received is one result of ReadMessage on a session's reading goroutine.
type received struct {
	typ  websocket.MessageType
	data []byte
	err  error
}

// session is one connection between the websocket package and a peer, with
// a goroutine reading it (so pings and pongs are handled while the test
// writes, as a real application would).
type session struct {
	t       *testing.T
	conn    *websocket.Conn
	peer    *peerProcess
	path    string
	client  bool      // the Go side dialed
	opened  peerEvent // the peer's "open" report
	resp    *http.Response
	header  http.Header // the handshake request's header, as our server saw it
	feature feature     // the check being run
	msgs    chan received
}

// newSession starts the reading goroutine and arranges for conn to be closed
// and the goroutine to have ended when t ends.
func newSession(t *testing.T, conn *websocket.Conn) *session {
	s := &session{t: t, conn: conn, msgs: make(chan received, 64)}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			typ, data, err := conn.ReadMessage()
			select {
			case s.msgs <- received{typ, data, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = conn.CloseNow()
		close(stop)
		<-done
	})
	return s
}

// next returns the next message or read error, failing t after peerTimeout.
func (s *session) next() received {
	s.t.Helper()
	select {
	case m := <-s.msgs:
		return m
	case <-time.After(peerTimeout):
		s.t.Fatalf("%s: nothing received within %v", s.path, peerTimeout)
		return received{}
	}
}

// send writes a message, failing t on error.
func (s *session) send(typ websocket.MessageType, data []byte) {
	s.t.Helper()
	if err := s.conn.WriteMessage(typ, data); err != nil {
		s.t.Fatalf("%s: write %v of %d bytes: %v", s.path, typ, len(data), err)
	}
}

// sendText writes a text message.
func (s *session) sendText(text string) {
	s.t.Helper()
	s.send(websocket.TextMessage, []byte(text))
}

// expect reads the next message and checks its type and payload.
func (s *session) expect(typ websocket.MessageType, want []byte) {
	s.t.Helper()
	m := s.next()
	if m.err != nil {
		s.t.Fatalf("%s: waiting for a %v message of %d bytes: %v", s.path, typ, len(want), m.err)
	}
	if m.typ != typ {
		s.t.Fatalf("%s: got a %v message, want %v", s.path, m.typ, typ)
	}
	if !bytes.Equal(m.data, want) {
		s.t.Fatalf("%s: %v message differs: %s", s.path, typ, describeDiff(m.data, want))
	}
}

// expectText reads the next message and checks it is the text want.
func (s *session) expectText(want string) {
	s.t.Helper()
	s.expect(websocket.TextMessage, []byte(want))
}

// nextText returns the next message, which must be text.
func (s *session) nextText() string {
	s.t.Helper()
	m := s.next()
	if m.err != nil || m.typ != websocket.TextMessage {
		s.t.Fatalf("%s: want a text message, got %v %q (%v)", s.path, m.typ, truncate(m.data), m.err)
	}
	return string(m.data)
}

// closeNormally runs the closing handshake from our side with 1000 and
// checks the peer saw it.
func (s *session) closeNormally() {
	s.t.Helper()
	if err := s.conn.Close(); err != nil {
		s.t.Fatalf("%s: Close: %v", s.path, err)
	}
	if ev := s.peer.waitEvent(s.t, "close", s.path); ev.Code != int(websocket.StatusNormalClosure) {
		s.t.Errorf("%s: the peer saw close code %d, want 1000", s.path, ev.Code)
	}
}

// describeDiff says where got and want first differ.
func describeDiff(got, want []byte) string {
	n := min(len(got), len(want))
	for i := range n {
		if got[i] != want[i] {
			return "first difference at byte " + itoa(i) + " of " + itoa(len(want)) + " (got " + itoa(len(got)) + " bytes)"
		}
	}
	return "got " + itoa(len(got)) + " bytes, want " + itoa(len(want))
}

// truncate shortens a payload for a message.
func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "..."
	}
	return string(b)
}

// accepted is a connection our test server upgraded.
type accepted struct {
	conn   *websocket.Conn
	header http.Header
}

// goServer is an HTTP server on 127.0.0.1 that upgrades every request with
// upgrader and hands the connections to the test.
type goServer struct {
	srv   *httptest.Server
	conns chan accepted
}

// startGoServer starts a goServer that is closed when t ends.
func startGoServer(t *testing.T, upgrader *websocket.Upgrader) *goServer {
	g := &goServer{conns: make(chan accepted, 4)}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade %s: %v", r.URL, err)
			return
		}
		select {
		case g.conns <- accepted{conn, r.Header.Clone()}:
		default:
			t.Errorf("upgrade %s: test did not take the connection", r.URL)
			_ = conn.CloseNow()
		}
	}))
	t.Cleanup(g.srv.Close)
	return g
}

// url returns the ws:// URL of path on the server.
func (g *goServer) url(path string) string {
	return "ws" + strings.TrimPrefix(g.srv.URL, "http") + path
}

// accept waits for the connection the peer opens, failing t if the peer
// exits or nothing comes within peerTimeout.
func (g *goServer) accept(t *testing.T, p *peerProcess) accepted {
	t.Helper()
	select {
	case a := <-g.conns:
		return a
	case <-p.exited:
		t.Fatalf("%s exited without connecting", p.script)
	case <-time.After(peerTimeout):
		t.Fatalf("%s did not connect within %v", p.script, peerTimeout)
	}
	return accepted{}
}

// dialContext returns a context bounded by peerTimeout.
func dialContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	t.Cleanup(cancel)
	return ctx
}
