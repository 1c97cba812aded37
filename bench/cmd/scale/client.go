package main

import (
	"context"
	"errors"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/rfc6455/websocket/bench"
)

// Environment of a client process.
const (
	urlEnv = "SCALE_URL" // the server's ws:// URL
	srcEnv = "SCALE_SRC" // the loopback source address of its connections
)

// dialWorkers is how many handshakes a client process runs at once: enough
// to keep the servers busy, few enough that the listen backlog
// (net.core.somaxconn, 4096 here) never overflows.
const dialWorkers = 32

// client holds one client process's connections, all idle but the ones
// an echo command uses.
type client struct {
	lib   bench.Library
	url   string
	opts  bench.Options
	conns []bench.Conn
}

// runClient is a client process: it opens, exercises and closes
// connections to one server address from one source address as told.
func runClient() {
	soft, hard := raiseFileLimit()
	c := &client{lib: bench.LibraryByName(os.Getenv(libEnv)), url: os.Getenv(urlEnv)}
	if c.lib == nil {
		serveCommands(reply{Err: "unknown library " + os.Getenv(libEnv)}, nil)
		return
	}
	src := net.ParseIP(os.Getenv(srcEnv))
	// A source address of its own gives each client process its own range
	// of ephemeral ports (32768–60999 here: 28,232 per address).
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Control: bindNoPort}
	c.opts.NetDial = d.DialContext
	serveCommands(reply{Soft: soft, Hard: hard}, c.command)
}

// bindNoPort sets IP_BIND_ADDRESS_NO_PORT on a client socket: binding to
// the source address then leaves the port to connect, which needs it
// unique for the address pair only. Without it bind picks a port unused
// by any socket of the address, TIME_WAIT ones of an earlier run among
// them, and slows to a crawl as they fill the range (220 connections/s
// instead of 3,000 at 20,000 connections in one run here).
func bindNoPort(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}

func (c *client) command(cmd command) reply {
	var r reply
	switch cmd.Op {
	case "dial":
		r.Failures, r.FirstEr = c.dial(cmd.N)
	case "echo":
		r.RTT, r.Failures, r.FirstEr = c.echo(cmd.N, cmd.Rounds, cmd.Interval)
	case "close":
		for _, conn := range c.conns {
			conn.Close()
		}
		c.conns = nil
	default:
		r.Err = "unknown command " + cmd.Op
	}
	r.Open = len(c.conns)
	return r
}

// dial opens n more connections, dialWorkers at a time, and returns how
// many failed and the first error.
func (c *client) dial(n int) (int, string) {
	failures, err := openMany(n, func() (bench.Conn, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return c.lib.Dial(ctx, c.url, c.opts)
	}, func(conn bench.Conn) { c.conns = append(c.conns, conn) })
	if err != nil {
		return failures, err.Error()
	}
	return failures, ""
}

// openMany runs open n times, dialWorkers at a time, and hands what each
// success opened to keep, one call at a time. It returns how many failed
// and the first error.
func openMany[T any](n int, open func() (T, error), keep func(T)) (int, error) {
	var (
		mu       sync.Mutex
		failures int
		first    error
		wg       sync.WaitGroup
	)
	next := make(chan struct{})
	for range min(dialWorkers, n) {
		wg.Go(func() {
			for range next {
				v, err := open()
				mu.Lock()
				if err != nil {
					failures++
					if first == nil {
						first = err
					}
				} else {
					keep(v)
				}
				mu.Unlock()
			}
		})
	}
	for range n {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	return failures, first
}

// echoSize is the payload of the active connections' messages: a short
// chat line.
const echoSize = 64

// echo makes n of the connections active: each sends a message every
// interval, rounds times, and waits for its echo. It returns the round-trip
// times in microseconds, sorted, and the failures.
func (c *client) echo(n, rounds int, interval time.Duration) ([]int64, int, string) {
	conns := c.conns[:min(n, len(c.conns))]
	msg := bench.Payload(bench.Binary, echoSize)
	rtts, failures, err := echoMany(len(conns), rounds, interval, func(i int) func() error {
		conn := conns[i]
		return func() error {
			if err := conn.WriteMessage(bench.Binary, msg); err != nil {
				return err
			}
			_, p, err := conn.ReadMessage()
			if err == nil && len(p) != echoSize {
				err = errShortEcho
			}
			return err
		}
	})
	if err != nil {
		return rtts, failures, err.Error()
	}
	return rtts, failures, ""
}

// echoMany runs rounds round trips on each of n connections at once, one
// per interval, their starts spread over the interval; roundTrip(i) returns
// connection i's round trip. It returns the round trips' times in
// microseconds, sorted, how many connections failed, and the first error.
func echoMany(n, rounds int, interval time.Duration, roundTrip func(i int) func() error) ([]int64, int, error) {
	var (
		mu       sync.Mutex
		rtts     []int64
		failures int
		first    error
		wg       sync.WaitGroup
	)
	for i := range n {
		wg.Go(func() {
			t := time.NewTicker(interval)
			defer t.Stop()
			time.Sleep(interval * time.Duration(i) / time.Duration(n))
			trip := roundTrip(i)
			mine := make([]int64, 0, rounds)
			var err error
			for range rounds {
				start := time.Now()
				if err = trip(); err != nil {
					break
				}
				mine = append(mine, time.Since(start).Microseconds())
				<-t.C
			}
			mu.Lock()
			rtts = append(rtts, mine...)
			if err != nil {
				failures++
				if first == nil {
					first = err
				}
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(rtts)
	return rtts, failures, first
}

// errShortEcho is an echo of another size than the message sent.
var errShortEcho = errors.New("scale: the echo differs in size from the message")
