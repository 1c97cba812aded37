package conformance

import (
	"fmt"
	"time"
)

// limitRows are Autobahn section 9 and the read limit: large messages whole,
// in fragments of many sizes and in writes of many sizes, many messages in
// a row, all within a bounded time; and messages over the read limit fail
// with 1009 (RFC 6455 §7.4.1) as soon as the header that crosses it arrives.
func limitRows() []row {
	var rows []row
	big := []int{64 << 10, 256 << 10, 1 << 20, 4 << 20, 8 << 20, 16 << 20}
	for i, n := range big {
		rows = append(rows,
			row{id: fmt.Sprintf("9.1.%d", i+1), name: fmt.Sprintf("text message of %d bytes", n),
				steps: echo(textB(textPayload(n))), timeout: time.Minute},
			row{id: fmt.Sprintf("9.2.%d", i+1), name: fmt.Sprintf("binary message of %d bytes", n),
				steps: echo(bin(binPayload(n))), timeout: time.Minute},
		)
	}
	// 4 MiB in fragments from 64 bytes (65,536 frames) to one frame: the
	// default limits must not refuse them (see DESIGN.md).
	for i, size := range []int{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20} {
		rows = append(rows,
			row{id: fmt.Sprintf("9.3.%d", i+1), name: fmt.Sprintf("4 MiB text in fragments of %d bytes", size),
				steps: echo(fragments(opText, textPayload(4<<20), size)...), timeout: time.Minute},
			row{id: fmt.Sprintf("9.4.%d", i+1), name: fmt.Sprintf("4 MiB binary in fragments of %d bytes", size),
				steps: echo(fragments(opBinary, binPayload(4<<20), size)...), timeout: time.Minute},
		)
	}
	// 1 MiB in one frame, written in pieces of 64 bytes to 4 KiB.
	for i, chop := range []int{64, 128, 256, 512, 1024, 4096} {
		rows = append(rows,
			row{id: fmt.Sprintf("9.5.%d", i+1), name: fmt.Sprintf("1 MiB text frame in writes of %d bytes", chop),
				steps: steps(sendChopped(chop, textB(textPayload(1<<20))), expect(msgTextB(textPayload(1<<20)))), timeout: time.Minute},
			row{id: fmt.Sprintf("9.6.%d", i+1), name: fmt.Sprintf("1 MiB binary frame in writes of %d bytes", chop),
				steps: steps(sendChopped(chop, bin(binPayload(1<<20))), expect(msgBin(binPayload(1<<20)))), timeout: time.Minute},
		)
	}
	// 1000 messages in a row, each echoed.
	for i, n := range []int{0, 16, 64, 256, 1024, 4096} {
		var ts, bs []frame
		for j := range 1000 {
			p := textPayload(n + j%3)
			ts = append(ts, textB(p[:n]))
			bs = append(bs, bin(binPayload(n)))
		}
		rows = append(rows,
			row{id: fmt.Sprintf("9.7.%d", i+1), name: fmt.Sprintf("1000 text messages of %d bytes", n), steps: echo(ts...), timeout: time.Minute},
			row{id: fmt.Sprintf("9.8.%d", i+1), name: fmt.Sprintf("1000 binary messages of %d bytes", n), steps: echo(bs...), timeout: time.Minute},
		)
	}
	// The read limit (1 KiB in these rows): a message of exactly the limit
	// passes; one byte more fails with 1009, judged on the header or the
	// fragment that crosses it, before its payload is sent.
	const limit = 1 << 10
	rows = append(rows,
		row{id: "9.9.1", name: "message of exactly the read limit", limit: limit, steps: echo(bin(binPayload(limit)))},
		row{id: "9.9.2", name: "fragmented message of exactly the read limit", limit: limit, steps: echo(fragments(opText, textPayload(limit), 100)...)},
		row{id: "9.9.3", name: "frame one byte over the read limit, header only", limit: limit,
			steps: steps(send(frame{op: opBinary}.announce(limit+1)), fail(1009))},
		row{id: "9.9.4", name: "fragment that takes the message over the read limit, header only", limit: limit,
			steps: steps(send(textB(textPayload(limit-10)).more()), barrier(), send(frame{op: opCont}.announce(11)), fail(1009))},
		row{id: "9.9.5", name: "frame announcing 2^62 bytes", limit: limit,
			steps: steps(send(frame{op: opBinary}.announce(1<<62)), fail(1009))},
		row{id: "9.9.6", name: "frame announcing 2^40 bytes with the default limit",
			steps: steps(send(frame{op: opText}.announce(1<<40)), fail(1009))},
		row{id: "9.9.7", name: "many empty fragments then one over the limit", limit: limit,
			steps: steps(send(append([]frame{bin(nil).more()}, emptyConts(1000)...)...),
				barrier(), send(frame{op: opCont}.announce(limit+1)), fail(1009))},
	)
	return rows
}

// emptyConts is n empty continuation frames without FIN.
func emptyConts(n int) []frame {
	fs := make([]frame, n)
	for i := range fs {
		fs[i] = cont("").more()
	}
	return fs
}
