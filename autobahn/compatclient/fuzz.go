package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rfc6455/websocket/compat/gorilla"
)

// readLimit is above the largest message of the suite (16 MiB in section 9).
const readLimit = 64 << 20

// config is the command line.
type config struct {
	url         string
	agent       string
	cases       string
	compress    bool
	caseTimeout time.Duration
	verbose     bool
}

// run asks for the case count, runs the selected cases and updates the
// reports. A case that ends in an error is the suite's business (it judges
// and reports it); run fails only when it cannot talk to the server.
func run(ctx context.Context, cfg config, out io.Writer) error {
	base, err := url.Parse(cfg.url)
	if err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	d := &websocket.Dialer{EnableCompression: cfg.compress, HandshakeTimeout: 30 * time.Second}
	count, err := caseCount(ctx, d, endpoint(base, "/getCaseCount", nil))
	if err != nil {
		return fmt.Errorf("getting the case count: %w", err)
	}
	selected, err := parseCases(cfg.cases, count)
	if err != nil {
		return fmt.Errorf("-cases: %w", err)
	}
	fmt.Fprintf(out, "%d cases on the server, running %d as agent %q (compression %v)\n", count, len(selected), cfg.agent, cfg.compress)
	for _, n := range selected {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		u := endpoint(base, "/runCase", url.Values{"case": {strconv.Itoa(n)}, "agent": {cfg.agent}})
		err := runCase(ctx, d, u, cfg.caseTimeout)
		if cfg.verbose {
			fmt.Fprintf(out, "case %d: %v\n", n, describeEnd(err))
		}
	}
	if err := updateReports(ctx, d, endpoint(base, "/updateReports", url.Values{"agent": {cfg.agent}})); err != nil {
		return fmt.Errorf("updating the reports: %w", err)
	}
	fmt.Fprintln(out, "reports updated")
	return nil
}

// endpoint returns base with path and query.
func endpoint(base *url.URL, path string, q url.Values) string {
	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = q.Encode()
	return u.String()
}

// dial opens a connection to u whose reads and writes end when ctx does,
// with the suite's read limit.
func dial(ctx context.Context, d *websocket.Dialer, u string) (*websocket.Conn, func(), error) {
	c, _, err := d.DialContext(ctx, u, nil)
	if err != nil {
		return nil, nil, err
	}
	c.SetReadLimit(readLimit)
	// The gorilla API has no context on reads: a deadline stands for ctx's,
	// and Close for its cancellation.
	if dl, ok := ctx.Deadline(); ok {
		c.SetReadDeadline(dl)
		c.SetWriteDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	return c, func() { stop(); c.Close() }, nil
}

// caseCount reads the single text message /getCaseCount sends.
func caseCount(ctx context.Context, d *websocket.Dialer, u string) (int, error) {
	c, done, err := dial(ctx, d, u)
	if err != nil {
		return 0, err
	}
	defer done()
	typ, msg, err := c.ReadMessage()
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(msg)))
	if typ != websocket.TextMessage || err != nil || n < 0 {
		return 0, fmt.Errorf("case count message %q is not a number", msg)
	}
	// Then the server closes; reading on answers its close (Close would
	// drop the connection without the closing handshake).
	return n, readToClose(c)
}

// readToClose reads and drops messages until the peer's close frame, which
// the Conn answers. Another end of the connection is an error.
func readToClose(c *websocket.Conn) error {
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
				return nil
			}
			return err
		}
	}
}

// runCase echoes every message of one case until the connection ends, and
// returns why it ended.
func runCase(ctx context.Context, d *websocket.Dialer, u string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, done, err := dial(ctx, d, u)
	if err != nil {
		return err
	}
	defer done()
	for {
		typ, msg, err := c.ReadMessage()
		if err != nil {
			return err
		}
		if err := c.WriteMessage(typ, msg); err != nil {
			return err
		}
	}
}

// updateReports asks the server to write the reports and waits for it to
// close the connection, which it does once they are written.
func updateReports(ctx context.Context, d *websocket.Dialer, u string) error {
	c, done, err := dial(ctx, d, u)
	if err != nil {
		return err
	}
	defer done()
	return readToClose(c)
}

// describeEnd says how a case's connection ended.
func describeEnd(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return "closed by the server with " + strconv.Itoa(ce.Code)
	}
	return "ended: " + err.Error()
}

// parseCases turns "1-10,15" into the case indexes it names, in order and
// without repeats; "" means 1 to count. Indexes are 1-based, as runCase
// takes them, and must not exceed count.
func parseCases(spec string, count int) ([]int, error) {
	if strings.TrimSpace(spec) == "" {
		all := make([]int, count)
		for i := range all {
			all[i] = i + 1
		}
		return all, nil
	}
	seen := map[int]bool{}
	var out []int
	for part := range strings.SplitSeq(spec, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("%q is not a case index or range", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("%q is not a case index or range", part)
			}
		}
		if a < 1 || b < a || b > count {
			return nil, fmt.Errorf("%q is outside 1-%d", part, count)
		}
		for n := a; n <= b; n++ {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out, nil
}
