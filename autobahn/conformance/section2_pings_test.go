package conformance

import "fmt"

// pingRows are Autobahn section 2: RFC 6455 §5.5.2–§5.5.3, a ping is
// answered by a pong with the same payload as soon as possible, a payload
// has at most 125 bytes, and an unsolicited pong is ignored.
func pingRows() []row {
	rows := []row{
		{id: "2.1", name: "ping without payload", steps: echo(ping(""))},
		{id: "2.2", name: "ping with a text payload", steps: echo(ping("Hello, world!"))},
		{id: "2.3", name: "ping with a binary payload", steps: echo(pingB([]byte{0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff}))},
	}
	for i, n := range []int{1, 2, 3, 7, 8, 15, 16, 31, 32, 63, 64, 100, 123, 124, 125} {
		rows = append(rows, row{
			id: fmt.Sprintf("2.4.%d", i+1), name: fmt.Sprintf("ping with %d bytes of payload", n),
			steps: echo(pingB(binPayload(n))),
		})
	}
	// RFC 6455 §5.5: control frames carry at most 125 bytes; the header
	// alone says so, and our side must fail on it without the payload.
	rows = append(rows,
		row{id: "2.5.1", name: "ping with 126 bytes of payload", steps: steps(send(pingB(binPayload(126))), fail(1002))},
		row{id: "2.5.2", name: "ping announcing 65535 bytes, header only", steps: steps(send(frame{op: opPing}.announce(65535)), fail(1002))},
		row{id: "2.5.3", name: "ping announcing 65536 bytes, header only", steps: steps(send(frame{op: opPing}.announce(65536)), fail(1002))},
		row{id: "2.5.4", name: "pong with 126 bytes of payload", steps: steps(send(frame{op: opPong, payload: binPayload(126)}), fail(1002))},
		row{id: "2.6", name: "ping with 125 bytes written a byte at a time", steps: steps(sendChopped(1, pingB(binPayload(125))), expect(gotPongB(binPayload(125))))},
		// An unsolicited pong gets no answer: the next thing our side sends
		// is the barrier's pong.
		row{id: "2.7", name: "unsolicited pong without payload", steps: steps(send(pong("")), barrier())},
		row{id: "2.8", name: "unsolicited pong with payload", steps: steps(send(pong("unsolicited pong payload")), barrier())},
		row{id: "2.9", name: "unsolicited pong, then ping", steps: echo(pong("unsolicited pong payload"), ping("ping payload"))},
	)
	var ten, hundred []frame
	for i := range 10 {
		ten = append(ten, ping(fmt.Sprintf("payload-%d", i)))
	}
	for i := range 100 {
		hundred = append(hundred, pingB(binPayload(i)))
	}
	rows = append(rows,
		row{id: "2.10", name: "ten pings in one write, pongs in order", steps: echo(ten...)},
		row{id: "2.11", name: "ten pings written a byte at a time, pongs in order", steps: steps(sendChopped(1, ten...), expect(echoed(ten...)...))},
		row{id: "2.12", name: "ping between two messages", steps: echo(text("before"), ping("between"), bin([]byte("after")))},
		row{id: "2.13", name: "ping whose payload is not UTF-8", steps: echo(pingB([]byte{0xff, 0xfe, 0xc0, 0x80}))},
		row{id: "2.14", name: "100 pings of 0-99 bytes in one write", steps: echo(hundred...)},
		row{id: "2.15", name: "pongs and pings alternating", steps: echo(pong("a"), ping("b"), pong("c"), ping("d"), pong("e"))},
		row{id: "2.16", name: "ping with the 16-bit length form", steps: steps(send(ping("short").form(2)), fail(1002))},
	)
	return rows
}
