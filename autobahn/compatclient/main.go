// Command compatclient drives an Autobahn|Testsuite fuzzing server
// (wstest -m fuzzingserver) with the Dialer of the gorilla-compatible API
// (github.com/rfc6455/websocket/compat/gorilla), as autobahn/client does
// with the native one:
//
//	go run ./autobahn/compatclient -url ws://127.0.0.1:9001 -agent NAME
//
// It asks the server for its case count (GET /getCaseCount), runs each
// selected case (/runCase?case=N&agent=NAME), echoing every message with
// its type until the server closes, and then has the server write its
// reports (/updateReports?agent=NAME). -cases picks cases by index, as in
// "1-10,15"; -compress=false turns permessage-deflate off.
package main

import "github.com/rfc6455/websocket/autobahn/internal/fuzzclient"

func main() { fuzzclient.Main("compatclient", "rfc6455-compat", newPeer) }
