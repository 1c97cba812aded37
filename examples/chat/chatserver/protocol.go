package chatserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Limits of the chat protocol. They keep every message small, so that the
// connection's read limit (MaxRequestBytes) can be tight.
const (
	MaxNickRunes    = 24
	MaxRoomRunes    = 32
	MaxTextRunes    = 1000
	MaxRoomsPerUser = 16
	// MaxRequestBytes bounds one request from a page: the longest text, in
	// the worst UTF-8 case, plus room for the JSON around it.
	MaxRequestBytes = 4*MaxTextRunes + 512
)

// Kinds of request a page sends.
const (
	KindJoin  = "join"
	KindLeave = "leave"
	KindSay   = "say"
)

// Kinds of event the server sends.
const (
	KindWelcome = "welcome" // to a new client: its nickname
	KindJoined  = "joined"  // to a client: it is now in room
	KindLeft    = "left"    // to a client: it is no longer in room
	KindMembers = "members" // to every member of room: who is in it now
	KindMessage = "message" // to every member of room: from said text
	KindError   = "error"   // to a client: its last request was refused
)

// Request is what a page sends, one JSON object per text message.
type Request struct {
	Type string `json:"type"`
	Room string `json:"room"`
	Text string `json:"text,omitempty"`
}

// Event is what the server sends, one JSON object per text message. Fields
// that do not apply to a kind are left out.
type Event struct {
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
func parseRequest(data []byte) (Request, error) {
	var req Request
	if err := json.Unmarshal(data, &req); err != nil {
		return Request{}, fmt.Errorf("%w: %v", errMalformed, err)
	}
	switch req.Type {
	case KindJoin, KindLeave, KindSay:
	default:
		return Request{}, fmt.Errorf("%w: unknown type %q", errMalformed, req.Type)
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
	return n > 0 && n <= MaxTextRunes
}
