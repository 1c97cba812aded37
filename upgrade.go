package websocket

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/rfc6455/websocket/internal/origin"
)

// Upgrader turns HTTP requests into WebSocket connections: the server side of
// the opening handshake of RFC 6455 §4.2, or of RFC 8441 §5 over HTTP/2.
//
// An Upgrader is configured once and then used by many handlers at the same
// time; Upgrade may be called concurrently as long as the fields are not
// changed meanwhile.
//
// The server handshake timeout is the http.Server's: Upgrade runs only once
// net/http has read the whole request, so a client that sends its request
// slowly (one byte a second, say) or never finishes it is cut off by the
// server, not by the Upgrader. NewHTTPServer returns a server with the
// bound set (ReadHeaderTimeout), or set it on your own http.Server:
//
//	srv := websocket.NewHTTPServer(":8080", mux)
//
// A server with neither (the zero http.Server, http.ListenAndServe) lets
// such a client hold its connection open for as long as it likes. The
// deadlines the server set do not outlive the handshake: the connection
// returned has none.
type Upgrader struct {
	// Subprotocols lists the application protocols the server speaks. Upgrade
	// picks the first protocol of the client's Sec-WebSocket-Protocol list
	// that also appears here: the client's order of preference decides
	// (RFC 6455 §4.1 lets the client order its list; gorilla/websocket lets
	// the server's order decide, and compat/gorilla keeps that). Nil or empty
	// means no subprotocol is chosen, unless the responseHeader passed to
	// Upgrade names one.
	Subprotocols []string

	// CheckOrigin decides whether a request's Origin is allowed, and answers
	// 403 Forbidden when it returns false. Nil means the same-origin check:
	// a request without an Origin header (a non-browser client) is allowed;
	// otherwise the Origin must be an http or https origin as browsers send
	// it (scheme://host[:port], nothing more), and its host and port must
	// equal the request's Host, the host compared ASCII-case-insensitively,
	// with a missing port standing for the default port of the scheme. RFC
	// 6455 §10.2: browsers send Origin so that servers can refuse pages of
	// other sites.
	//
	// Returning true for an origin lets any page served from it open a
	// WebSocket to this server from a visitor's browser, and the browser
	// sends that visitor's cookies and HTTP authentication with the
	// handshake: the page then reads and writes the connection as the
	// visitor (cross-site WebSocket hijacking). A CheckOrigin that returns
	// true for every request opens this to every site on the web; allow only
	// the origins you trust, or authenticate connections by something a
	// browser does not attach on its own, such as a token in the first
	// message.
	CheckOrigin func(r *http.Request) bool

	// Error, when set, writes the HTTP answer of a refused handshake instead
	// of the default short text body. It must write status. Headers the
	// protocol requires (Allow on 405, Sec-WebSocket-Version on 426) are
	// already set on w.Header() when it is called. reason is the
	// *HandshakeError that Upgrade then returns.
	Error func(w http.ResponseWriter, r *http.Request, status int, reason error)

	// ReadLimit is the largest message the connection accepts; a larger one
	// fails it with close code 1009. Zero means DefaultReadLimit, a negative
	// value means no limit.
	ReadLimit int64

	// MemoryBudget, when set, bounds the memory that messages being read
	// hold at once across every connection sharing it; a read that would
	// pass it waits. See MemoryBudget.
	MemoryBudget *MemoryBudget

	// ReadBufferSize and WriteBufferSize size the connection's I/O buffers in
	// bytes. Zero means the default.
	ReadBufferSize, WriteBufferSize int

	// PingInterval, when positive, makes the connection send a ping this
	// often; PongTimeout is how long it waits for the answer before failing
	// (zero means PingInterval). CloseTimeout bounds how long Close waits for
	// the peer's close frame; zero means the default.
	PingInterval, PongTimeout, CloseTimeout time.Duration

	// WriteStallTimeout fails the connection with ErrWriteStalled when a
	// write gets no byte accepted by the transport for this long: the
	// peer does not read. Zero means DefaultWriteStallTimeout; a negative
	// value turns the guard off, leaving writes to the write deadline.
	// A slow peer that keeps reading is never cut over TCP; over other
	// transports (TLS, HTTP/2) each 1 MiB of a large message must go out
	// within it.
	WriteStallTimeout time.Duration

	// Compression configures permessage-deflate (RFC 7692); the zero value
	// declines it. See CompressionOptions for the memory each mode keeps
	// per connection.
	Compression CompressionOptions
}

// Upgrade validates the opening handshake of r, answers it with
// 101 Switching Protocols and returns the connection, which the caller now
// owns and must close.
//
// A request that breaks RFC 6455 §4.2.1 is refused with the matching status:
// 405 (with Allow: GET) for a method other than GET, 426 (with
// Sec-WebSocket-Version: 13) for another protocol version, 403 when the
// origin check fails, and 400 for everything else (HTTP/1.0, a Connection
// header without "upgrade", an Upgrade header without "websocket", a
// Sec-WebSocket-Key that does not decode to 16 bytes). Upgrade then has
// written the answer (see Upgrader.Error) and returns a *HandshakeError that
// carries the status; the caller must not write to w again.
//
// responseHeader holds extra header fields for the 101 answer, such as
// Set-Cookie. It must not carry Sec-WebSocket-Extensions (extensions are
// negotiated by the Upgrader). It may carry Sec-WebSocket-Protocol only when
// u.Subprotocols is empty, as a single token that the client offered: that is
// then the chosen subprotocol. Upgrade, Connection and Sec-WebSocket-Accept in
// responseHeader are ignored. A responseHeader that breaks these rules, or a
// ResponseWriter that cannot be hijacked, is answered with
// 500 Internal Server Error.
//
// Bytes the client sent after its handshake are kept: they are the first
// bytes the connection reads.
//
// Over HTTP/2 (RFC 8441), the request must be an extended CONNECT with the
// :protocol "websocket": another method is refused with 405 (with
// Allow: CONNECT), a CONNECT without that :protocol with 400. Upgrade then
// answers 200, without Sec-WebSocket-Accept, and the connection runs over
// the request's stream, which the handler owns: the handler must not
// return before it is done with the connection, which is closed when it
// does. Such requests arrive only when the server allows extended CONNECT;
// see ExtendedConnectEnabled.
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request, responseHeader http.Header) (*Conn, error) {
	// Each step is a call of its own from this small frame, so that the
	// deepest of them (hashing the key, writing the answer) adds to this
	// frame alone. A handler that reads its WebSocket in a loop keeps
	// net/http's goroutine, whose stack, once grown past 4 KiB, stays grown
	// for the connection's life: the read that waits below it is too deep
	// for the runtime to shrink it again.
	if r.ProtoMajor == 2 {
		return u.upgradeHTTP2Conn(w, r, responseHeader)
	}
	key, n, err := u.checkHTTP1(w, r, responseHeader)
	if err != nil {
		return nil, err
	}
	answer, err := u.answerHTTP1(w, r, key, n, responseHeader)
	if err != nil {
		return nil, err
	}
	netConn, br, err := u.hijack(w, r, answer)
	if err != nil {
		return nil, err
	}
	return u.serverConn(netConn, br, n), nil
}

// upgradeHTTP2Conn is Upgrade over HTTP/2 (RFC 8441, upgrade_h2.go).
//
//go:noinline
func (u *Upgrader) upgradeHTTP2Conn(w http.ResponseWriter, r *http.Request, responseHeader http.Header) (*Conn, error) {
	cfg, err := u.upgradeHTTP2(w, r, responseHeader)
	if err != nil {
		return nil, err
	}
	return newConn(cfg), nil
}

// checkHTTP1 validates an HTTP/1.1 opening handshake (RFC 6455 §4.2.1) and
// negotiates what the answer carries. It returns the client's key. A
// refusal has been answered when it returns an error.
//
//go:noinline
func (u *Upgrader) checkHTTP1(w http.ResponseWriter, r *http.Request, responseHeader http.Header) (string, negotiated, error) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		return "", negotiated{}, u.refuse(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" is not GET")
	}
	if !r.ProtoAtLeast(1, 1) {
		return "", negotiated{}, u.refuse(w, r, http.StatusBadRequest, "protocol "+r.Proto+" is older than HTTP/1.1")
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") {
		return "", negotiated{}, u.refuse(w, r, http.StatusBadRequest, `the Connection header does not contain "upgrade"`)
	}
	if !headerHasToken(r.Header, "Upgrade", "websocket") {
		return "", negotiated{}, u.refuse(w, r, http.StatusBadRequest, `the Upgrade header does not contain "websocket"`)
	}
	if err := u.checkVersion(w, r); err != nil {
		return "", negotiated{}, err
	}
	// RFC 6455 §11.3.1: the key appears exactly once.
	keys := r.Header.Values(headerKey)
	if len(keys) != 1 || !validKey(keys[0]) {
		return "", negotiated{}, u.refuse(w, r, http.StatusBadRequest, "Sec-WebSocket-Key is missing, repeated or not 16 bytes in base64")
	}
	n, err := u.negotiate(w, r, responseHeader)
	return keys[0], n, err
}

// answerHTTP1 returns the 101 answer to key with what n chose, or answers
// 500 when responseHeader cannot be sent.
//
//go:noinline
func (u *Upgrader) answerHTTP1(w http.ResponseWriter, r *http.Request, key string, n negotiated, responseHeader http.Header) ([]byte, error) {
	answer, err := appendSwitchingProtocols(nil, acceptKey(key), n, responseHeader)
	if err != nil {
		return nil, u.refuse(w, r, http.StatusInternalServerError, err.Error())
	}
	return answer, nil
}

// hijack takes the connection over from w, answering 500 when it cannot,
// and sends answer on it. It returns the transport and net/http's reader,
// which holds what the client sent after its request.
//
//go:noinline
func (u *Upgrader) hijack(w http.ResponseWriter, r *http.Request, answer []byte) (net.Conn, *bufio.Reader, error) {
	netConn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, u.refuseHijack(w, r, err)
	}
	// net/http clears its ReadTimeout and WriteTimeout deadlines when it
	// hands the connection over; other ResponseWriters may not, so the
	// deadlines are cleared once the answer is out, leaving the connection's
	// lifetime to its users.
	if _, err := netConn.Write(answer); err != nil {
		return nil, nil, abandon(netConn, "writing the handshake answer", err)
	}
	if err := netConn.SetDeadline(time.Time{}); err != nil {
		return nil, nil, abandon(netConn, "clearing the handshake deadlines", err)
	}
	dropWriter(brw.Writer)
	return netConn, brw.Reader, nil
}

// refuseHijack answers 500 for a ResponseWriter that cannot be hijacked.
// It and abandon keep hijack's frame small (see Upgrade).
//
//go:noinline
func (u *Upgrader) refuseHijack(w http.ResponseWriter, r *http.Request, err error) error {
	return u.refuse(w, r, http.StatusInternalServerError, "cannot take over the connection: "+err.Error())
}

// abandon closes a hijacked connection whose answer failed at step.
//
//go:noinline
func abandon(netConn net.Conn, step string, err error) error {
	netConn.Close()
	return fmt.Errorf("websocket: %s: %w", step, err)
}

// serverConn returns the server Conn over netConn; br, when not nil, holds
// what the client sent after its request and is dropped once the Conn has
// copied it.
//
//go:noinline
func (u *Upgrader) serverConn(netConn net.Conn, br *bufio.Reader, n negotiated) *Conn {
	c := newConn(u.connConfig(netConn, br, n))
	if br != nil {
		dropReader(br)
	}
	return c
}

// dropReader and dropWriter let go of the 4 KiB buffers of net/http's
// reader and writer of a hijacked connection. net/http keeps both structs
// for as long as the handler runs, and a handler that reads its WebSocket
// in a loop runs as long as the connection: 8 KiB per idle connection
// that the Conn, with buffers of its own borrowed only while a message is
// in flight, never uses. net/http touches neither struct after a hijack
// (Request.Body must not be used then either); an emptied one reports
// errHijackedBuffer rather than panic if it is used anyway.
//
//go:noinline
func dropReader(br *bufio.Reader) { *br = *droppedReader }

//go:noinline
func dropWriter(bw *bufio.Writer) {
	if bw != nil {
		*bw = *droppedWriter
	}
}

// droppedReader and droppedWriter are what dropReader and dropWriter copy
// into net/http's structs, so that dropping allocates nothing. Their tiny
// buffers are shared but never written: the reader's transport yields no
// bytes, and the writer has already failed, which a bufio.Writer checks
// before it copies anything.
var (
	droppedReader = bufio.NewReaderSize(hijackedBuffer{}, 0)
	droppedWriter = failedWriter()
)

func failedWriter() *bufio.Writer {
	w := bufio.NewWriterSize(hijackedBuffer{}, 1)
	w.Write([]byte{0, 0}) // more than its buffer: the write fails and the error sticks
	return w
}

// errHijackedBuffer is what net/http's reader and writer of a connection
// report once Upgrade has taken the connection.
var errHijackedBuffer = errors.New("websocket: the connection was upgraded; its net/http buffers are gone")

// hijackedBuffer is the transport of a dropped reader or writer.
type hijackedBuffer struct{}

func (hijackedBuffer) Read([]byte) (int, error)  { return 0, errHijackedBuffer }
func (hijackedBuffer) Write([]byte) (int, error) { return 0, errHijackedBuffer }

// negotiated is what the server chose during a handshake, over HTTP/1.1 or
// HTTP/2 alike.
type negotiated struct {
	subprotocol string         // "" for none
	extensions  string         // the answer's Sec-WebSocket-Extensions; "" for none
	deflate     *deflateConfig // permessage-deflate accepted; nil when not
}

// checkVersion refuses a request for a protocol version other than 13.
// RFC 6455 §4.2.2: it is answered with 426 and the versions we do speak.
// RFC 8441 §5 keeps this rule for HTTP/2.
func (u *Upgrader) checkVersion(w http.ResponseWriter, r *http.Request) error {
	if v := r.Header.Values(headerVersion); len(v) != 1 || v[0] != supportedVersion {
		w.Header().Set(headerVersion, supportedVersion)
		return u.refuse(w, r, http.StatusUpgradeRequired, "Sec-WebSocket-Version is not 13")
	}
	return nil
}

// negotiate runs the checks and choices the HTTP/1.1 and HTTP/2 handshakes
// share: the origin, the subprotocol, the extensions. RFC 8441 §5: Origin,
// Sec-WebSocket-Protocol and Sec-WebSocket-Extensions mean over HTTP/2
// what they mean over HTTP/1.1. A refusal has been answered when it returns
// an error.
func (u *Upgrader) negotiate(w http.ResponseWriter, r *http.Request, responseHeader http.Header) (negotiated, error) {
	checkOrigin := u.CheckOrigin
	if checkOrigin == nil {
		checkOrigin = origin.SameHost
	}
	if !checkOrigin(r) {
		return negotiated{}, u.refuse(w, r, http.StatusForbidden, "origin not allowed")
	}
	offered, err := parseTokenList(r.Header.Values(headerProtocol))
	if err != nil {
		return negotiated{}, u.refuse(w, r, http.StatusBadRequest, "Sec-WebSocket-Protocol: "+err.Error())
	}
	subprotocol, err := u.chooseSubprotocol(offered, responseHeader)
	if err != nil {
		return negotiated{}, u.refuse(w, r, http.StatusInternalServerError, err.Error())
	}
	extensions, deflate, err := u.negotiateCompression(r.Header) // compress_handshake.go
	if err != nil {
		return negotiated{}, u.refuse(w, r, http.StatusInternalServerError, err.Error())
	}
	return negotiated{subprotocol: subprotocol, extensions: extensions, deflate: deflate}, nil
}

// connConfig returns the settings of a server connection over netConn with
// what n chose. br may be nil.
func (u *Upgrader) connConfig(netConn net.Conn, br *bufio.Reader, n negotiated) connConfig {
	return connConfig{
		netConn:         netConn,
		br:              br,
		client:          false,
		subprotocol:     n.subprotocol,
		readLimit:       u.ReadLimit,
		budget:          u.MemoryBudget,
		readBufferSize:  u.ReadBufferSize,
		writeBufferSize: u.WriteBufferSize,
		pingInterval:    u.PingInterval,
		pongTimeout:     u.PongTimeout,
		closeTimeout:    u.CloseTimeout,
		stallTimeout:    u.WriteStallTimeout,
		deflate:         n.deflate,
	}
}

// refuse answers a handshake that cannot succeed and returns the error that
// Upgrade reports.
func (u *Upgrader) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) error {
	err := &HandshakeError{Status: status, Reason: reason}
	if u.Error != nil {
		u.Error(w, r, status, err)
		return err
	}
	http.Error(w, http.StatusText(status)+": "+reason, status)
	return err
}

// chooseSubprotocol returns the subprotocol of the answer, or "".
func (u *Upgrader) chooseSubprotocol(offered []string, responseHeader http.Header) (string, error) {
	if len(responseHeader.Values(headerExtensions)) > 0 {
		return "", errors.New("responseHeader must not set Sec-WebSocket-Extensions")
	}
	own := responseHeader.Values(headerProtocol)
	if len(own) > 0 {
		if len(u.Subprotocols) > 0 {
			return "", errors.New("responseHeader sets Sec-WebSocket-Protocol although Upgrader.Subprotocols is set")
		}
		// RFC 6455 §4.2.2: the server answers with one of the values the
		// client offered, or with none.
		if len(own) != 1 || !isToken(own[0]) {
			return "", fmt.Errorf("responseHeader Sec-WebSocket-Protocol %q is not a single token", own)
		}
		for _, p := range offered {
			if p == own[0] {
				return p, nil
			}
		}
		return "", fmt.Errorf("responseHeader Sec-WebSocket-Protocol %q was not offered by the client", own[0])
	}
	for _, p := range offered {
		if slices.Contains(u.Subprotocols, p) {
			return p, nil
		}
	}
	return "", nil
}

// Limits of the http.Server that NewHTTPServer returns.
const (
	// DefaultReadHeaderTimeout bounds how long a client may take to send
	// its request's header, the WebSocket handshake included: a client
	// that sends it a byte at a time (slowloris) or never finishes it is
	// cut off then.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultIdleTimeout bounds how long an HTTP keep-alive connection
	// waits for its next request. It does not apply to a connection once
	// upgraded.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxHeaderBytes bounds the size of a request's header; a
	// browser's handshake, cookies included, takes a few KiB.
	DefaultMaxHeaderBytes = 64 << 10
)

// NewHTTPServer returns an http.Server for addr and handler with the
// limits a server open to the Internet needs, the ones the zero
// http.Server (and so http.ListenAndServe) lacks: ReadHeaderTimeout
// (DefaultReadHeaderTimeout), which bounds the handshake, since Upgrade
// runs only once net/http has read the whole request; IdleTimeout
// (DefaultIdleTimeout); and MaxHeaderBytes (DefaultMaxHeaderBytes). Serve
// it with ListenAndServe or ListenAndServeTLS, and change any field before
// that; see ExampleNewHTTPServer.
//
// It sets no ReadTimeout or WriteTimeout: those would also cut the other
// handlers' long requests and responses (uploads, downloads, streams),
// and net/http lifts them from a connection it hands over to Upgrade
// anyway. An upgraded connection is bounded by the Conn's own limits: the
// read limit, keepalive (PingInterval), the write stall timeout
// (WriteStallTimeout) and the deadlines the application sets.
func NewHTTPServer(addr string, handler http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           handler,
		ReadHeaderTimeout: DefaultReadHeaderTimeout,
		IdleTimeout:       DefaultIdleTimeout,
		MaxHeaderBytes:    DefaultMaxHeaderBytes,
	}
}
