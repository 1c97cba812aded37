package patterns

import (
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

// Keepalive serves connections that it pings every PingPeriod; each pong
// moves the read deadline PongWait ahead, so a peer that stops answering
// ends its connection within PongWait. Messages are echoed.
type Keepalive struct {
	PingPeriod time.Duration
	PongWait   time.Duration
	// Pongs, when set, receives a value for each pong.
	Pongs chan<- struct{}
	// Ended, when set, receives the error that ended each connection.
	Ended chan<- error
}

var keepaliveUpgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// ServeHTTP upgrades the request and keeps the connection alive until the
// peer closes it or stops answering pings.
func (k *Keepalive) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := keepaliveUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(k.PongWait))
	c.SetPongHandler(func(string) error {
		c.SetReadDeadline(time.Now().Add(k.PongWait))
		if k.Pongs != nil {
			select {
			case k.Pongs <- struct{}{}:
			default:
			}
		}
		return nil
	})

	done := make(chan struct{})
	defer close(done)
	go func() {
		ticker := time.NewTicker(k.PingPeriod)
		defer ticker.Stop()
		for {
			select {
			case <-ticker.C:
				if err := c.WriteControl(websocket.PingMessage, []byte("keepalive"), time.Now().Add(k.PingPeriod)); err != nil {
					return
				}
			case <-done:
				return
			}
		}
	}()

	for {
		mt, p, err := c.ReadMessage()
		if err != nil {
			if k.Ended != nil {
				k.Ended <- err
			}
			return
		}
		if err := c.WriteMessage(mt, p); err != nil {
			return
		}
	}
}
