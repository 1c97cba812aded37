package chatserver

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHubPeers drives the hub's side of a cluster directly: another
// server's users show in the member lists, hold their nicknames, hear and
// are heard, and leave when their server is forgotten or expires.
func TestHubPeers(t *testing.T) {
	h := newHub(16)
	ann := mustRegister(t, h, "ann")
	h.handle(ann, Request{Type: KindJoin, Room: "go"})
	drain(t, ann)
	t0 := time.Now()

	require.True(t, h.applyPeerState("p1", map[string][]string{"zed": {"go"}, "yan": {}}, t0))
	assert.Equal(t, []Event{{Type: KindMembers, Room: "go", Members: []string{"ann", "zed"}}}, drain(t, ann))
	assert.Equal(t, []string{"ann", "zed"}, h.members("go"))
	_, err := h.register("yan")
	assert.ErrorIs(t, err, ErrNickTaken, "a name taken on another server, even in no room")

	// The same state again changes no list, and tells nobody.
	require.True(t, h.applyPeerState("p1", map[string][]string{"zed": {"go"}, "yan": {}}, t0))
	assert.Empty(t, drain(t, ann))
	// A state about rooms nobody here is in tells nobody either.
	require.True(t, h.applyPeerState("p2", map[string][]string{"xi": {"rust"}}, t0.Add(time.Second)))
	assert.Empty(t, drain(t, ann))
	// A name on two servers is listed once.
	require.True(t, h.applyPeerState("p2", map[string][]string{"xi": {"rust"}, "ann": {"go"}}, t0.Add(time.Second)))
	assert.Empty(t, drain(t, ann))
	assert.Equal(t, []string{"ann", "zed"}, h.members("go"))

	h.peerSaid("go", "zed", "hello from p1")
	assert.Equal(t, []Event{{Type: KindMessage, Room: "go", From: "zed", Text: "hello from p1"}}, drain(t, ann))
	h.peerSaid("rust", "xi", "nobody here")
	assert.Empty(t, drain(t, ann))

	// p1 was last heard from at t0, p2 a second later.
	assert.Equal(t, []string{"p1"}, h.expirePeers(t0.Add(time.Millisecond)))
	assert.Equal(t, []Event{{Type: KindMembers, Room: "go", Members: []string{"ann"}}}, drain(t, ann))
	c := mustRegister(t, h, "yan") // free again
	h.release(c)

	h.forgetPeer("p2")
	assert.Empty(t, h.members("rust"))
	assert.Empty(t, h.expirePeers(t0.Add(time.Hour)), "nothing left to expire")
}

// TestHubLocalUsers checks the state a hub publishes: every user, in a
// room or not, with its sorted rooms; a dropped one is gone.
func TestHubLocalUsers(t *testing.T) {
	h := newHub(16)
	ann, bo := mustRegister(t, h, "ann"), mustRegister(t, h, "bo")
	h.handle(ann, Request{Type: KindJoin, Room: "rust"})
	h.handle(ann, Request{Type: KindJoin, Room: "go"})
	assert.Equal(t, map[string][]string{"ann": {"go", "rust"}, "bo": {}}, h.localUsers())
	h.drop(bo, 0, "")
	assert.Equal(t, map[string][]string{"ann": {"go", "rust"}}, h.localUsers())
}

// TestHubPeerLimit checks that a bus announcing ever new servers cannot
// grow the hub past maxPeers.
func TestHubPeerLimit(t *testing.T) {
	h := newHub(1)
	now := time.Now()
	for i := range maxPeers {
		require.True(t, h.applyPeerState(fmt.Sprintf("p%d", i), nil, now))
	}
	assert.False(t, h.applyPeerState("one-more", nil, now))
	h.mu.Lock()
	assert.Len(t, h.peers, maxPeers)
	h.mu.Unlock()
}
