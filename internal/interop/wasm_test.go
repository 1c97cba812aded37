//go:build linux

package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
)

// wasmTimeout bounds one run of the wasm test binary, under Node or in
// Chromium.
const wasmTimeout = 3 * time.Minute

// wasmTests selects the tests of the root package that speak to
// wasmServer through the JavaScript host's WebSocket (browser_js_test.go).
const wasmTests = "^TestBrowser"

// TestWasm builds the root package's tests for GOOS=js GOARCH=wasm and
// runs the browser client's tests (browser_js_test.go) twice against our
// Upgrader: under Node, with Go's wasm_exec_node.js and the ws package's
// WebSocket as the global one, and in headless Chromium, whose page
// reports the tests' output and exit code. node-portable runs the rest of
// the package's tests under Node, less notPortable. The wasm side checks what its
// Conn sees; this side checks that the close codes and reasons the Conn
// sent arrived.
func TestWasm(t *testing.T) {
	node, nodeDir := requireNode(t)
	chromium := requireChromium(t)
	goroot, wasmBin := buildWasmTests(t)

	t.Run("node", func(t *testing.T) {
		srv := startWasmServer(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), wasmTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "--stack-size=8192",
			filepath.Join(goroot, "lib", "wasm", "wasm_exec_node.js"),
			wasmBin, "-test.v", "-test.count=1", "-test.run="+wasmTests)
		cmd.Env = append(os.Environ(),
			"NODE_OPTIONS=--require "+filepath.Join(nodeDir, "websocket-global.js"),
			"WEBSOCKET_WASM_SERVER="+srv.wsURL,
			requiredEnv+"=1")
		out, err := cmd.CombinedOutput()
		checkWasmRun(t, "node", string(out), err)
		srv.checkCloses(t)
	})

	t.Run("node-portable", func(t *testing.T) {
		// The rest of the package's tests, as GOOS=js GOARCH=wasm go
		// test runs them: without serverEnv their Dials take the other
		// ports' handshake over the js port's in-process network.
		ctx, cancel := context.WithTimeout(context.Background(), portableTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "--stack-size=8192",
			filepath.Join(goroot, "lib", "wasm", "wasm_exec_node.js"),
			wasmBin, "-test.v", "-test.count=1", "-test.skip="+notPortable)
		// In the package's folder, as go test runs it: some tests read
		// testdata/ and README.md.
		cmd.Dir = filepath.Join("..", "..")
		out, err := cmd.CombinedOutput()
		passed := strings.Count(string(out), "--- PASS: ")
		if err != nil || strings.Contains(string(out), "--- FAIL") || passed < 500 {
			t.Fatalf("the portable tests under node: %v (a test that cannot run under js/wasm goes in notPortable, with why); output:\n%s", err, out)
		}
		t.Logf("interop wasm node-portable: %d tests and subtests passed", passed)
	})

	t.Run("chromium", func(t *testing.T) {
		results := make(chan wasmPageResult, 1)
		srv := startWasmServer(t, func(mux *http.ServeMux) {
			mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				io.WriteString(w, wasmPage)
			})
			mux.HandleFunc("GET /wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
				http.ServeFile(w, r, filepath.Join(goroot, "lib", "wasm", "wasm_exec.js"))
			})
			mux.HandleFunc("GET /test.wasm", func(w http.ResponseWriter, r *http.Request) {
				http.ServeFile(w, r, wasmBin)
			})
			mux.HandleFunc("POST /results", func(w http.ResponseWriter, r *http.Request) {
				var res wasmPageResult
				if err := json.NewDecoder(io.LimitReader(r.Body, 4<<20)).Decode(&res); err != nil {
					res.Output = "decoding the page's results: " + err.Error()
					res.Code = -1
				}
				trySend(results, res)
			})
		})
		startChromium(t, chromium, srv.httpURL+"/")
		select {
		case res := <-results:
			var err error
			if res.Code != 0 {
				err = fmt.Errorf("exit code %d", res.Code)
			}
			checkWasmRun(t, "chromium", res.Output, err)
		case <-time.After(wasmTimeout):
			t.Fatalf("the page reported nothing within %v", wasmTimeout)
		}
		srv.checkCloses(t)
	})
}

// portableTimeout bounds the run of the package's portable tests under
// Node: about a thousand tests on one thread.
const portableTimeout = 20 * time.Minute

// notPortable are the root package's tests that cannot run under js/wasm,
// skipped by the node-portable run: the browser client's tests (run by the
// other subtests, with their server), and tests that need what the js
// port's in-process network or runtime lacks. A new test of that kind
// belongs here, with the reason.
var notPortable = "^(" + strings.Join([]string{
	"TestBrowser.*", // browser_js_test.go: run by TestWasm/node and /chromium
	// They start processes (Chromium, a child test binary): js has none.
	"TestHTTP2Browser",
	"TestHandlerLoopStack",
	// It waits for readers parked in "[IO wait]", a state the in-process
	// network's goroutines never show.
	"TestIdleReaderStack",
	// SetWriteBuffer, which these use to fill the peer's socket at
	// once, is not supported by the in-process network.
	"TestHostilePingFloodNeverReading",
	"TestHostilePongStall",
	"TestHostileNeverReads",
	"TestWriteStallNeverReadingPeer",
	"TestWriteStallSlowReaderNotCut",
	// Their bound on bytes allocated counts the in-process network's
	// own allocations, which a kernel socket does not make.
	"TestHostilePingFlood",
	// They write 70 to 100 KB before the peer reads, which a kernel
	// socket's buffer takes and the in-process network's does not.
	"TestIdleConnReturnsReadBuffer",
	"TestServerSendsUnmaskedClientMasked",
	// net/http's Transport under js is the host's fetch, whose Headers
	// refuse the :protocol pseudo-header of an extended CONNECT (it
	// panics in syscall/js).
	"TestDialHTTP2NetHTTPTransport",
}, "|") + ")$"

// wasmPageResult is what wasmPage posts: the test binary's output and exit
// code.
type wasmPageResult struct {
	Code   int    `json:"code"`
	Output string `json:"output"`
}

// wasmPage runs the wasm test binary as a page would run a Go program,
// with the flags and environment go test would give it, and posts its
// output and exit code to /results.
const wasmPage = `<!doctype html>
<meta charset="utf-8">
<title>wasm tests</title>
<script src="/wasm_exec.js"></script>
<script>
"use strict";
let output = "";
const decoder = new TextDecoder();
const writeSync = globalThis.fs.writeSync;
globalThis.fs.writeSync = function (fd, buf) {
  output += decoder.decode(buf, {stream: true});
  return writeSync.call(this, fd, buf);
};
const go = new Go();
go.argv = ["test.wasm", "-test.v", "-test.count=1", "-test.run=` + wasmTests + `"];
go.env = {WEBSOCKET_WASM_SERVER: "ws://" + location.host, ` + requiredEnv + `: "1"};
let code = -1;
go.exit = (c) => { code = c; };
const report = () => fetch("/results", {method: "POST", body: JSON.stringify({code, output})});
WebAssembly.instantiateStreaming(fetch("/test.wasm"), go.importObject)
  .then((r) => go.run(r.instance))
  .then(report, (e) => { output += "\npage: " + e; report(); });
</script>
`

// checkWasmRun fails t unless the run passed every wasm test without a
// skip, and logs what ran.
func checkWasmRun(t *testing.T, host, out string, err error) {
	t.Helper()
	passed := regexp.MustCompile(`(?m)^\s*--- PASS: (TestBrowser\w*) `).FindAllStringSubmatch(out, -1)
	var names []string
	for _, m := range passed {
		names = append(names, m[1])
	}
	if err != nil || strings.Contains(out, "--- SKIP") || strings.Contains(out, "--- FAIL") || len(names) < 7 {
		t.Fatalf("the wasm tests under %s: %v; output:\n%s", host, err, out)
	}
	t.Logf("interop wasm %s: %d tests passed: %s", host, len(names), strings.Join(names, " "))
}

// buildWasmTests compiles the root package's tests for js/wasm and returns
// GOROOT, where wasm_exec.js lives, and the binary.
func buildWasmTests(t *testing.T) (goroot, bin string) {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go is not on PATH: %v", err)
	}
	out, err := exec.Command(gobin, "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	goroot = strings.TrimSpace(string(out))
	bin = filepath.Join(t.TempDir(), "websocket.test.wasm")
	cmd := exec.Command(gobin, "test", "-c", "-o", bin, "github.com/rfc6455/websocket")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the wasm tests: %v\n%s", err, out)
	}
	return goroot, bin
}

// wasmServer serves the endpoints browser_js_test.go uses, and collects
// the close codes its /echo connections received.
type wasmServer struct {
	httpURL, wsURL string

	mu     sync.Mutex
	closes []websocket.CloseError
}

// startWasmServer starts the server on loopback, with more routes from
// extra when it is not nil.
func startWasmServer(t *testing.T, extra func(*http.ServeMux)) *wasmServer {
	s := &wasmServer{}
	u := &websocket.Upgrader{Subprotocols: []string{"wasm.v1"}}
	var handlers sync.WaitGroup
	mux := http.NewServeMux()
	mux.HandleFunc("GET /echo", func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		conn, err := u.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		defer conn.CloseNow()
		for {
			typ, data, err := conn.ReadMessage()
			if err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					s.mu.Lock()
					s.closes = append(s.closes, *ce)
					s.mu.Unlock()
				}
				return
			}
			if err := conn.WriteMessage(typ, data); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("GET /close", func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		conn, err := u.Upgrade(w, r, nil)
		if err != nil {
			t.Errorf("upgrade: %v", err)
			return
		}
		defer conn.CloseNow()
		typ, data, err := conn.ReadMessage()
		if err == nil {
			err = conn.WriteMessage(typ, data)
		}
		if err == nil {
			err = conn.CloseWithStatus(4002, "server: bye")
		}
		if err != nil {
			t.Errorf("/close: %v", err)
		}
	})
	mux.HandleFunc("GET /refuse", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	})
	if extra != nil {
		extra(mux)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		handlers.Wait()
	})
	s.httpURL = srv.URL
	s.wsURL = "ws" + strings.TrimPrefix(srv.URL, "http")
	return s
}

// checkCloses fails t unless the server received, on /echo, the client's
// close with a code and reason, the normal close, and the read limit's
// close, whose code 1009 a browser cannot send and goes as 4009.
func (s *wasmServer) checkCloses(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	got := slices.Clone(s.closes)
	s.mu.Unlock()
	for _, want := range []websocket.CloseError{
		{Code: 4001, Reason: "client: bye"},
		{Code: 1000, Reason: "messages: done"},
		{Code: 4009, Reason: "message larger than the read limit"},
	} {
		if !slices.Contains(got, want) {
			t.Errorf("the server did not receive close %d %q; it received %+v", want.Code, want.Reason, got)
		}
	}
}
