package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ChildEnv is the environment variable that makes the test binary run as
// the loopback server (RunChild) instead of running tests.
const ChildEnv = "BENCH_CHILD_SERVER"

// server is the child process's state: the connections it serves and the
// broadcast groups.
type server struct {
	mu      sync.Mutex
	active  int           // upgraded connections whose handler runs
	changed chan struct{} // closed and replaced whenever active changes
	groups  map[string]map[Conn]struct{}
}

// RunChild serves the loopback workloads on 127.0.0.1 until its standard
// input ends, and returns the exit code. It prints "ADDR host:port" first.
func RunChild() int {
	RaiseFileLimit()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		return 1
	}
	s := &server{changed: make(chan struct{}), groups: map[string]map[Conn]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws/{lib}", s.serveWS)
	mux.HandleFunc("/ctl/rusage", s.serveRusage)
	mux.HandleFunc("/ctl/mem", s.serveMem)
	mux.HandleFunc("/ctl/active", s.serveActive)
	mux.HandleFunc("/ctl/broadcast", s.serveBroadcast)
	// Profiles of the server, for run.sh's profile step and by hand.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Printf("ADDR %s\n", ln.Addr())
	// The parent holds our standard input; when it ends, so do we.
	io.Copy(io.Discard, os.Stdin)
	return 0
}

func (s *server) addActive(d int) {
	s.mu.Lock()
	s.active += d
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

// serveWS upgrades with the library named in the path and runs the mode of
// the query: echo (api=alloc, append or stream; see EchoAPI) or sink (a
// broadcast member), in the handler pattern of the query (handler=loop or
// return).
func (s *server) serveWS(w http.ResponseWriter, r *http.Request) {
	lib := LibraryByName(r.PathValue("lib"))
	if lib == nil {
		http.Error(w, "unknown library", http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	comp, err := ParseCompression(q.Get("comp"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c, err := lib.Upgrade(w, r, Options{Compression: comp})
	if err != nil {
		return
	}
	s.addActive(1)
	mode, api := q.Get("mode"), q.Get("api")
	serve := func() {
		defer s.addActive(-1)
		defer c.Close()
		if mode == "sink" {
			s.sink(lib.Name(), c)
		} else {
			Echo(c, api)
		}
	}
	if q.Get("handler") == "return" {
		// The connection gets a goroutine of its own and the handler
		// returns, as gorilla's chat example does: net/http then lets go of
		// its per-connection state (its 4 KiB reader and writer among it).
		go serve()
		return
	}
	// The read loop runs inside the handler, as gorilla's echo example and
	// most applications do: net/http's connection goroutine, with its
	// state, lives as long as the WebSocket.
	serve()
}

// The read APIs of the workloads, as the api= of their names.
const (
	apiAlloc  = "alloc"  // ReadMessage: the library's allocating call
	apiAppend = "append" // AppendMessage into a reused buffer
	apiStream = "stream" // NextReader and NextWriter
)

// Echo sends every message back with the calls of api until the connection
// fails: ReadMessage or AppendMessage then WriteMessage, or the streaming
// calls (EchoStream).
func Echo(c Conn, api string) error {
	if api == apiStream {
		return EchoStream(c)
	}
	var buf []byte
	for {
		t, p, err := readWhole(c, api, buf)
		if err != nil {
			return err
		}
		if err := c.WriteMessage(t, p); err != nil {
			return err
		}
		if api == apiAppend {
			buf = p[:0]
		}
	}
}

// readWhole reads one message with ReadMessage or, for api=append, with
// AppendMessage into buf's spare capacity.
func readWhole(c Conn, api string, buf []byte) (MsgType, []byte, error) {
	if api == apiAppend {
		return c.AppendMessage(buf[:0])
	}
	return c.ReadMessage()
}

// streamChunk is the caller's buffer size of the streaming workloads.
const streamChunk = 32 << 10

// EchoStream sends every message back through the streaming calls, chunk
// by chunk as it arrives, until the connection fails.
func EchoStream(c Conn) error {
	var buf []byte
	for {
		t, r, err := c.NextReader()
		if err != nil {
			return err
		}
		w, err := c.NextWriter(t)
		if err != nil {
			return err
		}
		if buf == nil {
			buf = make([]byte, streamChunk)
		}
		if err := copyChunks(w, r, buf); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
}

// copyChunks copies r to w through buf, with the same code for every
// library (io.CopyBuffer would take the shortcuts some of them offer).
func copyChunks(w io.Writer, r io.Reader, buf []byte) error {
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// sink registers c as a member of its library's broadcast group and reads
// until the connection ends.
func (s *server) sink(lib string, c Conn) {
	s.mu.Lock()
	g := s.groups[lib]
	if g == nil {
		g = map[Conn]struct{}{}
		s.groups[lib] = g
	}
	g[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(g, c)
		s.mu.Unlock()
	}()
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			return
		}
	}
}

// serveBroadcast takes a tcp-adapter connection from the parent; each
// message on it triggers one broadcast of a prepared message (lib, size,
// type from the query) to every member of the library's group, one after
// the other from this goroutine.
func (s *server) serveBroadcast(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lib := LibraryByName(q.Get("lib"))
	size, err := strconv.Atoi(q.Get("size"))
	if lib == nil || err != nil || size < 0 || size > readLimit {
		http.Error(w, "bad lib or size", http.StatusBadRequest)
		return
	}
	typ := Binary
	if q.Get("type") == "text" {
		typ = Text
	}
	pm, err := lib.Prepare(typ, Payload(typ, size))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ctl, err := tcpLib{}.Upgrade(w, r, Options{})
	if err != nil {
		return
	}
	defer ctl.Close()
	var members []Conn
	var buf []byte
	for {
		_, p, err := ctl.AppendMessage(buf)
		if err != nil {
			return
		}
		buf = p[:0]
		s.mu.Lock()
		members = members[:0]
		for c := range s.groups[lib.Name()] {
			members = append(members, c)
		}
		s.mu.Unlock()
		failed := 0
		for _, c := range members {
			if c.WritePrepared(pm) != nil {
				failed++
			}
		}
		if failed > 0 {
			fmt.Fprintf(os.Stderr, "bench child: broadcast: %d of %d writes failed\n", failed, len(members))
		}
	}
}

func (s *server) serveRusage(w http.ResponseWriter, r *http.Request) {
	u, sy := processCPU()
	fmt.Fprintf(w, "%d %d\n", u, sy)
}

// serveMem collects garbage and reports live heap bytes, stack bytes,
// goroutines and active connections.
func (s *server) serveMem(w http.ResponseWriter, r *http.Request) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	s.mu.Lock()
	active := s.active
	s.mu.Unlock()
	fmt.Fprintf(w, "%d %d %d %d\n", ms.HeapAlloc, ms.StackInuse, runtime.NumGoroutine(), active)
}

// serveActive waits until the number of active connections is want, or the
// timeout passes (408), and reports it.
func (s *server) serveActive(w http.ResponseWriter, r *http.Request) {
	want, err1 := strconv.Atoi(r.URL.Query().Get("want"))
	timeout, err2 := time.ParseDuration(r.URL.Query().Get("timeout"))
	if err1 != nil || err2 != nil {
		http.Error(w, "want and timeout needed", http.StatusBadRequest)
		return
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		s.mu.Lock()
		n, ch := s.active, s.changed
		s.mu.Unlock()
		if n == want {
			fmt.Fprintln(w, n)
			return
		}
		select {
		case <-ch:
		case <-t.C:
			http.Error(w, strconv.Itoa(n), http.StatusRequestTimeout)
			return
		}
	}
}

// ParseCompression parses the names Compression.String returns; "" is off.
func ParseCompression(s string) (Compression, error) {
	switch s {
	case "", "off":
		return CompressionOff, nil
	case "nocontext":
		return CompressionNoContext, nil
	case "context":
		return CompressionContext, nil
	}
	return 0, fmt.Errorf("bench: unknown compression %q", s)
}

// Child is the parent's handle on the server process.
type Child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	// Addr is the server's host:port on 127.0.0.1.
	Addr string
	http *http.Client
}

// StartChild starts this executable as the server (see ChildEnv) and waits
// for its address.
func StartChild() (*Child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), ChildEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &Child{cmd: cmd, stdin: stdin, http: &http.Client{Timeout: 2 * time.Minute}}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "ADDR ")
	if err != nil || !ok {
		c.Stop()
		return nil, fmt.Errorf("bench: child server did not start: %q %v", line, err)
	}
	c.Addr = addr
	go io.Copy(io.Discard, stdout)
	return c, nil
}

// Stop ends the server: it closes its standard input and waits, killing it
// after 10 seconds.
func (c *Child) Stop() error {
	c.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		return <-done
	}
}

// URL returns the ws:// URL of lib's endpoint with query.
func (c *Child) URL(lib, query string) string {
	return "ws://" + c.Addr + "/ws/" + lib + "?" + query
}

func (c *Child) get(path string) ([]int64, error) {
	resp, err := c.http.Get("http://" + c.Addr + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("bench: %s: %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
	}
	var out []int64
	for f := range strings.FieldsSeq(string(body)) {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// CPU returns the server process's CPU time so far, user plus system.
func (c *Child) CPU() (time.Duration, error) {
	v, err := c.get("/ctl/rusage")
	if err != nil {
		return 0, err
	}
	if len(v) != 2 {
		return 0, errors.New("bench: bad rusage answer")
	}
	return time.Duration(v[0] + v[1]), nil
}

// MemStats is the server's memory after a collection.
type MemStats struct {
	Heap, Stack, Goroutines, Active int64
}

// Mem returns the server's live heap, stacks, goroutines and active
// connections, after collecting garbage.
func (c *Child) Mem() (MemStats, error) {
	v, err := c.get("/ctl/mem")
	if err != nil {
		return MemStats{}, err
	}
	if len(v) != 4 {
		return MemStats{}, errors.New("bench: bad mem answer")
	}
	return MemStats{v[0], v[1], v[2], v[3]}, nil
}

// WaitActive waits until the server has exactly n connections upgraded and
// served, at most timeout.
func (c *Child) WaitActive(n int, timeout time.Duration) error {
	_, err := c.get(fmt.Sprintf("/ctl/active?want=%d&timeout=%s", n, timeout))
	return err
}

// Profile saves the server's profile name (heap, goroutine, allocs...)
// with query (such as "gc=1" or "seconds=5") to path.
func (c *Child) Profile(name, query, path string) error {
	resp, err := c.http.Get("http://" + c.Addr + "/debug/pprof/" + name + "?" + query)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: profile %s: %s", name, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Broadcaster opens the control connection whose messages make the server
// broadcast a size-byte message of typ to lib's group.
func (c *Child) Broadcaster(ctx context.Context, lib string, typ MsgType, size int) (Conn, error) {
	return tcpLib{}.Dial(ctx, fmt.Sprintf("ws://%s/ctl/broadcast?lib=%s&type=%s&size=%d", c.Addr, lib, typ, size), Options{})
}
