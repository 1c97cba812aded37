package websocket

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// h2Transports are the two ways a WebSocket rides HTTP/2 in these tests.
var h2Transports = []struct {
	name   string
	useTLS bool
}{{"tls", true}, {"h2c", false}}

// TestHTTP2Messages echoes messages of every length class, text and
// binary, through servers that echo whole messages and streams, over TLS
// and h2c. The large ones exceed HTTP/2's flow-control windows, so both
// sides must keep reading for the other to write.
func TestHTTP2Messages(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 65535, 65536, 1<<20 + 3, 5 << 20}
	for _, tr := range h2Transports {
		for _, echo := range []struct {
			name  string
			serve func(*Conn)
		}{{"message", echoMessages}, {"stream", echoStreaming}} {
			t.Run(tr.name+"/"+echo.name, func(t *testing.T) {
				s := startH2Server(t, tr.useTLS, &Upgrader{ReadLimit: 8 << 20}, echo.serve)
				d := *s.dialer
				d.ReadLimit = 8 << 20
				c, _ := dialWith(t, &d, s.url)
				for _, n := range sizes {
					for _, typ := range []MessageType{TextMessage, BinaryMessage} {
						msg := bytes.Repeat([]byte("0123456789abcdefghijklmnopqrstuvwxyz"), n/36+1)[:n]
						// Write from another goroutine: a message larger
						// than the flow-control windows needs the echo read
						// while it is written.
						werr := make(chan error, 1)
						go func() { werr <- c.WriteMessage(typ, msg) }()
						gotType, got, err := c.ReadMessage()
						if err != nil {
							t.Fatalf("%d-byte %v: read: %v", n, typ, err)
						}
						if err := <-werr; err != nil {
							t.Fatalf("%d-byte %v: write: %v", n, typ, err)
						}
						if gotType != typ || !bytes.Equal(got, msg) {
							t.Fatalf("%d-byte %v came back as %d-byte %v", n, typ, len(got), gotType)
						}
					}
				}
				if err := c.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
			})
		}
	}
}

// TestHTTP2ConcurrentWriters has several goroutines write at once; every
// message comes back whole.
func TestHTTP2ConcurrentWriters(t *testing.T) {
	const writers, each = 4, 25
	s := startH2Server(t, true, nil, echoMessages)
	c, _ := s.dial(t, "/")
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				msg := bytes.Repeat([]byte{byte('a' + w)}, 1000+100*i)
				if err := c.WriteMessage(BinaryMessage, msg); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	seen := make(map[byte]int)
	for range writers * each {
		_, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if len(msg) == 0 || !bytes.Equal(msg, bytes.Repeat(msg[:1], len(msg))) {
			t.Fatalf("a message came back mixed: %.20q…", msg)
		}
		seen[msg[0]]++
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for w := range writers {
		if seen[byte('a'+w)] != each {
			t.Fatalf("writer %d: %d messages came back, want %d", w, seen[byte('a'+w)], each)
		}
	}
}

// TestHTTP2ControlAndClose checks ping and pong, the close handshake from
// either side with its code and reason, and the read limit's 1009, over
// TLS and h2c.
func TestHTTP2ControlAndClose(t *testing.T) {
	for _, tr := range h2Transports {
		t.Run(tr.name+"/ping", func(t *testing.T) {
			s := startH2Server(t, tr.useTLS, nil, echoMessages)
			c, _ := s.dial(t, "/")
			readErr := make(chan error, 1)
			go func() {
				_, _, err := c.ReadMessage() // handles the pong
				readErr <- err
			}()
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			if err := c.Ping(ctx, []byte("are you there")); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if err := <-readErr; CloseStatus(err) != StatusNormalClosure {
				t.Fatalf("reader: %v, want the normal closure", err)
			}
		})

		t.Run(tr.name+"/server closes", func(t *testing.T) {
			closed := make(chan error, 1)
			s := startH2Server(t, tr.useTLS, nil, func(c *Conn) {
				if _, _, err := c.ReadMessage(); err != nil {
					closed <- err
					return
				}
				closed <- c.CloseWithStatus(StatusGoingAway, "bye")
			})
			c, _ := s.dial(t, "/")
			if err := c.WriteMessage(TextMessage, []byte("close please")); err != nil {
				t.Fatal(err)
			}
			_, _, err := c.ReadMessage()
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != StatusGoingAway || ce.Reason != "bye" {
				t.Fatalf("client read: %v, want close 1001 bye", err)
			}
			if err := <-closed; err != nil {
				t.Fatalf("server CloseWithStatus: %v", err)
			}
		})

		t.Run(tr.name+"/client closes", func(t *testing.T) {
			got := make(chan error, 1)
			s := startH2Server(t, tr.useTLS, nil, func(c *Conn) {
				_, _, err := c.ReadMessage()
				got <- err
			})
			c, _ := s.dial(t, "/")
			if err := c.CloseWithStatus(4001, "done here"); err != nil {
				t.Fatalf("CloseWithStatus: %v", err)
			}
			var ce *CloseError
			if err := <-got; !errors.As(err, &ce) || ce.Code != 4001 || ce.Reason != "done here" {
				t.Fatalf("server read: %v, want close 4001", err)
			}
		})

		t.Run(tr.name+"/read limit", func(t *testing.T) {
			got := make(chan error, 1)
			s := startH2Server(t, tr.useTLS, &Upgrader{ReadLimit: 1000}, func(c *Conn) {
				_, _, err := c.ReadMessage()
				got <- err
			})
			c, _ := s.dial(t, "/")
			if err := c.WriteMessage(BinaryMessage, make([]byte, 2000)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.ReadMessage(); CloseStatus(err) != StatusMessageTooBig {
				t.Fatalf("client read: %v, want close 1009", err)
			}
			if err := <-got; !errors.Is(err, ErrReadLimit) {
				t.Fatalf("server read: %v, want ErrReadLimit", err)
			}
		})
	}
}

// TestHTTP2Deadlines checks that deadlines and contexts behave as over TCP:
// a read that times out or is cancelled can be retried, and a write stuck
// on flow control fails at its deadline.
func TestHTTP2Deadlines(t *testing.T) {
	t.Run("read deadline and context are resumable", func(t *testing.T) {
		s := startH2Server(t, true, nil, echoMessages)
		c, _ := s.dial(t, "/")
		c.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
		if _, _, err := c.ReadMessage(); !isTimeout(err) {
			t.Fatalf("read past its deadline: %v, want a timeout", err)
		}
		c.SetReadDeadline(time.Time{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, _, err := c.ReadMessageContext(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("read with a cancelled context: %v", err)
		}
		for i := range 3 {
			echoOnce(t, c, fmt.Sprint("still alive ", i))
		}
	})

	t.Run("write stuck on flow control", func(t *testing.T) {
		release := make(chan struct{})
		s := startH2Server(t, true, nil, func(c *Conn) {
			select { // read nothing: the client's writes fill the windows
			case <-release:
			case <-time.After(testTimeout):
			}
		})
		defer close(release)
		c, _ := s.dial(t, "/")
		c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		start := time.Now()
		err := c.WriteMessage(BinaryMessage, make([]byte, 16<<20))
		if !isTimeout(err) {
			t.Fatalf("write into a peer that does not read: %v, want a timeout", err)
		}
		if d := time.Since(start); d > testTimeout/2 {
			t.Fatalf("the write took %v to time out", d)
		}
	})
}
