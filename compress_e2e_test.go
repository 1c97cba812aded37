package websocket

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// deflateEchoServer starts a loopback server that upgrades with up and
// echoes every message. When offer is not empty it replaces the client's
// Sec-WebSocket-Extensions before Upgrade sees it, so that a test can make
// our server answer any offer while our client, which offers
// client_max_window_bits and accepts any answer to that, still negotiates
// for real. Even messages are echoed streamed (NextReader, NextWriter), odd
// ones whole (ReadMessage, WriteMessage), so that both read and both write
// paths run on the server side.
func deflateEchoServer(t *testing.T, up *Upgrader, offer string) string {
	t.Helper()
	var handlers sync.WaitGroup
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		if offer != "" {
			r.Header.Set(headerExtensions, offer)
		}
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for i := range 1 << 20 {
			if i%2 == 1 {
				typ, msg, err := c.ReadMessage()
				if err != nil || c.WriteMessage(typ, msg) != nil {
					return
				}
				continue
			}
			typ, rd, err := c.NextReader()
			if err != nil {
				return
			}
			wr, err := c.NextWriter(typ)
			if err != nil {
				return
			}
			_, err = io.Copy(wr, rd)
			if cerr := wr.Close(); err != nil || cerr != nil {
				return
			}
		}
	}))
	t.Cleanup(func() {
		srv.Close()
		handlers.Wait()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// dialDeflate dials url with d and returns the Conn and the server's
// Sec-WebSocket-Extensions answer.
func dialDeflate(t *testing.T, d *Dialer, url string) (*Conn, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, resp, err := d.Dial(ctx, url, nil)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c, resp.Header.Get(headerExtensions)
}

// sampleMessage is one message of a round trip.
type sampleMessage struct {
	typ  MessageType
	data []byte
	how  string // "whole" or "writer": how the client sends it
}

// sampleMessages returns messages of the sizes given, alternating text
// (JSON-like, compressible) and binary (random, incompressible), and
// whole and streamed sends.
func sampleMessages(rng *rand.Rand, sizes ...int) []sampleMessage {
	var msgs []sampleMessage
	for i, n := range sizes {
		m := sampleMessage{typ: TextMessage, how: "whole"}
		switch {
		case i%2 == 1:
			m.typ, m.data = BinaryMessage, randomBytes(rng, n)
		case n > 0:
			m.data = jsonLike(rng, n)
		default:
			m.data = []byte{}
		}
		if i%4 >= 2 {
			m.how = "writer"
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// echoAll sends each message on c and checks the echo.
func echoAll(t *testing.T, c *Conn, msgs []sampleMessage, name string) {
	t.Helper()
	for i, m := range msgs {
		errc := make(chan error, 1)
		go func() { errc <- send(c, m.typ, m.data, m.how) }()
		typ, got, err := c.ReadMessage()
		if serr := <-errc; serr != nil {
			t.Fatalf("%s: message %d (%v, %d bytes, %s): send: %v", name, i, m.typ, len(m.data), m.how, serr)
		}
		if err != nil {
			t.Fatalf("%s: message %d (%v, %d bytes, %s): %v", name, i, m.typ, len(m.data), m.how, err)
		}
		if typ != m.typ || !bytes.Equal(got, m.data) {
			t.Fatalf("%s: message %d (%v, %d bytes, %s): echo damaged (%v, %d bytes)", name, i, m.typ, len(m.data), m.how, typ, len(got))
		}
	}
}

// TestDeflateRoundTripParameters negotiates every combination of the four
// parameters of RFC 7692 §7.1 through Dial and Upgrade, with window bits
// from 9 to 15 in each direction, and echoes messages from 0 B to 4 MiB,
// text and binary, compressible and random, whole and fragmented, each
// way. Both sides compress with context takeover unless the answer forbids
// it.
func TestDeflateRoundTripParameters(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	up := &Upgrader{Compression: CompressionOptions{Mode: CompressionContextTakeover, Threshold: -1}, WriteBufferSize: 3000}
	for combo := range 16 {
		sNCT, cNCT, sBits, cBits := combo&1 != 0, combo&2 != 0, combo&4 != 0, combo&8 != 0
		bitsS, bitsC := 9+combo%7, 9+(combo+3)%7
		var offer, want []string
		offer = append(offer, "permessage-deflate")
		if sNCT {
			offer = append(offer, paramServerNoContextTakeover)
		}
		if cNCT {
			offer = append(offer, paramClientNoContextTakeover)
		}
		if sBits {
			offer = append(offer, fmt.Sprintf("%s=%d", paramServerMaxWindowBits, bitsS))
		}
		want = offer
		if cBits {
			offer = append(offer, fmt.Sprintf("%s=%d", paramClientMaxWindowBits, bitsC))
			if bitsC < maxWindowBits {
				// 15 is what no value means: the answer leaves it out.
				want = offer
			}
		}
		name := strings.Join(offer, "; ")
		t.Run(name, func(t *testing.T) {
			url := deflateEchoServer(t, up, strings.Join(offer, "; "))
			d := &Dialer{HandshakeTimeout: testTimeout, WriteBufferSize: 2000,
				Compression: CompressionOptions{Mode: CompressionContextTakeover, Threshold: -1}}
			c, answer := dialDeflate(t, d, url)
			if answer != strings.Join(want, "; ") {
				t.Fatalf("answer %q, want %q", answer, strings.Join(want, "; "))
			}
			sizes := []int{0, 1, 100, 1000, 5000, 20000, 70000, 1000, 100}
			if combo%5 == 0 {
				sizes = append(sizes, 4<<20, 1<<20+3)
			}
			msgs := sampleMessages(rng, sizes...)
			// Similar messages in a row: later ones refer to earlier ones
			// with context takeover.
			msgs = append(msgs, msgs[3], msgs[3], msgs[4])
			echoAll(t, c, msgs, name)
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		})
	}
}
