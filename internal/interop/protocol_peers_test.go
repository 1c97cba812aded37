package interop

import (
	"testing"

	"github.com/rfc6455/websocket"
)

// protoPeer is a Node WebSocket library with a server and a client script
// in node/.
type protoPeer struct {
	name      string
	server    string // script of the server role
	client    string // script of the client role
	deflate   bool   // speaks permessage-deflate
	fragments bool   // its API can send a fragmented message
	// strictMasking: it fails a frame masked the wrong way for its
	// direction with 1002, as RFC 6455 §5.1 asks.
	strictMasking bool
}

var protoPeers = []protoPeer{
	{name: "ws", server: "ws-server.js", client: "ws-client.js", deflate: true, fragments: true, strictMasking: true},
	// faye-websocket sends every message as one frame. On masking it is
	// not strict: its server closes an unmasked client frame with 1003
	// rather than 1002, and its client accepts masked server frames.
	{name: "faye-websocket", server: "faye-server.js", client: "faye-client.js", deflate: true},
	// websocket (WebSocket-Node) has no permessage-deflate, and accepts
	// frames masked the wrong way in both roles.
	{name: "websocket", server: "websocket-server.js", client: "websocket-client.js", fragments: true},
}

// serverProtocols are the subprotocols both server sides speak.
var serverProtocols = []string{"chat.v2", "echo.v1"}

// TestProtocolPeers runs every feature in both directions: our Dialer
// against the peer's server ("go-client") and the peer's client against our
// Upgrader ("go-server").
func TestProtocolPeers(t *testing.T) {
	requireNode(t)
	for _, p := range protoPeers {
		t.Run(p.name, func(t *testing.T) {
			tally := newTally(p.name)
			defer tally.log(t)
			t.Run("go-client", func(t *testing.T) {
				// One server process per configuration serves every feature,
				// each on a path of its own.
				plain := startServerPeer(t, p.server, "--protocols", "chat.v2,echo.v1")
				var deflating *peerProcess
				if p.deflate {
					deflating = startServerPeer(t, p.server, "--protocols", "chat.v2,echo.v1", "--deflate")
				}
				for _, f := range features {
					if f.applies != nil && !f.applies(p) {
						continue
					}
					t.Run(f.name, func(t *testing.T) {
						defer tally.record(t, "go-client", f.name)
						srv := plain
						if f.compress != nil {
							srv = deflating
						}
						runGoClient(t, srv, f)
					})
				}
			})
			t.Run("go-server", func(t *testing.T) {
				for _, f := range features {
					if f.applies != nil && !f.applies(p) {
						continue
					}
					t.Run(f.name, func(t *testing.T) {
						defer tally.record(t, "go-server", f.name)
						runGoServer(t, p, f)
					})
				}
			})
		})
	}
}

// runGoClient dials the peer's server at a path named after the test and
// runs f.
func runGoClient(t *testing.T, srv *peerProcess, f feature) {
	d := &websocket.Dialer{HandshakeTimeout: peerTimeout}
	if f.offerProtocols {
		d.Subprotocols = []string{"nope", "chat.v2"}
	}
	if f.compress != nil {
		enableCompression(d, nil, f.compress)
	}
	path := "/" + t.Name()
	conn, resp, err := d.Dial(dialContext(t), srv.url(path), nil)
	if err != nil {
		t.Fatalf("Dial %s: %v", srv.url(path), err)
	}
	s := newSession(t, conn)
	s.peer, s.path, s.client, s.resp, s.feature = srv, path, true, resp, f
	s.opened = srv.waitEvent(t, "open", path)
	f.run(s)
}

// runGoServer starts the peer's client against our Upgrader and runs f.
func runGoServer(t *testing.T, p protoPeer, f feature) {
	u := &websocket.Upgrader{Subprotocols: serverProtocols}
	if f.compress != nil {
		enableCompression(nil, u, f.compress)
	}
	g := startGoServer(t, u)
	path := "/" + t.Name()
	args := []string{"--url", g.url(path)}
	if f.offerProtocols {
		args = append(args, "--protocols", "nope,chat.v2")
	}
	if f.compress != nil {
		args = append(args, "--deflate")
	}
	peer := startPeer(t, p.client, args...)
	a := g.accept(t, peer)
	s := newSession(t, a.conn)
	s.peer, s.path, s.header, s.feature = peer, path, a.header, f
	s.opened = peer.waitEvent(t, "open", path)
	f.run(s)
}
