package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// requiredEnv, set to 1 (as .ci/run does), turns a missing redis-server
// from a skip into a failure, as for the interop peers of internal/interop.
const requiredEnv = "WEBSOCKET_INTEROP_REQUIRED"

// waitTimeout bounds every wait of these tests for something a process
// does, so that a broken instance fails a test instead of hanging it.
const waitTimeout = 15 * time.Second

// requireRedisServer returns the path of redis-server, or skips t (fails it
// under requiredEnv) when it is not installed.
func requireRedisServer(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		const howTo = "run: apt-get install redis-server"
		if os.Getenv(requiredEnv) == "1" {
			t.Fatalf("redis-server is missing and %s=1: %s", requiredEnv, howTo)
		}
		t.Skipf("redis-server is missing: %s; then run again (set %s=1 to make this a failure)", howTo, requiredEnv)
	}
	return path
}

// redisServer is a redis-server process of a test, on a loopback port,
// keeping nothing on disk.
type redisServer struct {
	t    *testing.T
	bin  string
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// startRedis starts redis-server on a free loopback port and waits until it
// answers; it is stopped when the test ends.
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	r := &redisServer{t: t, bin: requireRedisServer(t), port: freePort(t)}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d", r.port) }

// start runs redis-server and waits until it answers PING.
func (r *redisServer) start() {
	r.t.Helper()
	out := &logWatch{}
	r.cmd = exec.Command(r.bin, "--port", fmt.Sprint(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.t.TempDir())
	r.cmd.Stdout, r.cmd.Stderr = out, out
	require.NoError(r.t, r.cmd.Start())
	r.done = make(chan struct{})
	go func() { r.cmd.Wait(); close(r.done) }()
	// redis-server logs this line once it accepts connections.
	if !out.waitFor("Ready to accept connections", waitTimeout, r.done) {
		r.stop()
		r.t.Fatalf("redis-server did not start on port %d:\n%s", r.port, out)
	}
}

// stop ends redis-server, as an administrator's restart would (SIGTERM),
// and waits until it has exited.
func (r *redisServer) stop() {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(waitTimeout):
		r.cmd.Process.Kill()
		<-r.done
	}
	r.cmd = nil
}

// publish publishes payload on channel of r, as a foreign or broken
// publisher would.
func (r *redisServer) publish(channel string, payload []byte) {
	r.t.Helper()
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", r.port), DisableIdentity: true})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	require.NoError(r.t, c.Publish(ctx, channel, payload).Err())
}

// freePort returns a loopback TCP port nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// instance is a chat instance of a test: this test binary run again as the
// program (see TestMain), with its log watched.
type instance struct {
	t     *testing.T
	name  string
	cmd   *exec.Cmd
	wsURL string
	log   *logWatch
	done  chan struct{} // closed when the process has exited
	err   error         // its exit status, once done
}

// startInstance starts a chat instance on a free loopback port with args
// after its -addr, and waits until it serves. It is stopped with SIGTERM
// when the test ends, if still running.
func startInstance(t *testing.T, name string, args ...string) *instance {
	t.Helper()
	static, err := filepath.Abs("../static")
	require.NoError(t, err)
	args = append([]string{"-addr", "127.0.0.1:0", "-static", static}, args...)
	encoded, err := json.Marshal(args)
	require.NoError(t, err)
	in := &instance{t: t, name: name, log: &logWatch{}, done: make(chan struct{})}
	in.cmd = exec.Command(os.Args[0], "-test.run=^$")
	in.cmd.Env = append(os.Environ(), instanceArgsEnv+"="+string(encoded))
	in.cmd.Stderr = in.log
	stdout, err := in.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, in.cmd.Start())
	lines := bufio.NewScanner(stdout)
	first := make(chan string, 1)
	go func() {
		if lines.Scan() {
			first <- lines.Text()
		}
		close(first)
		for lines.Scan() { // the shutdown line; keep the pipe drained
		}
		in.err = in.cmd.Wait()
		close(in.done)
	}()
	t.Cleanup(func() {
		in.stop(syscall.SIGTERM)
		t.Logf("log of %s:\n%s", name, in.log)
	})
	var line string
	select {
	case line = <-first:
	case <-time.After(waitTimeout):
	}
	url, ok := strings.CutPrefix(line, "chat: serving ")
	if !ok {
		in.stop(syscall.SIGKILL)
		t.Fatalf("%s: first line %q; log:\n%s", name, line, in.log)
	}
	in.wsURL = "ws" + strings.TrimPrefix(strings.TrimSuffix(url, "/"), "http") + "/ws"
	return in
}

// stop sends sig to the instance, if it still runs, and waits until it has
// exited.
func (in *instance) stop(sig syscall.Signal) {
	in.signal(sig)
	in.wait()
}

// signal sends sig to the instance, if it still runs.
func (in *instance) signal(sig syscall.Signal) {
	select {
	case <-in.done:
	default:
		in.cmd.Process.Signal(sig)
	}
}

// wait waits until the instance has exited, killing it after waitTimeout.
func (in *instance) wait() {
	select {
	case <-in.done:
	case <-time.After(waitTimeout):
		in.cmd.Process.Kill()
		<-in.done
		in.t.Errorf("%s did not exit within %v", in.name, waitTimeout)
	}
}

// requireRunning fails the test if the instance has exited.
func (in *instance) requireRunning() {
	in.t.Helper()
	select {
	case <-in.done:
		in.t.Fatalf("%s exited (%v); log:\n%s", in.name, in.err, in.log)
	default:
	}
}

// waitLog waits until the instance's log holds s, failing the test after
// waitTimeout or if the instance exits first.
func (in *instance) waitLog(s string) {
	in.t.Helper()
	if !in.log.waitFor(s, waitTimeout, in.done) {
		in.t.Fatalf("%s: %q not logged within %v; log:\n%s", in.name, s, waitTimeout, in.log)
	}
}

// logWatch keeps what a process writes, from any goroutine, and wakes
// those waiting for a line.
type logWatch struct {
	mu      sync.Mutex
	buf     []byte
	changed chan struct{} // closed and replaced on every write
}

// maxLog bounds what a logWatch keeps.
const maxLog = 1 << 20

func (w *logWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if room := maxLog - len(w.buf); room > 0 {
		w.buf = append(w.buf, p[:min(room, len(p))]...)
	}
	if w.changed != nil {
		close(w.changed)
		w.changed = nil
	}
	return len(p), nil
}

func (w *logWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}

// waitFor reports whether s was written within d, giving up early when
// exited is closed.
func (w *logWatch) waitFor(s string, d time.Duration, exited <-chan struct{}) bool {
	return w.waitCount(s, 1, d, exited)
}

// waitCount reports whether s was written at least n times within d,
// giving up early when exited is closed. A process's output reaches the
// watch through a pipe, some time after the process wrote it.
func (w *logWatch) waitCount(s string, n int, d time.Duration, exited <-chan struct{}) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		w.mu.Lock()
		found := strings.Count(string(w.buf), s) >= n
		if w.changed == nil {
			w.changed = make(chan struct{})
		}
		changed := w.changed
		w.mu.Unlock()
		if found {
			return true
		}
		select {
		case <-changed:
		case <-exited:
			return strings.Count(w.String(), s) >= n
		case <-deadline.C:
			return false
		}
	}
}
