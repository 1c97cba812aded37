package websocket

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/wstest"
)

// Regression tests for the close path with unread input (RFC 6455 §7.1.1,
// §7.1.7): when our side fails the connection or answers the peer's close
// while the peer is still sending, what we wrote before (the tail of an
// echoed message, our close frame) must reach the peer, not be discarded
// by a TCP reset. The peer here reads everything concurrently with its
// writes, as the conformance rows 7.14.5 and 7.14.6 do.

// lingerPeerResult is what a raw peer saw from the Conn under test.
type lingerPeerResult struct {
	messages  [][]byte // data messages, reassembled
	closeCode StatusCode
	closed    bool // a close frame arrived
	err       error
}

// readAllFrames reads frames from br until the connection ends, collecting
// data messages and the first close frame. Frames after the close fail it.
// onClose, when not nil, runs when the close frame arrives.
func readAllFrames(br *bufio.Reader, fromClient bool, onClose func()) lingerPeerResult {
	var res lingerPeerResult
	var msg []byte
	for range 1 << 16 {
		var h frameHeader
		if err := readFrameHeader(br, headerRules{fromClient: fromClient}, &h); err != nil {
			if errors.Is(err, io.EOF) && res.closed {
				return res
			}
			res.err = err
			return res
		}
		b := make([]byte, h.length)
		if _, err := io.ReadFull(br, b); err != nil {
			res.err = err
			return res
		}
		if h.masked {
			maskBytes(h.key, 0, b)
		}
		if res.closed {
			res.err = errors.New("frame after the close frame")
			return res
		}
		switch h.opcode {
		case opClose:
			res.closed = true
			if onClose != nil {
				onClose()
			}
			if len(b) >= 2 {
				res.closeCode = StatusCode(binary.BigEndian.Uint16(b))
			}
		case opPing, opPong:
		default:
			msg = append(msg, b...)
			if h.fin {
				res.messages = append(res.messages, msg)
				msg = nil
			}
		}
	}
	res.err = errors.New("too many frames")
	return res
}

// lingerCase plays one scenario: the raw peer sends a 1 MiB binary message,
// then the frame after, then 4 MiB more in 64 KiB messages, while it reads.
// It expects the whole echo, then a close with want.
func lingerCase(t *testing.T, client, stream bool, after []byte, want StatusCode) {
	cn, sn := wstest.TCPPair(t)
	ours, theirs := sn, cn
	if client {
		ours, theirs = cn, sn
	}
	c := newConn(connConfig{netConn: ours, client: client, closeTimeout: testTimeout})
	t.Cleanup(func() { c.CloseNow() })
	echoDone := make(chan error, 1)
	// The application's loop: it echoes until an error and closes the Conn
	// on the way out.
	go func() { echoDone <- wstest.Echo(c, stream, 1000) }()

	peerMasks := !client
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	chunk := bytes.Repeat([]byte{0xa5}, 64<<10)
	theirs.SetDeadline(time.Now().Add(testTimeout))
	var wg sync.WaitGroup
	wg.Go(func() {
		// Write errors are expected once our side has closed.
		if _, err := theirs.Write(encodeFrame(peerMasks, true, 0, opBinary, big)); err != nil {
			return
		}
		if _, err := theirs.Write(after); err != nil {
			return
		}
		frame := encodeFrame(peerMasks, true, 0, opBinary, chunk)
		for range 64 {
			if _, err := theirs.Write(frame); err != nil {
				return
			}
		}
	})
	var onClose func()
	if client {
		// A server closes the TCP connection after the close handshake
		// (RFC 6455 §7.1.1), which is what our client waits for.
		onClose = func() { theirs.(*net.TCPConn).CloseWrite() }
	}
	res := readAllFrames(bufio.NewReader(theirs), client, onClose)
	theirs.Close()
	wg.Wait()
	if res.err != nil && !res.closed {
		t.Fatalf("peer: %d messages, then %v (no close frame)", len(res.messages), res.err)
	}
	if len(res.messages) != 1 || !bytes.Equal(res.messages[0], big) {
		lens := make([]int, len(res.messages))
		for i, m := range res.messages {
			lens[i] = len(m)
		}
		t.Fatalf("peer: echoed messages of lengths %v, want one of %d bytes", lens, len(big))
	}
	if res.closeCode != want {
		t.Fatalf("peer: close code %d, want %d", res.closeCode, want)
	}
	if res.err != nil {
		t.Fatalf("peer: after the close: %v", res.err)
	}
	select {
	case <-echoDone:
	case <-time.After(testTimeout):
		t.Fatal("our echo loop did not end")
	}
}

// TestCloseLingerAfterFail: a reserved opcode after a 1 MiB message fails
// the connection with 1002 while 4 MiB more are on their way; the peer gets
// the whole echo and the close frame (conformance row 7.14.5).
func TestCloseLingerAfterFail(t *testing.T) {
	for _, side := range []struct {
		name           string
		client, stream bool
	}{{"server", false, false}, {"server-stream", false, true}, {"client", true, false}} {
		t.Run(side.name, func(t *testing.T) {
			after := encodeFrame(!side.client, true, 0, opcode(3), nil)
			lingerCase(t, side.client, side.stream, after, StatusProtocolError)
		})
	}
}

// TestCloseLingerAfterPeerClose: the peer's close 1000 after a 1 MiB
// message, followed by 4 MiB our side must ignore; the peer gets the whole
// echo and our close answer (conformance row 7.14.6).
func TestCloseLingerAfterPeerClose(t *testing.T) {
	for _, side := range []struct {
		name           string
		client, stream bool
	}{{"server", false, false}, {"server-stream", false, true}, {"client", true, false}} {
		t.Run(side.name, func(t *testing.T) {
			after := encodeFrame(!side.client, true, 0, opClose, closePayload(1000, ""))
			lingerCase(t, side.client, side.stream, after, StatusNormalClosure)
		})
	}
}
