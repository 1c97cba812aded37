package websocket

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/wstest"
)

// pattern returns n bytes of printable ASCII that depend on seed, so that a
// misplaced or swapped chunk shows.
func pattern(seed, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + (seed*7+i*13+i/251)%26)
	}
	return b
}

func TestReadFragmentedWithPings(t *testing.T) {
	for _, fragSize := range []int{1, 3, 64, 1000} {
		t.Run("frag"+itoa(fragSize), func(t *testing.T) {
			c, peer := serverWithRawClient(t, nil)
			msg := []byte(strings.Repeat("héllo wörld € 𝄞 ", 40))
			go func() {
				for i := 0; i < len(msg); i += fragSize {
					op := opContinuation
					if i == 0 {
						op = opText
					}
					end := min(i+fragSize, len(msg))
					if (i/fragSize)%5 == 0 {
						peer.writeFrame(true, opPing, []byte("p"+itoa(i)))
					}
					peer.writeFrame(end == len(msg), op, msg[i:end])
				}
			}()
			typ, got, err := c.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if typ != TextMessage || !bytes.Equal(got, msg) {
				t.Fatalf("got %v %q", typ, got)
			}
			// Every ping was answered, in order, with its payload.
			for i := 0; i < len(msg); i += fragSize {
				if (i/fragSize)%5 != 0 {
					continue
				}
				h, b, err := peer.readFrame()
				if err != nil {
					t.Fatal(err)
				}
				if h.opcode != opPong || string(b) != "p"+itoa(i) {
					t.Fatalf("got %v %q, want pong p%d", h.opcode, b, i)
				}
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestContinuationRules(t *testing.T) {
	t.Run("continuation first", func(t *testing.T) {
		c, peer := serverWithRawClient(t, nil)
		peer.writeFrame(true, opContinuation, []byte("x"))
		_, _, err := c.ReadMessage()
		if !errors.Is(err, ErrProtocol) {
			t.Fatalf("err = %v, want ErrProtocol", err)
		}
		peer.expectClose(StatusProtocolError)
		peer.expectEOF()
		// Sticky.
		if _, _, err2 := c.ReadMessage(); err2 != err {
			t.Fatalf("second read: %v, want %v", err2, err)
		}
	})
	t.Run("new message inside fragmented", func(t *testing.T) {
		c, peer := serverWithRawClient(t, nil)
		peer.writeFrame(false, opText, []byte("a"))
		peer.writeFrame(true, opBinary, []byte("b"))
		_, r, err := c.NextReader()
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(r)
		if !errors.Is(err, ErrProtocol) {
			t.Fatalf("err = %v, want ErrProtocol", err)
		}
		peer.expectClose(StatusProtocolError)
	})
	t.Run("continuation after final frame", func(t *testing.T) {
		c, peer := serverWithRawClient(t, nil)
		peer.writeFrame(true, opText, []byte("a"))
		peer.writeFrame(true, opContinuation, []byte("b"))
		if _, b, err := c.ReadMessage(); err != nil || string(b) != "a" {
			t.Fatalf("first message: %q, %v", b, err)
		}
		if _, _, err := c.ReadMessage(); !errors.Is(err, ErrProtocol) {
			t.Fatalf("err = %v, want ErrProtocol", err)
		}
		peer.expectClose(StatusProtocolError)
	})
}

func TestInvalidUTF8FailsFast(t *testing.T) {
	// Each case leaves the message unfinished on the wire: the Conn must
	// fail on what it has, not wait for the rest.
	t.Run("bad byte in second fragment", func(t *testing.T) {
		c, peer := serverWithRawClient(t, nil)
		peer.writeFrame(false, opText, []byte("valid "))
		peer.writeFrame(false, opContinuation, []byte{'o', 'k', 0xff})
		_, _, err := c.ReadMessage()
		if !errors.Is(err, ErrInvalidUTF8) {
			t.Fatalf("err = %v, want ErrInvalidUTF8", err)
		}
		peer.expectClose(StatusInvalidFramePayloadData)
	})
	t.Run("bad byte before the rest of the frame", func(t *testing.T) {
		c, peer := serverWithRawClient(t, nil)
		f := peer.frame(true, opText, []byte("abc\xc0\xafdefghijklmnop"))
		peer.write(f[:len(f)-10]) // the frame's tail never comes
		_, _, err := c.ReadMessage()
		if !errors.Is(err, ErrInvalidUTF8) {
			t.Fatalf("err = %v, want ErrInvalidUTF8", err)
		}
		peer.expectClose(StatusInvalidFramePayloadData)
	})
	t.Run("surrogate split across fragments", func(t *testing.T) {
		c, peer := serverWithRawClient(t, nil)
		peer.writeFrame(false, opText, []byte("x\xed"))
		peer.writeFrame(false, opContinuation, []byte("\xa0"))
		_, _, err := c.ReadMessage()
		if !errors.Is(err, ErrInvalidUTF8) {
			t.Fatalf("err = %v, want ErrInvalidUTF8", err)
		}
		peer.expectClose(StatusInvalidFramePayloadData)
	})
	t.Run("message ends inside a sequence", func(t *testing.T) {
		c, peer := serverWithRawClient(t, nil)
		peer.writeFrame(false, opText, []byte("x\xe2\x82"))
		peer.writeFrame(true, opContinuation, nil)
		_, _, err := c.ReadMessage()
		if !errors.Is(err, ErrInvalidUTF8) {
			t.Fatalf("err = %v, want ErrInvalidUTF8", err)
		}
		peer.expectClose(StatusInvalidFramePayloadData)
	})
	t.Run("valid text split everywhere", func(t *testing.T) {
		c, peer := serverWithRawClient(t, nil)
		msg := []byte("κόσμε 𝄞 €")
		for i := range msg {
			op := opContinuation
			if i == 0 {
				op = opText
			}
			peer.writeFrame(i == len(msg)-1, op, msg[i:i+1])
		}
		_, got, err := c.ReadMessage()
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("got %q, %v", got, err)
		}
	})
}

func TestReadLimit(t *testing.T) {
	t.Run("header announcing 2^62 bytes", func(t *testing.T) {
		c, peer := serverWithRawClient(t, nil)
		h := frameHeader{fin: true, opcode: opBinary, masked: true, key: 1, length: 1 << 62}
		var b [maxFrameHeaderSize]byte
		n := putFrameHeader(b[:], &h)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		peer.write(b[:n])
		_, _, err := c.ReadMessage()
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrReadLimit) {
			t.Fatalf("err = %v, want ErrReadLimit", err)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
			t.Fatalf("allocated %d bytes before refusing", d)
		}
		peer.expectClose(StatusMessageTooBig)
	})
	t.Run("across fragments", func(t *testing.T) {
		c, peer := serverWithRawClient(t, nil)
		c.SetReadLimit(10)
		peer.writeFrame(false, opBinary, make([]byte, 6))
		peer.writeFrame(true, opContinuation, make([]byte, 5))
		_, _, err := c.ReadMessage()
		if !errors.Is(err, ErrReadLimit) {
			t.Fatalf("err = %v, want ErrReadLimit", err)
		}
		peer.expectClose(StatusMessageTooBig)
	})
	t.Run("exactly the limit", func(t *testing.T) {
		c, peer := serverWithRawClient(t, nil)
		c.SetReadLimit(10)
		peer.writeFrame(false, opBinary, make([]byte, 6))
		peer.writeFrame(true, opContinuation, make([]byte, 4))
		if _, b, err := c.ReadMessage(); err != nil || len(b) != 10 {
			t.Fatalf("got %d bytes, %v", len(b), err)
		}
	})
	t.Run("fragment ceiling", func(t *testing.T) {
		c, peer := serverWithRawClient(t, func(cfg *connConfig) { cfg.maxFragments = 8 })
		var flood []byte
		flood = append(flood, peer.frame(false, opBinary, nil)...)
		for range 20 {
			flood = append(flood, peer.frame(false, opContinuation, nil)...)
		}
		peer.write(flood)
		_, _, err := c.ReadMessage()
		if !errors.Is(err, ErrReadLimit) {
			t.Fatalf("err = %v, want ErrReadLimit", err)
		}
		peer.expectClose(StatusMessageTooBig)
	})
}

// expectTimeout checks that err is a deadline expiring or a context ending.
func expectTimeout(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want a timeout", err)
	}
}

func TestReadResumesAfterTimeout(t *testing.T) {
	msg := pattern(3, 3000)
	type reader func(c *Conn, ctx context.Context, dst []byte) ([]byte, error)
	readers := map[string]reader{
		"ReadMessage": func(c *Conn, ctx context.Context, _ []byte) ([]byte, error) {
			_, b, err := c.ReadMessageContext(ctx)
			return b, err
		},
		"AppendMessage": func(c *Conn, ctx context.Context, dst []byte) ([]byte, error) {
			_, b, err := c.AppendMessageContext(ctx, dst)
			return b, err
		},
	}
	for name, read := range readers {
		for _, how := range []string{"deadline", "context", "cancel"} {
			t.Run(name+"/"+how, func(t *testing.T) {
				c, peer := serverWithRawClient(t, nil)
				f := append(peer.frame(false, opBinary, msg[:1000]), peer.frame(true, opContinuation, msg[1000:])...)
				// Cuts: inside the first header, inside the first payload,
				// inside the second header, inside the second payload.
				cuts := []int{1, 500, 1000 + 6 + 2, len(f) - 7}
				var dst []byte
				sent := 0
				for _, cut := range cuts {
					peer.write(f[sent:cut])
					sent = cut
					var err error
					// The bytes may take a moment to arrive; try again
					// until the Conn has read all that was sent.
					for range 100 {
						var ctx context.Context = context.Background()
						cancel := context.CancelFunc(func() {})
						switch how {
						case "deadline":
							c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
						case "context":
							ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
						default:
							var stop context.CancelFunc
							ctx, stop = context.WithCancel(context.Background())
							timer := time.AfterFunc(20*time.Millisecond, stop)
							cancel = func() { timer.Stop(); stop() }
						}
						dst, err = read(c, ctx, dst)
						cancel()
						expectTimeout(t, err)
						if peer.taken() == sent {
							break
						}
					}
					if peer.taken() != sent {
						t.Fatalf("cut %d: the Conn did not read what was sent", cut)
					}
				}
				c.SetReadDeadline(time.Time{})
				peer.write(f[sent:])
				got, err := read(c, context.Background(), dst)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, msg) {
					t.Fatalf("message damaged: got %d bytes", len(got))
				}
			})
		}
	}
}

func TestNextReaderResumesAfterTimeout(t *testing.T) {
	c, peer := serverWithRawClient(t, nil)
	msg := pattern(5, 2000)
	f := peer.frame(true, opBinary, msg)
	peer.write(f[:1])
	var err error
	for range 100 {
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		_, _, err = c.NextReader()
		expectTimeout(t, err)
		if peer.taken() == 1 {
			break
		}
	}
	peer.write(f[1:1000])
	c.SetReadDeadline(time.Time{})
	typ, r, err := c.NextReader()
	if err != nil || typ != BinaryMessage {
		t.Fatalf("NextReader: %v %v", typ, err)
	}
	var got []byte
	buf := make([]byte, 100)
	for len(got) < 1000-maxFrameHeaderSize {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	for range 100 {
		var n int
		n, err = r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	expectTimeout(t, err)
	c.SetReadDeadline(time.Time{})
	peer.write(f[1000:])
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, rest...)
	if !bytes.Equal(got, msg) {
		t.Fatalf("message damaged: %d bytes", len(got))
	}
}

func TestIdleConnReturnsReadBuffer(t *testing.T) {
	c, peer := serverWithRawClient(t, nil)
	var burst []byte
	for i := range 200 {
		burst = append(burst, peer.frame(true, opBinary, pattern(i, 50))...)
	}
	burst = append(burst, peer.frame(true, opBinary, pattern(1, 100000))...)
	peer.write(burst)
	for i := range 201 {
		_, b, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if i < 200 && !bytes.Equal(b, pattern(i, 50)) || i == 200 && len(b) != 100000 {
			t.Fatalf("message %d damaged", i)
		}
	}
	if !c.reader.isSmall() || c.reader.pooled != nil {
		t.Fatal("an idle Conn holds a pooled read buffer")
	}
}

func TestHandshakeLeftoversComeFirst(t *testing.T) {
	cn, sn := wstest.TCPPair(t)
	f := encodeFrame(true, true, 0, opText, []byte("first message, split"))
	// The handshake's reader holds the first 9 bytes; the rest is on the wire.
	br := bufio.NewReader(io.MultiReader(bytes.NewReader(f[:9]), sn))
	if _, err := br.Peek(9); err != nil {
		t.Fatal(err)
	}
	c := newConn(connConfig{netConn: sn, br: br})
	t.Cleanup(func() { c.CloseNow() })
	cn.Write(f[9:])
	if _, b, err := c.ReadMessage(); err != nil || string(b) != "first message, split" {
		t.Fatalf("got %q, %v", b, err)
	}
}
