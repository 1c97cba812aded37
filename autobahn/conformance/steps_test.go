package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rfc6455/websocket"
)

// step is one thing the peer does in a row: send bytes, or read what our
// side does and compare it with what the RFC requires.
type step interface {
	run(p *peer) error
	String() string
}

// terminal steps end the connection; a row that ends without one gets a
// normal closing handshake.
type terminal interface{ terminal() }

// sendStep writes frames, chopped into writes of chop bytes when chop > 0.
type sendStep struct {
	chop   int
	frames []frame
}

func send(frames ...frame) step { return sendStep{frames: frames} }

// sendChopped writes frames in writes of chop bytes each, so that our side
// reads headers and payloads in pieces.
func sendChopped(chop int, frames ...frame) step { return sendStep{chop: chop, frames: frames} }

func (s sendStep) run(p *peer) error { p.send(s.chop, s.frames...); return nil }

func (s sendStep) String() string {
	parts := make([]string, 0, min(len(s.frames), 4))
	for i, f := range s.frames {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("…%d frames", len(s.frames)))
			break
		}
		parts = append(parts, describe(f))
	}
	c := ""
	if s.chop > 0 {
		c = fmt.Sprintf(" in writes of %d bytes", s.chop)
	}
	return "send " + strings.Join(parts, ", ") + c
}

func describe(f frame) string {
	s := fmt.Sprintf("op %#x len %d", f.op, len(f.payload))
	if f.notFin {
		s += " !fin"
	}
	if f.rsv != 0 {
		s += fmt.Sprintf(" rsv %#x", f.rsv)
	}
	if f.flipMask {
		s += " mask-flipped"
	}
	if f.hasDecl {
		s += fmt.Sprintf(" announcing %d", f.declared)
	}
	return s
}

// expectStep reads the next things our side does and requires them to be
// exactly these, in this order.
type expectStep struct{ want []event }

func expect(want ...event) step { return expectStep{want} }

// Expected events.
func msgText(s string) event  { return event{kind: evMessage, op: opText, data: []byte(s)} }
func msgTextB(b []byte) event { return event{kind: evMessage, op: opText, data: b} }
func msgBin(b []byte) event   { return event{kind: evMessage, op: opBinary, data: b} }
func gotPong(s string) event  { return event{kind: evPong, data: []byte(s)} }
func gotPongB(b []byte) event { return event{kind: evPong, data: b} }

// echo sends frames and expects each whole message back. It is the usual
// row body: what goes out must come back byte for byte, type for type.
func echo(frames ...frame) []step {
	return []step{send(frames...), expect(echoed(frames...)...)}
}

// echoed is what an echo endpoint answers to frames: each whole data
// message, and a pong for each ping, ahead of the message it interrupts
// (RFC 6455 §5.4: control frames may be injected between fragments, and our
// side answers a ping as soon as it reads it, §5.5.2).
func echoed(frames ...frame) []event {
	var want []event
	cur := -1 // index in want of the message being assembled
	for _, f := range frames {
		switch f.op {
		case opText, opBinary:
			// Clipped, so that appending a continuation copies.
			want = append(want, event{kind: evMessage, op: f.op, data: slices.Clip(f.payload)})
			cur = len(want) - 1
		case opCont:
			if cur >= 0 {
				want[cur].data = append(want[cur].data, f.payload...)
			}
		case opPing:
			if cur >= 0 {
				want = slices.Insert(want, cur, gotPongB(f.payload))
				cur++
			} else {
				want = append(want, gotPongB(f.payload))
			}
		}
		if f.op&0x08 == 0 && !f.notFin {
			cur = -1
		}
	}
	return want
}

func (s expectStep) run(p *peer) error {
	for i, w := range s.want {
		got, err := p.next()
		if err != nil {
			return fmt.Errorf("event %d: want %v: %w", i+1, w, err)
		}
		if !same(got, w) {
			return fmt.Errorf("event %d: got %v, want %v", i+1, got, w)
		}
	}
	return nil
}

func (s expectStep) String() string {
	parts := make([]string, 0, min(len(s.want), 4))
	for i, w := range s.want {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("…%d events", len(s.want)))
			break
		}
		parts = append(parts, w.String())
	}
	return "expect " + strings.Join(parts, ", ")
}

// same compares what our side did with what a row wants; the number of
// frames a message came in is our side's choice.
func same(got, want event) bool {
	return got.kind == want.kind && got.op == want.op && got.code == want.code && bytes.Equal(got.data, want.data)
}

// syncStep is a barrier: a ping whose pong proves that our side has read
// and accepted everything sent before it, without waiting on a clock.
type syncStep struct{}

func barrier() step { return syncStep{} }

func (syncStep) run(p *peer) error {
	p.syncs++
	payload := fmt.Sprintf("barrier %d", p.syncs)
	p.send(0, ping(payload))
	return expectStep{[]event{gotPong(payload)}}.run(p)
}

func (syncStep) String() string { return "barrier (ping, expect its pong)" }

// closeStep sends a close frame and expects the reply (one of codes), then
// the TCP close. Our side's read must report the code the peer sent.
type closeStep struct {
	payload []byte
	codes   []int
	ours    ourResult
	after   []frame // sent right behind the close frame, in the same write
	chop    int     // write in pieces of chop bytes when > 0
}

// closeWith closes with code and reason, and expects our side to echo the
// code or answer 1000 (RFC 6455 §5.5.1: an endpoint "typically echos" it).
func closeWith(code uint16, reason string) step {
	codes := []int{int(code)}
	if code != 1000 {
		codes = append(codes, 1000)
	}
	return closeStep{payload: closePayload(code, reason), codes: codes, ours: peerClosed(int(code))}
}

// closeThen closes as closeWith does, and sends frames right behind the
// close frame: RFC 6455 §1.4, §5.5.1, our side must ignore them (no echo,
// no pong) and answer only the close.
func closeThen(code uint16, reason string, after ...frame) step {
	s := closeWith(code, reason).(closeStep)
	s.after = after
	return s
}

// closeChopped closes as closeWith does, writing the close frame a byte at
// a time.
func closeChopped(code uint16, reason string) step {
	s := closeWith(code, reason).(closeStep)
	s.chop = 1
	return s
}

// closeEmpty sends a close frame without payload: our side answers with an
// empty one or 1000, and reports 1005 (RFC 6455 §7.1.5).
func closeEmpty() step {
	return closeStep{codes: []int{1005, 1000}, ours: peerClosed(1005)}
}

func (s closeStep) run(p *peer) error {
	p.send(s.chop, append([]frame{closeRaw(s.payload)}, s.after...)...)
	p.want = s.ours
	return expectClose(p, s.codes, false)
}

func (s closeStep) String() string {
	return fmt.Sprintf("close with %x, expect close %v and the TCP close", s.payload, s.codes)
}

func (closeStep) terminal() {}

// closeAnswerStep expects our side's answer to a close frame the peer sent
// in an earlier step, behind other frames or with more after it: the
// same code or 1000 (RFC 6455 §5.5.1), then the TCP close. Our side's
// read must report the code the peer sent.
type closeAnswerStep struct{ code int }

func closeAnswered(code uint16) step { return closeAnswerStep{int(code)} }

func (s closeAnswerStep) run(p *peer) error {
	p.want = peerClosed(s.code)
	codes := []int{s.code}
	if s.code != 1000 {
		codes = append(codes, 1000)
	}
	return expectClose(p, codes, false)
}

func (s closeAnswerStep) String() string {
	return fmt.Sprintf("expect the answer to the close %d sent before, then the TCP close", s.code)
}

func (closeAnswerStep) terminal() {}

// failStep expects our side to fail the connection: a close frame with
// code (RFC 6455 §7.1.7), then the TCP close. The peer answers the close
// as a well-behaved endpoint does.
type failStep struct {
	code     int
	sentinel error // what our side's read error must wrap; nil means the code's usual one
}

func fail(code int) step { return failStep{code: code} }

// failCorrupt expects 1007 for compressed data that does not inflate:
// invalid payload data (RFC 6455 §7.4.1), but not a UTF-8 error.
func failCorrupt() step { return failStep{code: 1007, sentinel: websocket.ErrInvalidPayload} }

func (s failStep) run(p *peer) error {
	p.want = failedWith(s.code)
	p.want.sentinel = s.sentinel
	return expectClose(p, []int{s.code}, true)
}

func (s failStep) String() string {
	return fmt.Sprintf("expect close %d, then the TCP close", s.code)
}

func (failStep) terminal() {}

// expectClose reads our side's close frame, which must carry one of codes
// and be the next thing our side does (a message it was sending may be cut
// short, nothing else may come first), and finishes. reply says the close
// is our side's, so the peer answers it; otherwise the peer's own close went
// out before.
func expectClose(p *peer, codes []int, reply bool) error {
	e, err := p.next()
	if err != nil {
		return fmt.Errorf("want close %v: %w", codes, err)
	}
	if e.kind != evClose {
		return fmt.Errorf("got %v, want close %v", e, codes)
	}
	if !slices.Contains(codes, e.code) {
		return fmt.Errorf("got close %d %q, want close %v", e.code, e.data, codes)
	}
	if reply {
		// RFC 6455 §5.5.1: the endpoint that receives a close answers it.
		p.send(0, closeFrame(uint16(e.code), ""))
	}
	return p.finish()
}

// dropStep closes the peer's writing half without a close frame, as a
// crashed peer would, and expects our side to close the TCP connection
// without sending anything: the connection is closed (RFC 6455 §7.1.5,
// code 1006), there is nobody to send a close frame to.
type dropStep struct{}

func drop() step { return dropStep{} }

func (dropStep) run(p *peer) error {
	p.want = abnormal()
	return p.finish()
}

func (dropStep) String() string { return "close TCP without a close frame, expect the TCP close" }
func (dropStep) terminal()      {}

// partStep sends the encoding of one frame up to payload byte upto (the
// header first), continuing where the previous partStep of the row stopped.
// It lets a row stop in the middle of a frame: our side must then act on
// what it has, not wait for the rest (Autobahn 6.4.3–6.4.4).
type partStep struct {
	f    frame
	upto int
}

func sendFrameUpTo(f frame, upto int) step { return partStep{f, upto} }

func (s partStep) run(p *peer) error {
	if p.part == nil {
		p.part = encode(nil, s.f, p.client)
		p.partHeader = len(p.part) - len(s.f.payload)
	}
	end := p.partHeader + s.upto
	p.sendBytes(0, p.part[p.partSent:end])
	p.partSent = end
	return nil
}

func (s partStep) String() string {
	return fmt.Sprintf("send %s up to payload byte %d", describe(s.f), s.upto)
}

// floodStep sends a frame, then keeps sending binary frames until a write
// fails or max bytes are out, without reading. It makes our side fail, or
// close, while the peer's bytes are still arriving: if our side then closes
// its socket with those bytes unread, the kernel answers with a reset,
// which also throws away what the peer had received but not yet read, our
// close frame among it. RFC 6455 §7.1.1 describes the clean way: shut down
// the writing half, read until the peer's close, then close.
type floodStep struct {
	first frame
	max   int
}

func flood(first frame, max int) step { return floodStep{first, max} }

func (s floodStep) run(p *peer) error {
	p.send(0, s.first)
	chunk := encode(nil, bin(binPayload(64<<10)), p.client)
	for sent := 0; sent < s.max; sent += len(chunk) {
		p.sendBytes(0, chunk)
	}
	// Read nothing until the writes are over: they end when max bytes are
	// out, or when a reset from our side makes one fail.
	if !p.writesDone(30 * time.Second) {
		return errors.New("the flood did not end within 30s: our side neither read nor closed")
	}
	return nil
}

func (s floodStep) String() string {
	return fmt.Sprintf("send %s, then up to %d bytes of binary frames without reading", describe(s.first), s.max)
}
