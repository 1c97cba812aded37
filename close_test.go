package websocket

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"
)

func TestReceivedCloseInvalid(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
		want    StatusCode
		wantErr error
	}{
		{"one byte", []byte{0x03}, StatusProtocolError, ErrProtocol},
		{"bad UTF-8 reason", closePayload(1000, "ok\xff"), StatusInvalidFramePayloadData, ErrInvalidUTF8},
	}
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535} {
		cases = append(cases, struct {
			name    string
			payload []byte
			want    StatusCode
			wantErr error
		}{fmt.Sprint("code ", code), closePayload(code, ""), StatusProtocolError, ErrProtocol})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, peer := serverWithRawClient(t, nil)
			peer.writeFrame(true, opClose, tc.payload)
			_, _, err := c.ReadMessage()
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			peer.expectClose(tc.want)
			peer.expectEOF()
		})
	}
}

func TestReceivedCloseValid(t *testing.T) {
	codes := []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}
	for _, code := range codes {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			c, peer := serverWithRawClient(t, nil)
			peer.writeFrame(true, opClose, closePayload(code, "bye ✓"))
			_, _, err := c.ReadMessage()
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != StatusCode(code) || ce.Reason != "bye ✓" {
				t.Fatalf("err = %v, want CloseError %d", err, code)
			}
			if CloseStatus(fmt.Errorf("wrapped: %w", err)) != StatusCode(code) {
				t.Fatal("CloseStatus does not unwrap")
			}
			peer.expectClose(StatusCode(code))
			peer.expectEOF()
			if err := c.WriteMessage(TextMessage, []byte("late")); !errors.Is(err, ErrClosed) {
				t.Fatalf("write after close: %v, want ErrClosed", err)
			}
			if _, _, err2 := c.ReadMessage(); err2 != err {
				t.Fatalf("read after close: %v, want %v", err2, err)
			}
			if err := c.Close(); err != nil {
				t.Fatalf("Close after a completed handshake: %v", err)
			}
		})
	}
	t.Run("empty", func(t *testing.T) {
		c, peer := serverWithRawClient(t, nil)
		peer.writeFrame(true, opClose, nil)
		if _, _, err := c.ReadMessage(); CloseStatus(err) != StatusNoStatusReceived {
			t.Fatalf("err = %v, want close 1005", err)
		}
		h, b, err := peer.readFrame()
		if err != nil || h.opcode != opClose || len(b) != 0 {
			t.Fatalf("echo: %v %q %v, want an empty close", h.opcode, b, err)
		}
	})
}

func TestCloseHandshake(t *testing.T) {
	t.Run("peer reading", func(t *testing.T) {
		client, server := connPair(t, nil)
		done := make(chan error, 1)
		go func() {
			_, _, err := server.ReadMessage()
			done <- err
		}()
		if err := client.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := <-done; CloseStatus(err) != StatusNormalClosure {
			t.Fatalf("server read: %v, want close 1000", err)
		}
		if err := server.Close(); err != nil {
			t.Fatalf("server Close after handshake: %v", err)
		}
		if _, _, err := client.ReadMessage(); CloseStatus(err) != StatusNormalClosure {
			t.Fatalf("client read after Close: %v, want the server's close 1000", err)
		}
		if err := client.WriteMessage(BinaryMessage, nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("write after Close: %v", err)
		}
	})
	t.Run("nobody reading on either side", func(t *testing.T) {
		client, server := connPair(t, nil)
		errs := make(chan error, 2)
		go func() { errs <- client.CloseWithStatus(StatusGoingAway, "leaving") }()
		go func() { errs <- server.Close() }()
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatalf("Close: %v", err)
			}
		}
	})
	t.Run("server closes, client drains", func(t *testing.T) {
		client, server := connPair(t, nil)
		server.WriteMessage(TextMessage, []byte("unread"))
		done := make(chan error, 1)
		go func() { done <- client.Close() }()
		if err := server.CloseWithStatus(4000, "custom"); err != nil {
			t.Fatalf("server Close: %v", err)
		}
		if err := <-done; err != nil {
			t.Fatalf("client Close: %v", err)
		}
	})
	t.Run("silent peer", func(t *testing.T) {
		c, _ := serverWithRawClient(t, func(cfg *connConfig) { cfg.closeTimeout = 100 * time.Millisecond })
		start := time.Now()
		err := c.Close()
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Close: %v, want a deadline error", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Close took %v with a 100ms timeout", d)
		}
		if err := c.WriteMessage(TextMessage, nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("write after Close: %v", err)
		}
	})
	t.Run("silent peer, blocked reader", func(t *testing.T) {
		c, _ := serverWithRawClient(t, func(cfg *connConfig) { cfg.closeTimeout = 100 * time.Millisecond })
		done := make(chan error, 1)
		go func() {
			_, _, err := c.ReadMessage()
			done <- err
		}()
		start := time.Now()
		c.Close()
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Close took %v with a 100ms timeout", d)
		}
		if err := <-done; err == nil {
			t.Fatal("read returned no error after Close")
		}
	})
	t.Run("client waits for the server to close TCP", func(t *testing.T) {
		c, peer := clientWithRawServer(t, nil)
		done := make(chan error, 1)
		go func() { done <- c.Close() }()
		peer.expectClose(StatusNormalClosure)
		peer.writeFrame(true, opClose, closePayload(1000, ""))
		select {
		case err := <-done:
			t.Fatalf("client Close returned (%v) before the server closed TCP", err)
		default:
		}
		peer.conn.Close()
		if err := <-done; err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
}

func TestCloseWithStatusArguments(t *testing.T) {
	c, _ := serverWithRawClient(t, nil)
	for _, code := range []StatusCode{0, 1004, 1005, 1006, 1015, 2000, 5000} {
		if err := c.CloseWithStatus(code, ""); err == nil {
			t.Errorf("CloseWithStatus(%d) accepted", code)
		}
	}
	long := make([]byte, 124)
	for i := range long {
		long[i] = 'x'
	}
	if err := c.CloseWithStatus(1000, string(long)); err == nil {
		t.Error("124-byte reason accepted")
	}
	if err := c.CloseWithStatus(1000, "\xff"); err == nil {
		t.Error("invalid UTF-8 reason accepted")
	}
	if c.life.over() || c.closeSent.Load() {
		t.Fatal("a refused CloseWithStatus closed the connection")
	}
}

func TestCloseConcurrentWithReadsAndWrites(t *testing.T) {
	client, server := connPair(t, func(cfg *connConfig) { cfg.closeTimeout = time.Second })
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 10000 {
			if _, _, err := server.ReadMessage(); err != nil {
				return
			}
		}
	})
	wg.Go(func() {
		for range 10000 {
			if _, _, err := client.ReadMessage(); err != nil {
				return
			}
		}
	})
	for i := range 4 {
		wg.Go(func() {
			for range 10000 {
				if err := client.WriteMessage(BinaryMessage, pattern(i, 100)); err != nil {
					return
				}
			}
		})
	}
	for range 3 {
		wg.Go(func() { client.Close() })
	}
	wg.Go(func() { server.Close() })
	wg.Wait()
	if err := client.WriteMessage(BinaryMessage, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
}

func TestFormatCloseMessage(t *testing.T) {
	if got := FormatCloseMessage(1001, "bye"); string(got) != "\x03\xe9bye" {
		t.Fatalf("got %q", got)
	}
	if got := FormatCloseMessage(StatusNoStatusReceived, "ignored"); len(got) != 0 {
		t.Fatalf("got %q", got)
	}
	if CloseStatus(errors.New("x")) != 0 || CloseStatus(nil) != 0 {
		t.Fatal("CloseStatus of a non-close error is not 0")
	}
	e := &CloseError{Code: 1000, Reason: "done"}
	if e.Error() != "websocket: close 1000 (NormalClosure): done" {
		t.Fatalf("Error() = %q", e.Error())
	}
}

func TestCloseDuringFragmentedMessage(t *testing.T) {
	client, server := connPair(t, func(cfg *connConfig) { cfg.writeBufferSize = 64 })
	w, err := client.NextWriter(BinaryMessage)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(pattern(1, 200)); err != nil { // three fragments go out
		t.Fatal(err)
	}
	serverErr := make(chan error, 1)
	go func() {
		_, _, err := server.ReadMessage()
		serverErr <- err
	}()
	// RFC 6455 §5.4: the close, a control frame, may come between
	// fragments; the unfinished message is abandoned.
	if err := client.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-serverErr; CloseStatus(err) != StatusNormalClosure {
		t.Fatalf("server: %v", err)
	}
	if _, err := w.Write(pattern(2, 200)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("writer Close after Close: %v", err)
	}
}

// TestIsCloseError: both helpers look through wrapping for a *CloseError,
// and errors that are no close are neither expected nor unexpected closes.
func TestIsCloseError(t *testing.T) {
	going := fmt.Errorf("read: %w", &CloseError{Code: StatusGoingAway, Reason: "bye"})
	cases := []struct {
		name             string
		err              error
		isNormalOrGoing  bool
		unexpectedBeside bool // IsUnexpectedCloseError(err, 1000, 1001)
	}{
		{"nil", nil, false, false},
		{"not a close", io.ErrUnexpectedEOF, false, false},
		{"wrapped going away", going, true, false},
		{"normal", &CloseError{Code: StatusNormalClosure}, true, false},
		{"protocol error", &CloseError{Code: StatusProtocolError}, false, true},
		{"abnormal closure", errAbnormalClosure, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsCloseError(tc.err, StatusNormalClosure, StatusGoingAway); got != tc.isNormalOrGoing {
				t.Errorf("IsCloseError = %v, want %v", got, tc.isNormalOrGoing)
			}
			if got := IsUnexpectedCloseError(tc.err, StatusNormalClosure, StatusGoingAway); got != tc.unexpectedBeside {
				t.Errorf("IsUnexpectedCloseError = %v, want %v", got, tc.unexpectedBeside)
			}
		})
	}
	if IsCloseError(going) {
		t.Error("IsCloseError with no codes matched")
	}
	if !IsUnexpectedCloseError(going) {
		t.Error("IsUnexpectedCloseError with no expected codes: every close is unexpected")
	}
}
