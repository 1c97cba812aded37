package conformance

import (
	"fmt"
	"math"
)

// framingRows are Autobahn section 1 and more: data frames of every length
// form, text and binary, whole or written in pieces, and the framing rules
// of RFC 6455 §5.1–§5.2 (masking direction, shortest length form).
func framingRows() []row {
	var rows []row
	sizes := []int{0, 1, 124, 125, 126, 127, 128, 1000, 65534, 65535, 65536, 65537}
	for i, n := range sizes {
		rows = append(rows, row{
			id: fmt.Sprintf("1.1.%d", i+1), name: fmt.Sprintf("text message of %d bytes in one frame", n),
			steps: echo(textB(textPayload(n))),
		})
	}
	for i, n := range sizes {
		rows = append(rows, row{
			id: fmt.Sprintf("1.2.%d", i+1), name: fmt.Sprintf("binary message of %d bytes in one frame", n),
			steps: echo(bin(binPayload(n))),
		})
	}
	// One frame written in pieces: our side must reassemble headers and
	// payloads across reads (RFC 6455 §5.2 says nothing of TCP segments).
	chopped := []struct{ n, chop int }{{125, 1}, {126, 1}, {127, 3}, {65535, 997}, {65536, 997}, {65536, 1}}
	for i, c := range chopped {
		rows = append(rows, row{
			id: fmt.Sprintf("1.3.%d", i+1), name: fmt.Sprintf("text frame of %d bytes written %d bytes at a time", c.n, c.chop),
			steps: steps(sendChopped(c.chop, textB(textPayload(c.n))), expect(msgTextB(textPayload(c.n)))),
		})
		rows = append(rows, row{
			id: fmt.Sprintf("1.3.%d", i+1+len(chopped)), name: fmt.Sprintf("binary frame of %d bytes written %d bytes at a time", c.n, c.chop),
			steps: steps(sendChopped(c.chop, bin(binPayload(c.n))), expect(msgBin(binPayload(c.n)))),
		})
	}
	// RFC 6455 §5.1: a server closes on an unmasked frame, a client on a
	// masked one; §7.4.1 names 1002 for it.
	masking := []struct {
		name string
		f    frame
	}{
		{"text frame", text("Hello")},
		{"binary frame", bin([]byte{1, 2, 3})},
		{"empty text frame", text("")},
		{"ping frame", ping("ping")},
		{"close frame", closeFrame(1000, "")},
		{"continuation frame", cont("b")},
	}
	for i, m := range masking {
		st := steps(send(m.f.flipped()), fail(1002))
		if m.f.op == opCont {
			st = steps(send(text("a").more(), m.f.flipped()), fail(1002))
		}
		rows = append(rows, row{
			id: fmt.Sprintf("1.4.%d", i+1), name: m.name + " with the masking of the other side",
			steps: st,
		})
	}
	// RFC 6455 §5.2: the length is in its shortest form and the 64-bit
	// form has its top bit clear. Our side refuses the others with 1002.
	lengths := []struct {
		name string
		f    frame
	}{
		{"5-byte text frame with a 16-bit length", text("Hello").form(2)},
		{"200-byte binary frame with a 64-bit length", bin(binPayload(200)).form(8)},
		{"125-byte ping with a 16-bit length", pingB(binPayload(125)).form(2)},
		{"64-bit length with the top bit set", frame{op: opBinary}.form(8).announce(math.MinInt64 + 5)},
		{"64-bit length of 2^63-1", frame{op: opBinary}.form(8).announce(math.MaxInt64)},
	}
	for i, l := range lengths {
		rows = append(rows, row{
			id: fmt.Sprintf("1.5.%d", i+1), name: l.name,
			steps: steps(send(l.f), fail(lengthFailure(l.f))),
		})
	}
	// Messages back to back in one write: our side must not lose the bytes
	// that follow a frame in its buffer.
	var ten, hundred []frame
	for i := range 10 {
		ten = append(ten, text(fmt.Sprintf("message %d", i)))
	}
	for i := range 100 {
		if i%2 == 0 {
			hundred = append(hundred, bin(binPayload(i)))
		} else {
			hundred = append(hundred, textB(textPayload(i)))
		}
	}
	rows = append(rows,
		row{id: "1.6.1", name: "ten text messages in one write", steps: echo(ten...)},
		row{id: "1.6.2", name: "100 text and binary messages of 0-99 bytes in one write", steps: echo(hundred...)},
		row{id: "1.6.3", name: "ten text messages written a byte at a time", steps: steps(sendChopped(1, ten...), expect(echoed(ten...)...))},
	)
	return rows
}

// lengthFailure is the close code for a frame whose length is malformed or
// larger than any read limit: 1009 for a well-formed but huge 64-bit
// length, 1002 otherwise.
func lengthFailure(f frame) int {
	if f.hasDecl && f.declared == math.MaxInt64 {
		return 1009
	}
	return 1002
}
