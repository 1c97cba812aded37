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

// printer writes messages to standard output, one per line, from any number
// of goroutines.
type printer struct {
	mu sync.Mutex
	w  io.Writer
}

// print writes data and a newline. Binary messages are written as they are.
func (p *printer) print(data []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.w.Write(data); err != nil {
		return err
	}
	_, err := io.WriteString(p.w, "\n")
	return err
}

// printf writes a status line.
func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}
