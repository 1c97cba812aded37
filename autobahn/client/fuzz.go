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

	"github.com/rfc6455/websocket"
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
	d := newDialer(cfg.compress)
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

// newDialer returns our client's Dialer: it offers permessage-deflate with
// context takeover when compress is set (the fuzzing server's sections 12
// and 13 need it), nothing otherwise.
func newDialer(compress bool) *websocket.Dialer {
	d := &websocket.Dialer{ReadLimit: readLimit, HandshakeTimeout: 30 * time.Second}
	if compress {
		d.Compression = websocket.CompressionOptions{Mode: websocket.CompressionContextTakeover}
	}
	return d
}

// endpoint returns base with path and query.
func endpoint(base *url.URL, path string, q url.Values) string {
	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = q.Encode()
	return u.String()
}

// caseCount reads the single text message /getCaseCount sends.
func caseCount(ctx context.Context, d *websocket.Dialer, u string) (int, error) {
	c, _, err := d.Dial(ctx, u, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	typ, msg, err := c.ReadMessageContext(ctx)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(msg)))
	if typ != websocket.TextMessage || err != nil || n < 0 {
		return 0, fmt.Errorf("case count message %q is not a number", msg)
	}
	return n, nil
}

// runCase echoes every message of one case until the connection ends, and
// returns why it ended.
func runCase(ctx context.Context, d *websocket.Dialer, u string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, _, err := d.Dial(ctx, u, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	for {
		typ, msg, err := c.ReadMessageContext(ctx)
		if err != nil {
			return err
		}
		if err := c.WriteMessageContext(ctx, typ, msg); err != nil {
			return err
		}
	}
}

// updateReports asks the server to write the reports and waits for it to
// close the connection, which it does once they are written.
func updateReports(ctx context.Context, d *websocket.Dialer, u string) error {
	c, _, err := d.Dial(ctx, u, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	for {
		if _, _, err := c.ReadMessageContext(ctx); err != nil {
			if websocket.CloseStatus(err) != 0 {
				return nil
			}
			return err
		}
	}
}

// describeEnd says how a case's connection ended.
func describeEnd(err error) string {
	if code := websocket.CloseStatus(err); code != 0 {
		return "closed by the server with " + strconv.Itoa(int(code))
	}
	switch {
	case errors.Is(err, websocket.ErrProtocol), errors.Is(err, websocket.ErrInvalidPayload), errors.Is(err, websocket.ErrReadLimit):
		return "failed by us: " + err.Error()
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
