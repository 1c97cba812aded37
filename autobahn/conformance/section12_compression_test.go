package conformance

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/rfc6455/websocket"
)

// compressionWired says whether Upgrader and Dialer can turn
// permessage-deflate on.
const compressionWired = true

// ourCompression is how a row configures our side's permessage-deflate.
type ourCompression struct {
	mode       websocket.CompressionMode
	windowBits int // 0 means 15
}

func (o ourCompression) options() websocket.CompressionOptions {
	return websocket.CompressionOptions{Mode: o.mode, WindowBits: o.windowBits}
}

// configureServerCompression and configureClientCompression set our side's
// compression for row r: off unless the row negotiates permessage-deflate.
func configureServerCompression(up *websocket.Upgrader, r row) {
	if r.pmd != nil {
		up.Compression = r.pmd.ours.options()
	}
}

func configureClientCompression(d *websocket.Dialer, r row) {
	if r.pmd != nil {
		d.Compression = r.pmd.ours.options()
	}
}

// pmdSet is one parameter set of sections 12–13: the peer's offer to our
// server, its answer to our client, and our side's mode.
type pmdSet struct {
	name   string
	offer  string
	answer func(ourOffer string) string
	ours   ourCompression
	want   func(pmdParams) error
}

// fixed answers the same whatever our client offered.
func fixed(a string) func(string) string { return func(string) string { return a } }

var contextTakeover = ourCompression{mode: websocket.CompressionContextTakeover}

var pmdSets = []pmdSet{
	{name: "defaults", offer: "permessage-deflate", answer: fixed("permessage-deflate"), ours: contextTakeover},
	{name: "no context takeover either way",
		offer:  "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
		answer: fixed("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
		ours:   contextTakeover,
		want: func(p pmdParams) error {
			// RFC 7692 §7.1.1.1: an offered server_no_context_takeover
			// must be in the answer.
			if !p.serverNoContextTakeover {
				return fmt.Errorf("server_no_context_takeover offered but not answered")
			}
			return nil
		}},
	{name: "client window offered without a value",
		offer: "permessage-deflate; client_max_window_bits",
		answer: func(o string) string {
			// RFC 7692 §7.1.2.2: only when offered may the answer limit
			// the client's window.
			if strings.Contains(o, "client_max_window_bits") {
				return "permessage-deflate; client_max_window_bits=9"
			}
			return "permessage-deflate"
		},
		ours: contextTakeover},
	{name: "server window of 10 bits",
		offer:  "permessage-deflate; server_max_window_bits=10",
		answer: fixed("permessage-deflate; server_max_window_bits=10"),
		ours:   contextTakeover,
		want: func(p pmdParams) error {
			// RFC 7692 §7.1.2.1: accepted with the same or a smaller value.
			if p.serverMaxWindowBits == 0 || p.serverMaxWindowBits > 10 {
				return fmt.Errorf("server_max_window_bits=10 offered, answered %d", p.serverMaxWindowBits)
			}
			return nil
		}},
	{name: "server window of 8 bits, no context takeover for the client",
		offer:  "permessage-deflate; server_max_window_bits=8; client_no_context_takeover",
		answer: fixed("permessage-deflate; server_max_window_bits=8; client_no_context_takeover"),
		ours:   contextTakeover},
	{name: "an invalid offer first, then a valid one",
		offer:  "permessage-deflate; server_max_window_bits=7, permessage-deflate; client_no_context_takeover",
		answer: fixed("permessage-deflate; client_no_context_takeover"),
		ours:   contextTakeover,
		want: func(p pmdParams) error {
			// RFC 7692 §5.1: the invalid offer is declined, the next one
			// accepted.
			if p.serverMaxWindowBits != 0 && p.serverMaxWindowBits < 8 {
				return fmt.Errorf("answered the invalid offer: server_max_window_bits=%d", p.serverMaxWindowBits)
			}
			return nil
		}},
	{name: "our side without context takeover",
		offer:  "permessage-deflate; client_max_window_bits",
		answer: fixed("permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
		ours:   ourCompression{mode: websocket.CompressionNoContextTakeover}},
}

func (s pmdSet) pmdCase() *pmdCase {
	return &pmdCase{
		offer:  s.offer,
		answer: func(o string) (string, error) { return s.answer(o), nil },
		want:   s.want,
		ours:   s.ours,
	}
}

// compressedMessages is five messages of n bytes that give a compressor
// every kind of match: short repeats (words), repeats 9,025 bytes apart
// (textPayload), and a message repeating an earlier one whole, which with
// context takeover can be sent as a reference into the history. The window
// checks of the peer's decoder need the long ones. Text and binary in turn;
// the fourth goes plain (RFC 7692 §6: RSV1 clear means uncompressed).
func compressedMessages(n int) []frame {
	words := []string{"Hello, ", "permessage-deflate ", "κόσμε ", "world! ", "0123456789 "}
	var b strings.Builder
	for j := 0; b.Len() < n; j++ {
		b.WriteString(words[j%len(words)])
	}
	s := b.String()
	for len(s) > n || !utf8.ValidString(s) {
		s = s[:len(s)-1] // trims at most one word, ending on a character
	}
	noise := make([]byte, n)
	x := uint32(n)
	for i := range noise {
		x = x*1664525 + 1013904223
		noise[i] = byte(x >> 24)
	}
	return []frame{
		text(s).compressed(),
		bin(noise).compressed(),
		textB(textPayload(n)).compressed(),
		text(strings.ToValidUTF8(s[:len(s)/2], "")),
		bin(noise).compressed(),
	}
}

// compressionRows are Autobahn sections 12 and 13: permessage-deflate (RFC
// 7692) under each parameter set the peer offers or answers, messages from
// 16 bytes to 128 KiB; and the rules of RFC 7692 §6 on RSV1.
func compressionRows() []row {
	off := &pmdCase{offer: "permessage-deflate; client_max_window_bits", declined: true}
	rows := []row{
		{id: "12.0.1", name: "compression off: the offer is declined, messages flow uncompressed",
			pmd: off, steps: echo(text("no compression"), bin(binPayload(300)))},
		{id: "12.0.2", name: "compression off: RSV1 is a reserved bit again",
			pmd: off, steps: steps(send(text("x").withRSV(rsv1)), fail(1002))},
	}
	if !compressionWired {
		return rows
	}
	sizes := []int{16, 64, 256, 1024, 4096, 16384, 65536, 131072}
	for i, set := range pmdSets {
		for j, n := range sizes {
			rows = append(rows, row{
				id:   fmt.Sprintf("13.%d.%d", i+1, j+1),
				name: fmt.Sprintf("%s: five messages of %d bytes", set.name, n),
				pmd:  set.pmdCase(), steps: echo(compressedMessages(n)...),
			})
		}
	}
	alone := pmdSets[1].pmdCase() // no context takeover: messages compressed on their own
	big := []byte(strings.Repeat("compressible ", 2000))
	zeros := make([]byte, 1<<20)
	bad := []byte(kosme + "\xed\xa0\x80")
	deflated := deflateAlone(big, false)
	third := len(deflated) / 3
	rows = append(rows,
		row{id: "12.9.1", name: "RSV1 on a continuation frame", pmd: alone,
			steps: steps(send(text("a").compressed().more(), cont("b").withRSV(rsv1)), fail(1002))},
		row{id: "12.9.2", name: "RSV1 on a ping", pmd: alone, steps: steps(send(ping("x").withRSV(rsv1)), fail(1002))},
		row{id: "12.9.3", name: "RSV2 with compression on", pmd: alone, steps: steps(send(text("x").withRSV(rsv2)), fail(1002))},
		row{id: "12.9.4", name: "compressed message in three frames, RSV1 on the first", pmd: alone,
			steps: steps(send(
				frame{op: opText, payload: deflated[:third], rsv: rsv1, notFin: true},
				contB(deflated[third:2*third]).more(), contB(deflated[2*third:])),
				expect(msgTextB(big)))},
		row{id: "12.9.5", name: "a message ending in a BFINAL block (RFC 7692 §7.2.3.5)", pmd: alone,
			steps: steps(send(frame{op: opBinary, payload: deflateAlone(big, true), rsv: rsv1}), expect(msgBin(big)))},
		row{id: "12.9.6", name: "empty compressed message", pmd: alone,
			steps: steps(send(frame{op: opText, payload: deflateAlone(nil, false), rsv: rsv1}), expect(msgText("")))},
		row{id: "12.9.7", name: "compressed data that is not DEFLATE", pmd: alone,
			steps: steps(send(frame{op: opBinary, payload: []byte{0xff, 0xff, 0xff, 0xff}, rsv: rsv1}), failCorrupt())},
		row{id: "12.9.8", name: "a compressed message that inflates past the read limit", pmd: alone, limit: 64 << 10,
			steps: steps(send(frame{op: opBinary, payload: deflateAlone(zeros, false), rsv: rsv1}), fail(1009))},
		row{id: "12.9.9", name: "compressed text that inflates to invalid UTF-8", pmd: alone,
			steps: steps(send(frame{op: opText, payload: deflateAlone(bad, false), rsv: rsv1}), fail(1007))},
	)
	return rows
}
