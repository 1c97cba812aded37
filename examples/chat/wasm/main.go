//go:build js && wasm

// Command wasm is the chat page's client written in Go and compiled to
// WebAssembly: static/wasm.html runs it in place of static/chat.js, with
// the same markup, the same protocol (see the chat server's package
// comment) and the same server. It talks through websocket.Dial, which
// under GOOS=js opens the browser's WebSocket.
//
// Build it into the server's static files, then run the server:
//
//	go generate ./examples/chat  # static/chat.wasm and static/wasm_exec.js
//	go run ./examples/chat       # then open http://127.0.0.1:8080/wasm.html
package main

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"github.com/rfc6455/websocket"
)

// maxLines bounds the lines kept per room, as chat.js does.
const maxLines = 500

// event is what the server sends; request what the page sends.
type event struct {
	Type    string   `json:"type"`
	Nick    string   `json:"nick"`
	Room    string   `json:"room"`
	From    string   `json:"from"`
	Text    string   `json:"text"`
	Members []string `json:"members"`
}

type request struct {
	Type string `json:"type"`
	Room string `json:"room"`
	Text string `json:"text,omitempty"`
}

type line struct{ from, text string }

type room struct {
	name    string
	lines   []line
	members []string
	unread  bool
}

// page is the chat's state and its view. Event handlers and the reading
// goroutine both change it, under mu.
type page struct {
	doc js.Value

	mu      sync.Mutex
	out     chan request // to the connection's writer; nil when not connected
	rooms   []*room      // in the order joined
	current string
}

func main() {
	p := &page{doc: js.Global().Get("document")}
	p.on("login", "onsubmit", func(js.Value) { go p.connect(strings.TrimSpace(p.value("nick"))) })
	p.on("join", "onsubmit", func(js.Value) {
		name := strings.TrimSpace(p.value("room"))
		p.el("room").Set("value", "")
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.find(name) != nil {
			p.current = name
			p.render()
			return
		}
		p.send(request{Type: "join", Room: name})
	})
	p.on("say", "onsubmit", func(js.Value) {
		text := p.value("text")
		p.mu.Lock()
		defer p.mu.Unlock()
		if text == "" || p.current == "" {
			return
		}
		p.send(request{Type: "say", Room: p.current, Text: text})
		p.el("text").Set("value", "")
		p.el("text").Call("focus")
	})
	p.on("leave", "onclick", func(js.Value) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.send(request{Type: "leave", Room: p.current})
	})
	// One handler for the room list: the item clicked names its room.
	p.on("room-list", "onclick", func(e js.Value) {
		name := e.Get("target").Get("dataset").Get("room")
		if name.Type() != js.TypeString {
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		p.current = name.String()
		p.render()
	})
	p.setStatus("not connected")
	if js.Global().Get("pendingConnect").Truthy() {
		go p.connect(strings.TrimSpace(p.value("nick")))
	}
	select {} // the handlers run for the life of the page
}

// connect dials the server that served the page as nick and reads its
// events until the connection ends.
func (p *page) connect(nick string) {
	loc := js.Global().Get("location")
	scheme := "ws://"
	if loc.Get("protocol").String() == "https:" {
		scheme = "wss://"
	}
	p.setStatus("connecting…")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, scheme+loc.Get("host").String()+"/ws?nick="+url.QueryEscape(nick), nil)
	if err != nil {
		p.setStatus("could not connect: " + err.Error())
		return
	}
	defer conn.CloseNow()
	// One writer, so that requests go out in the order they were made.
	out := make(chan request, 64)
	defer close(out)
	go func() {
		for req := range out {
			if conn.WriteJSON(req) != nil {
				conn.CloseNow() // the read below ends and says why
			}
		}
	}()
	p.mu.Lock()
	p.out = out
	p.mu.Unlock()
	p.setStatus("connected as " + nick)
	for {
		var ev event
		if err := conn.ReadJSON(&ev); err != nil {
			p.closed(err)
			return
		}
		p.mu.Lock()
		p.handle(ev)
		p.render()
		p.mu.Unlock()
	}
}

// closed shows why the connection ended and goes back to the login form.
func (p *page) closed(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out = nil
	status := "closed: " + err.Error()
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		status = "closed: " + ce.Code.String() + " " + ce.Reason
	}
	p.setStatus(status)
	p.el("chat").Set("hidden", true)
	p.el("login").Set("hidden", false)
	p.rooms, p.current = nil, ""
	p.render()
}

// send queues req for the writer, dropping it when the queue is full: a
// handler of the page must not block the browser's event loop. The caller
// holds mu.
func (p *page) send(req request) {
	select {
	case p.out <- req:
	default:
	}
}

// handle applies one event to the state; the caller holds mu.
func (p *page) handle(ev event) {
	switch ev.Type {
	case "welcome":
		p.el("login").Set("hidden", true)
		p.el("chat").Set("hidden", false)
		p.el("room").Call("focus")
	case "joined":
		p.rooms = append(p.rooms, &room{name: ev.Room})
		p.current = ev.Room
	case "left":
		p.rooms = slices.DeleteFunc(p.rooms, func(r *room) bool { return r.name == ev.Room })
		if p.current == ev.Room {
			p.current = ""
			if len(p.rooms) > 0 {
				p.current = p.rooms[0].name
			}
		}
	case "members":
		if r := p.find(ev.Room); r != nil {
			for _, m := range ev.Members {
				if !slices.Contains(r.members, m) && len(r.members) > 0 {
					p.addLine(ev.Room, "", m+" joined")
				}
			}
			for _, m := range r.members {
				if !slices.Contains(ev.Members, m) {
					p.addLine(ev.Room, "", m+" left")
				}
			}
			r.members = ev.Members
		}
	case "message":
		p.addLine(ev.Room, ev.From, ev.Text)
	case "error":
		target := ev.Room
		if p.find(target) == nil {
			target = p.current
		}
		p.addLine(target, "", "error: "+ev.Text)
	}
}

func (p *page) find(name string) *room {
	for _, r := range p.rooms {
		if r.name == name {
			return r
		}
	}
	return nil
}

func (p *page) addLine(name, from, text string) {
	r := p.find(name)
	if r == nil {
		return
	}
	r.lines = append(r.lines, line{from, text})
	if len(r.lines) > maxLines {
		r.lines = r.lines[1:]
	}
	if name != p.current {
		r.unread = true
	}
}

// render redraws the room list, the current room and its members; the
// caller holds mu.
func (p *page) render() {
	list := p.el("room-list")
	list.Call("replaceChildren")
	for _, r := range p.rooms {
		li := p.item(r.name)
		switch {
		case r.name == p.current:
			li.Set("className", "current")
			r.unread = false
		case r.unread:
			li.Set("className", "unread")
		}
		list.Call("append", li)
	}

	r := p.find(p.current)
	title := "join a room"
	if r != nil {
		title = p.current
	}
	p.el("room-title").Set("textContent", title)
	for _, id := range []string{"leave", "text", "send"} {
		p.el(id).Set("disabled", r == nil)
	}

	msgs := p.el("messages")
	msgs.Call("replaceChildren")
	members := p.el("member-list")
	members.Call("replaceChildren")
	if r == nil {
		return
	}
	for _, l := range r.lines {
		li := p.doc.Call("createElement", "li")
		if l.from != "" {
			from := p.doc.Call("createElement", "span")
			from.Set("className", "from")
			from.Set("textContent", l.from)
			li.Call("append", from, p.doc.Call("createTextNode", l.text))
		} else {
			li.Set("className", "system")
			li.Set("textContent", l.text)
		}
		msgs.Call("append", li)
	}
	msgs.Set("scrollTop", msgs.Get("scrollHeight"))
	for _, m := range r.members {
		members.Call("append", p.item(m))
	}
}

// item returns a new list item showing text.
func (p *page) item(text string) js.Value {
	li := p.doc.Call("createElement", "li")
	li.Set("textContent", text)
	li.Get("dataset").Set("room", text)
	return li
}

func (p *page) el(id string) js.Value  { return p.doc.Call("getElementById", id) }
func (p *page) value(id string) string { return p.el(id).Get("value").String() }
func (p *page) setStatus(text string)  { p.el("status").Set("textContent", text) }

// on sets the handler of element id's event to f, preventing the default
// action (a form's submission). The function lives as long as the page.
func (p *page) on(id, event string, f func(e js.Value)) {
	p.el(id).Set(event, js.FuncOf(func(this js.Value, args []js.Value) any {
		args[0].Call("preventDefault")
		f(args[0])
		return nil
	}))
}
