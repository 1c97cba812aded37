package h2stream

import (
	"errors"
	"io"
	"testing"
	"time"
)

type writeResult struct {
	n   int
	err error
}

// startWrite writes p into b from another goroutine.
func startWrite(b *Body, p []byte) <-chan writeResult {
	done := make(chan writeResult, 1)
	go func() {
		n, err := b.Write(p)
		done <- writeResult{n, err}
	}()
	return done
}

// TestBodyWriteWaitsForTheNextRead checks the Body's promise: a Write
// returns only when the transport comes back for more after taking all of
// it, which is when the transport has sent it.
func TestBodyWriteWaitsForTheNextRead(t *testing.T) {
	b := NewBody()
	done := startWrite(b, []byte("0123456789"))
	buf := make([]byte, 4)
	var got []byte
	for len(got) < 10 {
		n, err := b.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
		// The transport is sending these bytes now: Write must wait.
		select {
		case r := <-done:
			t.Fatalf("Write returned %v before the transport came back for more", r)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if string(got) != "0123456789" {
		t.Fatalf("transport read %q", got)
	}
	// The transport comes back for more: now Write returns.
	next := make(chan writeResult, 1)
	go func() {
		n, err := b.Read(buf)
		next <- writeResult{n, err}
	}()
	select {
	case r := <-done:
		if r.n != 10 || r.err != nil {
			t.Fatalf("Write = %d, %v; want 10, nil", r.n, r.err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Write did not return after the transport came back")
	}
	b.CloseWrite()
	if r := <-next; r.n != 0 || r.err != io.EOF {
		t.Fatalf("Read after CloseWrite = %d, %v; want EOF", r.n, r.err)
	}
	if _, err := b.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("Write after CloseWrite: %v, want io.ErrClosedPipe", err)
	}
}

func TestBodyAbortDuringWrite(t *testing.T) {
	b := NewBody()
	done := startWrite(b, []byte("0123456789"))
	buf := make([]byte, 3)
	if n, err := b.Read(buf); n != 3 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	stop := errors.New("stop")
	b.Abort(stop)
	select {
	case r := <-done:
		if r.n != 3 || !errors.Is(r.err, stop) {
			t.Fatalf("aborted Write = %d, %v; want 3 and the abort's error", r.n, r.err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Abort did not end the Write")
	}
	// The transport no longer sees the writer's memory.
	if n, err := b.Read(buf); n != 0 || !errors.Is(err, stop) {
		t.Fatalf("Read after Abort = %d, %v; want the abort's error", n, err)
	}
}

// TestBodyClosedByTransport checks that a Write ends when the transport
// gives up on the body (the stream was reset) before taking all of it.
func TestBodyClosedByTransport(t *testing.T) {
	b := NewBody()
	done := startWrite(b, []byte("never read"))
	b.Close()
	select {
	case r := <-done:
		if r.n != 0 || !errors.Is(r.err, errBodyClosed) {
			t.Fatalf("Write = %d, %v; want 0, errBodyClosed", r.n, r.err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Close did not end the Write")
	}
}

// TestBodyResetAfterTaking checks that a Write whose bytes the transport
// had all taken when the stream ended reports success, as a socket write
// does; the next Write fails.
func TestBodyResetAfterTaking(t *testing.T) {
	b := NewBody()
	done := startWrite(b, []byte("abc"))
	if n, err := b.Read(make([]byte, 8)); n != 3 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	b.Close()
	select {
	case r := <-done:
		if r.n != 3 || r.err != nil {
			t.Fatalf("Write = %d, %v; want 3, nil", r.n, r.err)
		}
	case <-time.After(testTimeout):
		t.Fatal("Close did not end the Write")
	}
	if _, err := b.Write([]byte("d")); !errors.Is(err, errBodyClosed) {
		t.Fatalf("next Write: %v, want errBodyClosed", err)
	}
}
