package websocket

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// echoServer starts an HTTP (or HTTPS) test server on loopback whose
// handler upgrades and echoes every message, streaming it back through
// NextWriter as it arrives, until the connection ends. It returns the ws://
// (or wss://) URL and a Dialer that trusts the server.
func echoServer(t *testing.T, useTLS bool, up *Upgrader) (string, *Dialer) {
	t.Helper()
	var handlers sync.WaitGroup
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for range 1 << 20 {
			typ, rd, err := c.NextReader()
			if err != nil {
				return
			}
			wr, err := c.NextWriter(typ)
			if err != nil {
				return
			}
			_, err = io.Copy(wr, rd)
			if cerr := wr.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return
			}
		}
	})
	var srv *httptest.Server
	d := &Dialer{HandshakeTimeout: testTimeout}
	if useTLS {
		srv = httptest.NewTLSServer(h)
		d.TLSClientConfig = &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	} else {
		srv = httptest.NewServer(h)
	}
	t.Cleanup(func() {
		srv.Close()
		handlers.Wait()
	})
	return "ws" + strings.TrimPrefix(srv.URL, "http"), d
}

func dialEcho(t *testing.T, useTLS bool, up *Upgrader, edit func(d *Dialer)) *Conn {
	t.Helper()
	u, d := echoServer(t, useTLS, up)
	if edit != nil {
		edit(d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, _, err := d.Dial(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func TestEndToEndMessages(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			// Small write buffers make many fragments each way (the echo
			// streams back through NextWriter); large messages use the
			// default buffers, still fragmented, in fewer syscalls.
			small := dialEcho(t, useTLS, &Upgrader{WriteBufferSize: 1000}, func(d *Dialer) { d.WriteBufferSize = 777 })
			large := dialEcho(t, useTLS, &Upgrader{}, nil)
			for _, typ := range []MessageType{TextMessage, BinaryMessage} {
				for _, size := range messageSizes {
					c := small
					if size >= 1<<20 {
						c = large
					}
					for _, how := range []string{"whole", "writer", "writer+pings"} {
						if size >= 1<<20 && how != bigMessageMode(typ) {
							continue // keeps the -race run short; each type still goes both ways
						}
						msg := pattern(size, size)
						errc := make(chan error, 1)
						go func() { errc <- sendWithPings(c, typ, msg, how) }()
						gotTyp, got, err := c.ReadMessage()
						if err != nil {
							t.Fatalf("%v %d %s: %v", typ, size, how, err)
						}
						if err := <-errc; err != nil {
							t.Fatalf("%v %d %s: send: %v", typ, size, how, err)
						}
						if gotTyp != typ || !bytes.Equal(got, msg) {
							t.Fatalf("%v %d %s: echo damaged (%v, %d bytes)", typ, size, how, gotTyp, len(got))
						}
					}
				}
			}
			for _, c := range []*Conn{small, large} {
				if err := c.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
			}
		})
	}
}

// bigMessageMode is the one way messages of 1 MiB and more of type typ
// are sent, to keep test time down.
func bigMessageMode(typ MessageType) string {
	if typ == TextMessage {
		return "writer+pings"
	}
	return "whole"
}

// sendWithPings sends msg as send does; with "writer+pings" it also sends a
// ping, and waits for its pong, between fragments of the message.
func sendWithPings(c *Conn, typ MessageType, msg []byte, how string) error {
	if how != "writer+pings" {
		return send(c, typ, msg, how)
	}
	w, err := c.NextWriter(typ)
	if err != nil {
		return err
	}
	for i, chunk := 0, max(1, len(msg)/4); i < len(msg); i += chunk {
		if _, err := w.Write(msg[i:min(i+chunk, len(msg))]); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		err := c.Ping(ctx, fmt.Append(nil, "ping ", i))
		cancel()
		if err != nil {
			return fmt.Errorf("ping between fragments: %w", err)
		}
	}
	return w.Close()
}

func TestEndToEndConcurrentWriters(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			c := dialEcho(t, useTLS, &Upgrader{}, func(d *Dialer) { d.WriteBufferSize = 512 })
			const writers, perWriter = 16, 30
			var wg sync.WaitGroup
			for g := range writers {
				wg.Go(func() {
					for i := range perWriter {
						msg := taggedMessage(g, i)
						how := "whole"
						if i%2 == 1 {
							how = "writer"
						}
						if err := send(c, BinaryMessage, msg, how); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			next := make([]int, writers)
			for range writers * perWriter {
				_, b, err := c.ReadMessage()
				if err != nil {
					t.Fatal(err)
				}
				g, i := int(b[1]), int(b[3])
				if g >= writers || i != next[g] || !bytes.Equal(b, taggedMessage(g, i)) {
					t.Fatalf("message %d of writer %d damaged or out of order", i, g)
				}
				next[g]++
			}
			wg.Wait()
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestEndToEndKeepAliveAndClose(t *testing.T) {
	up := &Upgrader{PingInterval: 10 * time.Millisecond, PongTimeout: 5 * time.Second}
	c := dialEcho(t, true, up, func(d *Dialer) {
		d.PingInterval = 10 * time.Millisecond
		d.PongTimeout = 5 * time.Second
	})
	pongs := make(chan struct{}, 100)
	c.SetPongHandler(func(string) error {
		select {
		case pongs <- struct{}{}:
		default:
		}
		return nil
	})
	// Read in the background; the echo server reads on its side.
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				readErr <- err
				return
			}
		}
	}()
	for range 3 {
		select {
		case <-pongs:
		case err := <-readErr:
			t.Fatalf("read ended: %v", err)
		case <-time.After(testTimeout):
			t.Fatal("no pong")
		}
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-readErr; CloseStatus(err) != StatusNormalClosure {
		t.Fatalf("read after Close: %v", err)
	}
}
