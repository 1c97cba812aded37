// Command compatserver is autobahn/server written against the
// gorilla-compatible API (github.com/rfc6455/websocket/compat/gorilla), for
// the Autobahn|Testsuite fuzzing client (wstest -m fuzzingclient):
//
//	go run ./autobahn/compatserver -addr 127.0.0.1:9002
//
// It serves the same three endpoints: "/" echoes whole messages
// (ReadMessage, WriteMessage) with EnableCompression, "/stream" echoes
// through NextReader and NextWriter with EnableCompression, and "/plain"
// echoes whole messages without compression. Messages up to 64 MiB are
// accepted (section 9 sends 16 MiB). It stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9002", "address to listen on")
	flag.BoolVar(&verbose, "v", false, "log connections that end other than by a close frame")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("compat echo server on ws://%s/ (also /stream and /plain)", ln.Addr())
	if err := serve(ctx, ln); err != nil {
		log.Fatal(err)
	}
}
