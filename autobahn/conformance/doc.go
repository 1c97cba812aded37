// Package conformance holds the raw-wire conformance suite of the websocket
// package, in its test files: a test peer writes raw bytes (legal and
// illegal frames) to our server or our client and checks the exact answer,
// the echoed messages, the close code sent, or the TCP close.
//
// The rows are grouped like the sections of the Autobahn|Testsuite (1
// framing, 2 pings, 3 reserved bits, 4 reserved opcodes, 5 fragmentation,
// 6 UTF-8, 7 close handling, 9 limits, 10 misc, 12–13 compression) and
// each runs against three endpoints: a server echoing whole messages, a
// server echoing through NextReader/NextWriter, and a client echoing whole
// messages. Run it with
//
//	go test ./autobahn/conformance -run TestConformance -v
package conformance
