package conformance

import "time"

// miscRows are Autobahn section 10 and what our side does with messages it
// writes: RFC 6455 §5.4 lets it fragment a message as it likes, and the
// peer must get the same message back whatever the frames.
func miscRows() []row {
	return []row{
		{id: "10.1.1", name: "64 KiB text frame in writes of 997 bytes",
			steps: steps(sendChopped(997, textB(textPayload(64<<10))), expect(msgTextB(textPayload(64<<10))))},
		{id: "10.1.2", name: "1 MiB binary message: any fragmentation on the way back", steps: echo(bin(binPayload(1 << 20))), timeout: time.Minute},
		{id: "10.1.3", name: "text with multi-byte characters across our side's frame boundaries",
			steps: echo(textB([]byte(repeat("\xf0\x9f\x98\x80\xce\xba", 40000))))},
		{id: "10.1.4", name: "messages of alternating types and sizes",
			steps: echo(text("a"), bin(binPayload(70000)), text(""), bin(nil), textB(textPayload(126)), bin(binPayload(65536)))},
	}
}
