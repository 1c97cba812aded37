// Wscat is a command-line WebSocket client, and server, in the spirit of
// wscat and websocat: lines read from standard input are sent as messages,
// and messages that arrive are printed, one per line, on standard output.
// Status (connected, closed) goes to standard error.
//
//	go run ./examples/wscat ws://127.0.0.1:8080/ws
//	go run ./examples/wscat -H 'Authorization: Bearer x' -subprotocol chat.v1 wss://example.com/ws
//	go run ./examples/wscat -listen 127.0.0.1:9000     # accept connections instead
//
// The end of standard input closes the connection with 1000 (normal
// closure); SIGINT or SIGTERM with 1001 (going away). As a client, wscat
// exits with status 1 when the server closes with a code other than 1000 or
// 1001, or when the connection fails.
//
// With -listen, wscat accepts WebSocket connections on every path, from any
// origin (it is a debugging tool); each line of standard input goes to every
// connected client, and every client's messages are printed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rfc6455/websocket"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "wscat:", err)
		}
		os.Exit(1)
	}
}

// compression is what -compress asks for: permessage-deflate (RFC 7692)
// with context takeover, which shrinks a stream of similar lines the most,
// for one 32 KiB window per direction: a small price for one connection.
var compression = websocket.CompressionOptions{Mode: websocket.CompressionContextTakeover}

// options are the command line, parsed.
type options struct {
	url          string
	listen       string
	header       http.Header
	subprotocols []string
	compress     bool
	binary       bool
	ping         time.Duration
	readLimit    int64
}

// parseArgs parses the command line; errors have been printed to stderr
// with the usage.
func parseArgs(args []string, stderr io.Writer) (options, error) {
	o := options{header: http.Header{}}
	flags := flag.NewFlagSet("wscat", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: wscat [flags] ws://host[:port]/path")
		fmt.Fprintln(stderr, "       wscat [flags] -listen host:port")
		flags.PrintDefaults()
	}
	flags.Func("H", "header `Name: value` for the handshake request (repeatable)", func(s string) error {
		name, value, ok := strings.Cut(s, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return errors.New(`want "Name: value"`)
		}
		o.header.Add(name, strings.TrimSpace(value))
		return nil
	})
	flags.Func("subprotocol", "subprotocol to offer, or as a server accept (repeatable)", func(s string) error {
		o.subprotocols = append(o.subprotocols, s)
		return nil
	})
	flags.BoolVar(&o.compress, "compress", false, "negotiate permessage-deflate compression (RFC 7692)")
	flags.BoolVar(&o.binary, "binary", false, "send lines as binary messages instead of text")
	flags.DurationVar(&o.ping, "ping", 0, "send a keepalive ping this often and fail without a pong (0: never)")
	flags.StringVar(&o.listen, "listen", "", "act as a server: accept connections on this `address`")
	flags.Int64Var(&o.readLimit, "limit", websocket.DefaultReadLimit, "largest message accepted, in bytes")
	if err := flags.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.listen == "" && flags.NArg() != 1:
		flags.Usage()
		return o, errors.New("want one URL, or -listen")
	case o.listen != "" && flags.NArg() != 0:
		flags.Usage()
		return o, errors.New("-listen takes no URL")
	case o.listen == "":
		o.url = flags.Arg(0)
	}
	return o, nil
}

// run is wscat with its command line and standard streams, until the
// connection ends (as a client), standard input ends, or ctx ends.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	o, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	lines := newLineReader(stdin)
	defer lines.stop()
	out, status := &printer{w: stdout}, &printer{w: stderr}
	if o.listen != "" {
		return serve(ctx, o, lines, out, status)
	}
	return dial(ctx, o, lines, out, status)
}
