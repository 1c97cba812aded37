package chatserver

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/rfc6455/websocket"
)

// Reasons a client is dropped by the hub, sent in its close frame.
const (
	ReasonTooSlow   = "too slow: send queue full"
	ReasonGoingAway = "going away"
)

// Errors of register, sent as the close reason to the page that asked.
var (
	ErrBadNick      = errors.New("nickname must be 1 to 24 letters, digits, '-' or '_'")
	ErrNickTaken    = errors.New("nickname already taken")
	errShuttingDown = errors.New("server shutting down")
)

// outbound is one event, encoded once and queued for every recipient: a
// broadcast to a room of n members costs one JSON encoding and one
// PreparedMessage, whose frame (and compressed form) the library builds
// once for all the connections it goes to, not n times.
type outbound struct {
	data     []byte // the JSON, as the page receives it
	prepared *websocket.PreparedMessage
}

// client is one connected page as the hub sees it: a nickname, the rooms it
// is in, and a bounded queue of events to send. The hub never blocks on a
// client: when the queue is full the client is dropped, so a slow reader
// cannot stall its rooms.
type client struct {
	nick  string
	queue chan *outbound // bounded; drained by the connection's writer
	gone  chan struct{}  // closed once, when the hub drops the client

	// Guarded by hub.mu.
	rooms    map[string]struct{}
	dropped  bool
	released bool
	code     websocket.StatusCode // close code to send once gone; 0: none
	reason   string
}

// Queue returns the events to send, in order. It is never closed; stop
// reading it when Gone is closed.
func (c *client) Queue() <-chan *outbound { return c.queue }

// Gone returns a channel closed when the hub has dropped the client.
func (c *client) Gone() <-chan struct{} { return c.gone }

// hub keeps the rooms and their members. All of its methods may be called
// from any goroutine; none blocks on a client.
type hub struct {
	queueLen int

	mu      sync.Mutex
	clients map[string]*client              // by nickname
	rooms   map[string]map[*client]struct{} // room name → members
	pending []*client                       // marked dropped, not yet removed
	closed  bool
	active  sync.WaitGroup // registered clients not yet released

	// The other servers of the cluster, when there is one: the hub shows
	// their users in its member lists and hands them what is said here.
	cluster *cluster         // nil: this process only; set before use
	peers   map[string]*peer // by server ID; guarded by mu
}

// peer is what a hub knows of another server of its cluster: its users and
// their rooms, as of its last state.
type peer struct {
	seen  time.Time
	users map[string][]string // nickname → rooms
	rooms map[string][]string // room → nicknames
}

// maxPeers bounds the servers a hub keeps track of, so that a bus that
// announces ever new ones cannot grow it without end: with states of at
// most maxBusBytes, what a hub keeps of the others stays within tens of
// MiB. Beyond it, states of new servers are dropped (and logged) until
// one of those known expires.
const maxPeers = 64

// newHub returns a hub whose clients queue at most queueLen events each.
func newHub(queueLen int) *hub {
	if queueLen < 1 {
		queueLen = 1
	}
	return &hub{
		queueLen: queueLen,
		clients:  make(map[string]*client),
		rooms:    make(map[string]map[*client]struct{}),
		peers:    make(map[string]*peer),
	}
}

// register adds a client with the nickname nick and queues its welcome.
// Every client it returns must be given back with release once its
// connection has ended.
func (h *hub) register(nick string) (*client, error) {
	if !validName(nick, MaxNickRunes) {
		return nil, ErrBadNick
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errShuttingDown
	}
	if _, ok := h.clients[nick]; ok {
		return nil, ErrNickTaken
	}
	// Taken on another server, as far as its last state says: two pages
	// taking one name on two servers at the same moment both get it, and
	// the member lists show it once.
	for _, p := range h.peers {
		if _, ok := p.users[nick]; ok {
			return nil, ErrNickTaken
		}
	}
	c := &client{
		nick:  nick,
		queue: make(chan *outbound, h.queueLen),
		gone:  make(chan struct{}),
		rooms: make(map[string]struct{}),
	}
	h.clients[nick] = c
	h.active.Add(1)
	h.sendLocked(c, Event{Type: KindWelcome, Nick: nick})
	h.settleLocked()
	h.stateChangedLocked()
	return c, nil
}

// release records that the connection of c has ended; wait returns once
// every client is released. Releasing a client again does nothing.
func (h *hub) release(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.markLocked(c, 0, "")
	h.settleLocked()
	if !c.released {
		c.released = true
		h.active.Done()
	}
}

// drop removes c from the hub and closes Gone: its connection is to be
// closed with code and reason, or, with code 0, has ended on its own. The
// first drop of a client wins.
func (h *hub) drop(c *client, code websocket.StatusCode, reason string) {
	h.mu.Lock()
	h.markLocked(c, code, reason)
	h.settleLocked()
	h.mu.Unlock()
}

// handle carries out one request of c. Requests that cannot be honoured
// (a bad room name, a room c is not in) are answered with an error event.
func (h *hub) handle(c *client, req Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.dropped {
		return
	}
	switch req.Type {
	case KindJoin:
		h.joinLocked(c, req.Room)
	case KindLeave:
		h.leaveLocked(c, req.Room)
	case KindSay:
		h.sayLocked(c, req.Room, req.Text)
	}
	h.settleLocked()
}

func (h *hub) joinLocked(c *client, room string) {
	switch {
	case !validName(room, MaxRoomRunes):
		h.sendLocked(c, Event{Type: KindError, Room: room, Text: "room name must be 1 to 32 letters, digits, '-' or '_'"})
		return
	case inRoom(c, room):
		h.sendLocked(c, Event{Type: KindError, Room: room, Text: "already in this room"})
		return
	case len(c.rooms) >= MaxRoomsPerUser:
		h.sendLocked(c, Event{Type: KindError, Room: room, Text: "too many rooms"})
		return
	}
	members := h.rooms[room]
	if members == nil {
		members = make(map[*client]struct{})
		h.rooms[room] = members
	}
	members[c] = struct{}{}
	c.rooms[room] = struct{}{}
	h.sendLocked(c, Event{Type: KindJoined, Room: room})
	h.broadcastMembersLocked(room)
	h.stateChangedLocked()
}

func (h *hub) leaveLocked(c *client, room string) {
	if !inRoom(c, room) {
		h.sendLocked(c, Event{Type: KindError, Room: room, Text: "not in this room"})
		return
	}
	h.removeLocked(c, room)
	h.sendLocked(c, Event{Type: KindLeft, Room: room})
}

func (h *hub) sayLocked(c *client, room, text string) {
	switch {
	case !inRoom(c, room):
		h.sendLocked(c, Event{Type: KindError, Room: room, Text: "not in this room"})
		return
	case !validText(text):
		h.sendLocked(c, Event{Type: KindError, Room: room, Text: "message must be 1 to 1000 characters"})
		return
	}
	h.broadcastLocked(room, Event{Type: KindMessage, Room: room, From: c.nick, Text: text})
	if h.cluster != nil {
		h.cluster.said(room, c.nick, text)
	}
}

// removeLocked takes c out of room, deletes the room when it is empty, and
// tells the members left.
func (h *hub) removeLocked(c *client, room string) {
	h.stateChangedLocked()
	delete(c.rooms, room)
	members := h.rooms[room]
	delete(members, c)
	if len(members) == 0 {
		delete(h.rooms, room)
		return
	}
	h.broadcastMembersLocked(room)
}

// broadcastMembersLocked sends the member list of room to its members here.
func (h *hub) broadcastMembersLocked(room string) {
	if len(h.rooms[room]) == 0 {
		return
	}
	h.broadcastLocked(room, Event{Type: KindMembers, Room: room, Members: h.membersLocked(room)})
}

// membersLocked returns the sorted nicknames in room, here and on the other
// servers; a name on two servers is listed once.
func (h *hub) membersLocked(room string) []string {
	var nicks []string
	for m := range h.rooms[room] {
		nicks = append(nicks, m.nick)
	}
	for _, p := range h.peers {
		nicks = append(nicks, p.rooms[room]...)
	}
	slices.Sort(nicks)
	return slices.Compact(nicks)
}

// broadcastLocked encodes ev once and queues it for every member of room.
func (h *hub) broadcastLocked(room string, ev Event) {
	m := encode(ev)
	for member := range h.rooms[room] {
		h.queueLocked(member, m)
	}
}

// sendLocked queues ev for c alone.
func (h *hub) sendLocked(c *client, ev Event) {
	h.queueLocked(c, encode(ev))
}

// queueLocked queues m for c without blocking. A full queue means the page
// reads more slowly than its rooms talk: c is marked for dropping with
// 1008, and the room goes on without it.
func (h *hub) queueLocked(c *client, m *outbound) {
	if c.dropped {
		return
	}
	select {
	case c.queue <- m:
	default:
		h.markLocked(c, websocket.StatusPolicyViolation, ReasonTooSlow)
	}
}

// markLocked marks c for dropping with a close code (0 for none); the
// first reason wins. settleLocked carries it out.
func (h *hub) markLocked(c *client, code websocket.StatusCode, reason string) {
	if c.dropped {
		return
	}
	c.dropped = true
	c.code = code
	c.reason = reason
	h.pending = append(h.pending, c)
}

// settleLocked removes the clients marked for dropping from their rooms
// and signals them gone. Telling the rooms may overflow more queues and mark
// more clients; each client is marked at most once, so the loop ends.
func (h *hub) settleLocked() {
	for len(h.pending) > 0 {
		c := h.pending[0]
		h.pending = h.pending[1:]
		for room := range c.rooms {
			h.removeLocked(c, room)
		}
		if h.clients[c.nick] == c {
			delete(h.clients, c.nick)
			h.stateChangedLocked()
		}
		close(c.gone)
	}
	h.pending = nil
}

// closeStatus returns the close code (0 for none) and reason c was dropped
// with. It is meaningful once Gone is closed.
func (h *hub) closeStatus(c *client) (websocket.StatusCode, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return c.code, c.reason
}

// members returns the sorted nicknames in room, here and on the other
// servers.
func (h *hub) members(room string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.membersLocked(room)
}

// shutdown refuses new clients and drops every client with code and
// reason; their connections send the close frame.
func (h *hub) shutdown(code websocket.StatusCode, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, c := range h.clients {
		h.markLocked(c, code, reason)
	}
	h.settleLocked()
}

// wait returns once every registered client has been released, or ctx's
// error when it ends first.
func (h *hub) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		h.active.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func inRoom(c *client, room string) bool {
	_, ok := c.rooms[room]
	return ok
}

// encode marshals ev and prepares it for sending. An event holds only
// strings and the type is text, so neither step can fail.
func encode(ev Event) *outbound {
	data, err := json.Marshal(ev)
	if err != nil {
		panic("chat: encoding an event: " + err.Error())
	}
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		panic("chat: preparing an event: " + err.Error())
	}
	return &outbound{data: data, prepared: pm}
}
