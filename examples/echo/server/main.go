// Server is the smallest WebSocket server: it sends every message back.
//
//	go run ./examples/echo/server              # listens on 127.0.0.1:8081
//	go run ./examples/echo/client hello world  # in another terminal
package main

import (
	"flag"
	"log"
	"net"
	"net/http"

	"github.com/rfc6455/websocket"
)

// defaultAddr is where the server listens unless -addr says otherwise: not
// the chat example's 127.0.0.1:8080, so that both can run at once.
const defaultAddr = "127.0.0.1:8081"

func main() {
	addr := flag.String("addr", defaultAddr, "address to listen on")
	flag.Parse()
	ln, err := listen(*addr, log.Default())
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(newServer().Serve(ln))
}

// listen opens the listener and only then logs its address, the one
// actually bound (a port of 0 is chosen by the system): a port already in
// use is reported as that alone.
func listen(addr string, logger *log.Logger) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	logger.Printf("echo: listening on ws://%s/ws", ln.Addr())
	return ln, nil
}

// newServer returns the HTTP server of the echo. Upgrade runs only once
// net/http has read the whole request, so the server, not the Upgrader,
// must cut off a client that sends its request slowly or never ends it:
// websocket.NewHTTPServer sets ReadHeaderTimeout and the other limits a
// public server needs.
func newServer() *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", echo)
	return websocket.NewHTTPServer("", mux)
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
