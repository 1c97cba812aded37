package conformance

// fragmentationRows are Autobahn section 5: RFC 6455 §5.4. A message may be
// split into frames, control frames may come between its fragments (and are
// answered before the message ends), control frames are never fragmented,
// and a continuation without a message, or a new message inside one, fails
// the connection (1002).
func fragmentationRows() []row {
	frag1, frag2 := text("fragment1").more(), cont("fragment2")
	p1, p2 := ping("pongme 1!"), ping("pongme 2!")
	rows := []row{
		{id: "5.1", name: "ping in two fragments", steps: steps(send(ping("fragment1").more(), cont("fragment2")), fail(1002))},
		{id: "5.2", name: "pong in two fragments", steps: steps(send(pong("fragment1").more(), cont("fragment2")), fail(1002))},
		{id: "5.3", name: "text in two fragments, one write", steps: echo(frag1, frag2)},
		{id: "5.4", name: "text in two fragments, two writes with a barrier between",
			steps: steps(send(frag1), barrier(), send(frag2), expect(msgText("fragment1fragment2")))},
		{id: "5.5", name: "text in two fragments, written a byte at a time",
			steps: steps(sendChopped(1, frag1, frag2), expect(msgText("fragment1fragment2")))},
		{id: "5.6", name: "text in two fragments with a ping between", steps: echo(frag1, p1, frag2)},
		// The pong must come before the message can be complete: our side
		// answers control frames in the middle of a message.
		{id: "5.7", name: "ping between fragments is answered before the last fragment is sent",
			steps: steps(send(frag1, p1), expect(gotPong("pongme 1!")), send(frag2), expect(msgText("fragment1fragment2")))},
		{id: "5.8", name: "text in two fragments with a ping between, written a byte at a time",
			steps: steps(sendChopped(1, frag1, p1, frag2), expect(echoed(frag1, p1, frag2)...))},
		{id: "5.9", name: "continuation with FIN and nothing to continue, then text",
			steps: steps(send(cont("fragment1"), text("fragment2")), fail(1002))},
		{id: "5.10", name: "continuation with FIN and nothing to continue, separate writes",
			steps: steps(send(cont("fragment1")), fail(1002))},
		{id: "5.11", name: "continuation with FIN and nothing to continue, written a byte at a time",
			steps: steps(sendChopped(1, cont("fragment1"), text("fragment2")), fail(1002))},
		{id: "5.12", name: "continuation without FIN and nothing to continue, then text",
			steps: steps(send(cont("fragment1").more(), text("fragment2")), fail(1002))},
		{id: "5.13", name: "continuation without FIN and nothing to continue, separate writes",
			steps: steps(send(cont("fragment1").more()), fail(1002))},
		{id: "5.14", name: "continuation without FIN and nothing to continue, written a byte at a time",
			steps: steps(sendChopped(1, cont("fragment1").more(), text("fragment2")), fail(1002))},
		{id: "5.15", name: "fragmented text, then a continuation with nothing to continue",
			steps: steps(send(frag1, frag2, cont("fragment3").more(), text("fragment4")), expect(msgText("fragment1fragment2")), fail(1002))},
		{id: "5.16", name: "continuation without FIN first, then fragmented text",
			steps: steps(send(cont("fragment1").more(), text("fragment2").more(), cont("fragment3")), fail(1002))},
		{id: "5.17", name: "continuation with FIN first, then fragmented text",
			steps: steps(send(cont("fragment1"), text("fragment2").more(), cont("fragment3")), fail(1002))},
		{id: "5.18", name: "text without FIN, then a new text message", steps: steps(send(frag1, text("fragment2")), fail(1002))},
		{id: "5.19", name: "text in five fragments with two pings, each answered before the message ends",
			steps: steps(
				send(text("fragment1").more(), cont("fragment2").more(), p1), expect(gotPong("pongme 1!")),
				send(cont("fragment3").more(), cont("fragment4").more(), p2), expect(gotPong("pongme 2!")),
				send(cont("fragment5")), expect(msgText("fragment1fragment2fragment3fragment4fragment5")))},
		{id: "5.20", name: "text in five fragments with two pings, written a byte at a time",
			steps: steps(
				sendChopped(1, text("fragment1").more(), cont("fragment2").more(), p1), expect(gotPong("pongme 1!")),
				sendChopped(1, cont("fragment3").more(), cont("fragment4").more(), p2), expect(gotPong("pongme 2!")),
				sendChopped(1, cont("fragment5")), expect(msgText("fragment1fragment2fragment3fragment4fragment5")))},
		{id: "5.21", name: "text without FIN, then a binary message", steps: steps(send(frag1, bin([]byte{1})), fail(1002))},
		{id: "5.22", name: "binary without FIN, then a text message", steps: steps(send(bin([]byte{1}).more(), text("x")), fail(1002))},
		{id: "5.23", name: "close frame without FIN", steps: steps(send(closeFrame(1000, "").more()), fail(1002))},
		{id: "5.24", name: "empty fragments only", steps: echo(text("").more(), cont("").more(), cont(""))},
		{id: "5.25", name: "empty fragments around a payload", steps: echo(text("").more(), cont("ab").more(), cont("").more(), cont(""))},
		{id: "5.26", name: "text in 100 one-byte fragments", steps: echo(fragments(opText, textPayload(100), 1)...)},
		{id: "5.27", name: "binary in three fragments", steps: echo(fragments(opBinary, binPayload(300), 100)...)},
		{id: "5.28", name: "binary in ten fragments, some empty",
			steps: echo(bin(nil).more(), contB(binPayload(5)).more(), cont("").more(), contB(binPayload(7)).more(), cont("").more(),
				cont("").more(), contB(binPayload(1)).more(), cont("").more(), contB(binPayload(9)).more(), cont(""))},
		{id: "5.29", name: "unsolicited pong between fragments", steps: echo(frag1, pong("unsolicited"), frag2)},
		{id: "5.30", name: "64 KiB binary in 64-byte fragments", steps: echo(fragments(opBinary, binPayload(64<<10), 64)...)},
		{id: "5.31", name: "continuation after a whole message and a ping",
			steps: steps(send(text("whole"), ping("p"), cont("orphan")), expect(msgText("whole"), gotPong("p")), fail(1002))},
		{id: "5.32", name: "a ping in every gap of ten fragments", steps: echo(interleave(fragments(opText, textPayload(100), 10), "gap")...)},
		{id: "5.33", name: "fragments of two messages back to back",
			steps: echo(text("one-a").more(), cont("one-b"), bin([]byte("two-a")).more(), cont("two-b"))},
		{id: "5.34", name: "fragmented ping with FIN on the second frame, after a message",
			steps: steps(send(text("ok"), ping("half").more(), cont("half")), expect(msgText("ok")), fail(1002))},
	}
	return rows
}

// interleave puts a ping after every frame of fs but the last.
func interleave(fs []frame, tag string) []frame {
	var out []frame
	for i, f := range fs {
		out = append(out, f)
		if i < len(fs)-1 {
			out = append(out, ping(tag+string(rune('0'+i))))
		}
	}
	return out
}
