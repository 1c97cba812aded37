package chatserver

import (
	"context"
	"errors"
	"net/http"

	"github.com/rfc6455/websocket"
)

// serveWS upgrades the request and runs one chat session until either side
// ends it. The nickname comes from the query (?nick=); a bad or taken one is
// refused with close code 1008 and the reason, which the page shows.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered the request
	}
	c, err := s.hub.register(r.URL.Query().Get("nick"))
	if err != nil {
		code := websocket.StatusPolicyViolation
		if errors.Is(err, errShuttingDown) {
			code = websocket.StatusGoingAway
		}
		conn.CloseWithStatus(code, err.Error())
		return
	}
	defer s.hub.release(c)

	written := make(chan struct{})
	go func() {
		defer close(written)
		s.writeLoop(conn, c)
	}()
	s.readLoop(conn, c)
	// The reader is done: the peer closed, or the connection failed, or
	// the writer closed it. Make sure the writer stops too.
	s.hub.drop(c, 0, "")
	<-written
	conn.CloseNow()
}

// readLoop hands each request of the page to the hub until the connection
// ends. A page that sends something other than a JSON request is not ours:
// binary data is refused with 1003, malformed text with 1008.
func (s *Server) readLoop(conn *websocket.Conn, c *client) {
	for {
		typ, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if typ != websocket.TextMessage {
			s.hub.drop(c, websocket.StatusUnsupportedData, "binary messages are not part of the chat protocol")
			continue // read on until the close handshake ends
		}
		req, err := parseRequest(data)
		if err != nil {
			s.logf("chat: %s: %v", c.nick, err)
			s.hub.drop(c, websocket.StatusPolicyViolation, errMalformed.Error())
			continue
		}
		s.hub.handle(c, req)
	}
}

// writeLoop sends the events queued for c, in order, until the hub drops
// c; then it sends the close frame with the code the hub chose, if any.
func (s *Server) writeLoop(conn *websocket.Conn, c *client) {
	for {
		// Once dropped, stop sending events even if some are queued.
		select {
		case <-c.Gone():
			if code, reason := s.hub.closeStatus(c); code != 0 {
				conn.CloseWithStatus(code, reason)
			}
			return
		default:
		}
		select {
		case m := <-c.Queue():
			ctx, cancel := context.WithTimeout(context.Background(), s.writeTimeout)
			err := conn.WritePreparedMessageContext(ctx, m.prepared)
			cancel()
			if err != nil {
				s.hub.drop(c, 0, "")
				return
			}
		case <-c.Gone():
		}
	}
}
