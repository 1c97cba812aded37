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

	"github.com/rfc6455/websocket/compat/gorilla"
)

// readLimit is above the largest message of the suite (16 MiB in section 9).
const readLimit = 64 << 20

// endpoint is one echo endpoint: how it upgrades and how it echoes.
type endpoint struct {
	upgrader *websocket.Upgrader
	echo     func(*websocket.Conn) error
}

// newUpgrader returns the Upgrader of an endpoint, with permessage-deflate
// when compress is set. Every origin is allowed: the fuzzing client is a
// local test tool, and this server listens on loopback by default.
func newUpgrader(compress bool) *websocket.Upgrader {
	return &websocket.Upgrader{
		EnableCompression: compress,
		CheckOrigin:       func(*http.Request) bool { return true },
	}
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
// type as it arrives.
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
			c.SetReadLimit(readLimit)
			mu.Lock()
			if ctx.Err() != nil {
				mu.Unlock()
				c.Close()
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
			// The Conn has answered the peer's close, or sent the close
			// frame of a protocol error; Close drops the connection, the
			// server's part (RFC 6455 §7.1.1).
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
			c.Close()
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

// verbose, set by -v, logs how each connection ended.
var verbose bool

// unexpected reports whether a connection ended for a reason worth logging
// with -v: not a close from the peer nor a connection closed here. The
// fuzzing client commits protocol violations on purpose; the Conn answers
// them with their close code and they end up here too.
func unexpected(err error) bool {
	var ce *websocket.CloseError
	return verbose && !errors.As(err, &ce) && !errors.Is(err, net.ErrClosed)
}
