package chatserver

import (
	"slices"
	"time"
)

// The hub's side of the cluster: what it tells the other servers and what
// it does with what they tell. See cluster.go for the protocol.

// stateChangedLocked tells the cluster, if any, that the users or rooms of
// this server changed.
func (h *hub) stateChangedLocked() {
	if h.cluster != nil {
		h.cluster.stateChanged()
	}
}

// localUsers returns this server's users and their sorted rooms.
func (h *hub) localUsers() map[string][]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	users := make(map[string][]string, len(h.clients))
	for nick, c := range h.clients {
		rooms := make([]string, 0, len(c.rooms))
		for room := range c.rooms {
			rooms = append(rooms, room)
		}
		slices.Sort(rooms)
		users[nick] = rooms
	}
	return users
}

// applyPeerState replaces what the hub knows of server id with its users,
// as of now, and sends the member lists that changed to the members here.
// It reports false when the hub already tracks maxPeers other servers and
// id is not one of them.
func (h *hub) applyPeerState(id string, users map[string][]string, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.peers[id] == nil && len(h.peers) >= maxPeers {
		return false
	}
	p := &peer{seen: now, users: users, rooms: make(map[string][]string)}
	for nick, rooms := range users {
		for _, room := range rooms {
			p.rooms[room] = append(p.rooms[room], nick)
		}
	}
	h.replacePeerLocked(id, p)
	return true
}

// forgetPeer removes server id and its users, which leave the member lists.
func (h *hub) forgetPeer(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.replacePeerLocked(id, nil)
}

// expirePeers forgets the servers last heard from before t, and returns
// their IDs.
func (h *hub) expirePeers(t time.Time) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var gone []string
	for id, p := range h.peers {
		if p.seen.Before(t) {
			gone = append(gone, id)
		}
	}
	for _, id := range gone {
		h.replacePeerLocked(id, nil)
	}
	return gone
}

// replacePeerLocked puts p (nil: nothing) in place of server id, and sends
// every member list that changed to the room's members here.
func (h *hub) replacePeerLocked(id string, p *peer) {
	// Only rooms with members here need telling, and only those that the
	// old or the new state mention can change.
	var rooms []string
	if old := h.peers[id]; old != nil {
		for room := range old.rooms {
			if len(h.rooms[room]) > 0 {
				rooms = append(rooms, room)
			}
		}
	}
	if p != nil {
		for room := range p.rooms {
			if len(h.rooms[room]) > 0 {
				rooms = append(rooms, room)
			}
		}
	}
	slices.Sort(rooms)
	rooms = slices.Compact(rooms)
	before := make([][]string, len(rooms))
	for i, room := range rooms {
		before[i] = h.membersLocked(room)
	}
	if p == nil {
		delete(h.peers, id)
	} else {
		h.peers[id] = p
	}
	for i, room := range rooms {
		if !slices.Equal(before[i], h.membersLocked(room)) {
			h.broadcastMembersLocked(room)
		}
	}
	h.settleLocked()
}

// peerSaid hands a message said on another server to the members of room
// here.
func (h *hub) peerSaid(room, nick, text string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.broadcastLocked(room, Event{Type: KindMessage, Room: room, From: nick, Text: text})
	h.settleLocked()
}
