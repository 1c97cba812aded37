package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Limits of the chat protocol. They keep every message small, so that the
// connection's read limit (maxRequestBytes) can be tight.
const (
	maxNickRunes    = 24
	maxRoomRunes    = 32
	maxTextRunes    = 1000
	maxRoomsPerUser = 16
	// maxRequestBytes bounds one request from a page: the longest text, in
	// the worst UTF-8 case, plus room for the JSON around it.
	maxRequestBytes = 4*maxTextRunes + 512
)

// Kinds of request a page sends.
const (
	kindJoin  = "join"
	kindLeave = "leave"
	kindSay   = "say"
)

// Kinds of event the server sends.
const (
	kindWelcome = "welcome" // to a new client: its nickname
	kindJoined  = "joined"  // to a client: it is now in room
	kindLeft    = "left"    // to a client: it is no longer in room
	kindMembers = "members" // to every member of room: who is in it now
	kindMessage = "message" // to every member of room: from said text
	kindError   = "error"   // to a client: its last request was refused
)

// request is what a page sends, one JSON object per text message.
type request struct {
	Type string `json:"type"`
	Room string `json:"room"`
	Text string `json:"text,omitempty"`
}

// event is what the server sends, one JSON object per text message. Fields
// that do not apply to a kind are left out.
type event struct {
	Type    string   `json:"type"`
	Nick    string   `json:"nick,omitempty"`
	Room    string   `json:"room,omitempty"`
	From    string   `json:"from,omitempty"`
	Text    string   `json:"text,omitempty"`
	Members []string `json:"members,omitempty"`
}

// errMalformed is wrapped by requests that are not a JSON object of a known
// kind; the server closes such a connection with 1008, since a page that
// sends them is not ours.
var errMalformed = errors.New("malformed request")

// parseRequest decodes one request and checks the fields its kind needs.
func parseRequest(data []byte) (request, error) {
	var req request
	if err := json.Unmarshal(data, &req); err != nil {
		return request{}, fmt.Errorf("%w: %v", errMalformed, err)
	}
	switch req.Type {
	case kindJoin, kindLeave, kindSay:
	default:
		return request{}, fmt.Errorf("%w: unknown type %q", errMalformed, req.Type)
	}
	return req, nil
}

// validName reports whether s is 1 to max runes of letters, digits, '-' and
// '_': names that need no escaping anywhere they are shown.
func validName(s string, max int) bool {
	n := utf8.RuneCountInString(s)
	if n == 0 || n > max {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_' {
			return false
		}
	}
	return true
}

// validText reports whether s is a message worth relaying: not empty, not
// too long. The connection already checked it is valid UTF-8 (RFC 6455
// §8.1), so it is counted in runes.
func validText(s string) bool {
	n := utf8.RuneCountInString(s)
	return n > 0 && n <= maxTextRunes
}
