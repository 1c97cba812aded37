package websocket

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"
)

func TestPingHandler(t *testing.T) {
	c, peer := serverWithRawClient(t, nil)
	got := make(chan string, 1)
	c.SetPingHandler(func(data string) error {
		got <- data
		return nil
	})
	peer.writeFrame(true, opPing, []byte("custom"))
	peer.writeFrame(true, opText, []byte("m"))
	if _, _, err := c.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	if d := <-got; d != "custom" {
		t.Fatalf("handler got %q", d)
	}
	// The custom handler sent no pong: the next frame is our own.
	c.WriteMessage(TextMessage, []byte("next"))
	if h, _, err := peer.readFrame(); err != nil || h.opcode != opText {
		t.Fatalf("got %v %v, want the text frame (no pong)", h.opcode, err)
	}
	// nil restores the default answer.
	c.SetPingHandler(nil)
	peer.writeFrame(true, opPing, []byte("default"))
	peer.writeFrame(true, opText, []byte("m"))
	c.ReadMessage()
	if h, b, err := peer.readFrame(); err != nil || h.opcode != opPong || string(b) != "default" {
		t.Fatalf("got %v %q %v, want pong", h.opcode, b, err)
	}
}

// TestPongAfterExpiredWriteDeadline: a write deadline the application set
// for its own writes, and which has passed, neither keeps the automatic
// pong from going out nor ends the connection; the application's own write
// still fails at it.
func TestPongAfterExpiredWriteDeadline(t *testing.T) {
	c, peer := serverWithRawClient(t, nil)
	c.SetWriteDeadline(time.Now().Add(-time.Second))
	if err := c.WriteMessage(TextMessage, []byte("late")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write after the deadline: %v, want a deadline error", err)
	}
	peer.writeFrame(true, opPing, []byte("p"))
	peer.writeFrame(true, opText, []byte("m"))
	if _, b, err := c.ReadMessage(); err != nil || string(b) != "m" {
		t.Fatalf("read %q, %v", b, err)
	}
	if h, b, err := peer.readFrame(); err != nil || h.opcode != opPong || string(b) != "p" {
		t.Fatalf("peer got %v %q, %v; want the pong", h.opcode, b, err)
	}
	c.SetWriteDeadline(time.Time{})
	if err := c.WriteMessage(TextMessage, []byte("alive")); err != nil {
		t.Fatalf("write after clearing the deadline: %v", err)
	}
	if h, b, err := peer.readFrame(); err != nil || h.opcode != opText || string(b) != "alive" {
		t.Fatalf("peer got %v %q, %v", h.opcode, b, err)
	}
}

func TestHandlerErrorsEndReading(t *testing.T) {
	errStop := errors.New("stop")
	c, peer := serverWithRawClient(t, nil)
	c.SetPongHandler(func(string) error { return errStop })
	peer.writeFrame(true, opPong, nil)
	if _, _, err := c.ReadMessage(); err != errStop {
		t.Fatalf("err = %v, want the handler's", err)
	}
	if _, _, err := c.ReadMessage(); err != errStop {
		t.Fatalf("second read: %v, want the handler's error again", err)
	}
}

func TestCloseHandler(t *testing.T) {
	c, peer := serverWithRawClient(t, nil)
	var code StatusCode
	var text string
	errMine := errors.New("mine")
	c.SetCloseHandler(func(c StatusCode, t string) error {
		code, text = c, t
		return errMine
	})
	peer.writeFrame(true, opClose, closePayload(4001, "why"))
	if _, _, err := c.ReadMessage(); err != errMine {
		t.Fatalf("err = %v, want the handler's", err)
	}
	if code != 4001 || text != "why" {
		t.Fatalf("handler got %d %q", code, text)
	}
	// The Conn answered the close itself.
	peer.expectClose(4001)
}

func TestStaleReader(t *testing.T) {
	c, peer := serverWithRawClient(t, nil)
	peer.writeFrame(true, opText, []byte("first"))
	peer.writeFrame(true, opText, []byte("second"))
	_, r1, err := c.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	_, r2, err := c.NextReader() // drops the unread first message
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r1.Read(make([]byte, 10)); !errors.Is(err, errStaleReader) {
		t.Fatalf("stale reader: %v", err)
	}
	if b, err := io.ReadAll(r2); err != nil || string(b) != "second" {
		t.Fatalf("got %q, %v", b, err)
	}
}

func TestWriteArguments(t *testing.T) {
	c, _ := serverWithRawClient(t, nil)
	if err := c.WriteMessage(MessageType(3), nil); err == nil {
		t.Error("reserved type accepted")
	}
	if _, err := c.NextWriter(PingMessage); err == nil {
		t.Error("NextWriter accepted a control type")
	}
	if err := c.WriteControl(TextMessage, nil, time.Time{}); err == nil {
		t.Error("WriteControl accepted a data type")
	}
	if err := c.WriteControl(PingMessage, make([]byte, 126), time.Time{}); err == nil {
		t.Error("126-byte ping accepted")
	}
	if err := c.WriteControl(CloseMessage, []byte{1}, time.Time{}); err == nil {
		t.Error("1-byte close payload accepted")
	}
	if err := c.WriteControl(CloseMessage, closePayload(1005, ""), time.Time{}); err == nil {
		t.Error("close code 1005 accepted")
	}
}

func TestWriteControlClose(t *testing.T) {
	// The gorilla way: send the close, keep reading until the peer's.
	client, server := connPair(t, nil)
	go server.ReadMessage()
	if err := client.WriteControl(CloseMessage, FormatCloseMessage(StatusGoingAway, "bye"), time.Now().Add(testTimeout)); err != nil {
		t.Fatal(err)
	}
	if err := client.WriteMessage(TextMessage, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after close frame: %v", err)
	}
	if _, _, err := client.ReadMessage(); CloseStatus(err) != StatusGoingAway {
		t.Fatalf("read: %v, want the echoed 1001", err)
	}
	if err := client.Close(); err != nil {
		t.Fatalf("Close after the handshake: %v", err)
	}
}

func TestWriteContext(t *testing.T) {
	// Over a pipe nobody reads, a write blocks on the transport; the
	// context ends it. No byte went out, so the connection stays usable.
	client, _ := pipePair(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err := client.WriteMessageContext(ctx, BinaryMessage, make([]byte, 10))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	// The message lock gives up too while another message holds it.
	client2, _ := pipePair(t, nil)
	w, err := client2.NextWriter(TextMessage)
	if err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel2()
	if err := client2.WriteMessageContext(ctx2, TextMessage, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	client2.CloseNow()
	if _, err := w.Write([]byte("x")); err != nil {
		t.Fatalf("buffered write: %v", err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Close of the writer after CloseNow: %v", err)
	}
}

// TestBothSidesWritingWithPings has each side stream large fragmented
// messages to the other while sending pings between fragments. Readers
// answer pings without waiting for the frame lock, so neither side can end
// up blocked answering a ping while its writer waits for the other's
// reader.
func TestBothSidesWritingWithPings(t *testing.T) {
	client, server := connPair(t, func(cfg *connConfig) { cfg.writeBufferSize = 2048 })
	const messages, size = 8, 1 << 20
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for _, c := range []*Conn{client, server} {
		wg.Go(func() { // writer
			for i := range messages {
				w, err := c.NextWriter(BinaryMessage)
				if err != nil {
					errs <- err
					return
				}
				msg := pattern(i, size)
				for j := 0; j < size; j += 64 << 10 {
					if _, err := w.Write(msg[j : j+64<<10]); err != nil {
						errs <- err
						return
					}
					if err := c.WriteControl(PingMessage, []byte("hi"), time.Time{}); err != nil {
						errs <- err
						return
					}
				}
				if err := w.Close(); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() { // reader
			for i := range messages {
				_, b, err := c.ReadMessage()
				if err != nil {
					errs <- err
					return
				}
				if !bytes.Equal(b, pattern(i, size)) {
					errs <- fmt.Errorf("message %d damaged", i)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case err := <-errs:
		t.Fatal(err)
	case <-time.After(testTimeout):
		client.CloseNow()
		server.CloseNow()
		<-done
		t.Fatal("both sides blocked")
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}
