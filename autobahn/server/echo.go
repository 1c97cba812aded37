package main

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/rfc6455/websocket"
)

// readLimit is above the largest message of the suite (16 MiB in section 9).
const readLimit = 64 << 20

// endpoint is one echo endpoint: how it upgrades and how it echoes.
type endpoint struct {
	upgrader *websocket.Upgrader
	echo     func(*websocket.Conn) error
}

// newUpgrader returns the Upgrader of an endpoint: permessage-deflate with
// context takeover when compress is set (RFC 7692; the fuzzing client's
// sections 12 and 13 offer it), none otherwise. Every origin is allowed:
// the fuzzing client is a local test tool, and this server listens on
// loopback by default.
func newUpgrader(compress bool) *websocket.Upgrader {
	u := &websocket.Upgrader{
		ReadLimit:   readLimit,
		CheckOrigin: func(*http.Request) bool { return true },
	}
	if compress {
		u.Compression = websocket.CompressionOptions{Mode: websocket.CompressionContextTakeover}
	}
	return u
}

// endpoints maps each path to its endpoint.
func endpoints() map[string]endpoint {
	return map[string]endpoint{
		"/":       {newUpgrader(true), echoMessages},
		"/stream": {newUpgrader(true), echoStream},
		"/plain":  {newUpgrader(false), echoMessages},
	}
}

// echoMessages sends back each whole message with its type until the
// connection ends, and returns why it ended.
func echoMessages(c *websocket.Conn) error {
	for {
		typ, msg, err := c.ReadMessage()
		if err != nil {
			return err
		}
		if err := c.WriteMessage(typ, msg); err != nil {
			return err
		}
	}
}

// echoStream copies each message from its reader to a writer of the same
// type as it arrives, without holding it whole.
func echoStream(c *websocket.Conn) error {
	for {
		typ, r, err := c.NextReader()
		if err != nil {
			return err
		}
		w, err := c.NextWriter(typ)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, r); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
}

// serve answers WebSocket upgrades on ln until ctx ends, then closes the
// listener and every open connection and waits for their handlers.
func serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		conns = map[*websocket.Conn]bool{}
		wg    sync.WaitGroup
	)
	mux := http.NewServeMux()
	for path, ep := range endpoints() {
		pattern := "GET " + path
		if path == "/" {
			pattern = "GET /{$}"
		}
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			c, err := ep.upgrader.Upgrade(w, r, nil)
			if err != nil {
				return // Upgrade has answered the request
			}
			mu.Lock()
			if ctx.Err() != nil {
				mu.Unlock()
				c.CloseNow()
				return
			}
			conns[c] = true
			wg.Add(1)
			mu.Unlock()
			defer func() {
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				wg.Done()
			}()
			err = ep.echo(c)
			c.Close()
			if unexpected(err) {
				log.Printf("%s %s: %v", r.URL.Path, r.RemoteAddr, err)
			}
		})
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		srv.Close()
		mu.Lock()
		for c := range conns {
			c.CloseNow()
		}
		mu.Unlock()
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	cancel()
	<-done
	wg.Wait()
	return err
}

// unexpected reports whether a connection ended for a reason worth logging:
// not a close from the peer, and not a protocol violation (the fuzzing
// client commits those on purpose, and our side answered them).
func unexpected(err error) bool {
	return websocket.CloseStatus(err) == 0 &&
		!errors.Is(err, websocket.ErrProtocol) &&
		!errors.Is(err, websocket.ErrInvalidPayload) &&
		!errors.Is(err, websocket.ErrReadLimit) &&
		!errors.Is(err, net.ErrClosed)
}
