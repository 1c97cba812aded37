package conformance

import "fmt"

// reservedBitRows are Autobahn section 3: RFC 6455 §5.2, a nonzero RSV bit
// that no negotiated extension defines fails the connection (1002). No row
// here negotiates an extension, so even RSV1 is illegal; every frame kind
// and every combination of the three bits is tried, and nothing sent after
// the bad frame is answered.
func reservedBitRows() []row {
	var rows []row
	for v := byte(1); v <= 7; v++ {
		bits := v << 4
		add := func(k int, name string, st []step) {
			rows = append(rows, row{id: fmt.Sprintf("3.%d.%d", v, k), name: fmt.Sprintf("RSV=%d on %s", v, name), steps: st})
		}
		add(1, "a text frame", steps(send(text("Hello, world!").withRSV(bits)), fail(1002)))
		add(2, "a text frame after a valid message, then a ping",
			steps(send(text("valid"), text("Hello, world!").withRSV(bits), ping("unanswered")), expect(msgText("valid")), fail(1002)))
		add(3, "a binary frame", steps(send(bin([]byte{0, 1, 2, 3}).withRSV(bits)), fail(1002)))
		add(4, "a ping", steps(send(ping("Hello").withRSV(bits)), fail(1002)))
		add(5, "a pong", steps(send(pong("Hello").withRSV(bits)), fail(1002)))
		add(6, "a close frame", steps(send(closeFrame(1000, "").withRSV(bits)), fail(1002)))
		add(7, "a continuation frame", steps(send(text("first").more(), cont("second").withRSV(bits)), fail(1002)))
	}
	return rows
}
