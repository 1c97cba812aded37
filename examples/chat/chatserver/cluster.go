package chatserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sync/atomic"
	"time"
)

// The cluster protocol, over any Bus:
//
//   - every server publishes its state (its users and their rooms, in full)
//     when it changes and every heartbeat; the others replace what they knew
//     of that server with it, so a lost message heals at the next one;
//   - a server not heard from for expiryBeats heartbeats is taken as gone,
//     and one leaving says bye: either way its users leave the member lists
//     of the others;
//   - a message said in a room is published once and each server hands it
//     to its own members of the room; the sender's server has already done
//     so for its own, without waiting for the bus, so a server whose bus is
//     down keeps serving its users;
//   - a server that (re)subscribes says hello, and the others answer with
//     their state at once instead of at their next heartbeat.

// expiryBeats is how many heartbeats may pass without a state from a server
// before it is taken as gone.
const expiryBeats = 3

// Bounds of the cluster's own queues and waits.
const (
	// maxPendingSays bounds the messages waiting to be published; beyond
	// it (a bus slower than the rooms) they reach this server's users only.
	maxPendingSays = 256
	// publishTimeout bounds one Publish, so that a bus that hangs delays the
	// heartbeat by that much at most.
	publishTimeout = 2 * time.Second
)

// cluster joins a hub to a bus: it publishes what the hub's users do and
// hands the hub what the other servers' users do.
type cluster struct {
	id        string // this server's name on the bus, random
	hub       *hub
	bus       Bus
	heartbeat time.Duration
	logf      func(format string, args ...any)

	says    chan []byte   // encoded say messages to publish
	changed chan struct{} // the hub's state changed: publish it (cap 1)
	hello   chan struct{} // subscribed (again): say hello (cap 1)

	up        atomic.Bool  // subscribed; publishing is pointless otherwise
	downSince atomic.Int64 // when the bus went down, unix nanoseconds; 0 while up
	failures  int          // attempts since the bus went down; owned by status
	dropped   atomic.Int64 // says not published since the last log line
}

func newCluster(h *hub, bus Bus, heartbeat time.Duration, logf func(string, ...any)) *cluster {
	var id [8]byte
	rand.Read(id[:]) // never fails (crypto/rand documents it)
	c := &cluster{
		id:        hex.EncodeToString(id[:]),
		hub:       h,
		bus:       bus,
		heartbeat: heartbeat,
		logf:      logf,
		says:      make(chan []byte, maxPendingSays),
		changed:   make(chan struct{}, 1),
		hello:     make(chan struct{}, 1),
	}
	h.cluster = c
	return c
}

// run publishes and receives until ctx ends, then says bye.
func (c *cluster) run(ctx context.Context) {
	c.logf("chat: cluster: joining as %s", c.id)
	subscribed := make(chan struct{})
	go func() {
		defer close(subscribed)
		c.bus.Subscribe(ctx, c.receive, c.status)
	}()
	tick := time.NewTicker(c.heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			// The hub has dropped its users (Server.Shutdown); bye tells
			// the others so at once rather than after expiry.
			c.publish(context.Background(), busMessage{Type: busBye})
			<-subscribed
			c.logf("chat: cluster: left")
			return
		case <-tick.C:
			for _, id := range c.hub.expirePeers(time.Now().Add(-expiryBeats * c.heartbeat)) {
				c.logf("chat: cluster: server %s not heard from for %v: its users leave the rooms", id, expiryBeats*c.heartbeat)
			}
			c.publishState(ctx)
			if n := c.dropped.Swap(0); n > 0 {
				c.logf("chat: cluster: %d messages reached this server's users only (bus down or too slow)", n)
			}
		case <-c.changed:
			c.publishState(ctx)
		case <-c.hello:
			c.publish(ctx, busMessage{Type: busHello})
			c.publishState(ctx)
		case data := <-c.says:
			c.publishRaw(ctx, data)
		}
	}
}

// said queues a message said on this server for the others. It never
// blocks: the hub calls it with its lock held.
func (c *cluster) said(room, nick, text string) {
	if !c.up.Load() {
		c.dropped.Add(1)
		return
	}
	data, err := json.Marshal(busMessage{Type: busSay, From: c.id, Room: room, Nick: nick, Text: text})
	if err != nil {
		panic("chat: encoding a bus message: " + err.Error()) // strings only
	}
	select {
	case c.says <- data:
	default:
		c.dropped.Add(1)
	}
}

// stateChanged asks for the hub's state to be published. It never blocks.
func (c *cluster) stateChanged() {
	select {
	case c.changed <- struct{}{}:
	default: // already asked; the publication will read the latest state
	}
}

func (c *cluster) publishState(ctx context.Context) {
	c.publish(ctx, busMessage{Type: busState, Users: c.hub.localUsers()})
}

func (c *cluster) publish(ctx context.Context, m busMessage) {
	m.From = c.id
	data, err := json.Marshal(m)
	if err != nil {
		panic("chat: encoding a bus message: " + err.Error()) // strings only
	}
	c.publishRaw(ctx, data)
}

// publishRaw publishes data if the bus is up. Failures are not logged one
// by one: the subscription fails too and status says so once.
func (c *cluster) publishRaw(ctx context.Context, data []byte) {
	if !c.up.Load() {
		return
	}
	if len(data) > maxBusBytes {
		c.logf("chat: cluster: not publishing a message of %d bytes: the others would refuse it (limit %d)", len(data), maxBusBytes)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	c.bus.Publish(ctx, data)
}

// receive hands one message from the bus to the hub, after the same checks
// as a page's requests. A bad message is logged and dropped.
func (c *cluster) receive(data []byte) {
	m, err := parseBusMessage(data)
	if err != nil {
		c.logf("chat: cluster: dropped a message from the bus: %v", err)
		return
	}
	if m.From == c.id {
		return // ours, back from the bus: already handled locally
	}
	switch m.Type {
	case busState:
		if !c.hub.applyPeerState(m.From, m.Users, time.Now()) {
			c.logf("chat: cluster: dropped the state of server %s: already %d other servers", m.From, maxPeers)
		}
	case busSay:
		c.hub.peerSaid(m.Room, m.Nick, m.Text)
	case busHello:
		c.stateChanged()
	case busBye:
		c.hub.forgetPeer(m.From)
	}
}

// status logs the bus going down and coming back, once each, and says hello
// on every (re)subscription.
func (c *cluster) status(err error) {
	if err == nil {
		c.up.Store(true)
		if since := c.downSince.Swap(0); since != 0 {
			c.logf("chat: cluster: bus reachable again after %v; rooms are shared again", time.Since(time.Unix(0, since)).Round(time.Millisecond))
		} else {
			c.logf("chat: cluster: subscribed")
		}
		c.failures = 0
		select {
		case c.hello <- struct{}{}:
		default:
		}
		return
	}
	c.up.Store(false)
	c.failures++
	if c.downSince.CompareAndSwap(0, time.Now().UnixNano()) {
		c.logf("chat: cluster: bus unreachable (%v); serving this server's users only, reconnecting", err)
	} else if c.failures%10 == 0 {
		c.logf("chat: cluster: bus still unreachable after %d attempts (%v)", c.failures, err)
	}
}
