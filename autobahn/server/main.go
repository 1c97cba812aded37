// Command server is the echo server that the Autobahn|Testsuite fuzzing
// client (wstest -m fuzzingclient) drives:
//
//	go run ./autobahn/server -addr 127.0.0.1:9001
//
// It serves three endpoints, one agent each in config/fuzzingclient.json:
// "/" echoes whole messages (ReadMessage, WriteMessage) with compression,
// "/stream" echoes through NextReader and NextWriter with compression, and
// "/plain" echoes whole messages without compression. Text stays text and
// binary stays binary; messages up to 64 MiB are accepted (section 9 sends
// 16 MiB). It stops on SIGINT or SIGTERM.
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
	addr := flag.String("addr", "127.0.0.1:9001", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("echo server on ws://%s/ (also /stream and /plain)", ln.Addr())
	if err := serve(ctx, ln); err != nil {
		log.Fatal(err)
	}
}
