package patterns

import (
	"log"
	"net/http"
	"time"

	"github.com/rfc6455/websocket/compat/gorilla"
)

var echoUpgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 1024,
	CheckOrigin:     func(r *http.Request) bool { return true },
}

// EchoHandler upgrades the request and sends every message back with its
// type until the peer goes away.
func EchoHandler(w http.ResponseWriter, r *http.Request) {
	c, err := echoUpgrader.Upgrade(w, r, nil)
	if err != nil {
		log.Print("upgrade: ", err)
		return
	}
	defer c.Close()
	for {
		mt, message, err := c.ReadMessage()
		if err != nil {
			if websocket.IsUnexpectedCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) {
				log.Print("read: ", err)
			}
			return
		}
		if err := c.WriteMessage(mt, message); err != nil {
			log.Print("write: ", err)
			return
		}
	}
}

// EchoClient dials url, sends each of lines as a text message, collects
// what comes back until it has as many replies, then closes the connection
// cleanly: a close frame, then waiting for the server's (or one second).
func EchoClient(url string, lines []string) ([]string, error) {
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()

	replies := make(chan string)
	done := make(chan error, 1)
	go func() {
		for {
			_, message, err := c.ReadMessage()
			if err != nil {
				done <- err
				return
			}
			replies <- string(message)
		}
	}()

	var got []string
	for _, line := range lines {
		if err := c.WriteMessage(websocket.TextMessage, []byte(line)); err != nil {
			return got, err
		}
	}
	for len(got) < len(lines) {
		select {
		case r := <-replies:
			got = append(got, r)
		case err := <-done:
			return got, err
		}
	}

	err = c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	if err != nil {
		return got, err
	}
	select {
	case err := <-done:
		if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			return got, err
		}
	case <-time.After(time.Second):
	}
	return got, nil
}
