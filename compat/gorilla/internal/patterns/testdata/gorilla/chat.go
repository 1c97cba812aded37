package patterns

import (
	"bytes"
	"log"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// Timing of the chat clients; the tests shorten them.
var (
	chatWriteWait  = 10 * time.Second
	chatPongWait   = 60 * time.Second
	chatPingPeriod = chatPongWait * 9 / 10
)

const chatMaxMessageSize = 512

var chatUpgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 1024,
}

// Hub keeps the set of connected chat clients and sends every message it
// receives to all of them.
type Hub struct {
	clients    map[*chatClient]bool
	broadcast  chan []byte
	register   chan *chatClient
	unregister chan *chatClient
	stop       chan struct{}
}

// NewHub returns a Hub; run it with Run.
func NewHub() *Hub {
	return &Hub{
		clients:    make(map[*chatClient]bool),
		broadcast:  make(chan []byte),
		register:   make(chan *chatClient),
		unregister: make(chan *chatClient),
		stop:       make(chan struct{}),
	}
}

// Run serves the hub until Stop; it then closes every client's queue,
// which makes its write pump close the connection.
func (h *Hub) Run() {
	for {
		select {
		case c := <-h.register:
			h.clients[c] = true
		case c := <-h.unregister:
			if h.clients[c] {
				delete(h.clients, c)
				close(c.send)
			}
		case m := <-h.broadcast:
			for c := range h.clients {
				select {
				case c.send <- m:
				default:
					// Too slow to keep up: drop it.
					delete(h.clients, c)
					close(c.send)
				}
			}
		case <-h.stop:
			for c := range h.clients {
				delete(h.clients, c)
				close(c.send)
			}
			return
		}
	}
}

// Stop ends Run.
func (h *Hub) Stop() { close(h.stop) }

// chatClient is one connection of the hub, with its queue of messages.
type chatClient struct {
	hub  *Hub
	conn *websocket.Conn
	send chan []byte
}

// readPump passes the connection's messages to the hub. It is the only
// reader of the connection; the pong handler keeps the read deadline ahead.
func (c *chatClient) readPump() {
	defer func() {
		select {
		case c.hub.unregister <- c:
		case <-c.hub.stop:
		}
		c.conn.Close()
	}()
	c.conn.SetReadLimit(chatMaxMessageSize)
	c.conn.SetReadDeadline(time.Now().Add(chatPongWait))
	c.conn.SetPongHandler(func(string) error {
		c.conn.SetReadDeadline(time.Now().Add(chatPongWait))
		return nil
	})
	for {
		_, message, err := c.conn.ReadMessage()
		if err != nil {
			if websocket.IsUnexpectedCloseError(err, websocket.CloseGoingAway, websocket.CloseAbnormalClosure) {
				log.Printf("chat read: %v", err)
			}
			return
		}
		message = bytes.TrimSpace(message)
		select {
		case c.hub.broadcast <- message:
		case <-c.hub.stop:
			return
		}
	}
}

// writePump sends the queued messages, batching those already waiting
// into one WebSocket message, one per line, and pings the peer.
func (c *chatClient) writePump() {
	ticker := time.NewTicker(chatPingPeriod)
	defer func() {
		ticker.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case message, ok := <-c.send:
			c.conn.SetWriteDeadline(time.Now().Add(chatWriteWait))
			if !ok {
				c.conn.WriteMessage(websocket.CloseMessage, []byte{})
				return
			}
			w, err := c.conn.NextWriter(websocket.TextMessage)
			if err != nil {
				return
			}
			w.Write(message)
			n := len(c.send)
			for range n {
				w.Write([]byte{'\n'})
				w.Write(<-c.send)
			}
			if err := w.Close(); err != nil {
				return
			}
		case <-ticker.C:
			c.conn.SetWriteDeadline(time.Now().Add(chatWriteWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}

// ServeChat upgrades the request and joins the connection to the hub.
func (h *Hub) ServeChat(w http.ResponseWriter, r *http.Request) {
	conn, err := chatUpgrader.Upgrade(w, r, nil)
	if err != nil {
		log.Println(err)
		return
	}
	c := &chatClient{hub: h, conn: conn, send: make(chan []byte, 256)}
	select {
	case h.register <- c:
	case <-h.stop:
		conn.Close()
		return
	}
	go c.writePump()
	go c.readPump()
}
