// Chat is a multi-room chat server with its browser page, built on
// github.com/rfc6455/websocket.
//
//	go run ./examples/chat              # serves http://127.0.0.1:8080/
//	go run ./examples/chat -addr :9000  # another address
//
// It serves an embedded page at / and the WebSocket endpoint at /ws. Open
// the page in two tabs, pick two nicknames, join the same room and talk.
//
// # Protocol
//
// The page connects to /ws?nick=NAME. A nickname is 1 to 24 letters,
// digits, '-' or '_', unique on the server; a bad or taken one is refused
// with close code 1008 and the reason.
//
// Every message in either direction is a text message holding one JSON
// object with a "type". The page sends requests:
//
//	{"type":"join",  "room":"go"}
//	{"type":"leave", "room":"go"}
//	{"type":"say",   "room":"go", "text":"hello"}
//
// and the server sends events:
//
//	{"type":"welcome", "nick":"ann"}                        once, first
//	{"type":"joined",  "room":"go"}                         to the joiner
//	{"type":"left",    "room":"go"}                         to the leaver
//	{"type":"members", "room":"go", "members":["ann","bo"]} to the room, on every change
//	{"type":"message", "room":"go", "from":"ann", "text":"hello"} to the room, sender included
//	{"type":"error",   "room":"go", "text":"not in this room"}    to the sender of a bad request
//
// A room name is 1 to 32 letters, digits, '-' or '_'; a client may be in up
// to 16 rooms; a text is 1 to 1000 characters. A message goes to the members
// of its room only. A binary message is refused with close code 1003, a
// request that is not JSON of a known type with 1008, one larger than the
// read limit with 1009 (by the library).
//
// # Behaviour
//
// Each broadcast is encoded once, as a PreparedMessage, and queued for
// every member. Compression (permessage-deflate, without context takeover)
// is offered to every page. Each client
// has a bounded send queue (-queue) drained by its own writer goroutine; a
// client whose queue is full is too slow for its rooms and is closed with
// 1008 "too slow: send queue full", so it never stalls the others. The
// server pings every client (-ping) and drops one that does not answer. On
// SIGINT or SIGTERM every client gets close code 1001 "going away" before
// the server exits.
//
// # Beyond one process
//
// The chat itself is the package chatserver, which this program serves
// with its embedded page. Its rooms live in this process; the build in
// redis/, a module of its own so that the library needs no Redis client,
// shares them between any number of instances through Redis pub/sub (see
// redis/README.md, with an nginx configuration).
package main

import (
	"context"
	"embed"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rfc6455/websocket/examples/chat/chatserver"
)

//go:embed static
var static embed.FS

// shutdownTimeout bounds how long the server waits, after a signal, for its
// clients to finish the close handshake.
const shutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

// run serves the chat until ctx ends, then shuts down gracefully. It prints
// the page's URL to stdout once the listener is open.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("chat", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "127.0.0.1:8080", "address to listen on")
	queue := flags.Int("queue", 64, "events queued per client before it is dropped as too slow")
	ping := flags.Duration("ping", 30*time.Second, "keepalive: ping each client this often (0 disables)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flags.Args())
	}

	logger := log.New(stderr, "", log.LstdFlags)
	s := chatserver.New(chatserver.Config{QueueLen: *queue, PingInterval: *ping, Logf: logger.Printf, Page: page()})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "chat: serving http://%s/\n", ln.Addr())

	return s.Serve(ctx, ln, logger, shutdownTimeout)
}

// page returns the embedded page, index.html at its root.
func page() fs.FS {
	page, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	return page
}
