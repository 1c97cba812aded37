package main

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/examples/chat/chatserver"
)

// user is a test's chat client on one instance, speaking the page's
// protocol with this library's client.
type user struct {
	t    *testing.T
	nick string
	conn *websocket.Conn
}

// connect connects to in as nick and checks the welcome.
func connect(t *testing.T, in *instance, nick string) *user {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	conn, _, err := (&websocket.Dialer{}).Dial(ctx, in.wsURL+"?nick="+nick, nil)
	require.NoError(t, err, "%s connecting to %s", nick, in.name)
	t.Cleanup(func() { conn.CloseNow() })
	u := &user{t: t, nick: nick, conn: conn}
	require.Equal(t, chatserver.Event{Type: chatserver.KindWelcome, Nick: nick}, u.next())
	return u
}

func (u *user) send(req chatserver.Request) {
	u.t.Helper()
	data, err := json.Marshal(req)
	require.NoError(u.t, err)
	require.NoError(u.t, u.conn.WriteMessage(websocket.TextMessage, data))
}

func (u *user) say(room, text string) {
	u.t.Helper()
	u.send(chatserver.Request{Type: chatserver.KindSay, Room: room, Text: text})
}

// read returns the next event, or the error that ended the connection or
// the wait (after d).
func (u *user) read(d time.Duration) (chatserver.Event, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, data, err := u.conn.ReadMessageContext(ctx)
	if err != nil {
		return chatserver.Event{}, err
	}
	var ev chatserver.Event
	err = json.Unmarshal(data, &ev)
	return ev, err
}

func (u *user) next() chatserver.Event {
	u.t.Helper()
	ev, err := u.read(waitTimeout)
	require.NoError(u.t, err, "%s: reading an event", u.nick)
	return ev
}

// join joins room and reads the confirmation.
func (u *user) join(room string) {
	u.t.Helper()
	u.send(chatserver.Request{Type: chatserver.KindJoin, Room: room})
	require.Equal(u.t, chatserver.Event{Type: chatserver.KindJoined, Room: room}, u.next())
}

// maxSkipped bounds the events a wait skips over before it gives up.
const maxSkipped = 1000

// waitMembers reads events until the member list of room is want, and
// returns how long that took. Messages on the way fail the test: callers
// wait for members where nothing else is being said.
func (u *user) waitMembers(room string, want ...string) time.Duration {
	u.t.Helper()
	start := time.Now()
	var last []string
	for range maxSkipped {
		ev, err := u.read(waitTimeout)
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		require.NoError(u.t, err, "%s: waiting for members %v of %s", u.nick, want, room)
		if ev.Type == chatserver.KindMembers && ev.Room == room {
			if last = ev.Members; slices.Equal(last, want) {
				return time.Since(start)
			}
			continue
		}
		u.t.Fatalf("%s: waiting for members %v of %s, got %+v", u.nick, want, room, ev)
	}
	u.t.Fatalf("%s: members of %s still %v, want %v", u.nick, room, last, want)
	return 0
}

// waitMessage reads events, skipping member lists, until a message arrives,
// and returns it.
func (u *user) waitMessage() chatserver.Event {
	u.t.Helper()
	for range maxSkipped {
		ev := u.next()
		if ev.Type != chatserver.KindMembers {
			return ev
		}
	}
	u.t.Fatalf("%s: no message among %d events", u.nick, maxSkipped)
	return chatserver.Event{}
}
