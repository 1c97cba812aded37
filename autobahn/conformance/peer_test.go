package conformance

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
	"unicode/utf8"
)

// peer is the raw side of a row: a TCP connection on which the opening
// handshake is done, and from then on only bytes the row chose go out and
// every byte that comes in is checked.
type peer struct {
	conn   *net.TCPConn
	br     *bufio.Reader
	client bool // the peer is the client: it masks, our side is the server

	// pmd is the permessage-deflate state when the handshake negotiated it.
	pmd *pmdPeer

	writes   chan writeReq // bytes for the writer goroutine, in order
	written  chan struct{} // closed when the writer goroutine ends
	writeErr error         // the writer's first error; read after written is closed

	// Read side: the message our side is sending, and whether its close
	// frame has arrived.
	msgOp     byte
	msgData   []byte
	msgFrames int
	msgRSV1   bool
	inMessage bool
	sawClose  bool

	// want is what our side's Conn must return from its last read, as the
	// steps found out.
	want  ourResult
	syncs int // barriers sent, to tell their payloads apart

	// A frame sent in parts (partStep): its encoding, the size of its
	// header, and how much of it is out.
	part       []byte
	partHeader int
	partSent   int
}

// newPeer wraps a connection whose handshake is done; br holds what was
// read past the handshake.
func newPeer(conn *net.TCPConn, br *bufio.Reader, client bool) *peer {
	p := &peer{
		conn:    conn,
		br:      br,
		client:  client,
		writes:  make(chan writeReq, 1024),
		written: make(chan struct{}),
	}
	// Writes run in their own goroutine, so that the peer reads our side's
	// answers while a large write is in flight: neither side's buffers
	// fill up and stall the other.
	go func() {
		defer close(p.written)
		for w := range p.writes {
			if w.done != nil {
				close(w.done)
				continue
			}
			if p.writeErr != nil {
				continue
			}
			if _, err := conn.Write(w.b); err != nil {
				p.writeErr = err
			}
		}
	}()
	return p
}

// send queues frames for writing, in chunks of chop bytes when chop > 0
// (each chunk its own write), else in one write.
func (p *peer) send(chop int, frames ...frame) {
	var b []byte
	for _, f := range frames {
		if f.deflate {
			f = p.pmd.compress(f)
		}
		b = encode(b, f, p.client)
	}
	p.sendBytes(chop, b)
}

// sendBytes queues raw bytes, chopped as send does.
func (p *peer) sendBytes(chop int, b []byte) {
	if chop <= 0 || chop >= len(b) {
		p.writes <- writeReq{b: b}
		return
	}
	for len(b) > 0 {
		n := min(chop, len(b))
		p.writes <- writeReq{b: b[:n:n]}
		b = b[n:]
	}
}

// writeReq is a write for the writer goroutine, or, with done set, a
// marker it closes once every earlier write is out or has failed.
type writeReq struct {
	b    []byte
	done chan struct{}
}

// writesDone waits, at most d, until everything queued so far is written
// or has failed, and reports whether it was.
func (p *peer) writesDone(d time.Duration) bool {
	done := make(chan struct{})
	p.writes <- writeReq{done: done}
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// stopWriting ends the writer goroutine once everything queued is out (or
// failed) and reports whether it ended within d.
func (p *peer) stopWriting(d time.Duration) bool {
	close(p.writes)
	select {
	case <-p.written:
		return true
	case <-time.After(d):
		return false
	}
}

type eventKind int

const (
	evMessage eventKind = iota
	evPing
	evPong
	evClose
	evEOF // the TCP connection ended (FIN or reset) between frames
)

// event is what our side did, as the peer saw it.
type event struct {
	kind   eventKind
	op     byte   // evMessage: opText or opBinary
	data   []byte // evMessage: payload; evPing, evPong: payload; evClose: reason
	code   int    // evClose: status code, 1005 when the payload was empty
	frames int    // evMessage: how many frames it came in
	rsv1   bool   // evMessage: sent compressed
}

func (e event) String() string {
	switch e.kind {
	case evMessage:
		kind := "text"
		if e.op == opBinary {
			kind = "binary"
		}
		return fmt.Sprintf("%s message of %d bytes %s in %d frames", kind, len(e.data), short(e.data), e.frames)
	case evPing:
		return fmt.Sprintf("ping %s", short(e.data))
	case evPong:
		return fmt.Sprintf("pong %s", short(e.data))
	case evClose:
		return fmt.Sprintf("close %d %q", e.code, short(e.data))
	default:
		return "TCP close"
	}
}

// short quotes the start of b for messages.
func short(b []byte) string {
	if len(b) > 40 {
		return fmt.Sprintf("%q…", b[:40])
	}
	return fmt.Sprintf("%q", b)
}

// next reads until our side has done one more thing: sent a whole message,
// a control frame, or closed the TCP connection. A message in progress when
// the close frame arrives is dropped: RFC 6455 §7.1.7 lets an endpoint fail
// in the middle of a message. Frames that break RFC 6455 return an error
// wrapping errOurFrame.
func (p *peer) next() (event, error) {
	for {
		f, err := readFrame(p.br, !p.client, p.pmd != nil)
		if err != nil {
			if isEOF(err) {
				return event{kind: evEOF}, nil
			}
			return event{}, err
		}
		if p.sawClose {
			// RFC 6455 §5.5.1: nothing follows a close frame.
			return event{}, fmt.Errorf("%w: opcode %#x after the close frame", errOurFrame, f.op)
		}
		switch f.op {
		case opText, opBinary:
			if p.inMessage {
				return event{}, fmt.Errorf("%w: a new message inside a fragmented one (RFC 6455 §5.4)", errOurFrame)
			}
			p.inMessage, p.msgOp, p.msgData, p.msgFrames, p.msgRSV1 = true, f.op, nil, 0, f.rsv&rsv1 != 0
			fallthrough
		case opCont:
			if !p.inMessage {
				return event{}, fmt.Errorf("%w: a continuation frame outside a message (RFC 6455 §5.4)", errOurFrame)
			}
			if p.msgFrames == 0 {
				// The usual single frame: no copy. Its len is its cap, so a
				// second frame's append copies rather than overwrites.
				p.msgData = f.payload
			} else {
				p.msgData = append(p.msgData, f.payload...)
			}
			p.msgFrames++
			if !f.fin {
				continue
			}
			p.inMessage = false
			e := event{kind: evMessage, op: p.msgOp, data: p.msgData, frames: p.msgFrames, rsv1: p.msgRSV1}
			if e.rsv1 {
				if e.data, err = p.pmd.decompress(e.data); err != nil {
					return event{}, fmt.Errorf("%w: compressed message: %v", errOurFrame, err)
				}
			}
			if e.op == opText && !utf8.Valid(e.data) {
				return event{}, fmt.Errorf("%w: text message that is not UTF-8 (RFC 6455 §5.6)", errOurFrame)
			}
			return e, nil
		case opPing:
			return event{kind: evPing, data: f.payload}, nil
		case opPong:
			return event{kind: evPong, data: f.payload}, nil
		case opClose:
			p.sawClose = true
			p.inMessage = false
			return parseClose(f.payload)
		}
	}
}

// parseClose checks a close payload from our side (RFC 6455 §5.5.1, §7.4).
func parseClose(b []byte) (event, error) {
	switch len(b) {
	case 0:
		return event{kind: evClose, code: 1005}, nil
	case 1:
		return event{}, fmt.Errorf("%w: a close payload of 1 byte (RFC 6455 §5.5.1)", errOurFrame)
	}
	code := int(binary.BigEndian.Uint16(b))
	if !sendableCode(code) {
		return event{}, fmt.Errorf("%w: close code %d may not be sent (RFC 6455 §7.4)", errOurFrame, code)
	}
	if !utf8.Valid(b[2:]) {
		return event{}, fmt.Errorf("%w: close reason is not UTF-8 (RFC 6455 §5.5.1)", errOurFrame)
	}
	return event{kind: evClose, code: code, data: b[2:]}, nil
}

// sendableCode reports whether a close frame may carry code: the codes of
// RFC 6455 §7.4.1 and the IANA registry that are not reserved for local
// use (1004–1006, 1015), and the ranges 3000–4999 of §7.4.2.
func sendableCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// isEOF reports whether err means the TCP connection ended: a FIN, or a
// reset (our side may close with bytes of ours unread, RFC 6455 §7.1.1).
func isEOF(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// finish ends the connection from the peer's side once the close frames
// have crossed: it shuts down its writing half (a FIN, which a waiting
// client takes as the server's TCP close, RFC 6455 §7.1.1) and then reads
// until our side closes its end, failing if anything else arrives.
func (p *peer) finish() error {
	if !p.stopWriting(5 * time.Second) {
		return errors.New("the peer's writes did not drain within 5s")
	}
	_ = p.conn.CloseWrite()
	e, err := p.next()
	if err != nil {
		return err
	}
	if e.kind != evEOF {
		return fmt.Errorf("after the closing handshake our side sent %v", e)
	}
	return nil
}
