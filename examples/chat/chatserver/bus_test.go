package chatserver

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseBusMessage(t *testing.T) {
	good := map[string]busMessage{
		`{"type":"say","from":"s1","room":"go","nick":"ann","text":"hi"}`: {Type: busSay, From: "s1", Room: "go", Nick: "ann", Text: "hi"},
		`{"type":"state","from":"s1","users":{"ann":["go"],"bo":[]}}`:     {Type: busState, From: "s1", Users: map[string][]string{"ann": {"go"}, "bo": {}}},
		`{"type":"state","from":"s1"}`:                                    {Type: busState, From: "s1"},
		`{"type":"hello","from":"s1"}`:                                    {Type: busHello, From: "s1"},
		` {"type":"bye","from":"s1"} `:                                    {Type: busBye, From: "s1"},
	}
	for in, want := range good {
		got, err := parseBusMessage([]byte(in))
		if assert.NoError(t, err, in) {
			assert.Equal(t, want, got, in)
		}
	}
	bad := []string{
		``,
		`null`,
		`"say"`,
		`{"type":"say","from":"s1","room":"go","nick":"ann","text":"hi"}{}`,
		`{"type":"say","from":"s1","room":"go","nick":"ann","text":"hi","x":1}`,
		`{"type":"say","from":"s1","room":"go","nick":"ann","text":""}`,
		`{"type":"say","from":"s1","room":"go","nick":"ann","text":"` + strings.Repeat("a", MaxTextRunes+1) + `"}`,
		"{\"type\":\"say\",\"from\":\"s1\",\"room\":\"go\",\"nick\":\"ann\",\"text\":\"\xc3\"}",
		`{"type":"say","from":"s1","room":"g o","nick":"ann","text":"hi"}`,
		`{"type":"say","from":"s1","room":"go","nick":"","text":"hi"}`,
		`{"type":"say","from":"` + strings.Repeat("s", maxServerIDRunes+1) + `","room":"go","nick":"ann","text":"hi"}`,
		`{"type":"state","from":"s1","users":{"a b":[]}}`,
		`{"type":"state","from":"s1","users":{"ann":["g/o"]}}`,
		`{"type":"state","from":"s1","users":{"ann":` + strings.Repeat(`["r"`, 1) + strings.Repeat(`,"r"`, MaxRoomsPerUser) + `]}}`,
		`{"type":"state","from":"s1","users":["ann"]}`,
		`{"type":"welcome","from":"s1"}`,
		`{"type":"say","from":"s1","room":"go","nick":"ann","text":"` + strings.Repeat("a", maxBusBytes) + `"}`,
	}
	for _, in := range bad {
		_, err := parseBusMessage([]byte(in))
		assert.ErrorIs(t, err, errBadBusMessage, "%.80q", in)
	}
}

// FuzzParseBusMessage checks that no input makes the parser panic, and
// that what it accepts encodes back to a message it accepts as the same.
func FuzzParseBusMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"say","from":"s1","room":"go","nick":"ann","text":"hi"}`,
		`{"type":"state","from":"s1","users":{"ann":["go"],"bo":[]}}`,
		`{"type":"bye","from":"s1"}`,
		`{"type":"say","from":"s1","room":"go","nick":"ann","text":"\u00e9"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseBusMessage(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(m)
		require.NoError(t, err)
		m2, err := parseBusMessage(again)
		require.NoError(t, err, "%s", again)
		if len(m.Users) == 0 {
			m.Users, m2.Users = nil, nil // {} and absent mean the same
		}
		require.Equal(t, m, m2)
	})
}

// memBus is a Bus in memory, for the tests of the cluster's wiring; the
// Redis build's tests run a real Redis.
type memBus struct {
	mu   sync.Mutex
	subs []chan []byte
}

func (b *memBus) Publish(_ context.Context, msg []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs {
		s <- append([]byte(nil), msg...) // buffered enough for these tests
	}
	return nil
}

func (b *memBus) Subscribe(ctx context.Context, deliver func([]byte), status func(error)) {
	s := make(chan []byte, 1024)
	b.mu.Lock()
	b.subs = append(b.subs, s)
	b.mu.Unlock()
	status(nil)
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-s:
			deliver(msg)
		}
	}
}

// waitEvent returns the next event queued for c that is not a member
// list, failing the test after a while.
func waitEvent(t *testing.T, c *client, skipMembers bool) Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-c.Queue():
			var ev Event
			require.NoError(t, json.Unmarshal(m.data, &ev))
			if skipMembers && ev.Type == KindMembers {
				continue
			}
			return ev
		case <-timeout:
			t.Fatalf("%s: no event", c.nick)
			return Event{}
		}
	}
}

// waitMembers waits for the member list of room to be want, for c.
func waitMembers(t *testing.T, c *client, room string, want ...string) {
	t.Helper()
	for range 100 {
		ev := waitEvent(t, c, false)
		if ev.Type == KindMembers && ev.Room == room && assert.ObjectsAreEqual(want, ev.Members) {
			return
		}
	}
	t.Fatalf("%s: members of %s never %v", c.nick, room, want)
}

// TestClusterOverABus joins two servers on one bus: member lists and
// messages cross, a bad message is dropped, and a server that shuts down
// takes its users out of the other's lists.
func TestClusterOverABus(t *testing.T) {
	bus := &memBus{}
	var logMu sync.Mutex
	var logged []string
	logf := func(format string, args ...any) {
		logMu.Lock()
		logged = append(logged, format)
		logMu.Unlock()
	}
	s1 := New(Config{QueueLen: 64, Bus: bus, Heartbeat: time.Hour, Logf: logf})
	s2 := New(Config{QueueLen: 64, Bus: bus, Heartbeat: time.Hour, Logf: logf})
	defer func() {
		for _, s := range []*Server{s1, s2} {
			s.Shutdown(1001, ReasonGoingAway)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			assert.NoError(t, s.Wait(ctx))
			cancel()
		}
	}()
	ann, err := s1.hub.register("ann")
	require.NoError(t, err)
	defer s1.hub.release(ann)
	bo, err := s2.hub.register("bo")
	require.NoError(t, err)
	defer s2.hub.release(bo)

	s1.hub.handle(ann, Request{Type: KindJoin, Room: "go"})
	s2.hub.handle(bo, Request{Type: KindJoin, Room: "go"})
	waitMembers(t, ann, "go", "ann", "bo")
	waitMembers(t, bo, "go", "ann", "bo")

	bus.Publish(context.Background(), []byte(`{"type":"say","from":"x","room":"go","nick":"zed","text":""}`))
	s1.hub.handle(ann, Request{Type: KindSay, Room: "go", Text: "hi bo"})
	want := Event{Type: KindMessage, Room: "go", From: "ann", Text: "hi bo"}
	// s2 receives the bad message before ann's, in the order published: by
	// the time bo has ann's, s2 has logged the drop.
	assert.Equal(t, want, waitEvent(t, bo, true), "the bad message was dropped, the good one came")
	assert.Equal(t, want, waitEvent(t, ann, true), "ann heard herself, from her own server")
	logMu.Lock()
	assert.Contains(t, logged, "chat: cluster: dropped a message from the bus: %v")
	logMu.Unlock()

	s2.Shutdown(1001, ReasonGoingAway)
	waitMembers(t, ann, "go", "ann")
}
