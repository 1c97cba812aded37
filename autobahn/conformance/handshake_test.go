package conformance

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// acceptFor computes Sec-WebSocket-Accept for key (RFC 6455 §4.2.2 step 5.4).
func acceptFor(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// rawClient connects to our server at addr and performs the client's
// opening handshake by hand (RFC 6455 §4.1). extensions, when not empty, is
// the Sec-WebSocket-Extensions offer; the server's answer is returned.
func rawClient(addr, path, extensions string, deadline time.Time) (*net.TCPConn, *bufio.Reader, string, error) {
	d := net.Dialer{Deadline: deadline}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, nil, "", err
	}
	conn := c.(*net.TCPConn)
	_ = conn.SetDeadline(deadline)
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", path, addr)
	fmt.Fprintf(&req, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", key)
	if extensions != "" {
		fmt.Fprintf(&req, "Sec-WebSocket-Extensions: %s\r\n", extensions)
	}
	req.WriteString("\r\n")
	if _, err := conn.Write([]byte(req.String())); err != nil {
		conn.Close()
		return nil, nil, "", err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, nil, "", fmt.Errorf("reading the handshake answer: %w", err)
	}
	switch {
	case resp.StatusCode != http.StatusSwitchingProtocols:
		err = fmt.Errorf("handshake answered %s", resp.Status)
	case !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket"):
		err = fmt.Errorf("handshake answer has Upgrade %q", resp.Header.Get("Upgrade"))
	case resp.Header.Get("Sec-WebSocket-Accept") != acceptFor(key):
		err = fmt.Errorf("handshake answer has Sec-WebSocket-Accept %q, want %q", resp.Header.Get("Sec-WebSocket-Accept"), acceptFor(key))
	}
	if err != nil {
		conn.Close()
		return nil, nil, "", err
	}
	return conn, br, strings.Join(resp.Header.Values("Sec-WebSocket-Extensions"), ", "), nil
}

// rawServer accepts one connection from our client on ln and answers its
// opening handshake by hand (RFC 6455 §4.2.2). answer decides the
// Sec-WebSocket-Extensions of the reply from the client's offer ("" for
// none); it may fail the row when the offer is not what the row needs.
func rawServer(ln *net.TCPListener, deadline time.Time, answer func(offer string) (string, error)) (*net.TCPConn, *bufio.Reader, string, error) {
	_ = ln.SetDeadline(deadline)
	conn, err := ln.AcceptTCP()
	if err != nil {
		return nil, nil, "", err
	}
	_ = conn.SetDeadline(deadline)
	br := bufio.NewReader(conn)
	req, err := http.ReadRequest(br)
	if err != nil {
		conn.Close()
		return nil, nil, "", fmt.Errorf("reading the handshake request: %w", err)
	}
	key := req.Header.Get("Sec-WebSocket-Key")
	switch {
	case req.Method != http.MethodGet:
		err = fmt.Errorf("handshake method %s", req.Method)
	case !headerHas(req.Header, "Connection", "upgrade"), !headerHas(req.Header, "Upgrade", "websocket"):
		err = fmt.Errorf("handshake without Connection: Upgrade and Upgrade: websocket: %v", req.Header)
	case req.Header.Get("Sec-WebSocket-Version") != "13":
		err = fmt.Errorf("handshake version %q", req.Header.Get("Sec-WebSocket-Version"))
	case len(key) != 24:
		err = fmt.Errorf("handshake key %q", key)
	}
	offer := strings.Join(req.Header.Values("Sec-WebSocket-Extensions"), ", ")
	var ext string
	if err == nil {
		ext, err = answer(offer)
	}
	if err != nil {
		conn.Close()
		return nil, nil, "", err
	}
	var resp strings.Builder
	fmt.Fprintf(&resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n", acceptFor(key))
	if ext != "" {
		fmt.Fprintf(&resp, "Sec-WebSocket-Extensions: %s\r\n", ext)
	}
	resp.WriteString("\r\n")
	if _, err := conn.Write([]byte(resp.String())); err != nil {
		conn.Close()
		return nil, nil, "", err
	}
	return conn, br, offer, nil
}

// headerHas reports whether a comma-separated header field of h lists token.
func headerHas(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
