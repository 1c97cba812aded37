// Server is the smallest WebSocket server: it sends every message back.
//
//	go run ./examples/echo/server              # listens on 127.0.0.1:8080
//	go run ./examples/echo/client hello world  # in another terminal
package main

import (
	"flag"
	"log"
	"net/http"

	"github.com/rfc6455/websocket"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	flag.Parse()
	http.HandleFunc("/ws", echo)
	log.Printf("echo: listening on ws://%s/ws", *addr)
	log.Fatal(http.ListenAndServe(*addr, nil))
}

// upgrader is shared by every request; its zero value is ready to use.
var upgrader websocket.Upgrader

// echo upgrades the request and sends each message back with its type until
// the client closes.
func echo(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered with an HTTP error
	}
	defer conn.Close()
	for {
		typ, data, err := conn.ReadMessage()
		if err != nil {
			return // the client closed, or the connection failed
		}
		if err := conn.WriteMessage(typ, data); err != nil {
			return
		}
	}
}
