//lint:file-ignore SA1019 net/http of Go 1.26 cannot send an extended CONNECT (it refuses the :protocol field): the tests use x/net's HTTP/2 client.

package http2xconnect_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	_ "github.com/rfc6455/websocket/http2xconnect"
	"golang.org/x/net/http2"
)

// extendedConnectAllowed reports whether an HTTP/2 server of net/http in
// this process accepts an extended CONNECT (RFC 8441), by sending one.
func extendedConnectAllowed(t *testing.T) bool {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	t2 := &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}}
	defer t2.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodConnect, srv.URL+"/", http.NoBody)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(":protocol", "websocket")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := t2.RoundTrip(req.WithContext(ctx))
	if err != nil {
		if strings.Contains(err.Error(), "extended connect not supported") {
			return false
		}
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// TestChild is run by TestEnvironment in a child process, whose GODEBUG
// it sets before the process starts; it checks what the servers do then.
func TestChild(t *testing.T) {
	want := os.Getenv("HTTP2XCONNECT_WANT")
	if want == "" {
		t.Skip("run by TestEnvironment only")
	}
	if got := extendedConnectAllowed(t); got != (want == "allowed") {
		t.Fatalf("GODEBUG=%q: extended CONNECT allowed: %v, want %s", os.Getenv("GODEBUG"), got, want)
	}
}

// TestEnvironment starts this test binary with several GODEBUG values and
// checks that the import enables extended CONNECT before net/http reads
// the variable, keeping other settings and an explicit choice.
func TestEnvironment(t *testing.T) {
	for _, tc := range []struct{ godebug, want string }{
		{"", "allowed"},
		{"http2debug=0", "allowed"},
		{"http2xconnect=0", "refused"},
	} {
		t.Run("GODEBUG="+tc.godebug, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "GODEBUG="+tc.godebug, "HTTP2XCONNECT_WANT="+tc.want)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
		})
	}
}
