package websocket

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	ws "github.com/rfc6455/websocket"
)

// HandshakeError is the error Upgrade returns when it refuses a request;
// it has by then answered the request with an HTTP error status.
type HandshakeError struct {
	message string
}

// Error returns what was wrong with the request.
func (e HandshakeError) Error() string { return e.message }

// Upgrader turns HTTP requests into WebSocket connections. Its fields are
// read by Upgrade; once set, one Upgrader may serve many requests at once.
type Upgrader struct {
	// HandshakeTimeout bounds the writing of the 101 answer; zero means no
	// bound. Reading the request is bounded by the http.Server's
	// ReadHeaderTimeout, which a server should set.
	HandshakeTimeout time.Duration

	// ReadBufferSize and WriteBufferSize size the buffers a message in
	// flight borrows, in bytes; zero means the parent package's default
	// (4096). They do not limit message sizes.
	ReadBufferSize, WriteBufferSize int

	// WriteBufferPool is not used: write buffers are always borrowed from
	// pools inside the parent package, only while a message is written. See
	// BufferPool.
	WriteBufferPool BufferPool

	// Subprotocols lists the subprotocols the server speaks, in its order
	// of preference: Upgrade picks the first of them that the client's
	// Sec-WebSocket-Protocol list holds. When nil, a Sec-WebSocket-Protocol
	// in Upgrade's responseHeader names the chosen one.
	Subprotocols []string

	// Error, when set, writes the HTTP answer of a refused request, with
	// status, instead of the default plain-text one. reason is the
	// HandshakeError Upgrade then returns.
	Error func(w http.ResponseWriter, r *http.Request, status int, reason error)

	// CheckOrigin reports whether the request's Origin is allowed; Upgrade
	// answers 403 Forbidden when it returns false. Nil means a request
	// without Origin, or one whose Origin has the request's host and port,
	// is allowed (RFC 6455 §10.2). Allowing another site lets its pages act
	// with your users' cookies: check origins with care.
	CheckOrigin func(r *http.Request) bool

	// EnableCompression accepts permessage-deflate (RFC 7692) when the
	// client offers it, with context takeover in both directions when the
	// client agrees.
	EnableCompression bool
}

// handshakeError turns the parent's *HandshakeError into this package's.
func handshakeError(err error) error {
	var he *ws.HandshakeError
	if errors.As(err, &he) {
		return HandshakeError{message: "websocket: " + he.Reason}
	}
	return err
}

// upgrader returns the parent's Upgrader for u's settings and request r.
func (u *Upgrader) upgrader(r *http.Request) *ws.Upgrader {
	pu := &ws.Upgrader{
		Subprotocols:    u.Subprotocols,
		CheckOrigin:     u.CheckOrigin,
		ReadBufferSize:  u.ReadBufferSize,
		WriteBufferSize: u.WriteBufferSize,
	}
	if h := u.Error; h != nil {
		pu.Error = func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			h(w, r, status, handshakeError(reason))
		}
	}
	// The server's order of preference decides, where the parent package
	// lets the client's decide: offer the parent only the one chosen.
	if chosen := selectSubprotocol(u.Subprotocols, Subprotocols(r)); chosen != "" {
		pu.Subprotocols = []string{chosen}
	}
	if u.EnableCompression {
		pu.Compression = ws.CompressionOptions{Mode: ws.CompressionContextTakeover}
	}
	return pu
}

// Upgrade validates the opening handshake of r, answers it with 101
// Switching Protocols and returns the connection, which the caller owns and
// must close. responseHeader adds fields to the answer, such as Set-Cookie.
// A request that is not a valid handshake is answered with an HTTP error
// (see Upgrader.Error) and Upgrade returns a HandshakeError; the handler must
// not write to w again.
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request, responseHeader http.Header) (*Conn, error) {
	if u.HandshakeTimeout > 0 && r.ProtoMajor == 1 {
		w = deadlineHijacker{w, u.HandshakeTimeout}
	}
	c, err := u.upgrader(r).Upgrade(w, r, responseHeader)
	if err != nil {
		return nil, handshakeError(err)
	}
	return newConn(c), nil
}

// deadlineHijacker sets a write deadline on the connection it hijacks, so
// that writing the 101 answer takes at most timeout; the parent's Upgrade
// clears the deadline once the answer is out.
type deadlineHijacker struct {
	http.ResponseWriter
	timeout time.Duration
}

func (h deadlineHijacker) Unwrap() http.ResponseWriter { return h.ResponseWriter }

func (h deadlineHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err == nil {
		err = conn.SetWriteDeadline(time.Now().Add(h.timeout))
		if err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	return conn, brw, err
}

// Upgrade upgrades r with any origin allowed and the given buffer sizes.
// On a refused request it writes nothing: the caller answers with an HTTP
// error of its choice.
//
// Deprecated: use Upgrader.Upgrade, which checks the origin.
func Upgrade(w http.ResponseWriter, r *http.Request, responseHeader http.Header, readBufSize, writeBufSize int) (*Conn, error) {
	u := Upgrader{
		ReadBufferSize:  readBufSize,
		WriteBufferSize: writeBufSize,
		CheckOrigin:     func(*http.Request) bool { return true },
		Error:           func(http.ResponseWriter, *http.Request, int, error) {},
	}
	return u.Upgrade(w, r, responseHeader)
}

// selectSubprotocol returns the first of ours that theirs holds, or "".
func selectSubprotocol(ours, theirs []string) string {
	for _, p := range ours {
		if slices.Contains(theirs, p) {
			return p
		}
	}
	return ""
}

// Subprotocols returns the subprotocols the client asked for in r, in its
// order of preference, or nil.
func Subprotocols(r *http.Request) []string {
	var out []string
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// IsWebSocketUpgrade reports whether r asks for a WebSocket (its Connection
// header holds "upgrade" and its Upgrade header "websocket"). Upgrade checks
// the rest of the handshake.
func IsWebSocketUpgrade(r *http.Request) bool { return ws.IsWebSocketUpgrade(r) }
