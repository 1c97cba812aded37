package interop

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"

	"github.com/rfc6455/websocket"
)

// messageSizes are the payload lengths every peer echoes in both types: the
// empty message, the largest and smallest lengths of the 7-bit and 16-bit
// encodings' neighbourhood (RFC 6455 §5.2: 125 fits the first byte, 126
// needs the 16-bit form), 64 KiB (the first that needs the 64-bit form) and
// 4 MiB.
var messageSizes = []int{0, 125, 126, 64 << 10, 4 << 20}

// feature is one interop check, run in each direction against each
// protocol peer it applies to, on a connection of its own.
type feature struct {
	name string
	// applies reports whether the peer can take part; nil means every peer.
	applies func(protoPeer) bool
	// offerProtocols makes the client side offer "nope" and "chat.v2".
	offerProtocols bool
	// compress, when set, makes both sides negotiate permessage-deflate:
	// our side with these options, the peer with its defaults.
	compress *websocket.CompressionOptions
	// minRatio is how many times smaller than the payload the compressed
	// traffic must be; 0 means 10.
	minRatio int
	run      func(s *session)
}

var features = []feature{
	{name: "messages", run: checkMessages},
	{name: "fragmented-ours", run: checkOurFragments},
	{name: "fragmented-theirs", applies: func(p protoPeer) bool { return p.fragments }, run: checkTheirFragments},
	{name: "ping-pong", run: checkPingPong},
	{name: "close-ours", run: checkOurClose},
	{name: "close-theirs", run: checkTheirClose},
	{name: "subprotocol", offerProtocols: true, run: checkSubprotocol},
	{name: "invalid-utf8", run: checkInvalidUTF8},
	{name: "reserved-opcode", run: checkReservedOpcode},
	{name: "wrong-masking", applies: func(p protoPeer) bool { return p.strictMasking }, run: checkWrongMasking},
	{name: "compression-takeover", applies: deflates, run: checkCompression,
		compress: &websocket.CompressionOptions{Mode: websocket.CompressionContextTakeover}},
	{name: "compression-no-takeover", applies: deflates, run: checkCompression,
		compress: &websocket.CompressionOptions{Mode: websocket.CompressionNoContextTakeover}},
	// A 9-bit window: zlib-based peers cannot compress with 8 bits, so 9 is
	// the smallest both sides can use. zlib then matches only 250 bytes back
	// (a 512-byte window less its 262-byte lookahead), which misses the
	// 251-byte period of the binary pattern, hence the lower ratio.
	{name: "compression-window-9", applies: deflates, run: checkCompression, minRatio: 4,
		compress: &websocket.CompressionOptions{Mode: websocket.CompressionContextTakeover, WindowBits: 9}},
}

// deflates reports whether the peer speaks permessage-deflate.
func deflates(p protoPeer) bool { return p.deflate }

// checkMessages echoes text and binary messages of every size in messageSizes.
func checkMessages(s *session) {
	for _, typ := range []websocket.MessageType{websocket.TextMessage, websocket.BinaryMessage} {
		for _, n := range messageSizes {
			payload := pattern(typ, n)
			s.send(typ, payload)
			s.expect(typ, payload)
		}
	}
	s.closeNormally()
}

// checkOurFragments sends 100,000-byte messages through NextWriter in uneven
// writes; the writer sends a fragment each time its buffer fills, so the peer
// reassembles about 25 fragments (RFC 6455 §5.4) and echoes the whole.
func checkOurFragments(s *session) {
	for _, typ := range []websocket.MessageType{websocket.TextMessage, websocket.BinaryMessage} {
		payload := pattern(typ, 100000)
		w, err := s.conn.NextWriter(typ)
		if err != nil {
			s.t.Fatalf("NextWriter: %v", err)
		}
		for rest, step := payload, 1; len(rest) > 0; step = step*3 + 1 {
			k := min(step, len(rest))
			if _, err := w.Write(rest[:k]); err != nil {
				s.t.Fatalf("write: %v", err)
			}
			rest = rest[k:]
		}
		if err := w.Close(); err != nil {
			s.t.Fatalf("close writer: %v", err)
		}
		s.expect(typ, payload)
	}
	s.closeNormally()
}

// checkTheirFragments asks the peer for messages in 7 fragments and checks
// they arrive reassembled.
func checkTheirFragments(s *session) {
	for _, typ := range []websocket.MessageType{websocket.TextMessage, websocket.BinaryMessage} {
		const n = 100000
		s.sendText("cmd:frag:" + kind(typ) + ":" + itoa(n) + ":7")
		s.expect(typ, pattern(typ, n))
	}
	s.closeNormally()
}

// checkPingPong pings the peer and waits for its pong (RFC 6455 §5.5.3), then
// has the peer ping us and report the pong our side answered with.
func checkPingPong(s *session) {
	ctx, cancel := context.WithTimeout(context.Background(), peerTimeout)
	defer cancel()
	if err := s.conn.Ping(ctx, []byte("go-ping")); err != nil {
		s.t.Fatalf("Ping: %v", err)
	}
	s.expectText("ping:go-ping") // the peer's report that our ping arrived
	s.sendText("cmd:ping:node-ping")
	s.expectText("pong:node-ping") // the peer's report of our automatic pong
	s.closeNormally()
}

// checkOurClose closes with 4001 and a reason; the peer reports both.
func checkOurClose(s *session) {
	const reason = "go: done, ünïcode"
	if err := s.conn.CloseWithStatus(4001, reason); err != nil {
		s.t.Fatalf("CloseWithStatus: %v", err)
	}
	ev := s.peer.waitEvent(s.t, "close", s.path)
	if ev.Code != 4001 || ev.Reason != reason {
		s.t.Fatalf("the peer saw close %d %q, want 4001 %q", ev.Code, ev.Reason, reason)
	}
}

// checkTheirClose has the peer close with 4002 and a reason; our read
// returns both in a *CloseError, and our answer echoes the code (RFC 6455
// §5.5.1).
func checkTheirClose(s *session) {
	const reason = "node: done"
	s.sendText("cmd:close:4002:" + reason)
	m := s.next()
	var ce *websocket.CloseError
	if !errors.As(m.err, &ce) {
		s.t.Fatalf("read returned %v %q, %v; want a *CloseError", m.typ, truncate(m.data), m.err)
	}
	if ce.Code != 4002 || ce.Reason != reason {
		s.t.Fatalf("got close %d %q, want 4002 %q", ce.Code, ce.Reason, reason)
	}
	if got := websocket.CloseStatus(m.err); got != 4002 {
		s.t.Errorf("CloseStatus = %d, want 4002", got)
	}
	if err := s.conn.Close(); err != nil {
		s.t.Errorf("Close after the peer's close: %v", err)
	}
	ev := s.peer.waitEvent(s.t, "close", s.path)
	if ev.Code != 4002 {
		// RFC 6455 §5.5.1: the answer typically echoes the code received.
		s.t.Errorf("the peer's close ended with %d, want our echo of 4002", ev.Code)
	}
}

// peerInfo is the peer's answer to "cmd:info".
type peerInfo struct {
	Protocol   string `json:"protocol"`
	Extensions string `json:"extensions"`
}

// info asks the peer what it negotiated.
func (s *session) info() peerInfo {
	s.t.Helper()
	s.sendText("cmd:info")
	var pi peerInfo
	if text := s.nextText(); json.Unmarshal([]byte(text), &pi) != nil {
		s.t.Fatalf("cmd:info answered %q", text)
	}
	return pi
}

// checkSubprotocol: the client offered "nope" and "chat.v2", the server
// speaks "chat.v2" and "echo.v1"; both sides must settle on "chat.v2"
// (RFC 6455 §4.2.2: the server picks one of the client's).
func checkSubprotocol(s *session) {
	if got := s.conn.Subprotocol(); got != "chat.v2" {
		s.t.Errorf("our Subprotocol() = %q, want chat.v2", got)
	}
	if s.opened.Protocol != "chat.v2" {
		s.t.Errorf("the peer reports protocol %q, want chat.v2", s.opened.Protocol)
	}
	if pi := s.info(); pi.Protocol != "chat.v2" {
		s.t.Errorf("cmd:info protocol %q, want chat.v2", pi.Protocol)
	}
	if s.resp != nil {
		if got := s.resp.Header.Get("Sec-WebSocket-Protocol"); got != "chat.v2" {
			s.t.Errorf("response Sec-WebSocket-Protocol %q, want chat.v2", got)
		}
	}
	s.closeNormally()
}

// invalidUTF8 is a text payload with 0xC0, a byte that never occurs in
// UTF-8 (it could only start an overlong encoding).
var invalidUTF8 = []byte("valid so far \xc0\xaf then not")

// checkInvalidUTF8 writes, under the library, a text frame that is not
// UTF-8; the peer must fail the connection with 1007 (RFC 6455 §8.1).
func checkInvalidUTF8(s *session) {
	s.expectPeerFails(rawFrame(0x81, invalidUTF8, s.client), websocket.StatusInvalidFramePayloadData)
}

// checkReservedOpcode writes, under the library, a frame with the reserved
// non-control opcode 0x3; the peer must fail the connection with 1002
// (RFC 6455 §5.2: an unknown opcode fails the connection).
func checkReservedOpcode(s *session) {
	s.expectPeerFails(rawFrame(0x83, []byte("?"), s.client), websocket.StatusProtocolError)
}

// checkWrongMasking writes, under the library, a frame masked the wrong
// way for its direction: unmasked from a client, masked from a server. The
// peer must fail the connection with 1002 (RFC 6455 §5.1).
func checkWrongMasking(s *session) {
	s.expectPeerFails(rawFrame(0x81, []byte("wrong mask"), !s.client), websocket.StatusProtocolError)
}

// expectPeerFails writes frame under the library and checks that the peer
// answers with a close frame carrying code.
func (s *session) expectPeerFails(frame []byte, code websocket.StatusCode) {
	s.t.Helper()
	if _, err := s.conn.UnderlyingConn().Write(frame); err != nil {
		s.t.Fatalf("raw write: %v", err)
	}
	m := s.next()
	if got := websocket.CloseStatus(m.err); got != code {
		s.t.Fatalf("after the bad frame the read returned %v %q, %v; want close %d", m.typ, truncate(m.data), m.err, code)
	}
}

// rawFrame encodes one frame with first byte b0 (FIN, RSV, opcode) and a
// payload shorter than 126 bytes, masked when masked is set (RFC 6455 §5.3:
// client frames are masked; the key here is fixed, which is allowed for a
// test since only its presence is checked).
func rawFrame(b0 byte, payload []byte, masked bool) []byte {
	frame := []byte{b0, byte(len(payload))}
	if !masked {
		return append(frame, payload...)
	}
	frame[1] |= 0x80
	var key [4]byte
	binary.BigEndian.PutUint32(key[:], 0x5ee1f00d)
	frame = append(frame, key[:]...)
	for i, c := range payload {
		frame = append(frame, c^key[i%4])
	}
	return frame
}

// peerStats is the peer's answer to "cmd:stats": bytes on its TCP socket.
type peerStats struct {
	BytesRead    int `json:"bytesRead"`
	BytesWritten int `json:"bytesWritten"`
}

// compressedMessages are echoed with permessage-deflate: sizes below our
// compression threshold (sent uncompressed, so the peer sees both kinds of
// message), the empty message (which ws compresses to a single byte) and
// large ones whose deflated size the peer's socket counters reveal.
var compressedMessages = []struct {
	typ websocket.MessageType
	n   int
}{
	{websocket.TextMessage, 0},
	{websocket.TextMessage, 10},
	{websocket.BinaryMessage, 200},
	{websocket.TextMessage, 64 << 10},
	{websocket.TextMessage, 1 << 20},
	{websocket.BinaryMessage, 256 << 10},
	{websocket.TextMessage, 200},
}

// checkCompression echoes compressedMessages with permessage-deflate
// (RFC 7692) negotiated, and checks from the peer's own socket counters that
// both directions were compressed.
func checkCompression(s *session) {
	if !strings.HasPrefix(s.opened.Extensions, "permessage-deflate") {
		s.t.Fatalf("the peer reports extensions %q, want permessage-deflate", s.opened.Extensions)
	}
	var accepted string
	if s.resp != nil {
		accepted = s.resp.Header.Get("Sec-WebSocket-Extensions")
		if !strings.HasPrefix(accepted, "permessage-deflate") {
			s.t.Errorf("response Sec-WebSocket-Extensions %q", accepted)
		}
	}
	if s.header != nil {
		accepted = "offered " + s.header.Get("Sec-WebSocket-Extensions")
		if !strings.Contains(accepted, "permessage-deflate") {
			s.t.Errorf("the peer %s", accepted)
		}
	}
	total := 0
	for _, m := range compressedMessages {
		payload := pattern(m.typ, m.n)
		s.send(m.typ, payload)
		s.expect(m.typ, payload)
		total += m.n
	}
	s.sendText("cmd:stats")
	var st peerStats
	if text := s.nextText(); json.Unmarshal([]byte(text), &st) != nil {
		s.t.Fatalf("cmd:stats answered %q", text)
	}
	// The patterns repeat every 26 or 251 bytes: deflate shrinks them by far
	// more than 10x; uncompressed they would be over total bytes each way.
	ratio := s.feature.minRatio
	if ratio == 0 {
		ratio = 10
	}
	if st.BytesRead > total/ratio || st.BytesWritten > total/ratio {
		s.t.Errorf("peer socket moved %d bytes in and %d out for %d bytes each way: not compressed %dx", st.BytesRead, st.BytesWritten, total, ratio)
	}
	s.t.Logf("compression %q: %d payload bytes each way; the peer's socket read %d and wrote %d", accepted, total, st.BytesRead, st.BytesWritten)
	s.closeNormally()
}

// enableCompression sets opts on our side: on d when dialing, on u when
// upgrading.
func enableCompression(d *websocket.Dialer, u *websocket.Upgrader, opts *websocket.CompressionOptions) {
	if d != nil {
		d.Compression = *opts
	}
	if u != nil {
		u.Compression = *opts
	}
}
