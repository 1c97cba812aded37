package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// roleEnv names the role a process of this program plays: "server" or
// "client" (the orchestrator, which starts them, has none). Tests set it in
// their TestMain so that the test binary plays the roles too.
const roleEnv = "SCALE_ROLE"

// command is one line the orchestrator sends to a server or client process
// on its standard input; each is answered with one reply line.
type command struct {
	Op       string        `json:"op"`                 // see serveCommands and clientCommands
	N        int           `json:"n,omitempty"`        // dial: connections to add; echo: active ones
	Rounds   int           `json:"rounds,omitempty"`   // echo: round trips per active connection
	Interval time.Duration `json:"interval,omitempty"` // echo: time between two round trips
	Path     string        `json:"path,omitempty"`     // profile: where to write the heap profile
}

// reply is the answer to a command, and the first line a process prints.
type reply struct {
	Err string `json:"err,omitempty"`
	// First line of a server: where it listens and its open-file limits.
	Addr string `json:"addr,omitempty"`
	Soft uint64 `json:"soft,omitempty"`
	Hard uint64 `json:"hard,omitempty"`
	// First line of an in-process step: the bytes of one idle pipe alone,
	// which its per-connection figures include.
	PipeBytes int64 `json:"pipe_bytes,omitempty"`
	// mem, active: the server's figures.
	Mem      memory `json:"mem"`
	Active   int    `json:"active"`
	Failures int    `json:"failures"` // server: failed accepts and upgrades; client: failed dials and echoes
	// dial: connections now open; echo: round-trip times in microseconds.
	Open    int     `json:"open"`
	RTT     []int64 `json:"rtt,omitempty"`
	FirstEr string  `json:"first_err,omitempty"`
}

// proc is the orchestrator's handle on a server or client process.
type proc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// startProc runs this executable in role with env added, and reads its
// first reply.
func startProc(role string, env ...string) (*proc, reply, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, reply{}, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(append(os.Environ(), roleEnv+"="+role), env...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, reply{}, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, reply{}, err
	}
	if err := cmd.Start(); err != nil {
		return nil, reply{}, err
	}
	p := &proc{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	p.out.Buffer(nil, 64<<20)
	r, err := p.read()
	if err != nil {
		p.stop()
		return nil, r, fmt.Errorf("%s process did not start: %w", role, err)
	}
	return p, r, nil
}

func (p *proc) read() (reply, error) {
	var r reply
	if !p.out.Scan() {
		if err := p.out.Err(); err != nil {
			return r, err
		}
		return r, io.ErrUnexpectedEOF
	}
	if err := json.Unmarshal(p.out.Bytes(), &r); err != nil {
		return r, err
	}
	if r.Err != "" {
		return r, fmt.Errorf("%s", r.Err)
	}
	return r, nil
}

// do sends c and waits for the answer.
func (p *proc) do(c command) (reply, error) {
	b, _ := json.Marshal(c)
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		return reply{}, err
	}
	return p.read()
}

// stop closes the process's standard input, which ends it, and waits; it
// kills a process still there after 30 seconds.
func (p *proc) stop() {
	p.in.Close()
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

// serveCommands reads commands from standard input until it ends and
// writes handle's reply to each on standard output, after first. With a
// nil handle it writes first only (a process that could not start).
func serveCommands(first reply, handle func(command) reply) {
	enc := json.NewEncoder(os.Stdout)
	enc.Encode(first)
	if handle == nil {
		return
	}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var c command
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			enc.Encode(reply{Err: err.Error()})
			continue
		}
		enc.Encode(handle(c))
	}
}
