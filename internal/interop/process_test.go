package interop

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// peerTimeout bounds every wait on a peer: its start, an event, a message.
const peerTimeout = 15 * time.Second

// peerEvent is one JSON line a fixture script prints (see node/peer.js).
type peerEvent struct {
	Event      string `json:"event"`
	Path       string `json:"path"`
	Code       int    `json:"code"`
	Reason     string `json:"reason"`
	Protocol   string `json:"protocol"`
	Extensions string `json:"extensions"`
	Message    string `json:"message"`
	Pongs      int    `json:"pongs"`
	SID        string `json:"sid"` // engine.io, socket.io
	ID         string `json:"id"`  // primus
}

// lineLog collects the lines a process writes, and wakes waiters on each.
type lineLog struct {
	mu      sync.Mutex
	partial []byte
	lines   []string
	changed chan struct{} // closed and replaced when a line arrives
}

func newLineLog() *lineLog { return &lineLog{changed: make(chan struct{})} }

// Write splits p into lines; os/exec calls it from its copying goroutine.
func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	added := false
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, string(l.partial[:i]))
		l.partial = l.partial[i+1:]
		added = true
	}
	if added {
		close(l.changed)
		l.changed = make(chan struct{})
	}
	return len(p), nil
}

// snapshot returns the lines so far and a channel closed when more arrive.
func (l *lineLog) snapshot() ([]string, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines, l.changed
}

// String returns everything written, for failure messages.
func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n") + string(l.partial)
}

// peerProcess is a running script of the Node fixture.
type peerProcess struct {
	script string
	stdout *lineLog
	stderr *lineLog
	exited chan struct{} // closed once the process has been waited for
	port   int           // for servers: the port printed on the first line
}

// startPeer runs "node <script> args..." in the fixture folder. The process
// is killed and waited for when t ends; its output is logged if t failed.
func startPeer(t *testing.T, script string, args ...string) *peerProcess {
	t.Helper()
	node, dir := requireNode(t)
	cmd := exec.Command(node, append([]string{script}, args...)...)
	cmd.Dir = dir
	p := &peerProcess{script: script, stdout: newLineLog(), stderr: newLineLog(), exited: make(chan struct{})}
	cmd.Stdout = p.stdout
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", script, err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("%s stdout:\n%s\n%s stderr:\n%s", script, p.stdout, script, p.stderr)
		}
	})
	return p
}

// startServerPeer starts a fixture server and waits for the port it prints.
func startServerPeer(t *testing.T, script string, args ...string) *peerProcess {
	t.Helper()
	p := startPeer(t, script, args...)
	line := p.waitLine(t, func(string) bool { return true })
	port, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("%s: first line %q is not a port", script, line)
	}
	p.port = port
	return p
}

// url returns ws://127.0.0.1:port followed by path.
func (p *peerProcess) url(path string) string {
	return "ws://127.0.0.1:" + strconv.Itoa(p.port) + path
}

// waitLine returns the first stdout line that match accepts, failing t when
// none comes within peerTimeout or the process exits first.
func (p *peerProcess) waitLine(t *testing.T, match func(string) bool) string {
	t.Helper()
	timer := time.NewTimer(peerTimeout)
	defer timer.Stop()
	seen := 0
	for {
		lines, changed := p.stdout.snapshot()
		for ; seen < len(lines); seen++ {
			if match(lines[seen]) {
				return lines[seen]
			}
		}
		select {
		case <-changed:
		case <-p.exited:
			// A last look: the lines may have been written just before exit.
			if lines, _ := p.stdout.snapshot(); len(lines) > seen {
				continue
			}
			t.Fatalf("%s exited before the expected line", p.script)
		case <-timer.C:
			t.Fatalf("%s: no expected line within %v", p.script, peerTimeout)
		}
	}
}

// waitEvent returns the first event of kind for path that the peer reports.
func (p *peerProcess) waitEvent(t *testing.T, kind, path string) peerEvent {
	t.Helper()
	var ev peerEvent
	p.waitLine(t, func(line string) bool {
		var e peerEvent
		if json.Unmarshal([]byte(line), &e) != nil || e.Event != kind || e.Path != path {
			return false
		}
		ev = e
		return true
	})
	return ev
}
