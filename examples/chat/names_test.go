package main

import (
	"context"
	"net/http"
	"time"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/examples/chat/chatserver"
)

// The chat lives in package chatserver, so that other builds (the Redis one
// in redis/) can serve it too. The tests of this program predate that move
// and drive the server through it: these names keep them reading as they
// did.

// server is the chat as run serves it: chatserver's server with the page.
type server struct {
	hub testHub
}

// testHub gives the tests the hub's old method names.
type testHub struct{ s *chatserver.Server }

func (h testHub) shutdown(code websocket.StatusCode, reason string) { h.s.Shutdown(code, reason) }
func (h testHub) wait(ctx context.Context) error                    { return h.s.Wait(ctx) }
func (h testHub) members(room string) []string                      { return h.s.Members(room) }

// newServer returns the chat as run builds it, without a bus.
func newServer(queueLen int, ping time.Duration, logf func(string, ...any)) *server {
	return &server{hub: testHub{chatserver.New(chatserver.Config{QueueLen: queueLen, PingInterval: ping, Logf: logf, Page: page()})}}
}

// routes returns the page and the WebSocket endpoint, as run serves them.
func (s *server) routes() http.Handler { return s.hub.s.Handler() }

type (
	event   = chatserver.Event
	request = chatserver.Request
)

const (
	kindJoin        = chatserver.KindJoin
	kindSay         = chatserver.KindSay
	kindWelcome     = chatserver.KindWelcome
	kindJoined      = chatserver.KindJoined
	kindMembers     = chatserver.KindMembers
	kindMessage     = chatserver.KindMessage
	maxTextRunes    = chatserver.MaxTextRunes
	maxRequestBytes = chatserver.MaxRequestBytes
	reasonTooSlow   = chatserver.ReasonTooSlow
	reasonGoingAway = chatserver.ReasonGoingAway
)

var (
	errBadNick   = chatserver.ErrBadNick
	errNickTaken = chatserver.ErrNickTaken
)
