package chatserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Bus carries messages between the chat servers of a cluster, each message
// to every server subscribed (the sender included), as Redis pub/sub does.
// A bus may lose messages while it is down; the servers resend their state
// every heartbeat, so member lists heal once it is back.
type Bus interface {
	// Publish sends msg to every server. It may be called while Subscribe
	// runs, from one goroutine at a time.
	Publish(ctx context.Context, msg []byte) error
	// Subscribe passes every message received to deliver, in order, until
	// ctx ends. It reports each change of state with status: nil once
	// subscribed (again), the error once the bus is lost or a new attempt
	// fails. It reconnects by itself, after a bounded backoff, and returns
	// only when ctx ends. deliver and status are called from Subscribe's
	// goroutine, one at a time; deliver must not keep msg.
	Subscribe(ctx context.Context, deliver func(msg []byte), status func(err error))
}

// Kinds of bus message.
const (
	busState = "state" // the sender's users and their rooms, in full
	busSay   = "say"   // a message said in a room on the sender
	busHello = "hello" // the sender (re)joined: send it your state
	busBye   = "bye"   // the sender is leaving: forget its users
)

// Limits of bus messages, checked before anything else is looked at: a
// message from the bus is no more trusted than one from a page.
const (
	// maxBusBytes bounds one bus message. A state holds every user of its
	// sender with up to MaxRoomsPerUser room names: 1 MiB holds about
	// 25,000 users in 2 rooms each.
	maxBusBytes = 1 << 20
	// maxServerIDRunes bounds the name a server gives itself on the bus.
	maxServerIDRunes = 64
)

// busMessage is one message on the bus, a JSON object. Fields that do not
// apply to a kind are left out.
type busMessage struct {
	Type  string              `json:"type"`
	From  string              `json:"from"` // the sending server's ID
	Room  string              `json:"room,omitempty"`
	Nick  string              `json:"nick,omitempty"`
	Text  string              `json:"text,omitempty"`
	Users map[string][]string `json:"users,omitempty"` // nickname → rooms
}

// errBadBusMessage is wrapped by every error of parseBusMessage.
var errBadBusMessage = errors.New("bad bus message")

// parseBusMessage decodes and checks one bus message, as parseRequest and
// the hub check a page's: size, UTF-8, JSON shape, the kind, and each name
// and text against the limits pages are held to.
func parseBusMessage(data []byte) (busMessage, error) {
	if len(data) > maxBusBytes {
		return busMessage{}, fmt.Errorf("%w: %d bytes, more than %d", errBadBusMessage, len(data), maxBusBytes)
	}
	// json.Unmarshal would turn invalid UTF-8 into U+FFFD silently; a page's
	// text is refused instead (RFC 6455 §8.1), and so is the bus's.
	if !utf8.Valid(data) {
		return busMessage{}, fmt.Errorf("%w: not UTF-8", errBadBusMessage)
	}
	var m busMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return busMessage{}, fmt.Errorf("%w: %v", errBadBusMessage, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return busMessage{}, fmt.Errorf("%w: data after the object", errBadBusMessage)
	}
	if !validName(m.From, maxServerIDRunes) {
		return busMessage{}, fmt.Errorf("%w: bad sender %q", errBadBusMessage, truncate(m.From))
	}
	switch m.Type {
	case busSay:
		switch {
		case !validName(m.Room, MaxRoomRunes):
			return busMessage{}, fmt.Errorf("%w: bad room %q", errBadBusMessage, truncate(m.Room))
		case !validName(m.Nick, MaxNickRunes):
			return busMessage{}, fmt.Errorf("%w: bad nickname %q", errBadBusMessage, truncate(m.Nick))
		case !validText(m.Text):
			return busMessage{}, fmt.Errorf("%w: text of %d bytes is not 1 to %d characters", errBadBusMessage, len(m.Text), MaxTextRunes)
		}
	case busState:
		for nick, rooms := range m.Users {
			if !validName(nick, MaxNickRunes) {
				return busMessage{}, fmt.Errorf("%w: bad nickname %q", errBadBusMessage, truncate(nick))
			}
			if len(rooms) > MaxRoomsPerUser {
				return busMessage{}, fmt.Errorf("%w: %s in %d rooms, more than %d", errBadBusMessage, nick, len(rooms), MaxRoomsPerUser)
			}
			for _, room := range rooms {
				if !validName(room, MaxRoomRunes) {
					return busMessage{}, fmt.Errorf("%w: bad room %q", errBadBusMessage, truncate(room))
				}
			}
		}
	case busHello, busBye:
	default:
		return busMessage{}, fmt.Errorf("%w: unknown type %q", errBadBusMessage, truncate(m.Type))
	}
	return m, nil
}

// truncate shortens s for a log line: a bad message may be large.
func truncate(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}
