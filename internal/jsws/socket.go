//go:build js

package jsws

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall/js"
	"time"
)

// JavaScript readyState values of a WebSocket.
const (
	Connecting = 0
	Open       = 1
)

// Event is one event of the WebSocket for the reading side: a message, or
// the close event (final).
type Event struct {
	Close  bool     // the close event; Code, Reason and Clean describe it
	Text   bool     // a text message (else binary)
	Data   js.Value // a Uint8Array over the message's bytes
	N      int      // its length
	Code   int      // the close event's code
	Reason string   // and reason
	Clean  bool     // and wasClean
}

// Socket is one JavaScript WebSocket. Next is called by one reader at a
// time, Send and WaitDrained by one writer; Close by anyone.
type Socket struct {
	ws    js.Value
	url   string
	funcs []js.Func

	mu     sync.Mutex
	inbox  []Event       // events not yet read, in order
	wake   chan struct{} // signalled (capacity 1) when inbox grows
	opened chan struct{} // closed by the open event, or by the close event before it
	done   chan struct{} // closed by Close
	once   sync.Once

	// ReadDeadline bounds Next; WriteDeadline bounds WaitDrained.
	ReadDeadline  Deadline
	WriteDeadline Deadline
}

// Globals of the JavaScript host, looked up once.
var (
	jsUint8Array  = js.Global().Get("Uint8Array")
	jsArrayBuffer = js.Global().Get("ArrayBuffer")
	jsTextEncoder = js.Global().Get("TextEncoder").New()
	// fatal: text that is not UTF-8 fails the send (and so the
	// connection, as a peer would with 1007) instead of going out
	// altered: a browser sends only strings as text.
	jsTextDecoder = js.Global().Get("TextDecoder").New("utf-8", map[string]any{"fatal": true})
)

// Dial opens a WebSocket to url offering protocols, and returns it at once;
// Opened is closed when the connection opens or fails to. Any exception
// thrown by the constructor is returned.
func Dial(url string, protocols []string) (s *Socket, err error) {
	ctor := js.Global().Get("WebSocket")
	if ctor.Type() != js.TypeFunction {
		return nil, errors.New("websocket: the JavaScript host has no WebSocket (Node before 22 needs one, e.g. the ws package's, as globalThis.WebSocket)")
	}
	defer func() {
		if r := recover(); r != nil {
			err = exception(r)
		}
	}()
	list := make([]any, len(protocols))
	for i, p := range protocols {
		list[i] = p
	}
	s = &Socket{
		url:    url,
		wake:   make(chan struct{}, 1),
		opened: make(chan struct{}),
		done:   make(chan struct{}),
	}
	s.ReadDeadline.init()
	s.WriteDeadline.init()
	s.ws = ctor.New(url, js.ValueOf(list))
	// Binary messages as ArrayBuffers, whose bytes are copied once, into
	// the reader's slice; a Blob would need an asynchronous read first.
	s.ws.Set("binaryType", "arraybuffer")
	// The callbacks run while JavaScript waits: they must not block.
	s.on("open", func(js.Value) { s.signalOpen() })
	s.on("message", s.onMessage)
	s.on("close", s.onClose)
	// The close event that follows says what the page may know; Node's
	// ws package throws when no error handler is set.
	s.on("error", func(js.Value) {})
	return s, nil
}

// Closed reports whether Close has been called.
func (s *Socket) Closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Opened is closed once the connection is open or has failed to open.
func (s *Socket) Opened() <-chan struct{} { return s.opened }

// ReadyState returns the WebSocket's readyState (Connecting, Open...).
func (s *Socket) ReadyState() int { return s.ws.Get("readyState").Int() }

// Protocol returns the subprotocol the server chose, or "".
func (s *Socket) Protocol() string { return s.ws.Get("protocol").String() }

// Extensions returns the extensions the server accepted, or "".
func (s *Socket) Extensions() string { return s.ws.Get("extensions").String() }

// on sets the handler of the WebSocket event name.
func (s *Socket) on(name string, f func(e js.Value)) {
	fn := js.FuncOf(func(this js.Value, args []js.Value) any {
		f(args[0])
		return nil
	})
	s.funcs = append(s.funcs, fn)
	s.ws.Set("on"+name, fn)
}

func (s *Socket) signalOpen() {
	s.mu.Lock()
	select {
	case <-s.opened:
	default:
		close(s.opened)
	}
	s.mu.Unlock()
}

// push queues ev for the reader.
func (s *Socket) push(ev Event) {
	s.mu.Lock()
	s.inbox = append(s.inbox, ev)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Socket) onMessage(e js.Value) {
	data := e.Get("data")
	var ev Event
	switch {
	case data.Type() == js.TypeString:
		// Text arrives as a JavaScript string: encoded to UTF-8 once, in
		// JavaScript, then copied like binary.
		ev.Text = true
		ev.Data = jsTextEncoder.Call("encode", data)
	case data.InstanceOf(jsArrayBuffer):
		ev.Data = jsUint8Array.New(data)
	default:
		// binaryType was changed behind our back (a Blob): nothing can
		// read it synchronously. RFC 6455 §7.4.1: 1003, unsupported data.
		s.push(Event{Close: true, Code: 1003, Reason: "binary message of an unexpected JavaScript type"})
		return
	}
	ev.N = ev.Data.Get("length").Int()
	s.push(ev)
}

func (s *Socket) onClose(e js.Value) {
	s.push(Event{
		Close:  true,
		Code:   e.Get("code").Int(),
		Reason: e.Get("reason").String(),
		Clean:  e.Get("wasClean").Bool(),
	})
	s.signalOpen() // a connection that failed to open ends here
}

// Next waits for the next event, until the read deadline passes or the
// socket is closed.
func (s *Socket) Next() (Event, error) {
	for {
		s.mu.Lock()
		if len(s.inbox) > 0 {
			ev := s.inbox[0]
			s.inbox[0] = Event{}
			s.inbox = s.inbox[1:]
			s.mu.Unlock()
			return ev, nil
		}
		s.mu.Unlock()
		select {
		case <-s.done:
			return Event{}, net.ErrClosed
		default:
		}
		if s.ReadDeadline.Expired() {
			return Event{}, os.ErrDeadlineExceeded
		}
		select {
		case <-s.wake:
		case <-s.done:
		case <-s.ReadDeadline.Channel():
		}
	}
}

// CopyBytes copies the bytes of ev's message from pos into p, and returns
// how many it copied.
func CopyBytes(p []byte, ev *Event, pos int) int {
	k := min(len(p), ev.N-pos)
	if k <= 0 {
		return 0
	}
	src := ev.Data
	if pos > 0 || k < ev.N {
		src = src.Call("subarray", pos, pos+k)
	}
	js.CopyBytesToGo(p[:k], src)
	return k
}

// maxBuffered is how many bytes the browser may hold, sent but not yet on
// the network (WebSocket.bufferedAmount), before a write waits: send never
// blocks, so without it a fast writer would grow the browser's memory
// without bound.
const maxBuffered = 4 << 20

// drainPoll is how often a waiting write looks at bufferedAmount again:
// the browser has no event for it going down.
const drainPoll = 10 * time.Millisecond

// WaitDrained waits until the browser holds less than maxBuffered bytes,
// the write deadline passes or the socket closes.
func (s *Socket) WaitDrained() error {
	for {
		if s.WriteDeadline.Expired() {
			return os.ErrDeadlineExceeded
		}
		if s.ws.Get("bufferedAmount").Int() < maxBuffered {
			return nil
		}
		t := time.NewTimer(drainPoll)
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
			return net.ErrClosed
		case <-s.WriteDeadline.Channel():
			t.Stop()
		}
	}
}

// Send hands one message to ws.send: the bytes are copied once into a
// Uint8Array, which a text message is decoded from.
func (s *Socket) Send(text bool, msg []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = exception(r)
		}
	}()
	if s.ReadyState() != Open {
		return fmt.Errorf("websocket: the browser's WebSocket is closing: %w", net.ErrClosed)
	}
	u8 := jsUint8Array.New(len(msg))
	js.CopyBytesToJS(u8, msg)
	if text {
		s.ws.Call("send", jsTextDecoder.Call("decode", u8))
	} else {
		s.ws.Call("send", u8)
	}
	return nil
}

// CloseHandshake starts the browser's closing handshake with code and
// reason, or without a code when code is 0. A socket closing or closed
// already is left alone: the browser answered for us.
func (s *Socket) CloseHandshake(code int, reason string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = exception(r)
		}
	}()
	if st := s.ReadyState(); st != Open && st != Connecting {
		return nil
	}
	if code == 0 {
		s.ws.Call("close")
		return nil
	}
	s.ws.Call("close", code, reason)
	return nil
}

// Close closes the WebSocket, without a code when the close handshake did
// not take place, and stops its event handlers.
func (s *Socket) Close() error {
	s.once.Do(func() {
		close(s.done)
		func() {
			defer func() { recover() }()
			if st := s.ReadyState(); st == Open || st == Connecting {
				s.ws.Call("close")
			}
		}()
		for _, name := range []string{"onopen", "onmessage", "onclose", "onerror"} {
			s.ws.Set(name, js.Null())
		}
		for _, f := range s.funcs {
			f.Release()
		}
		s.ReadDeadline.Set(time.Time{})
		s.WriteDeadline.Set(time.Time{})
	})
	return nil
}

// Addr is the address of either end: the URL, the only thing a page knows
// of it.
type Addr string

// Network returns "websocket".
func (a Addr) Network() string { return "websocket" }

func (a Addr) String() string { return string(a) }

// LocalAddr returns the page's location, or "" outside a page.
func (s *Socket) LocalAddr() net.Addr {
	loc := js.Global().Get("location")
	if loc.Type() != js.TypeObject {
		return Addr("")
	}
	return Addr(loc.Get("href").String())
}

// RemoteAddr returns the WebSocket's URL.
func (s *Socket) RemoteAddr() net.Addr { return Addr(s.url) }

// exception turns a recovered JavaScript exception into an error.
func exception(r any) error {
	if e, ok := r.(js.Error); ok {
		return fmt.Errorf("websocket: the browser refused: %s", e.Get("message").String())
	}
	if e, ok := r.(error); ok {
		return fmt.Errorf("websocket: %w", e)
	}
	panic(r)
}
