//go:build linux

package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBrowserGoPageChatsWithJSPage runs, in headless Chromium, the
// JavaScript chat page (static/index.html) beside the page whose client is
// Go compiled to WebAssembly (static/wasm.html with wasm/main.go, built
// here), both driven through their forms by twoPagesHTML: each must
// display the line the other typed.
func TestBrowserGoPageChatsWithJSPage(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv(interopRequiredEnv) == "1" {
			t.Fatalf("%s is missing and %s=1: run: apt-get install chromium", chromiumPath, interopRequiredEnv)
		}
		t.Skipf("%s is missing: run apt-get install chromium (set %s=1 to make this a failure)", chromiumPath, interopRequiredEnv)
	}
	// ann is the JavaScript page, bo the Go one.
	mixed := strings.Replace(twoPagesHTML, `<iframe id="bo" src="/"`, `<iframe id="bo" src="/wasm.html"`, 1)
	require.NotEqual(t, twoPagesHTML, mixed, "twoPagesHTML no longer has bo's iframe")

	// What go generate would put in static/, built fresh for this test.
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(dir, "chat.wasm"), "./wasm")
	build.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building wasm/: %s", out)
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	require.NoError(t, err)
	wasmExec := filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js")

	s := newServer(64, 0, t.Logf)
	results := make(chan browserResult, 1)
	mux := http.NewServeMux()
	mux.Handle("/", s.routes())
	mux.HandleFunc("GET /chat.wasm", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, filepath.Join(dir, "chat.wasm"))
	})
	mux.HandleFunc("GET /wasm_exec.js", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, wasmExec)
	})
	mux.HandleFunc("GET /mixed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, mixed)
	})
	mux.HandleFunc("POST /result", func(w http.ResponseWriter, r *http.Request) {
		var res browserResult
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&res); err != nil {
			res.Error = "decoding the result: " + err.Error()
		}
		select {
		case results <- res:
		default:
		}
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()

	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	defer cancel()
	logs := &cappedBuffer{max: 64 << 10}
	cmd := exec.Command(chromiumPath,
		"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-quic", "--disable-dev-shm-usage",
		"--user-data-dir="+t.TempDir(),
		ts.URL+"/mixed")
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		s.hub.shutdown(1001, reasonGoingAway)
		wctx, wcancel := context.WithTimeout(context.Background(), ioTimeout)
		defer wcancel()
		assert.NoError(t, s.hub.wait(wctx))
	}()

	var res browserResult
	select {
	case res = <-results:
	case err := <-exited:
		exited <- err
		t.Fatalf("chromium exited before the pages chatted (%v); its output:\n%s", err, logs)
	case <-ctx.Done():
		t.Fatalf("no result from the pages within %v; chromium's output:\n%s", browserTimeout, logs)
	}
	require.Empty(t, res.Error, "chromium's output:\n%s", logs)
	assert.Equal(t, "annhello from ann", res.BoSaw, "the Go page's display of the JavaScript page's line")
	assert.Equal(t, "bohi ann, bo here", res.AnnSaw, "the JavaScript page's display of the Go page's line")
	assert.Equal(t, "ann,bo", res.Members, "the Go page's member list")
	assert.Equal(t, []string{"ann", "bo"}, s.hub.members("lobby"))
}
