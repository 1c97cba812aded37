package websocket_test

import (
	"log"
	"net/http"

	"github.com/rfc6455/websocket"
)

// A server open to the Internet bounds how long a client may take over its
// handshake: NewHTTPServer sets the timeouts that http.ListenAndServe
// lacks, so that slow or silent clients (slowloris) cannot pile up.
func ExampleNewHTTPServer() {
	var upgrader websocket.Upgrader
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered the client
		}
		defer conn.Close()
		for {
			typ, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if err := conn.WriteMessage(typ, msg); err != nil {
				return
			}
		}
	})
	srv := websocket.NewHTTPServer(":8080", mux)
	// Any field may be changed before serving, e.g.
	// srv.ReadHeaderTimeout = 5 * time.Second
	log.Fatal(srv.ListenAndServe())
}
