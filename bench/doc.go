// Package bench measures this module's WebSocket library side by side with
// other Go WebSocket libraries and with plain TCP, on the same workloads.
//
// Each library is reached through a small adapter (lib_*.go) behind the
// Library and Conn interfaces of adapter.go, so that every workload runs the
// same code for every library. The "tcp" adapter is the floor: the same
// net/http setup, hijacked after a trivial handshake, then messages with a
// 5-byte prefix (type, length) and nothing else.
//
// The workloads are benchmarks in the _test.go files:
//
//   - BenchmarkCodecRead, BenchmarkCodecWrite: the protocol layer alone, in
//     process: a server reading pre-encoded masked frames from memory, a
//     client writing masked messages to a discarding transport.
//   - BenchmarkEcho: one connection over loopback, 64 KiB and 1 MiB.
//   - BenchmarkConns: 100 connections echoing 1 KiB messages at once.
//   - BenchmarkBroadcast: one 1 KiB message to 1,000 connections.
//   - BenchmarkCompress: echo of 1 KiB JSON-like text with permessage-deflate,
//     without and with context takeover.
//   - BenchmarkCompressMem: memory per compressed connection after one such
//     message each way.
//   - BenchmarkIdle: memory and goroutines per idle connection.
//
// Loopback servers run in a child process (child.go) started from the test
// binary, so that its CPU time (getrusage) and heap are the server's alone.
// run.sh runs them all and prints the tables (cmd/table).
package bench
