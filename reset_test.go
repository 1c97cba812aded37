package websocket

import (
	"errors"
	"net"
	"runtime"
	"syscall"
	"testing"
)

// resetByPeer makes the raw peer's TCP connection end with a reset: with
// SO_LINGER 0, close sends RST instead of FIN.
func resetByPeer(t *testing.T, p *rawPeer) {
	t.Helper()
	tc, ok := p.conn.(*net.TCPConn)
	if !ok {
		t.Fatalf("raw peer over %T, want TCP", p.conn)
	}
	if err := tc.SetLinger(0); err != nil {
		t.Fatal(err)
	}
	tc.Close()
}

// wantAbnormal checks that err is the *CloseError 1006 of an abrupt end
// with the transport's error still reachable.
func wantAbnormal(t *testing.T, what string, err error, causes ...error) {
	t.Helper()
	if CloseStatus(err) != StatusAbnormalClosure {
		t.Fatalf("%s: %v, want a *CloseError 1006", what, err)
	}
	for _, cause := range causes {
		if errors.Is(err, cause) {
			return
		}
	}
	t.Fatalf("%s: %v does not wrap any of %v", what, err, causes)
}

// TestResetIsAbnormalClosure: a TCP reset, idle or in the middle of a
// message, ends reads with a *CloseError 1006 that wraps ECONNRESET, on
// both sides; a later write and Close report the same end.
func TestResetIsAbnormalClosure(t *testing.T) {
	for _, side := range []string{"server", "client"} {
		for _, when := range []string{"idle", "mid-message"} {
			t.Run(side+"/"+when, func(t *testing.T) {
				c, peer := sideWithRawPeer(t, side, nil)
				sent := 0
				if when == "mid-message" {
					// A header announcing 1000 bytes, and 10 of them.
					f := peer.frame(true, opBinary, make([]byte, 1000))
					sent = len(f) - 990
					peer.write(f[:sent])
				}
				readErr := make(chan error, 1)
				go func() {
					_, _, err := c.ReadMessage()
					readErr <- err
				}()
				if when == "mid-message" {
					// Reset only once the Conn has the 10 bytes: then the
					// reset comes while it waits inside the message.
					for i := 0; peer.taken() < sent; i++ {
						if i == 1e7 {
							t.Fatal("the Conn never read the start of the message")
						}
						runtime.Gosched()
					}
				}
				resetByPeer(t, peer)
				err := <-readErr
				wantAbnormal(t, "read", err, syscall.ECONNRESET)
				if _, _, err2 := c.ReadMessage(); CloseStatus(err2) != StatusAbnormalClosure {
					t.Fatalf("read again: %v", err2)
				}
				if err := c.Close(); CloseStatus(err) != StatusAbnormalClosure {
					t.Fatalf("Close: %v, want the 1006", err)
				}
			})
		}
	}
}

// TestResetUnderWriteIsAbnormalClosure: a reset that meets a write in
// progress (a 32 MiB message the peer does not read: more than loopback's
// socket buffers take, which a 4 MiB one did not always exceed) fails it
// with a *CloseError 1006 that wraps ECONNRESET or EPIPE, on both sides.
func TestResetUnderWriteIsAbnormalClosure(t *testing.T) {
	for _, side := range []string{"server", "client"} {
		t.Run(side, func(t *testing.T) {
			c, peer := sideWithRawPeer(t, side, nil)
			done := make(chan error, 1)
			go func() { done <- c.WriteMessage(BinaryMessage, make([]byte, 32<<20)) }()
			// The start of the frame: the write is under way.
			var b [64]byte
			if _, err := peer.br.Read(b[:]); err != nil {
				t.Fatal(err)
			}
			resetByPeer(t, peer)
			wantAbnormal(t, "write", <-done, syscall.ECONNRESET, syscall.EPIPE)
		})
	}
}
