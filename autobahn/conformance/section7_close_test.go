package conformance

import (
	"fmt"
	"time"
)

// closeRows are Autobahn section 7: the closing handshake of RFC 6455
// §5.5.1 and §7. Our side answers a close with a close (the same code or
// 1000), sends nothing after it, ignores what follows the peer's close, and
// fails with 1002 on a close payload of 1 byte or more than 125, or an
// invalid code (§7.4), and with 1007 on a reason that is not UTF-8.
func closeRows() []row {
	rows := []row{
		{id: "7.1.1", name: "text message, then a normal close", steps: steps(echo(text("Hello World!")), closeWith(1000, ""))},
		{id: "7.1.2", name: "two close frames: one answer", steps: steps(closeThen(1000, "", closeFrame(1000, "")))},
		{id: "7.1.3", name: "ping after the close: no pong", steps: steps(closeThen(1000, "", ping("after close")))},
		{id: "7.1.4", name: "text after the close: no echo", steps: steps(closeThen(1000, "", text("after close")))},
		{id: "7.1.5", name: "first fragment, close, last fragment: no echo",
			steps: steps(send(text("fragment1").more()), closeThen(1000, "", cont("fragment2")))},
		{id: "7.1.6", name: "ten 64 KiB messages, then the close: all echoed first",
			steps: steps(echo(tenLarge()...), closeWith(1000, ""))},
		{id: "7.1.7", name: "binary after the close: no echo", steps: steps(closeThen(1000, "", bin([]byte{1, 2, 3})))},
		{id: "7.1.8", name: "reserved opcode after the close: nothing more, not even a second close",
			steps: steps(closeThen(1000, "", op(5, "garbage")))},
		{id: "7.1.9", name: "unmasked frame after the close: nothing more",
			steps: steps(closeThen(1000, "", text("x").flipped()))},
		{id: "7.3.1", name: "close without payload", steps: steps(closeEmpty())},
		{id: "7.3.2", name: "close with a 1-byte payload", steps: steps(send(closeRaw([]byte{0x03})), fail(1002))},
		{id: "7.3.3", name: "close with 1000 and no reason", steps: steps(closeWith(1000, ""))},
		{id: "7.3.4", name: "close with 1000 and a reason", steps: steps(closeWith(1000, "Hello World!"))},
		{id: "7.3.5", name: "close with a 123-byte reason (125-byte payload)", steps: steps(closeWith(1000, repeat("*", 123)))},
		{id: "7.3.6", name: "close with a 124-byte reason (126-byte payload)", steps: steps(send(closeFrame(1000, repeat("*", 124))), fail(1002))},
		{id: "7.3.7", name: "close with a 123-byte reason of 2-byte characters", steps: steps(closeWith(1000, repeat("\xc3\xa9", 61)+"!"))},
		{id: "7.3.8", name: "close announcing 65536 bytes, header only", steps: steps(send(frame{op: opClose}.announce(65536)), fail(1002))},
		{id: "7.3.9", name: "close written a byte at a time", steps: steps(closeChopped(1001, "bye"))},
		{id: "7.5.1", name: "close reason that is not UTF-8 (surrogate)", steps: steps(send(closeFrame(1000, kosme+"\xed\xa0\x80edited")), fail(1007))},
		{id: "7.5.2", name: "close reason with byte 0xFF", steps: steps(send(closeFrame(1000, "bye\xff")), fail(1007))},
		{id: "7.5.3", name: "close reason cut inside a sequence", steps: steps(send(closeFrame(1000, "bye\xe2\x82")), fail(1007))},
		{id: "7.5.4", name: "close reason with an overlong form", steps: steps(send(closeFrame(1000, "\xe0\x80\xaf")), fail(1007))},
		{id: "7.6.1", name: "close reason kosme", steps: steps(closeWith(1000, kosme))},
		{id: "7.6.2", name: "close reason with a 4-byte character", steps: steps(closeWith(1001, "bye \xf0\x9f\x98\x80"))},
		{id: "7.11.1", name: "close after one fragment", steps: steps(send(text("fragment1").more()), closeWith(1000, ""))},
		{id: "7.11.2", name: "close after two fragments, the first answered by a barrier",
			steps: steps(send(text("a").more()), barrier(), send(cont("b").more()), closeWith(1001, "going"))},
		{id: "7.13.1", name: "TCP closed after a message, without a close frame",
			steps: steps(echo(text("last words")), drop())},
		{id: "7.13.2", name: "TCP closed inside a fragmented message", steps: steps(send(text("half").more()), barrier(), drop())},
		{id: "7.13.3", name: "TCP closed inside a frame", steps: steps(sendFrameUpTo(textB(textPayload(100)), 50), drop())},
		{id: "7.14.1", name: "frames after the offending one: one close only",
			steps: steps(send(op(3, ""), op(4, ""), text("x"), closeFrame(1000, "")), fail(1002))},
		// Our side fails with unread bytes in its buffers: its close frame
		// must still reach the peer, not be lost to a TCP reset (RFC 6455
		// §7.1.1: close the TCP connection cleanly).
		{id: "7.14.2", name: "offending frame followed by 1 MiB: the close still arrives",
			steps: steps(send(op(3, ""), bin(binPayload(1<<20))), fail(1002))},
		{id: "7.14.3", name: "invalid text followed by 1 MiB: the close still arrives",
			steps: steps(send(text("\xff"), bin(binPayload(1<<20))), fail(1007))},
		{id: "7.14.4", name: "offending frame, then 16 MiB the peer writes without reading: the close survives",
			steps: steps(flood(op(3, ""), 16<<20), fail(1002)), timeout: time.Minute},
		// Data behind a failure or a close, while the peer reads: what our
		// side wrote before (the echo of 1 MiB) and its close frame must
		// reach the peer whole, however much follows unread (RFC 6455
		// §7.1.1, §7.1.7; the root package's TestCloseLingerAfterFail and
		// TestCloseLingerAfterPeerClose).
		{id: "7.14.5", name: "1 MiB, a reserved opcode, then 4 MiB: the whole echo, then close 1002",
			steps:   steps(send(behind(bin(binPayload(1<<20)), op(3, ""))...), expect(msgBin(binPayload(1<<20))), fail(1002)),
			timeout: 30 * time.Second},
		{id: "7.14.6", name: "1 MiB, close 1000, then 4 MiB: the whole echo, then the close answer",
			steps:   steps(send(behind(bin(binPayload(1<<20)), closeFrame(1000, ""))...), expect(msgBin(binPayload(1<<20))), closeAnswered(1000)),
			timeout: 30 * time.Second},
	}
	// RFC 6455 §7.4.1 and the IANA registry: codes an endpoint may send,
	// answered with the same code or 1000 (Autobahn 7.7).
	for i, c := range []uint16{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		rows = append(rows, row{id: fmt.Sprintf("7.7.%d", i+1), name: fmt.Sprintf("close with valid code %d", c), steps: steps(closeWith(c, ""))})
	}
	// Codes that must not appear in a close frame: 0–999 unused, 1004 and
	// 1016–2999 reserved, 1005, 1006 and 1015 never sent (Autobahn 7.9).
	for i, c := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999} {
		rows = append(rows, row{id: fmt.Sprintf("7.9.%d", i+1), name: fmt.Sprintf("close with invalid code %d", c), steps: steps(send(closeFrame(c, "")), fail(1002))})
	}
	return rows
}

// tenLarge is ten 64 KiB messages, text and binary in turn.
func tenLarge() []frame {
	var fs []frame
	for i := range 10 {
		if i%2 == 0 {
			fs = append(fs, textB(textPayload(64<<10+i)))
		} else {
			fs = append(fs, bin(binPayload(64<<10+i)))
		}
	}
	return fs
}

// behind returns first, then after, then 4 MiB of binary messages of
// 64 KiB each: the traffic a peer keeps sending after a frame that ends
// the connection.
func behind(first, after frame) []frame {
	fs := []frame{first, after}
	chunk := binPayload(64 << 10)
	for range 64 {
		fs = append(fs, bin(chunk))
	}
	return fs
}
