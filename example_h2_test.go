package websocket_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/rfc6455/websocket"
	// In the server's main package: lets net/http's HTTP/2 server accept
	// WebSockets (RFC 8441). GODEBUG=http2xconnect=1 does the same.
	_ "github.com/rfc6455/websocket/http2xconnect"
)

// A server that takes WebSockets over HTTP/1.1 and HTTP/2 alike. The
// pattern has no method: over HTTP/2 the handshake is a CONNECT, not a GET.
// The handler keeps the connection until it is done with it: over HTTP/2
// the connection is the handler's stream.
func ExampleExtendedConnectEnabled() {
	if !websocket.ExtendedConnectEnabled() {
		log.Print("WebSockets stay on HTTP/1.1: start with GODEBUG=http2xconnect=1")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", echo)
	srv := &http.Server{Addr: ":8443", Handler: mux} // HTTP/2 comes with TLS
	log.Fatal(srv.ListenAndServeTLS("cert.pem", "key.pem"))
}

// A client that insists on HTTP/2; the zero HTTP2Mode uses it whenever the
// server allows it.
func ExampleDialer_http2() {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(echo))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	d := websocket.Dialer{
		TLSClientConfig: &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs},
		HTTP2:           websocket.HTTP2Always,
	}
	conn, resp, err := d.Dial(context.Background(), "wss"+strings.TrimPrefix(srv.URL, "https"), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Println(resp.Proto, resp.StatusCode)

	if err := conn.WriteMessage(websocket.TextMessage, []byte("hello over HTTP/2")); err != nil {
		log.Fatal(err)
	}
	_, msg, err := conn.ReadMessage()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s\n", msg)
	// Output:
	// HTTP/2.0 200
	// hello over HTTP/2
}
