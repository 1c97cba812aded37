// Wscat is a command-line WebSocket client, and server, in the spirit of
// wscat and websocat: lines read from standard input are sent as messages,
// and messages that arrive are printed, one per line, on standard output.
// Status (connected, closed) goes to standard error.
//
//	go run ./examples/wscat ws://127.0.0.1:8080/ws
//	go run ./examples/wscat -H 'Authorization: Bearer x' -subprotocol chat.v1 wss://example.com/ws
//	echo '{"type":"join","room":"go"}' | go run ./examples/wscat 'ws://127.0.0.1:8080/ws?nick=ann'
//	go run ./examples/wscat -listen 127.0.0.1:9000     # accept connections instead
//
// The end of standard input does not close the connection at once: replies
// to the last lines may still be on their way, so wscat keeps printing
// messages until the server has been quiet for -wait (1s by default), then
// closes with 1000 (normal closure). SIGINT or SIGTERM closes with 1001
// (going away).
//
// When standard input and output are both a terminal, wscat shows a "> "
// prompt and marks each received message with "< ", so that what was typed
// and what arrived can be told apart; piped, it prints messages as they are.
//
// As a client, wscat exits with status 0 when the session ends with a
// closing handshake whose code is 1000 (normal closure) or 1001 (going
// away), or no code at all in answer to its own close; with status 1 when
// the server closes with any other code or the connection fails; with
// status 2 for a bad command line. -h prints the flags and exits with 0.
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
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rfc6455/websocket"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	interactive := isTerminal(os.Stdin) && isTerminal(os.Stdout)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, interactive)
	stop()
	os.Exit(exitStatus(err, os.Stderr))
}

// errUsage marks a bad command line, whose details and the usage have been
// printed already.
var errUsage = errors.New("bad command line")

// exitStatus prints err, if it needs printing, and returns the status for
// it: 0 for success and for -h, 2 for a bad command line, 1 otherwise.
func exitStatus(err error, stderr io.Writer) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, new(reported)):
		return 1
	}
	fmt.Fprintln(stderr, "wscat:", err)
	return 1
}

// isTerminal reports whether f is a character device: a terminal, where a
// person types and reads (or /dev/null, where marks harm nobody).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
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
	wait         time.Duration
}

// defaultWait is how long, after standard input ends, wscat waits for the
// server to fall quiet: long enough for replies over a network, short
// enough not to hold up a script.
const defaultWait = time.Second

// parseArgs parses the command line. Its errors wrap errUsage: they have
// been printed to stderr, with the usage.
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
	flags.DurationVar(&o.wait, "wait", defaultWait, "after standard input ends, close once the peer has been quiet this long (0: at once)")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, fmt.Errorf("%w: %w", errUsage, err) // printed by flags
	}
	var problem string
	switch {
	case o.listen == "" && flags.NArg() != 1:
		problem = "want one URL, or -listen"
	case o.listen != "" && flags.NArg() != 0:
		problem = "-listen takes no URL"
	case o.wait < 0:
		problem = "-wait must not be negative"
	case o.listen == "":
		o.url = flags.Arg(0)
		problem = checkURL(o.url)
	}
	if problem != "" {
		fmt.Fprintln(stderr, "wscat:", problem)
		flags.Usage()
		return o, fmt.Errorf("%w: %s", errUsage, problem)
	}
	return o, nil
}

// checkURL returns what is wrong with a URL to dial, in words a user can act
// on, or "" when it can be dialed. The most common slip, leaving the scheme
// out, would otherwise surface as a puzzling parse error about a colon.
func checkURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return fmt.Sprintf("%q has no scheme: did you mean ws://%s (or wss:// for TLS)?", s, s)
	}
	switch strings.ToLower(scheme) {
	case "ws", "wss", "http", "https":
	default:
		return fmt.Sprintf("%q: the scheme must be ws or wss (http and https are taken as ws and wss), not %q", s, scheme)
	}
	if _, err := url.Parse(s); err != nil {
		return err.Error()
	}
	if rest == "" || strings.HasPrefix(rest, "/") {
		return fmt.Sprintf("%q has no host", s)
	}
	return ""
}

// run is wscat with its command line and standard streams, until the
// connection ends (as a client), standard input ends, or ctx ends.
// Interactive asks for the prompt and the marks of a terminal session.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, interactive bool) error {
	o, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	lines := newLineReader(stdin)
	defer lines.stop()
	out, status := newPrinters(stdout, stderr, interactive)
	if o.listen != "" {
		return serve(ctx, o, lines, out, status)
	}
	return dial(ctx, o, lines, out, status)
}
