package websocket

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/rfc6455/websocket/internal/bufpool"
	"github.com/rfc6455/websocket/internal/lock"
)

// StatusCode is a close status code of RFC 6455 §7.4.
type StatusCode uint16

// Close status codes registered in RFC 6455 §7.4.1 and the IANA registry.
const (
	StatusNormalClosure           StatusCode = 1000
	StatusGoingAway               StatusCode = 1001
	StatusProtocolError           StatusCode = 1002
	StatusUnsupportedData         StatusCode = 1003
	StatusNoStatusReceived        StatusCode = 1005 // never sent on the wire
	StatusAbnormalClosure         StatusCode = 1006 // never sent on the wire
	StatusInvalidFramePayloadData StatusCode = 1007
	StatusPolicyViolation         StatusCode = 1008
	StatusMessageTooBig           StatusCode = 1009
	StatusMandatoryExtension      StatusCode = 1010
	StatusInternalError           StatusCode = 1011
	StatusServiceRestart          StatusCode = 1012
	StatusTryAgainLater           StatusCode = 1013
	StatusBadGateway              StatusCode = 1014
	StatusTLSHandshake            StatusCode = 1015 // never sent on the wire
)

// String returns the code's registered name, or its number.
func (c StatusCode) String() string {
	switch c {
	case StatusNormalClosure:
		return "NormalClosure"
	case StatusGoingAway:
		return "GoingAway"
	case StatusProtocolError:
		return "ProtocolError"
	case StatusUnsupportedData:
		return "UnsupportedData"
	case StatusNoStatusReceived:
		return "NoStatusReceived"
	case StatusAbnormalClosure:
		return "AbnormalClosure"
	case StatusInvalidFramePayloadData:
		return "InvalidFramePayloadData"
	case StatusPolicyViolation:
		return "PolicyViolation"
	case StatusMessageTooBig:
		return "MessageTooBig"
	case StatusMandatoryExtension:
		return "MandatoryExtension"
	case StatusInternalError:
		return "InternalError"
	case StatusServiceRestart:
		return "ServiceRestart"
	case StatusTryAgainLater:
		return "TryAgainLater"
	case StatusBadGateway:
		return "BadGateway"
	case StatusTLSHandshake:
		return "TLSHandshake"
	}
	return "StatusCode(" + strconv.Itoa(int(c)) + ")"
}

// maxCloseReason is the longest close reason: a control payload holds 125
// bytes, two of which are the code (RFC 6455 §5.5.1).
const maxCloseReason = maxControlPayload - 2

// Close payload errors.
var (
	errCloseOneByte    = &protocolError{StatusProtocolError, "close frame payload of one byte"}
	errCloseCode       = &protocolError{StatusProtocolError, "close frame with an invalid status code"}
	errCloseReasonUTF8 = &protocolError{StatusInvalidFramePayloadData, "close reason is not valid UTF-8"}
	errCloseArgs       = errors.New("websocket: close code not sendable or reason longer than 123 bytes or not UTF-8")
)

// CloseError is the close frame the peer sent: reads return it after the
// close handshake. Code is StatusNoStatusReceived when the frame had no
// payload.
type CloseError struct {
	Code   StatusCode
	Reason string
}

// Error returns "websocket: close <code> (<name>)" and the reason, if any.
func (e *CloseError) Error() string {
	s := "websocket: close " + strconv.Itoa(int(e.Code)) + " (" + e.Code.String() + ")"
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// CloseStatus returns the code of the *CloseError in err's chain (found with
// errors.As, so wrapped errors work), or 0, which is never a valid code,
// when there is none.
func CloseStatus(err error) StatusCode {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}

// IsCloseError reports whether err's chain holds a *CloseError with one of
// codes.
func IsCloseError(err error, codes ...StatusCode) bool {
	code := CloseStatus(err)
	return code != 0 && slices.Contains(codes, code)
}

// IsUnexpectedCloseError reports whether err's chain holds a *CloseError
// whose code is none of expected: a reader loop's way to tell a close worth
// logging from the ones it counts on (StatusNormalClosure,
// StatusGoingAway). Errors that are not closes give false.
func IsUnexpectedCloseError(err error, expected ...StatusCode) bool {
	code := CloseStatus(err)
	return code != 0 && !slices.Contains(expected, code)
}

// FormatCloseMessage returns the payload of a close frame with code and
// text, for WriteControl. StatusNoStatusReceived gives the empty payload,
// which is how a close without a code is sent (RFC 6455 §7.1.5).
func FormatCloseMessage(code StatusCode, text string) []byte {
	if code == StatusNoStatusReceived {
		return []byte{}
	}
	b := make([]byte, 2+len(text))
	binary.BigEndian.PutUint16(b, uint16(code))
	copy(b[2:], text)
	return b
}

// validWireCode reports whether code may appear in a close frame: the codes
// RFC 6455 §7.4.1 and the IANA registry define for use (1000–1003,
// 1007–1014), and those for libraries and applications (3000–4999). 1004 is
// reserved; 1005, 1006 and 1015 stand for conditions and are never sent.
func validWireCode(code StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// parseClosePayload decodes a close frame's payload. An empty payload means
// no code (StatusNoStatusReceived).
func parseClosePayload(p []byte) (StatusCode, string, error) {
	switch len(p) {
	case 0:
		return StatusNoStatusReceived, "", nil
	case 1:
		return 0, "", errCloseOneByte
	}
	code := StatusCode(binary.BigEndian.Uint16(p))
	if !validWireCode(code) {
		return 0, "", errCloseCode
	}
	if !utf8.Valid(p[2:]) {
		return 0, "", errCloseReasonUTF8
	}
	return code, string(p[2:]), nil
}

// encodeClose returns the payload of a close frame carrying code and
// reason; code 0 or StatusNoStatusReceived gives an empty one.
func encodeClose(code StatusCode, reason string) []byte {
	if code == 0 || code == StatusNoStatusReceived {
		return nil
	}
	reason = reason[:min(len(reason), maxCloseReason)]
	b := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(reason)), uint16(code))
	return append(b, reason...)
}

// writeClose sends a close frame with payload, waiting at most until
// deadline, once: after the first, it returns ErrClosed. It is the one path
// that sends close frames. From then on no other frame is sent (RFC 6455 §5.5.1).
//
// A later caller first waits, until deadline at most, for the first one's
// write to end: the reader answering the peer's close while Close writes
// ours would otherwise go on to close the transport (lingerClose) under
// that write, failing a close handshake that was about to complete.
func (c *Conn) writeClose(payload []byte, deadline time.Time) error {
	c.mu.Lock()
	tried := c.closeTried
	if tried == nil {
		c.closeTried = make(chan struct{})
		c.closeSent.Store(true)
	}
	c.mu.Unlock()
	if tried != nil {
		awaitCloseWrite(tried, c.life.closed, deadline, c.closeWaitHook)
		return ErrClosed
	}
	defer close(c.closeTried)
	if err := c.acquireUntil(&c.frameLock, deadline); err != nil {
		return err
	}
	defer c.releaseFrame()
	if c.writer.bound(deadline, false) {
		defer c.writer.unbound()
	}
	err := c.sendFrame(context.Background(), &frameHeader{fin: true, opcode: opClose}, payload, nil)
	if err == nil {
		c.closeWritten.Store(true)
	}
	return err
}

// awaitCloseWrite waits until tried is closed (the first close write
// ended), deadline passes (none when zero) or closed is closed (the
// transport was). hook, when not nil, runs before a wait.
func awaitCloseWrite(tried, closed <-chan struct{}, deadline time.Time, hook func()) {
	select {
	case <-tried:
		return
	case <-closed:
		return
	default:
	}
	if hook != nil {
		hook()
	}
	var timer <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-tried:
	case <-closed:
	case <-timer:
	}
}

// receivedClose acts on the peer's close frame: it checks the payload,
// answers with the same code and reason (RFC 6455 §5.5.1 asks for the
// code; echoing the reason too is what Node's ws and python-websockets do,
// and what a browser then shows the page as CloseEvent.reason) unless our
// close went out first (the close handler may have sent a different
// answer), and closes the transport after a lingering close
// (lingerClose). The caller holds the read lock.
func (c *Conn) receivedClose(payload []byte) error {
	code, reason, err := parseClosePayload(payload)
	if err != nil {
		return c.failRead(err)
	}
	c.closeRecv.Store(true)
	var result error = &CloseError{Code: code, Reason: reason}
	c.mu.Lock()
	h := c.closeHandler
	c.mu.Unlock()
	if h != nil {
		if herr := h(code, reason); herr != nil {
			result = herr
		}
	}
	c.writeClose(encodeClose(code, reason), time.Now().Add(c.closeTimeout))
	c.reader.err = result
	c.life.record(result)
	c.lingerClose()
	return result
}

// lingerMaxBytes bounds what a lingering close reads and drops: enough for
// a peer that was in the middle of a large message, not an endless stream.
const lingerMaxBytes = 16 << 20

// closeWriter is a transport that can shut down its writing half alone:
// *net.TCPConn (a FIN), *tls.Conn (a close_notify alert).
type closeWriter interface{ CloseWrite() error }

// lingerClose closes the transport once our close frame is out, without
// losing what we sent. Closing a TCP socket whose receive queue holds
// unread bytes makes the kernel send a reset, which also drops what we
// wrote and the peer has not received yet: the tail of a message that a
// write reported sent, and our close frame. So it first lets the peer see
// the end of our stream, then reads and drops the peer's bytes until the
// peer closes its end, the close timeout passes or lingerMaxBytes are
// read, and only then closes (RFC 6455 §7.1.1: close the connection
// cleanly; §7.1.7: fail it by sending a close frame and closing).
//
// A server shuts down its writing half (closeWriter), which a client
// waiting for the server to close takes as that close. A client does not:
// RFC 6455 §7.1.1 asks it to wait for the server to close first, at most
// clientCloseLinger. A server whose transport cannot shut down one half
// closes at once, as the client would otherwise wait for it.
//
// The caller holds the read lock and has set the sticky read error, so no
// later read touches the transport; nothing is written after the close
// frame either. The reading and the final close happen on a goroutine of
// their own, so that the read that found the close or the violation
// returns at once; it ends when the transport does, and closeHandshake
// (Close) waits for it.
func (c *Conn) lingerClose() {
	r := &c.reader
	r.releaseBuffer()
	c.whole.drop()
	if c.life.over() || !c.closeWritten.Load() {
		c.closeTransport()
		return
	}
	deadline := time.Now().Add(c.closeTimeout)
	if c.client {
		deadline = time.Now().Add(min(c.closeTimeout, clientCloseLinger))
	} else {
		cw, ok := c.netConn.(closeWriter)
		if !ok {
			c.closeTransport()
			return
		}
		c.writer.setDeadline(deadline)
		if cw.CloseWrite() != nil {
			c.closeTransport()
			return
		}
	}
	c.dlMu.Lock()
	c.lingering.Store(true)
	c.netConn.SetReadDeadline(deadline)
	c.dlMu.Unlock()
	go func() {
		drain(c.netConn, r.bufferSize)
		c.closeTransport()
	}()
}

// drain reads and drops conn's bytes until it reports an error (the
// peer's close, a reset, the deadline lingerClose set, or CloseNow) or
// lingerMaxBytes were read. Its buffer is of the read buffer's size, which
// the reader just gave back to the pool.
func drain(conn net.Conn, size int) {
	p := bufpool.Get(size)
	defer bufpool.Put(p)
	total, empty := 0, 0
	for total < lingerMaxBytes && empty < maxEmptyReads {
		n, err := conn.Read(*p)
		if err != nil {
			return
		}
		if n == 0 {
			empty++
		}
		total += n
	}
}

// Close performs the closing handshake with code 1000 (normal closure): it
// sends a close frame, waits for the peer's, and closes the transport. It
// waits at most the close timeout (the Upgrader's or Dialer's
// CloseTimeout, DefaultCloseTimeout when unset), then closes the transport
// anyway.
//
// The peer's close arrives on the read side, behind whatever messages the
// peer sent before it. Once the application has read from the Conn (any
// reading method, any goroutine), Close leaves those messages to the
// application: it reads frames itself only while no read is in progress,
// stops at the first data message, and otherwise waits for the
// application's reader to reach the peer's close (that read returns the
// *CloseError). So a goroutine that reads until an error receives every
// message sent before the peer's close, whenever another goroutine calls
// Close; but an application that stops reading and then calls Close while
// the peer still sends messages makes Close wait for the close timeout. An
// application that never reads lets Close read and drop the messages
// itself.
//
// Close returns nil when the handshake completed, whichever side began it
// (so a deferred Close after the peer closed returns nil), and otherwise the
// error that ended the connection. It may be called at any time, from any
// goroutine, any number of times; later calls wait for nothing.
func (c *Conn) Close() error {
	return c.CloseWithStatus(StatusNormalClosure, "")
}

// CloseWithStatus is Close with the given code and reason. The code must be
// one a close frame may carry (1000–1003, 1007–1014, 3000–4999), and the
// reason valid UTF-8 of at most 123 bytes; otherwise it returns an error
// and does nothing.
func (c *Conn) CloseWithStatus(code StatusCode, reason string) error {
	if !validWireCode(code) || len(reason) > maxCloseReason || !utf8.ValidString(reason) {
		return errCloseArgs
	}
	if !c.life.over() {
		deadline := time.Now().Add(c.closeTimeout)
		c.writeClose(encodeClose(code, reason), deadline)
		c.awaitPeerClose(deadline)
		if !c.life.over() {
			c.life.record(fmt.Errorf("websocket: no close frame from the peer within %v: %w", c.closeTimeout, os.ErrDeadlineExceeded))
			c.closeTransport()
		}
	}
	if c.closeRecv.Load() && c.closeWritten.Load() {
		return nil
	}
	return c.life.err()
}

// CloseNow closes the transport at once, without a closing handshake.
// Blocked reads and writes return. It is safe to call at any time.
func (c *Conn) CloseNow() error {
	if c.life.over() {
		return ErrClosed
	}
	c.closeTransport()
	return nil
}

// awaitPeerClose waits, after our close frame, until the transport closes
// (the peer's close was read, by Close or by the application) or deadline
// passes. It reads itself when it can take the read lock, toward the
// peer's close frame (receivedClose then closes the transport): when the
// application has read from the Conn, it stops at the first data message,
// which is the application's to read; otherwise it drops messages. When
// that leaves the rest to someone else, the application's reader or a
// lingering close, it waits for them.
func (c *Conn) awaitPeerClose(deadline time.Time) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	if !c.readLock.TryLock() && c.readLock.Wait(nil, c.life.closed, timer.C) != lock.Locked {
		return
	}
	r := &c.reader
	if r.err == nil {
		c.dlMu.Lock()
		c.readDeadline = deadline
		if !c.readInterrupted {
			c.netConn.SetReadDeadline(deadline)
		}
		c.dlMu.Unlock()
	}
	wait := true // for a data message left to the application
	switch {
	case r.err != nil:
		wait = c.lingering.Load()
	case !c.userRead.Load():
		for c.nextMessage() == nil {
		}
		wait = c.lingering.Load()
	case r.resume || (r.open && !r.done()):
		// The application is inside a message.
	default:
		// The message handed out last is over; what follows is not
		// handed out yet (a reader of the old one returns io.EOF, see
		// messageReader).
		r.open = false
		if c.advance() != nil {
			wait = c.lingering.Load()
		}
	}
	c.readLock.Unlock()
	if !wait {
		return
	}
	select {
	case <-c.life.closed:
	case <-timer.C:
		// A lingering close ends at most the close timeout after it
		// began, a little later than ours: let it.
		if c.lingering.Load() {
			<-c.life.closed
		}
	}
}
