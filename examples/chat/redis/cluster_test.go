package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/examples/chat/chatserver"
)

// heartbeat is the instances' heartbeat in these tests, short so that
// expiry is quick to see.
const heartbeat = 250 * time.Millisecond

// leaveBound is the stated bound for the users of an instance that
// stopped without a word to leave the others' member lists: 3 heartbeats
// without its state, plus up to one more until the next expiry check.
const leaveBound = 4 * heartbeat

// schedulingSlack is added to bounds the tests measure: the machine that
// runs them may be busy with other work.
const schedulingSlack = time.Second

// startPair starts redis-server and two chat instances on it, and waits
// until both have subscribed.
func startPair(t *testing.T) (r *redisServer, a, b *instance) {
	t.Helper()
	r = startRedis(t)
	args := []string{"-redis", r.url(), "-heartbeat", heartbeat.String(), "-ping", "0"}
	a = startInstance(t, "a", args...)
	b = startInstance(t, "b", args...)
	a.waitLog("chat: cluster: subscribed")
	b.waitLog("chat: cluster: subscribed")
	return r, a, b
}

func message(room, from, text string) chatserver.Event {
	return chatserver.Event{Type: chatserver.KindMessage, Room: room, From: from, Text: text}
}

// TestTwoInstancesShareRooms runs two chat instances on one Redis, with a
// user on each: they see each other in the room's member list and what
// each says, a nickname taken on one is refused on the other, bad messages
// published on the channel are logged and dropped, and when one instance
// shuts down its user leaves the other's member list.
func TestTwoInstancesShareRooms(t *testing.T) {
	r, a, b := startPair(t)
	ann := connect(t, a, "ann")
	bo := connect(t, b, "bo")
	ann.join("lobby")
	bo.join("lobby")
	ann.waitMembers("lobby", "ann", "bo")
	bo.waitMembers("lobby", "ann", "bo")

	ann.say("lobby", "hello from a")
	assert.Equal(t, message("lobby", "ann", "hello from a"), bo.waitMessage())
	assert.Equal(t, message("lobby", "ann", "hello from a"), ann.waitMessage())
	bo.say("lobby", "hello from b, ça va?")
	assert.Equal(t, message("lobby", "bo", "hello from b, ça va?"), ann.waitMessage())
	assert.Equal(t, message("lobby", "bo", "hello from b, ça va?"), bo.waitMessage())

	// A nickname is unique across the instances.
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	dup, _, err := (&websocket.Dialer{}).Dial(ctx, b.wsURL+"?nick=ann", nil)
	require.NoError(t, err)
	defer dup.CloseNow()
	_, _, err = dup.ReadMessageContext(ctx)
	var ce *websocket.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, &websocket.CloseError{Code: websocket.StatusPolicyViolation, Reason: chatserver.ErrNickTaken.Error()}, ce)

	// What comes from Redis is checked as what comes from a page: each of
	// these is logged and dropped by both instances; the valid message
	// published after them, from a server that is not an instance, is the
	// next thing the users see.
	say := func(tail string) string {
		return `{"type":"say","from":"x","room":"lobby","nick":"zed",` + tail
	}
	garbage := []string{
		`not json`,
		`null`,
		`[1,2]`,
		`{"type":"say"}`,
		say(`"text":""}`),
		say(`"text":"` + strings.Repeat("é", chatserver.MaxTextRunes+1) + `"}`),
		say(`"text":"hi","extra":1}`),
		say(`"text":"hi"} {}`),
		say("\"text\":\"\xff\"}"), // not UTF-8
		say(`"text":"` + strings.Repeat("x", 2<<20) + `"}`),
		`{"type":"say","from":"x","room":"lobby","nick":"<b>zed</b>","text":"hi"}`,
		`{"type":"say","from":"x","room":"no room","nick":"zed","text":"hi"}`,
		`{"type":"say","from":"","room":"lobby","nick":"zed","text":"hi"}`,
		`{"type":"state","from":"x","users":{"bad nick!":["lobby"]}}`,
		`{"type":"state","from":"x","users":{"zed":["1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16","17"]}}`,
		`{"type":"shout","from":"x"}`,
	}
	for _, g := range garbage {
		r.publish("chat", []byte(g))
	}
	r.publish("chat", []byte(`{"type":"say","from":"tester","room":"lobby","nick":"zed","text":"valid after garbage"}`))
	assert.Equal(t, message("lobby", "zed", "valid after garbage"), ann.waitMessage())
	assert.Equal(t, message("lobby", "zed", "valid after garbage"), bo.waitMessage())
	const dropped = "chat: cluster: dropped a message from the bus"
	for _, in := range []*instance{a, b} {
		assert.True(t, in.log.waitCount(dropped, len(garbage), waitTimeout, in.done), "%s logged fewer than %d drops:\n%s", in.name, len(garbage), in.log)
		// Nothing else was dropped: a valid message was not taken for a
		// bad one.
		assert.Equal(t, len(garbage), strings.Count(in.log.String(), dropped), in.name)
	}
	a.requireRunning()
	b.requireRunning()

	// b shuts down: it says bye, and bo leaves a's member list at once,
	// while b still waits for bo's close handshake (bo reads nothing).
	b.signal(syscall.SIGTERM)
	took := ann.waitMembers("lobby", "ann")
	t.Logf("bo left a's member list %v after b was told to stop", took)
	assert.Less(t, took, heartbeat+schedulingSlack)
	bo.conn.CloseNow() // b need not wait for bo's answer to its close
	b.wait()
	assert.NoError(t, b.err, "b's exit")
	ann.say("lobby", "still here")
	assert.Equal(t, message("lobby", "ann", "still here"), ann.waitMessage())
	a.requireRunning()
}

// TestKilledInstanceLeavesMemberLists kills an instance, as a crash would,
// without a bye: its users leave the other's member lists once it has not
// been heard from for 3 heartbeats.
func TestKilledInstanceLeavesMemberLists(t *testing.T) {
	_, a, b := startPair(t)
	ann := connect(t, a, "ann")
	bo := connect(t, b, "bo")
	cy := connect(t, b, "cy")
	ann.join("lobby")
	bo.join("lobby")
	cy.join("lobby")
	ann.waitMembers("lobby", "ann", "bo", "cy")

	b.signal(syscall.SIGKILL)
	took := ann.waitMembers("lobby", "ann")
	t.Logf("b's users left a's member list %v after b was killed (bound %v)", took, leaveBound)
	assert.Less(t, took, leaveBound+schedulingSlack)
	a.waitLog("not heard from for")

	// bo may come back on a, the name being free again.
	bo2 := connect(t, a, "bo")
	bo2.join("lobby")
	ann.waitMembers("lobby", "ann", "bo")
	a.requireRunning()
}

// TestRedisRestart stops redis-server mid-chat and starts it again: each
// instance goes on serving its own users and says so in its log, and once
// Redis is back they reconnect, the member lists are whole again and
// messages cross again.
func TestRedisRestart(t *testing.T) {
	r, a, b := startPair(t)
	ann := connect(t, a, "ann")
	cy := connect(t, a, "cy")
	bo := connect(t, b, "bo")
	for _, u := range []*user{ann, cy, bo} {
		u.join("lobby")
	}
	ann.waitMembers("lobby", "ann", "bo", "cy")
	cy.waitMembers("lobby", "ann", "bo", "cy")
	bo.waitMembers("lobby", "ann", "bo", "cy")

	r.stop()
	a.waitLog("bus unreachable")
	b.waitLog("bus unreachable")
	// a's users still talk to each other.
	ann.say("lobby", "redis is down")
	assert.Equal(t, message("lobby", "ann", "redis is down"), ann.waitMessage())
	assert.Equal(t, message("lobby", "ann", "redis is down"), cy.waitMessage())
	// Each instance stops hearing from the other, and its member lists
	// show its own users only: what it can serve.
	ann.waitMembers("lobby", "ann", "cy")
	cy.waitMembers("lobby", "ann", "cy")
	bo.waitMembers("lobby", "bo")

	r.start()
	ready := time.Now()
	a.waitLog("bus reachable again")
	b.waitLog("bus reachable again")
	// The backoff is bounded: once Redis answers, the next attempt comes
	// within maxBackoff.
	took := time.Since(ready)
	t.Logf("both instances were subscribed again %v after redis-server was ready (backoff bound %v)", took, maxBackoff)
	assert.Less(t, took, maxBackoff+schedulingSlack)
	ann.waitMembers("lobby", "ann", "bo", "cy")
	cy.waitMembers("lobby", "ann", "bo", "cy")
	bo.waitMembers("lobby", "ann", "bo", "cy")
	ann.say("lobby", "redis is back")
	assert.Equal(t, message("lobby", "ann", "redis is back"), bo.waitMessage())
	assert.Equal(t, message("lobby", "ann", "redis is back"), cy.waitMessage())
	bo.say("lobby", "so I hear")
	assert.Equal(t, message("lobby", "bo", "so I hear"), cy.waitMessage())
	a.requireRunning()
	b.requireRunning()
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-redis", "http://127.0.0.1:6379"},
		{"-heartbeat", "0s"},
		{"-static", t.TempDir()},
		{"extra"},
	} {
		err := run(context.Background(), append([]string{"-addr", "127.0.0.1:0"}, args...), io.Discard, io.Discard)
		assert.Error(t, err, "%q", args)
	}
	var opErr interface{ Timeout() bool }
	err := run(context.Background(), []string{"-addr", "256.0.0.1:0"}, io.Discard, io.Discard)
	assert.True(t, errors.As(err, &opErr), "%v", err)
}
