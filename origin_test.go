package websocket

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// What the Upgrader does with the default origin check (internal/origin)
// end to end.

// originRequest sends a handshake with the given extra header lines to
// addr and returns the answer's status; the connection is closed.
func originRequest(t *testing.T, addr string, extra ...string) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(testTimeout))
	if _, err := io.WriteString(conn, rawRequest(addr, extra...)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}

// TestOriginDefaultRefusesCrossSite sends the handshake a page of another
// site would make a browser send, with the visitor's cookie: the default
// Upgrader answers 403 and Upgrade reports it; without Origin (not a
// browser) or from the server's own origin, the upgrade goes through.
func TestOriginDefaultRefusesCrossSite(t *testing.T) {
	refused := make(chan error, 4)
	addr := startHostileServer(t, &Upgrader{
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			refused <- reason
			http.Error(w, http.StatusText(status), status)
		},
	}, nil, func(c *Conn) {})
	if got := originRequest(t, addr, "Origin: https://evil.example", "Cookie: session=secret"); got != http.StatusForbidden {
		t.Fatalf("cross-site handshake answered %d, want 403", got)
	}
	var he *HandshakeError
	if err := <-refused; !errors.As(err, &he) || he.Status != http.StatusForbidden {
		t.Fatalf("Upgrade reported %v, want a *HandshakeError with 403", err)
	}
	if got := originRequest(t, addr, "Cookie: session=secret"); got != http.StatusSwitchingProtocols {
		t.Errorf("handshake without Origin answered %d, want 101", got)
	}
	if got := originRequest(t, addr, "Origin: http://"+addr, "Cookie: session=secret"); got != http.StatusSwitchingProtocols {
		t.Errorf("same-origin handshake answered %d, want 101", got)
	}
}

// TestCheckOriginTrueOpensToEverySite shows what a CheckOrigin that returns
// true gives away: a page of any site upgrades with the visitor's cookie,
// which the handler then takes for the visitor's own.
func TestCheckOriginTrueOpensToEverySite(t *testing.T) {
	cookies := make(chan string, 1)
	u := &Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r, nil)
		if err != nil {
			cookies <- "refused: " + err.Error()
			return
		}
		defer c.CloseNow()
		session, _ := r.Cookie("session")
		cookies <- session.Value
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	if got := originRequest(t, addr, "Origin: https://evil.example", "Cookie: session=secret"); got != http.StatusSwitchingProtocols {
		t.Fatalf("cross-site handshake answered %d, want 101 with CheckOrigin returning true", got)
	}
	if c := <-cookies; c != "secret" {
		t.Fatalf("handler saw the cookie %q", c)
	}
}
