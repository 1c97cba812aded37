package chatserver

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rfc6455/websocket"
)

// These tests drive the hub directly, without a network: a client's queue
// is read as the connection's writer would read it.

// next returns the next queued event of c, failing the test when none is
// queued: every event is queued before the hub call that makes it returns.
func next(t *testing.T, c *client) Event {
	t.Helper()
	select {
	case m := <-c.Queue():
		var ev Event
		require.NoError(t, json.Unmarshal(m.data, &ev))
		return ev
	default:
		t.Fatalf("%s: no Event queued", c.nick)
		return Event{}
	}
}

// drain returns every event queued for c.
func drain(t *testing.T, c *client) []Event {
	t.Helper()
	var evs []Event
	for range cap(c.queue) {
		select {
		case m := <-c.Queue():
			var ev Event
			require.NoError(t, json.Unmarshal(m.data, &ev))
			evs = append(evs, ev)
		default:
			return evs
		}
	}
	return evs
}

func mustRegister(t *testing.T, h *hub, nick string) *client {
	t.Helper()
	c, err := h.register(nick)
	require.NoError(t, err)
	t.Cleanup(func() { h.release(c) })
	require.Equal(t, Event{Type: KindWelcome, Nick: nick}, next(t, c))
	return c
}

func TestHubRegisterNicknames(t *testing.T) {
	h := newHub(8)
	mustRegister(t, h, "ann")
	_, err := h.register("ann")
	assert.ErrorIs(t, err, ErrNickTaken)
	for _, bad := range []string{"", "a b", "<script>", "aaaaaaaaaaaaaaaaaaaaaaaaa" /* 25 */} {
		_, err := h.register(bad)
		assert.ErrorIs(t, err, ErrBadNick, "%q", bad)
	}
	// Unicode letters are fine, and a released nickname is free again.
	c := mustRegister(t, h, "Zoë_2")
	h.release(c)
	c2, err := h.register("Zoë_2")
	require.NoError(t, err)
	h.release(c2)
}

func TestHubMessagesStayInTheirRoom(t *testing.T) {
	h := newHub(16)
	ann, bo, cy := mustRegister(t, h, "ann"), mustRegister(t, h, "bo"), mustRegister(t, h, "cy")
	h.handle(ann, Request{Type: KindJoin, Room: "go"})
	h.handle(bo, Request{Type: KindJoin, Room: "go"})
	h.handle(cy, Request{Type: KindJoin, Room: "rust"})
	drain(t, ann)
	drain(t, bo)
	drain(t, cy)

	h.handle(ann, Request{Type: KindSay, Room: "go", Text: "hi bo"})
	want := Event{Type: KindMessage, Room: "go", From: "ann", Text: "hi bo"}
	assert.Equal(t, []Event{want}, drain(t, bo))
	assert.Equal(t, []Event{want}, drain(t, ann), "the sender sees its own message, in order")
	assert.Empty(t, drain(t, cy), "another room hears nothing")

	h.handle(cy, Request{Type: KindSay, Room: "go", Text: "let me in"})
	assert.Equal(t, []Event{{Type: KindError, Room: "go", Text: "not in this room"}}, drain(t, cy))
	assert.Empty(t, drain(t, ann))
	assert.Empty(t, drain(t, bo))
}

func TestHubMemberLists(t *testing.T) {
	h := newHub(16)
	ann, bo := mustRegister(t, h, "ann"), mustRegister(t, h, "bo")

	h.handle(ann, Request{Type: KindJoin, Room: "go"})
	assert.Equal(t, []Event{
		{Type: KindJoined, Room: "go"},
		{Type: KindMembers, Room: "go", Members: []string{"ann"}},
	}, drain(t, ann))

	h.handle(bo, Request{Type: KindJoin, Room: "go"})
	both := Event{Type: KindMembers, Room: "go", Members: []string{"ann", "bo"}}
	assert.Equal(t, []Event{both}, drain(t, ann))
	assert.Equal(t, []Event{{Type: KindJoined, Room: "go"}, both}, drain(t, bo))
	assert.Equal(t, []string{"ann", "bo"}, h.members("go"))

	h.handle(ann, Request{Type: KindLeave, Room: "go"})
	assert.Equal(t, []Event{{Type: KindLeft, Room: "go"}}, drain(t, ann))
	assert.Equal(t, []Event{{Type: KindMembers, Room: "go", Members: []string{"bo"}}}, drain(t, bo))

	// A client that goes away leaves its rooms; the last one out deletes it.
	h.drop(bo, 0, "")
	assert.Empty(t, h.members("go"))
	h.mu.Lock()
	assert.Empty(t, h.rooms)
	h.mu.Unlock()
}

func TestHubRefusesBadRequests(t *testing.T) {
	h := newHub(32)
	ann := mustRegister(t, h, "ann")
	cases := []struct {
		req  Request
		text string
	}{
		{Request{Type: KindJoin, Room: ""}, "room name must be 1 to 32 letters, digits, '-' or '_'"},
		{Request{Type: KindJoin, Room: "a/b"}, "room name must be 1 to 32 letters, digits, '-' or '_'"},
		{Request{Type: KindLeave, Room: "go"}, "not in this room"},
		{Request{Type: KindSay, Room: "go", Text: "x"}, "not in this room"},
	}
	for _, tc := range cases {
		h.handle(ann, tc.req)
		assert.Equal(t, Event{Type: KindError, Room: tc.req.Room, Text: tc.text}, next(t, ann), "%+v", tc.req)
	}
	h.handle(ann, Request{Type: KindJoin, Room: "go"})
	drain(t, ann)
	h.handle(ann, Request{Type: KindJoin, Room: "go"})
	assert.Equal(t, Event{Type: KindError, Room: "go", Text: "already in this room"}, next(t, ann))
	h.handle(ann, Request{Type: KindSay, Room: "go", Text: ""})
	assert.Equal(t, KindError, next(t, ann).Type)
	long := make([]rune, MaxTextRunes+1)
	for i := range long {
		long[i] = 'é'
	}
	h.handle(ann, Request{Type: KindSay, Room: "go", Text: string(long)})
	assert.Equal(t, Event{Type: KindError, Room: "go", Text: "message must be 1 to 1000 characters"}, next(t, ann))

	for i := 1; i < MaxRoomsPerUser; i++ {
		h.handle(ann, Request{Type: KindJoin, Room: fmt.Sprint("r", i)})
	}
	drain(t, ann)
	h.handle(ann, Request{Type: KindJoin, Room: "one-too-many"})
	assert.Equal(t, Event{Type: KindError, Room: "one-too-many", Text: "too many rooms"}, next(t, ann))
}

func TestHubDropsSlowClient(t *testing.T) {
	const queueLen = 4
	h := newHub(queueLen)
	ann, slow := mustRegister(t, h, "ann"), mustRegister(t, h, "slow")
	h.handle(ann, Request{Type: KindJoin, Room: "go"})
	h.handle(slow, Request{Type: KindJoin, Room: "go"})
	drain(t, ann)
	// slow keeps its two events queued (joined, members) and reads no more.

	for i := range 10 {
		h.handle(ann, Request{Type: KindSay, Room: "go", Text: fmt.Sprint("m", i)})
		// ann reads everything it is sent: it is never the one dropped.
		for _, ev := range drain(t, ann) {
			if ev.Type == KindMessage {
				assert.Equal(t, fmt.Sprint("m", i), ev.Text)
			}
		}
	}
	select {
	case <-slow.Gone():
	default:
		t.Fatal("the slow client was not dropped")
	}
	code, reason := h.closeStatus(slow)
	assert.Equal(t, websocket.StatusPolicyViolation, code)
	assert.Equal(t, ReasonTooSlow, reason)
	assert.Equal(t, []string{"ann"}, h.members("go"), "the room goes on without the slow client")
	select {
	case <-ann.Gone():
		t.Fatal("the reading client was dropped")
	default:
	}
}

func TestHubShutdownDropsEveryone(t *testing.T) {
	h := newHub(8)
	ann, bo := mustRegister(t, h, "ann"), mustRegister(t, h, "bo")
	h.handle(ann, Request{Type: KindJoin, Room: "go"})
	h.shutdown(websocket.StatusGoingAway, ReasonGoingAway)
	for _, c := range []*client{ann, bo} {
		select {
		case <-c.Gone():
		default:
			t.Fatalf("%s not dropped", c.nick)
		}
		code, reason := h.closeStatus(c)
		assert.Equal(t, websocket.StatusGoingAway, code)
		assert.Equal(t, "going away", reason)
	}
	_, err := h.register("cy")
	assert.ErrorIs(t, err, errShuttingDown)
	// A drop after shutdown does not change the code already chosen.
	h.drop(ann, 0, "")
	code, _ := h.closeStatus(ann)
	assert.Equal(t, websocket.StatusGoingAway, code)
}

func TestParseRequest(t *testing.T) {
	req, err := parseRequest([]byte(`{"type":"say","room":"go","text":"hi"}`))
	require.NoError(t, err)
	assert.Equal(t, Request{Type: KindSay, Room: "go", Text: "hi"}, req)
	for _, bad := range []string{``, `null x`, `[]`, `{"type":"shout"}`, `{"type":1}`} {
		_, err := parseRequest([]byte(bad))
		assert.ErrorIs(t, err, errMalformed, "%q", bad)
	}
}
