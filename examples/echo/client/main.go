// Client is the smallest WebSocket client: it sends each argument as a text
// message to the echo server and prints what comes back.
//
//	go run ./examples/echo/server              # in one terminal: 127.0.0.1:8081
//	go run ./examples/echo/client hello world  # prints hello, then world
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/rfc6455/websocket"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:8081/ws", "the echo server")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := echoAll(ctx, *url, flag.Args(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// echoAll connects to url, sends each message and prints each reply to out.
func echoAll(ctx context.Context, url string, messages []string, out io.Writer) error {
	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, m := range messages {
		if err := conn.WriteMessageContext(ctx, websocket.TextMessage, []byte(m)); err != nil {
			return err
		}
		_, reply, err := conn.ReadMessageContext(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, string(reply))
	}
	return conn.Close() // the closing handshake: nil when the server answered it
}
