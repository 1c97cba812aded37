//go:build js

package websocket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall/js"
	"time"
	"unicode/utf8"
)

// Under GOOS=js the Conn is the same as on every other port; only its
// transport differs. browserConn is a net.Conn whose two byte streams are
// frames: the Conn writes client frames into it and reads server frames out
// of it, as it would over TCP, while on the other side it speaks to the
// host's WebSocket object (a browser's, or one that Node is given). Limits,
// deadlines, UTF-8 checks, JSON, NetConn and the close handshake's state are
// the shared code's.
//
//	Conn write → Write: header parsed, payload unmasked into msg → at FIN, ws.send
//	onmessage → inbox → Read: a synthesised unmasked header, then the payload
//	            copied from the JS buffer straight into the reader's slice
//	close frame written → ws.close(code, reason); close event → a close frame read, then EOF

// errBrowserControl is returned by Ping and by WriteControl for pings and
// pongs: the browser's WebSocket answers the server's pings itself and has
// no way to send one.
var errBrowserControl = errors.New("websocket: the browser's WebSocket cannot send pings or pongs (GOOS=js)")

// Close codes a browser's close() accepts (WHATWG WebSockets, close()
// method): 1000 and 3000–4999. Any other code the Conn sends (1001, 1002,
// 1007, 1009, 1011...) goes out as browserCodeBase + (code − 1000), so
// 1009 arrives as 4009, with the reason unchanged.
const browserCodeBase = 4000

// browserCloseCode returns the code a browser may send for code.
func browserCloseCode(code StatusCode) StatusCode {
	if code == StatusNormalClosure || (code >= 3000 && code <= 4999) {
		return code
	}
	if code > 1000 && code < 2000 {
		return browserCodeBase + code - 1000
	}
	return StatusNormalClosure
}

// JavaScript readyState values of a WebSocket.
const (
	jsConnecting = 0
	jsOpen       = 1
)

// inbound is one event of the WebSocket for the read side: a message, or
// the close event (final).
type inbound struct {
	op    opcode   // opText, opBinary, or opClose for the close event
	data  js.Value // a Uint8Array over the message's bytes
	n     int      // its length
	code  int      // the close event's code and reason
	text  string
	clean bool // the close event's wasClean
}

// browserConn is the transport of a Conn under GOOS=js.
type browserConn struct {
	ws    js.Value
	url   string
	funcs []js.Func

	mu     sync.Mutex
	inbox  []inbound     // events not yet read, in order
	wake   chan struct{} // signalled (capacity 1) when inbox grows
	opened chan struct{} // closed by the open event, or by the close event before it
	done   chan struct{} // closed by Close
	once   sync.Once

	// The read side, owned by the Conn's reader. cur is the event being
	// delivered: hdr[hdrPos:hdrLen] is still to be read, then the
	// payload from pos.
	cur      inbound
	reading  bool
	hdr      [maxFrameHeaderSize + 2 + maxControlPayload]byte
	hdrPos   int
	hdrLen   int
	pos      int
	eof      bool
	readDL   jsDeadline
	copiedIn int64 // payload bytes copied from JavaScript, for the tests
	copies   int   // and the copies that took them

	// The write side, owned by the Conn's frame lock: the frame being
	// parsed (whdr holds an incomplete header), and the message being
	// collected.
	whdr    [maxFrameHeaderSize]byte
	whdrN   int
	wframe  frameHeader
	wleft   int64 // payload bytes of wframe still to come
	wpos    int   // mask position
	inFrame bool
	msgOp   opcode // the message's opcode, 0 when none is in progress
	msg     []byte // its unmasked payload so far
	ctrl    []byte // a close frame's payload so far
	writeDL jsDeadline
}

// Globals of the JavaScript host, looked up once.
var (
	jsUint8Array  = js.Global().Get("Uint8Array")
	jsArrayBuffer = js.Global().Get("ArrayBuffer")
	jsTextEncoder = js.Global().Get("TextEncoder").New()
	// fatal: text that is not UTF-8 fails the write (and so the
	// connection, as a peer would with 1007) instead of going out
	// altered: a browser sends only strings as text.
	jsTextDecoder = js.Global().Get("TextDecoder").New("utf-8", map[string]any{"fatal": true})
)

// newBrowserConn opens a WebSocket to url offering protocols, and returns
// its transport at once; opened is closed when the connection opens or
// fails to. Any exception thrown by the constructor is returned.
func newBrowserConn(url string, protocols []string) (b *browserConn, err error) {
	ctor := js.Global().Get("WebSocket")
	if ctor.Type() != js.TypeFunction {
		return nil, errors.New("websocket: the JavaScript host has no WebSocket (Node before 22 needs one, e.g. the ws package's, as globalThis.WebSocket)")
	}
	defer func() {
		if r := recover(); r != nil {
			err = jsException(r)
		}
	}()
	list := make([]any, len(protocols))
	for i, p := range protocols {
		list[i] = p
	}
	b = &browserConn{
		url:    url,
		wake:   make(chan struct{}, 1),
		opened: make(chan struct{}),
		done:   make(chan struct{}),
	}
	b.readDL.init()
	b.writeDL.init()
	b.ws = ctor.New(url, js.ValueOf(list))
	// Binary messages as ArrayBuffers, whose bytes are copied once, into
	// the reader's slice; a Blob would need an asynchronous read first.
	b.ws.Set("binaryType", "arraybuffer")
	// The callbacks run while JavaScript waits: they must not block.
	b.on("open", func(js.Value) { b.signalOpen() })
	b.on("message", b.onMessage)
	b.on("close", b.onClose)
	// The close event that follows says what the page may know; Node's
	// ws package throws when no error handler is set.
	b.on("error", func(js.Value) {})
	return b, nil
}

// on sets the handler of the WebSocket event name.
func (b *browserConn) on(name string, f func(e js.Value)) {
	fn := js.FuncOf(func(this js.Value, args []js.Value) any {
		f(args[0])
		return nil
	})
	b.funcs = append(b.funcs, fn)
	b.ws.Set("on"+name, fn)
}

func (b *browserConn) signalOpen() {
	b.mu.Lock()
	select {
	case <-b.opened:
	default:
		close(b.opened)
	}
	b.mu.Unlock()
}

// push queues ev for the read side.
func (b *browserConn) push(ev inbound) {
	b.mu.Lock()
	b.inbox = append(b.inbox, ev)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *browserConn) onMessage(e js.Value) {
	data := e.Get("data")
	ev := inbound{op: opBinary}
	switch {
	case data.Type() == js.TypeString:
		// Text arrives as a JavaScript string: encoded to UTF-8 once, in
		// JavaScript, then copied like binary.
		ev.op = opText
		ev.data = jsTextEncoder.Call("encode", data)
	case data.InstanceOf(jsArrayBuffer):
		ev.data = jsUint8Array.New(data)
	default:
		// binaryType was changed behind our back (a Blob): nothing can
		// read it synchronously.
		ev.op = opClose
		ev.code = int(StatusUnsupportedData)
		ev.text = "binary message of an unexpected JavaScript type"
	}
	if ev.op != opClose {
		ev.n = ev.data.Get("length").Int()
	}
	b.push(ev)
}

func (b *browserConn) onClose(e js.Value) {
	b.push(inbound{
		op:    opClose,
		code:  e.Get("code").Int(),
		text:  e.Get("reason").String(),
		clean: e.Get("wasClean").Bool(),
	})
	b.signalOpen() // a connection that failed to open ends here
}

// Read returns the next bytes of the server's frames: for each message a
// header, then the payload copied from JavaScript straight into p; after
// the close event, a close frame (none when it was not clean), then io.EOF.
func (b *browserConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for !b.reading {
		if b.eof {
			return 0, io.EOF
		}
		if err := b.next(); err != nil {
			return 0, err
		}
	}
	if b.hdrPos < b.hdrLen {
		n := copy(p, b.hdr[b.hdrPos:b.hdrLen])
		b.hdrPos += n
		p = p[n:]
		// The payload joins its header only when all of it fits: a large
		// one waits for the next Read, which the Conn makes into its own
		// slice, so its bytes are copied once.
		if b.hdrPos < b.hdrLen || len(p) < b.cur.n {
			b.finish()
			return n, nil
		}
		return n + b.copyPayload(p), nil
	}
	return b.copyPayload(p), nil
}

// copyPayload copies the current message's next bytes into p.
func (b *browserConn) copyPayload(p []byte) int {
	k := min(len(p), b.cur.n-b.pos)
	if k > 0 {
		src := b.cur.data
		if b.pos > 0 || k < b.cur.n {
			src = src.Call("subarray", b.pos, b.pos+k)
		}
		js.CopyBytesToGo(p[:k], src)
		b.pos += k
		b.copiedIn += int64(k)
		b.copies++
	}
	b.finish()
	return k
}

// finish drops the current event once it has been read whole.
func (b *browserConn) finish() {
	if b.hdrPos == b.hdrLen && b.pos == b.cur.n {
		b.reading = false
		b.cur = inbound{}
	}
}

// next waits for the next event and starts delivering it.
func (b *browserConn) next() error {
	for {
		b.mu.Lock()
		if len(b.inbox) > 0 {
			ev := b.inbox[0]
			b.inbox[0] = inbound{}
			b.inbox = b.inbox[1:]
			b.mu.Unlock()
			b.start(ev)
			return nil
		}
		b.mu.Unlock()
		select {
		case <-b.done:
			return net.ErrClosed
		default:
		}
		if b.readDL.expired() {
			return os.ErrDeadlineExceeded
		}
		select {
		case <-b.wake:
		case <-b.done:
		case <-b.readDL.channel():
		}
	}
}

// start makes ev the event being read: a data frame, or the close frame
// that the close event stands for.
func (b *browserConn) start(ev inbound) {
	b.cur, b.reading, b.hdrPos, b.pos = ev, true, 0, 0
	if ev.op != opClose {
		b.hdrLen = putFrameHeader(b.hdr[:], &frameHeader{fin: true, opcode: ev.op, length: int64(ev.n)})
		return
	}
	b.eof = true
	b.cur.n = 0
	if !ev.clean || ev.code == int(StatusAbnormalClosure) {
		// The connection dropped without a close handshake: the Conn
		// reads EOF without a close frame and reports 1006.
		b.reading, b.hdrLen = false, 0
		return
	}
	// RFC 6455 §7.1.5: 1005 stands for a close frame without a code.
	var payload [2 + maxControlPayload]byte
	n := 0
	if ev.code != int(StatusNoStatusReceived) {
		reason := ev.text
		if len(reason) > maxCloseReason {
			reason = reason[:maxCloseReason]
		}
		binary.BigEndian.PutUint16(payload[:], uint16(ev.code))
		n = 2 + copy(payload[2:], reason)
	}
	k := putFrameHeader(b.hdr[:], &frameHeader{fin: true, opcode: opClose, length: int64(n)})
	b.hdrLen = k + copy(b.hdr[k:], payload[:n])
}

// Write takes the Conn's client frames. Data frames are unmasked into the
// message being collected, which goes out through ws.send at its last
// frame; a close frame becomes ws.close(code, reason). send does not
// block: a write waits, between frames only, while the browser holds
// maxBuffered bytes it has not sent yet.
func (b *browserConn) Write(p []byte) (int, error) {
	select {
	case <-b.done:
		return 0, net.ErrClosed
	default:
	}
	if !b.inFrame && b.whdrN == 0 {
		// Between frames: the one place a write may wait, and stop
		// at its deadline without harm to the stream.
		if err := b.waitDrained(); err != nil {
			return 0, err
		}
	}
	total := len(p)
	for len(p) > 0 {
		if !b.inFrame {
			k := copy(b.whdr[b.whdrN:], p)
			n, err := parseFrameHeader(b.whdr[:b.whdrN+k], headerRules{fromClient: true}, &b.wframe)
			if err != nil {
				return total - len(p), err
			}
			if n == 0 {
				b.whdrN += k
				p = p[k:]
				continue
			}
			p = p[n-b.whdrN:]
			b.whdrN = 0
			if err := b.startFrame(); err != nil {
				return total - len(p), err
			}
			if !b.inFrame {
				continue // an empty frame, ended by startFrame
			}
		}
		k := int(min(int64(len(p)), b.wleft))
		if b.wframe.opcode == opClose {
			b.ctrl = append(b.ctrl, p[:k]...)
			b.wpos = maskBytes(b.wframe.key, b.wpos, b.ctrl[len(b.ctrl)-k:])
		} else {
			n := len(b.msg)
			b.msg = append(b.msg, p[:k]...)
			b.wpos = maskBytes(b.wframe.key, b.wpos, b.msg[n:])
		}
		p = p[k:]
		b.wleft -= int64(k)
		if b.wleft == 0 {
			if err := b.endFrame(); err != nil {
				return total - len(p), err
			}
		}
	}
	return total, nil
}

// maxBuffered is how many bytes the browser may hold, sent but not yet on
// the network (WebSocket.bufferedAmount), before a write waits: send never
// blocks, so without it a fast writer would grow the browser's memory
// without bound.
const maxBuffered = 4 << 20

// drainPoll is how often a waiting write looks at bufferedAmount again:
// the browser has no event for it going down.
const drainPoll = 10 * time.Millisecond

// waitDrained waits until the browser holds less than maxBuffered bytes,
// the write deadline passes or the transport closes.
func (b *browserConn) waitDrained() error {
	for {
		if b.writeDL.expired() {
			return os.ErrDeadlineExceeded
		}
		if b.ws.Get("bufferedAmount").Int() < maxBuffered {
			return nil
		}
		t := time.NewTimer(drainPoll)
		select {
		case <-t.C:
		case <-b.done:
			t.Stop()
			return net.ErrClosed
		case <-b.writeDL.channel():
			t.Stop()
		}
	}
}

// startFrame begins the payload of the frame whose header was parsed.
func (b *browserConn) startFrame() error {
	h := &b.wframe
	switch h.opcode {
	case opText, opBinary:
		if b.msgOp != 0 {
			return errors.New("websocket: browser transport: new message inside a message")
		}
		b.msgOp = h.opcode
		if h.fin {
			// The whole message in one frame: one allocation of its size.
			b.msg = make([]byte, 0, h.length)
		}
	case opContinuation:
		if b.msgOp == 0 {
			return errors.New("websocket: browser transport: continuation without a message")
		}
	case opClose:
		b.ctrl = b.ctrl[:0]
	default:
		return errBrowserControl
	}
	b.inFrame, b.wleft, b.wpos = true, h.length, 0
	if h.length == 0 {
		return b.endFrame()
	}
	return nil
}

// endFrame acts on a frame whose payload is complete.
func (b *browserConn) endFrame() error {
	b.inFrame = false
	h := &b.wframe
	if h.opcode == opClose {
		return b.sendClose(b.ctrl)
	}
	if !h.fin {
		return nil
	}
	op, msg := b.msgOp, b.msg
	b.msgOp, b.msg = 0, nil
	return b.send(op, msg)
}

// send hands one message to ws.send: the bytes are copied once into a
// Uint8Array, which a text message is decoded from.
func (b *browserConn) send(op opcode, msg []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = jsException(r)
		}
	}()
	if b.ws.Get("readyState").Int() != jsOpen {
		return fmt.Errorf("websocket: the browser's WebSocket is closing: %w", net.ErrClosed)
	}
	u8 := jsUint8Array.New(len(msg))
	js.CopyBytesToJS(u8, msg)
	if op == opText {
		b.ws.Call("send", jsTextDecoder.Call("decode", u8))
	} else {
		b.ws.Call("send", u8)
	}
	return nil
}

// sendClose starts the browser's closing handshake with the close frame's
// code and reason, the code mapped by browserCloseCode.
func (b *browserConn) sendClose(payload []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = jsException(r)
		}
	}()
	if s := b.ws.Get("readyState").Int(); s != jsOpen && s != jsConnecting {
		return nil // closing or closed already: the browser answered for us
	}
	if len(payload) < 2 {
		b.ws.Call("close")
		return nil
	}
	code := browserCloseCode(StatusCode(binary.BigEndian.Uint16(payload)))
	reason := payload[2:]
	if !utf8.Valid(reason) {
		reason = nil
	}
	b.ws.Call("close", int(code), string(reason))
	return nil
}

// Close closes the WebSocket, without a code when the close handshake did
// not take place, and stops its event handlers.
func (b *browserConn) Close() error {
	b.once.Do(func() {
		close(b.done)
		func() {
			defer func() { recover() }()
			if s := b.ws.Get("readyState").Int(); s == jsOpen || s == jsConnecting {
				b.ws.Call("close")
			}
		}()
		for _, name := range []string{"onopen", "onmessage", "onclose", "onerror"} {
			b.ws.Set(name, js.Null())
		}
		for _, f := range b.funcs {
			f.Release()
		}
		b.readDL.set(time.Time{})
		b.writeDL.set(time.Time{})
	})
	return nil
}

// browserAddr is the address of either end: the URL, the only thing a
// page knows of it.
type browserAddr string

func (a browserAddr) Network() string { return "websocket" }
func (a browserAddr) String() string  { return string(a) }

// LocalAddr returns the page's location, or "" outside a page.
func (b *browserConn) LocalAddr() net.Addr {
	loc := js.Global().Get("location")
	if loc.Type() != js.TypeObject {
		return browserAddr("")
	}
	return browserAddr(loc.Get("href").String())
}

// RemoteAddr returns the WebSocket's URL.
func (b *browserConn) RemoteAddr() net.Addr { return browserAddr(b.url) }

func (b *browserConn) SetDeadline(t time.Time) error {
	b.readDL.set(t)
	b.writeDL.set(t)
	return nil
}

func (b *browserConn) SetReadDeadline(t time.Time) error  { b.readDL.set(t); return nil }
func (b *browserConn) SetWriteDeadline(t time.Time) error { b.writeDL.set(t); return nil }

// jsException turns a recovered JavaScript exception into an error.
func jsException(r any) error {
	if e, ok := r.(js.Error); ok {
		return fmt.Errorf("websocket: the browser refused: %s", e.Get("message").String())
	}
	if e, ok := r.(error); ok {
		return fmt.Errorf("websocket: %w", e)
	}
	panic(r)
}

// jsDeadline is a deadline that blocked reads wait on as a channel, closed
// when it passes.
type jsDeadline struct {
	mu    sync.Mutex
	timer *time.Timer
	ch    chan struct{}
}

func (d *jsDeadline) init() { d.ch = make(chan struct{}) }

// set moves the deadline to t; the zero time means none.
func (d *jsDeadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		// It fired, or is firing: its channel is spent.
		d.ch = make(chan struct{})
	}
	d.timer = nil
	select {
	case <-d.ch:
		d.ch = make(chan struct{})
	default:
	}
	if t.IsZero() {
		return
	}
	wait := time.Until(t)
	if wait <= 0 {
		close(d.ch)
		return
	}
	ch := d.ch
	d.timer = time.AfterFunc(wait, func() { close(ch) })
}

// channel returns the channel closed when the deadline passes. A waiter
// woken by it checks expired: a deadline moved meanwhile has a new one.
func (d *jsDeadline) channel() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}

// expired reports whether the deadline has passed.
func (d *jsDeadline) expired() bool {
	select {
	case <-d.channel():
		return true
	default:
		return false
	}
}
