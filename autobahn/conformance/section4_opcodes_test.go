package conformance

import "fmt"

// opcodeRows are Autobahn section 4: RFC 6455 §5.2, a reserved opcode (3–7
// for data, 0xB–0xF for control) fails the connection (1002), with or
// without payload, alone or after a valid message, and nothing after it is
// answered.
func opcodeRows() []row {
	var rows []row
	for _, o := range []byte{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF} {
		group := 1
		if o > 7 {
			group = 2
		}
		add := func(k int, name string, st []step) {
			rows = append(rows, row{id: fmt.Sprintf("4.%d.%d.%d", group, o, k), name: fmt.Sprintf("opcode %#x %s", o, name), steps: st})
		}
		add(1, "without payload", steps(send(op(o, "")), fail(1002)))
		add(2, "with payload", steps(send(op(o, "reserved opcode payload")), fail(1002)))
		add(3, "after a text message, then a ping",
			steps(send(text("Hello"), op(o, ""), ping("unanswered")), expect(msgText("Hello")), fail(1002)))
		add(4, "with payload after a text message, then a ping",
			steps(send(text("Hello"), op(o, "reserved opcode payload"), ping("unanswered")), expect(msgText("Hello")), fail(1002)))
		add(5, "without FIN", steps(send(op(o, "x").more()), fail(1002)))
	}
	return rows
}
