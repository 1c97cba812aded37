package websocket

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// preparedPeers dials one connection per option set to a server with up
// and returns the client and the server ends, in the same order.
func preparedPeers(t *testing.T, up *Upgrader, opts []CompressionOptions) (clients, servers []*Conn) {
	t.Helper()
	accepted := make(chan *Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := up.Upgrade(w, r, nil); err == nil {
			accepted <- c
		}
	}))
	t.Cleanup(srv.Close)
	for _, o := range opts {
		d := &Dialer{HandshakeTimeout: testTimeout, Compression: o}
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		c, _, err := d.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		s := <-accepted
		t.Cleanup(func() {
			c.CloseNow()
			s.CloseNow()
		})
		clients, servers = append(clients, c), append(servers, s)
	}
	return clients, servers
}

// TestPreparedMessageMixed broadcasts prepared messages, concurrently, to
// connections without compression, without and with context takeover, with
// several windows, and with compression turned off for the connection,
// from the server and from the clients. After each prepared message a
// plain one with the same payload follows: with context takeover it refers
// back to the prepared one, which therefore must be in both histories.
func TestPreparedMessageMixed(t *testing.T) {
	ct, nct := CompressionContextTakeover, CompressionNoContextTakeover
	opts := []CompressionOptions{
		{},
		{Mode: nct},
		{Mode: ct},
		{Mode: ct, WindowBits: 9},
		{Mode: nct, WindowBits: 12},
		{Mode: ct, WindowBits: 9},
		{Mode: ct},
	}
	up := &Upgrader{Compression: CompressionOptions{Mode: ct, Threshold: -1}}
	clients, servers := preparedPeers(t, up, opts)
	servers[6].EnableWriteCompression(false)
	clients[6].EnableWriteCompression(false)

	rng := rand.New(rand.NewPCG(8, 8))
	for round := range 3 {
		msg := jsonLike(rng, 3000+round*5000)
		pm, err := NewPreparedMessage(TextMessage, msg)
		if err != nil {
			t.Fatal(err)
		}
		for _, dir := range []struct {
			name     string
			from, to []*Conn
		}{{"server to clients", servers, clients}, {"clients to server", clients, servers}} {
			var wg sync.WaitGroup
			errs := make(chan error, 2*len(dir.from))
			for i := range dir.from {
				wg.Go(func() {
					if err := dir.from[i].WritePreparedMessage(pm); err != nil {
						errs <- err
					}
					if err := dir.from[i].WriteMessage(TextMessage, msg); err != nil {
						errs <- err
					}
				})
			}
			for i, c := range dir.to {
				for k := range 2 {
					typ, got, err := c.ReadMessage()
					if err != nil || typ != TextMessage || !bytes.Equal(got, msg) {
						t.Fatalf("round %d, %s, connection %d (%+v), message %d: %v (%d bytes)", round, dir.name, i, opts[i], k, err, len(got))
					}
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("round %d, %s: %v", round, dir.name, err)
			}
		}
		// One form per distinct encoding: uncompressed (connections 0 and 6),
		// compressed for 15 bits (1, 2), for 9 bits (3, 5), for 12 (4).
		if got := len(pm.forms); got != 4 {
			t.Fatalf("round %d: %d forms built, want 4", round, got)
		}
	}
	if _, err := NewPreparedMessage(PingMessage, nil); err == nil {
		t.Fatal("NewPreparedMessage accepted a ping")
	}
}

// TestPreparedMessageWire checks the frames a prepared message becomes: the
// server's is the same bytes for every connection, the client's is masked
// with a fresh key each time (RFC 6455 §5.3), and a compressed one carries
// RSV1.
func TestPreparedMessageWire(t *testing.T) {
	msg := bytes.Repeat([]byte("prepared "), 50)
	pm, _ := NewPreparedMessage(BinaryMessage, msg)
	for _, pmd := range []*deflateConfig{nil, pmdConfig(true, true, 15, 15)} {
		var frames [][]byte
		for range 2 {
			c, peer := serverWithRawClient(t, withPMD(pmd))
			if err := c.WritePreparedMessage(pm); err != nil {
				t.Fatal(err)
			}
			h, payload, _ := peer.readMessage()
			if (h.rsv == rsv1Bit) != (pmd != nil) {
				t.Fatalf("compressed %v: RSV %#x", pmd != nil, h.rsv)
			}
			frames = append(frames, payload)
		}
		if !bytes.Equal(frames[0], frames[1]) {
			t.Fatal("the server's frames differ")
		}
		var keys []uint32
		for range 2 {
			c, peer := clientWithRawServer(t, withPMD(pmd))
			if err := c.WritePreparedMessage(pm); err != nil {
				t.Fatal(err)
			}
			peer.rsv = rsv1Bit
			h, payload, err := peer.readFrame()
			if err != nil || !h.masked {
				t.Fatalf("client frame: %v, masked %v", err, h.masked)
			}
			if !bytes.Equal(payload, frames[0]) {
				t.Fatal("the client's payload differs from the server's")
			}
			keys = append(keys, h.key)
		}
		if keys[0] == keys[1] {
			t.Fatal("two client frames masked with the same key")
		}
	}
}
