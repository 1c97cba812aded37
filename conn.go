package websocket

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rfc6455/websocket/internal/inflate"
	"github.com/rfc6455/websocket/internal/lock"
)

// Defaults for the settings an Upgrader, a Dialer or a Conn leaves at zero.
const (
	// DefaultReadLimit is the largest message, in bytes, a Conn accepts
	// unless SetReadLimit says otherwise. A larger message fails the
	// connection with close code 1009.
	DefaultReadLimit = 16 << 20
	// DefaultMaxFragments is the most frames one message may be split
	// into. It is generous (Autobahn sends 65,536 fragments of 64 bytes);
	// it exists so that a flood of empty fragments, which the read limit
	// does not count, ends.
	DefaultMaxFragments = 1 << 20
	// DefaultCloseTimeout is how long Close waits for the peer's close
	// frame when the Upgrader or Dialer sets no CloseTimeout.
	DefaultCloseTimeout = 5 * time.Second

	defaultReadBufferSize  = 4096
	defaultWriteBufferSize = 4096
	// clientCloseLinger bounds how long a client waits, after the close
	// handshake, for the server to close the TCP connection first.
	clientCloseLinger = time.Second
)

// ErrClosed is returned by writes after a close frame was sent or the
// transport was closed, and by reads after the connection was closed
// locally. It wraps net.ErrClosed.
var ErrClosed = fmt.Errorf("websocket: connection closed: %w", net.ErrClosed)

// Conn is a WebSocket connection, client or server side. It is created by an
// Upgrader or a Dialer.
//
// Concurrency: writing methods (WriteMessage, NextWriter, WriteControl,
// Ping, the Close family) may be called from any number of goroutines at
// once; messages are never interleaved. Reading methods (ReadMessage,
// AppendMessage, NextReader and the reader it returns) are meant for one
// goroutine at a time: concurrent calls are serialised, not interleaved, but
// which caller gets which message is then unspecified. Setters for
// deadlines, limits and handlers may be called at any time.
//
// Control frames arrive on the read side: pings are answered, pongs
// matched to Ping calls and the peer's close handled only while some
// goroutine reads. The keepalive of the Upgrader's and Dialer's
// PingInterval therefore needs a reading goroutine too: without one, no
// pong is seen and the connection fails after PingInterval + PongTimeout.
//
// Buffers: an idle Conn keeps about 1.5 KB, with no read or write buffer
// of the configured sizes; those are borrowed from a pool while a message
// is in flight. A large message on its way out borrows up to 1 MiB, to
// be masked (a client) or gathered (a server over TLS or another transport
// without vectored writes), so that it leaves in few writes.
// permessage-deflate adds nothing to that without context takeover, and up
// to one window of history per direction with it (see
// CompressionOptions).
//
// Under GOOS=js the Conn runs over the browser's WebSocket (see Dial): the
// same methods work, except Ping and WriteControl of pings and pongs,
// which return an error, and close codes other than 1000 and 3000–4999 go
// out as 4000 plus their last three digits (4009 for 1009).
type Conn struct {
	netConn      net.Conn
	client       bool
	subprotocol  string
	rules        headerRules
	closeTimeout time.Duration

	life         lifetime
	closeSent    atomic.Bool // a close frame was sent or is being sent: no frame may follow
	closeWritten atomic.Bool // our close frame reached the transport
	closeRecv    atomic.Bool // the peer's close frame arrived and was valid
	lingering    atomic.Bool // lingerClose drains the transport, then closes it

	// closeTried is made, under mu, by the first close sender, which then
	// sets closeSent; it is closed once that sender's write ended, for
	// the later senders waiting on it (writeClose). closeWaitHook, nil
	// outside tests, runs when one of them starts to wait.
	closeTried    chan struct{}
	closeWaitHook func()

	pings pingWaiters
	pong  pongSlot // the pong to send (ping.go)

	// Locks, and the one naming rule for them: a name ending in Locked
	// (fooLocked) means its caller holds mu. The frame reader's methods
	// are called by whoever holds readLock, the frame writer's by whoever
	// holds frameLock, a messageWriter's by whoever holds msgLock: their
	// types say so once, and their names do not.
	mu           sync.Mutex // guards the fields below
	pingHandler  func(appData string) error
	pongHandler  func(appData string) error
	closeHandler func(code StatusCode, text string) error

	// The read deadline as the user set it, restored after a context has
	// borrowed the transport's; the write deadlines are the frame
	// writer's (framewriter.go).
	dlMu            sync.Mutex
	readDeadline    time.Time
	readInterrupted bool

	readLimit    atomic.Int64
	budget       *MemoryBudget // shared bound on messages in flight; nil: none
	budgetHold   budgetHold    // what this Conn's reads hold of budget
	readProgress atomic.Uint64 // transport reads that returned bytes; keepalive watches it
	reader       frameReader   // owned by whoever holds readLock
	whole        assembler     // whole-message reads; owned by whoever holds readLock
	readLock     lock.Mutex
	userRead     atomic.Bool // the application has called a reading method: see Close

	msgLock   lock.Mutex     // a data message from first to last frame
	frameLock lock.Mutex     // one frame on the wire at a time; shares msgLock's word
	writer    frameWriter    // owned by whoever holds frameLock, but for its deadlines
	msgWriter *messageWriter // NextWriter's, made on first use; owned by whoever holds msgLock

	// permessage-deflate (RFC 7692), nil when not negotiated. deflate is
	// used under msgLock, inflate by whoever holds readLock.
	deflate        *deflater
	inflate        *inflate.Reader
	compressOff    atomic.Bool  // EnableWriteCompression(false)
	compressLevel  atomic.Int32 // SetCompressionLevel; applied when a message starts
	compressNowLvl int          // level deflate uses now; guarded by msgLock
}

// connConfig is everything a handshake (upgrade.go, dial.go) hands to newConn:
// the transport and the settings negotiated or chosen for this connection.
type connConfig struct {
	netConn     net.Conn      // the transport: any full-duplex stream with deadlines
	br          *bufio.Reader // may be nil; bytes it holds were sent after the handshake and come first
	client      bool          // true on the dialing side: we mask, the peer must not
	subprotocol string        // negotiated Sec-WebSocket-Protocol, or ""

	readLimit       int64         // largest message accepted; 0 means DefaultReadLimit, < 0 no limit
	readBufferSize  int           // 0 means the default
	writeBufferSize int           // 0 means the default
	maxFragments    int           // frames per message; 0 means DefaultMaxFragments, < 0 no limit
	budget          *MemoryBudget // shared by the connections it bounds; nil for none

	pingInterval time.Duration // keepalive: ping this often; 0 disables
	pongTimeout  time.Duration // keepalive: fail when no pong within this; 0 means pingInterval
	closeTimeout time.Duration // how long Close waits for the peer's close; 0 means the default
	stallTimeout time.Duration // see Upgrader.WriteStallTimeout: 0 means the default, < 0 off

	deflate *deflateConfig // permessage-deflate as negotiated; nil when not
}

// newConn returns a connection that speaks over cfg.netConn. It starts the
// keepalive goroutine when cfg.pingInterval is set; that goroutine ends when
// the transport closes.
func newConn(cfg connConfig) *Conn {
	c := &Conn{
		netConn:      cfg.netConn,
		client:       cfg.client,
		subprotocol:  cfg.subprotocol,
		rules:        headerRules{fromClient: !cfg.client},
		closeTimeout: cfg.closeTimeout,
		life:         lifetime{closed: make(chan struct{})},
		budget:       cfg.budget,
	}
	// One word for both write locks: a message sent as one frame takes
	// and releases them together.
	lock.Pair(&c.msgLock, &c.frameLock)
	if c.closeTimeout <= 0 {
		c.closeTimeout = DefaultCloseTimeout
	}
	switch {
	case cfg.readLimit == 0:
		c.readLimit.Store(DefaultReadLimit)
	case cfg.readLimit < 0:
		c.readLimit.Store(0)
	default:
		c.readLimit.Store(cfg.readLimit)
	}
	c.writer.init(cfg.netConn, cfg.client, cfg.writeBufferSize, cfg.stallTimeout)
	c.reader.init(c, cfg)
	c.whole.c = c
	if d := cfg.deflate; d != nil {
		// RFC 7692 §6: the extension gives RSV1 its meaning.
		c.rules.allowedRSV = rsv1Bit
		c.deflate = newDeflater(d.write, d.level, d.threshold)
		c.inflate = newInflater(d.read)
		c.compressNowLvl = d.level
		c.compressLevel.Store(int32(d.level))
	}
	if cfg.pingInterval > 0 {
		timeout := cfg.pongTimeout
		if timeout <= 0 {
			timeout = cfg.pingInterval
		}
		go keepAlive(c, cfg.pingInterval, timeout)
	}
	return c
}

// Subprotocol returns the subprotocol negotiated during the handshake, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// UnderlyingConn returns the transport. Reading or writing it directly
// corrupts the WebSocket stream; it is meant for inspection (addresses, TLS
// state) and socket options. The Conn keeps a write deadline on it (the
// write stall guard, see WriteStallTimeout).
func (c *Conn) UnderlyingConn() net.Conn { return c.netConn }

// LocalAddr returns the transport's local address.
func (c *Conn) LocalAddr() net.Addr { return c.netConn.LocalAddr() }

// RemoteAddr returns the transport's remote address.
func (c *Conn) RemoteAddr() net.Addr { return c.netConn.RemoteAddr() }

// SetDeadline sets the read and write deadlines, as net.Conn does.
func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the deadline for reads; the zero time means none. A
// read that reaches it returns an error for which os.ErrDeadlineExceeded
// matches, and leaves the Conn usable: the next read resumes where that one
// stopped, in the middle of a header or a payload. It may be called
// concurrently with reads.
//
// One exception: with permessage-deflate, a deadline (or a context's end)
// that interrupts the reader of NextReader inside a compressed message
// fails the connection, with close code 1001, since the decompressor cannot
// resume (compress/flate keeps its input's first error). ReadMessage and
// AppendMessage collect a compressed message's frames before they inflate
// it, so they resume as without compression; use them where deadlines
// interrupt reads.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.dlMu.Lock()
	defer c.dlMu.Unlock()
	c.readDeadline = t
	if c.readInterrupted || c.lingering.Load() {
		// The lingering close (lingerClose) keeps its own deadline.
		return nil
	}
	return c.netConn.SetReadDeadline(t)
}

// SetWriteDeadline sets the deadline for writes; the zero time means none.
// A write that reaches the deadline before sending any byte of its frame
// returns a timeout error and leaves the Conn usable; one that had sent part
// of a frame cannot be resumed, so the connection fails.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	return c.writer.setDeadline(t)
}

// SetReadLimit sets the largest message, in bytes, that reads accept; a
// larger one fails the connection with close code 1009 as soon as a frame
// header announces it, before its payload is read. For a compressed
// message the limit is on the inflated size: inflating stops, and the
// connection fails, once it would pass the limit; its compressed frames
// may exceed the limit by an eighth, the most DEFLATE expands data, before
// the headers alone fail it. n <= 0 removes the
// limit, which lets a peer make the Conn allocate without bound. The default
// is DefaultReadLimit. It may be called at any time; it applies from the
// next frame header on.
func (c *Conn) SetReadLimit(n int64) {
	if n < 0 {
		n = 0
	}
	c.readLimit.Store(n)
}

// SetPingHandler sets the function called, from the reading goroutine, for
// each ping received, with its payload. nil restores the default, which
// answers with a pong carrying the same payload (RFC 6455 §5.5.2). A
// handler that wants the peer to see a pong must send one (WriteControl).
// An error it returns is returned by the read in progress and by every later
// read, except ErrClosed once a close frame was sent (the pong could not go
// out; reading continues to the peer's close). Handlers run on the reading goroutine, so they must not call Close
// (which would wait for that goroutine to read the peer's close, until the
// close timeout); CloseNow, or returning an error, is fine. It may be called
// at any time.
func (c *Conn) SetPingHandler(h func(appData string) error) {
	c.mu.Lock()
	c.pingHandler = h
	c.mu.Unlock()
}

// SetPongHandler sets the function called, from the reading goroutine, for
// each pong received. nil restores the default, which does nothing.
// Pongs answering Ping are matched before the handler runs. An error it
// returns is returned by the read in progress and by every later read. As
// for SetPingHandler, the handler must not call Close.
func (c *Conn) SetPongHandler(h func(appData string) error) {
	c.mu.Lock()
	c.pongHandler = h
	c.mu.Unlock()
}

// SetCloseHandler sets the function called, from the reading goroutine,
// when a valid close frame arrives, with its code (StatusNoStatusReceived
// when it had none) and reason. Unlike gorilla/websocket, the Conn itself
// answers the close (RFC 6455 §5.5.1) after the handler returns, so a
// handler need not: the answer carries the peer's code and reason. A
// handler that wants to answer differently sends its own close frame with
// WriteControl (CloseMessage, FormatCloseMessage(code, text)); the Conn
// then sends none. A non-nil error it returns is what reads then return
// instead of the *CloseError. nil restores the default, which does nothing.
func (c *Conn) SetCloseHandler(h func(code StatusCode, text string) error) {
	c.mu.Lock()
	c.closeHandler = h
	c.mu.Unlock()
}

// lifetime is how a Conn ends: closed is closed, exactly once, when the
// transport is, and cause says why.
type lifetime struct {
	closed chan struct{}
	once   sync.Once
	mu     sync.Mutex
	cause  error // the first cause recorded wins
}

// over reports whether the transport has been closed.
func (l *lifetime) over() bool {
	select {
	case <-l.closed:
		return true
	default:
		return false
	}
}

// record records err as why the connection ended, unless a cause is
// recorded already.
func (l *lifetime) record(err error) {
	l.mu.Lock()
	if l.cause == nil {
		l.cause = err
	}
	l.mu.Unlock()
}

// err returns why the connection ended, or ErrClosed when no cause was
// recorded.
func (l *lifetime) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cause == nil {
		return ErrClosed
	}
	return l.cause
}

// closeTransport closes the transport once; later calls do nothing. It is
// the only place the transport is closed. Goroutines blocked on it, and
// those waiting for a lock, learn of it through c.life.closed.
func (c *Conn) closeTransport() {
	c.life.once.Do(func() {
		c.life.record(ErrClosed)
		close(c.life.closed)
		c.netConn.Close()
		if c.budget != nil {
			// A message a timeout left half read will not be read.
			c.budget.closeHold(&c.budgetHold)
		}
	})
}

// fail ends the connection because of err: it sends a close frame with code
// (unless one went out already) and a reason taken from err, then closes the
// transport at once. RFC 6455 §7.1.7. The read side, which may find unread
// bytes behind the offending ones, uses failRead instead.
func (c *Conn) fail(err error, code StatusCode) {
	c.life.record(err)
	c.writeClose(encodeClose(code, failReason(err)), time.Now().Add(c.closeTimeout))
	c.closeTransport()
}

// failReason is the close reason that tells the peer why err failed the
// connection.
func failReason(err error) string {
	var pe *protocolError
	switch {
	case errors.As(err, &pe):
		return pe.msg
	case errors.Is(err, ErrKeepAliveTimeout):
		return "keepalive timeout"
	case errors.Is(err, errInflateInterrupted):
		return "read interrupted inside a compressed message"
	}
	return ""
}

// acquire takes the lock l, giving up when ctx ends or the transport
// closes.
func (c *Conn) acquire(ctx context.Context, l *lock.Mutex) error {
	err := l.Lock(ctx, c.life.closed)
	if err != nil && l == &c.frameLock {
		// Handed the frame lock and passed it on, maybe, without the
		// pong check of releaseFrame.
		c.sendPongIfFree()
	}
	if err == lock.ErrClosed {
		return ErrClosed
	}
	return err
}

// acquireUntil takes the lock l, giving up at deadline (none when zero) or
// when the transport closes.
func (c *Conn) acquireUntil(l *lock.Mutex, deadline time.Time) error {
	if l.TryLock() {
		return nil
	}
	var timer <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		timer = t.C
	}
	why := l.Wait(nil, c.life.closed, timer)
	if why != lock.Locked && l == &c.frameLock {
		c.sendPongIfFree() // as in acquire
	}
	switch why {
	case lock.Closed:
		return ErrClosed
	case lock.TimedOut:
		return fmt.Errorf("websocket: waiting to write: %w", os.ErrDeadlineExceeded)
	}
	return nil
}

// aLongTimeAgo is a deadline in the past: setting it interrupts a blocked
// read or write at once.
var aLongTimeAgo = time.Unix(1, 0)

// isTimeout reports whether err is a deadline expiring, after which a
// transport read can be retried.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
