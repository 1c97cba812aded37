package websocket

import (
	"bufio"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/wstest"
)

// closeWriteGate is a transport whose writes of a close frame wait until
// the test opens the gate, so that the peer's close can arrive while ours
// is being written. Closing it makes a held write fail, as closing a
// socket fails a write blocked on it.
type closeWriteGate struct {
	net.Conn
	entered   chan struct{} // closed when the first close frame's write begins
	open      chan struct{} // closed by the test: held writes proceed
	closed    chan struct{} // closed by Close
	enterOnce sync.Once
	closeOnce sync.Once
}

func newCloseWriteGate(c net.Conn) *closeWriteGate {
	return &closeWriteGate{
		Conn:    c,
		entered: make(chan struct{}),
		open:    make(chan struct{}),
		closed:  make(chan struct{}),
	}
}

// Write holds a write that starts with a close frame's header (the Conn
// writes a control frame in one Write) until the gate opens.
func (g *closeWriteGate) Write(p []byte) (int, error) {
	if len(p) > 0 && opcode(p[0]&0x0f) == opClose {
		g.enterOnce.Do(func() { close(g.entered) })
		select {
		case <-g.open:
		case <-g.closed:
			return 0, net.ErrClosed
		}
	}
	return g.Conn.Write(p)
}

func (g *closeWriteGate) Close() error {
	g.closeOnce.Do(func() { close(g.closed) })
	return g.Conn.Close()
}

// TestCloseWhilePeerCloseArrives: Close is writing our close frame when
// the reading goroutine receives the peer's. The reader's answer must wait
// for that write rather than close the transport under it (lingerClose),
// so Close returns nil, the read returns the peer's *CloseError, and the
// peer sees exactly one close frame.
//
// The write is held until the reader has started to wait for it (the
// closeWaitHook); without the wait, the reader closes the transport while
// the write is held, which the test reports.
func TestCloseWhilePeerCloseArrives(t *testing.T) {
	cn, sn := wstest.TCPPair(t)
	gate := newCloseWriteGate(sn)
	c := newConn(connConfig{netConn: gate, closeTimeout: testTimeout})
	t.Cleanup(func() { c.CloseNow() })
	waiting := make(chan struct{})
	c.closeWaitHook = func() { close(waiting) }

	readErr := make(chan error, 1)
	go func() {
		_, _, err := c.ReadMessage()
		readErr <- err
	}()
	closeErr := make(chan error, 1)
	go func() { closeErr <- c.Close() }()

	select {
	case <-gate.entered:
	case <-time.After(testTimeout):
		t.Fatal("Close did not write a close frame")
	}
	cn.SetDeadline(time.Now().Add(testTimeout))
	if _, err := cn.Write(encodeFrame(true, true, 0, opClose, closePayload(1000, "bye"))); err != nil {
		t.Fatal(err)
	}
	select {
	case <-waiting:
		close(gate.open)
	case <-gate.closed:
		t.Fatal("the transport was closed while our close frame was being written")
	case <-time.After(testTimeout):
		t.Fatal("the reader neither waited for our close write nor closed the transport")
	}

	for name, ch := range map[string]chan error{"Close": closeErr, "ReadMessage": readErr} {
		select {
		case err := <-ch:
			ch <- err
		case <-time.After(testTimeout):
			t.Fatalf("%s did not return", name)
		}
	}
	if err := <-closeErr; err != nil {
		t.Errorf("Close = %v, want nil", err)
	}
	var ce *CloseError
	if err := <-readErr; !errors.As(err, &ce) || ce.Code != StatusNormalClosure || ce.Reason != "bye" {
		t.Errorf("ReadMessage = %v, want the peer's close 1000 bye", err)
	}
	res := readAllFrames(bufio.NewReader(cn), false, nil)
	if res.err != nil || !res.closed || res.closeCode != StatusNormalClosure || len(res.messages) != 0 {
		t.Errorf("peer saw close %v (code %d), %d messages, then %v; want one close 1000, then EOF",
			res.closed, res.closeCode, len(res.messages), res.err)
	}
}
