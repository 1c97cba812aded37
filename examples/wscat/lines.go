package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/rfc6455/websocket"
)

// maxLine is the longest line read from standard input: the library's
// default read limit, the largest message a peer with defaults accepts.
const maxLine = websocket.DefaultReadLimit

// lineReader reads standard input on its own goroutine, so that the caller
// can wait for a line and for the connection at the same time.
type lineReader struct {
	lines    chan []byte // each line without its end; closed after the last
	done     chan struct{}
	stopOnce sync.Once
	err      error // why reading stopped, nil at EOF; set before lines closes
}

func newLineReader(r io.Reader) *lineReader {
	l := &lineReader{lines: make(chan []byte), done: make(chan struct{})}
	go l.loop(r)
	return l
}

func (l *lineReader) loop(r io.Reader) {
	defer close(l.lines)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for sc.Scan() {
		line := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		select {
		case l.lines <- bytes.Clone(line):
		case <-l.done:
			return
		}
	}
	l.err = sc.Err()
}

// stop lets the reading goroutine end after its current read, instead of
// waiting for someone to take its line. A read of standard input itself
// cannot be interrupted; it ends with the process.
func (l *lineReader) stop() { l.stopOnce.Do(func() { close(l.done) }) }

// printer writes messages, or status lines, from any number of goroutines.
// On a terminal it shares a screen with the prompt.
type printer struct {
	w      io.Writer
	mark   string // before each message: "< " on a terminal, so that it stands apart from typed lines
	screen *screen
}

// screen is the terminal that standard output and standard error share in
// an interactive session, and the prompt shown on it while wscat waits for
// a line. Piped, it has no prompt and does nothing.
type screen struct {
	mu      sync.Mutex
	prompt  string    // "> " on a terminal, "" when piped
	out     io.Writer // where the prompt goes
	showing bool      // the prompt is on the last line of the screen
}

// eraseLine moves to the start of the line and clears it (ANSI CR + EL),
// so that a message does not land after the prompt.
const eraseLine = "\r\x1b[K"

// newPrinters returns the printers of messages (stdout) and of status
// (stderr); interactive marks messages and shows a prompt.
func newPrinters(stdout, stderr io.Writer, interactive bool) (out, status *printer) {
	sc := &screen{out: stdout}
	out = &printer{w: stdout, screen: sc}
	if interactive {
		sc.prompt, out.mark = "> ", "< "
	}
	return out, &printer{w: stderr, screen: sc}
}

// print writes data and a newline. Binary messages are written as they are.
func (p *printer) print(data []byte) error {
	p.screen.mu.Lock()
	defer p.screen.mu.Unlock()
	p.screen.clearLocked()
	_, err := io.WriteString(p.w, p.mark)
	if err == nil {
		_, err = p.w.Write(data)
	}
	if err == nil {
		_, err = io.WriteString(p.w, "\n")
	}
	p.screen.redrawLocked()
	return err
}

// printf writes a status line.
func (p *printer) printf(format string, args ...any) {
	p.screen.mu.Lock()
	defer p.screen.mu.Unlock()
	p.screen.clearLocked()
	fmt.Fprintf(p.w, format, args...)
	p.screen.redrawLocked()
}

// show puts the prompt on the screen: wscat waits for a line.
func (s *screen) show() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.prompt != "" && !s.showing {
		io.WriteString(s.out, s.prompt)
		s.showing = true
	}
}

// taken notes that a line was entered: the terminal has moved past the
// prompt.
func (s *screen) taken() {
	s.mu.Lock()
	s.showing = false
	s.mu.Unlock()
}

// hide takes the prompt off the screen for good: no more lines are read.
func (s *screen) hide() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clearLocked()
	s.prompt, s.showing = "", false
}

// clearLocked erases the prompt, if it is showing, before a line is printed.
func (s *screen) clearLocked() {
	if s.showing {
		io.WriteString(s.out, eraseLine)
	}
}

// redrawLocked puts the prompt back after a line was printed.
func (s *screen) redrawLocked() {
	if s.showing {
		io.WriteString(s.out, s.prompt)
	}
}
