// Package bench measures this module's WebSocket library side by side with
// other Go WebSocket libraries and with plain TCP, on the same workloads.
//
// Each library is reached through a small adapter (lib_*.go) behind the
// Library and Conn interfaces of adapter.go, so that every workload runs the
// same code for every library. The "tcp" adapter is the floor: the same
// net/http setup, hijacked after a trivial handshake, then messages with a
// 5-byte prefix (type, length) and nothing else.
//
// Loopback workloads run the server the way gorilla's examples and most
// applications do: the read loop inside the http.Handler (handler=loop),
// which keeps net/http's goroutine and state for the connection's life.
// Idle and CompressMem also run it on a goroutine of its own once the
// handler has returned (handler=return). Whole messages are read with each
// library's idiomatic allocating call (api=alloc: ReadMessage for ours and
// gorilla, Read for coder, wsutil.ReadClientData/ReadServerData for
// gobwas) and, where a library has one, with its reusing call (api=append:
// our AppendMessage).
//
// The workloads are benchmarks in the _test.go files:
//
//   - BenchmarkEcho: one connection over loopback, 64 KiB and 1 MiB text
//     and binary with every read API, and 16 MiB binary.
//   - BenchmarkIdle: memory, stack and goroutines per idle connection, in
//     both handler patterns.
//   - BenchmarkConns: 100 connections echoing 1 KiB messages at once.
//   - BenchmarkBroadcast: one 1 KiB message to 1,000 connections.
//   - BenchmarkCompress: echo of 1 KiB JSON-like text with permessage-deflate,
//     without and with context takeover.
//   - BenchmarkCompressMem: memory per compressed connection after one such
//     message each way.
//   - BenchmarkCodecRead, BenchmarkCodecWrite: the protocol layer alone, in
//     process: a server reading pre-encoded masked frames from memory, a
//     client writing masked messages to a discarding transport.
//
// Loopback servers run in a child process (child.go) started from the test
// binary, so that its CPU time (getrusage) and heap are the server's alone.
// run.sh runs them all and prints the tables (cmd/table), led by issue 15's
// targets.
package bench
