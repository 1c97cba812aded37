// Package fuzzclient is what the two Autobahn fuzzing-server clients
// (autobahn/client, written against the native API, and
// autobahn/compatclient, against compat/gorilla) share: the command line,
// the choice of cases and their run. Each program brings a Peer: the three
// kinds of connection the fuzzing server expects, over its own API.
package fuzzclient

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ReadLimit is above the largest message of the suite (16 MiB in section
// 9): the limit a Peer's connections read with.
const ReadLimit = 64 << 20

// Config is the command line.
type Config struct {
	URL         string
	Agent       string
	Cases       string
	Compress    bool
	CaseTimeout time.Duration
	Verbose     bool
}

// Peer connects to the fuzzing server through one WebSocket API.
type Peer struct {
	// CaseCount reads the single text message /getCaseCount sends.
	CaseCount func(ctx context.Context, u string) (int, error)
	// RunCase echoes every message of one case until the connection ends,
	// and returns why it ended.
	RunCase func(ctx context.Context, u string, timeout time.Duration) error
	// UpdateReports asks the server to write the reports and waits for it
	// to close the connection, which it does once they are written.
	UpdateReports func(ctx context.Context, u string) error
	// DescribeEnd says how a case's connection ended.
	DescribeEnd func(err error) string
}

// Main parses the command line of the program called name, whose reports
// are filed under defaultAgent unless -agent says otherwise, and runs the
// cases with the Peer newPeer returns; it exits the program on failure.
func Main(name, defaultAgent string, newPeer func(compress bool) Peer) {
	var cfg Config
	flag.StringVar(&cfg.URL, "url", "ws://127.0.0.1:9001", "base URL of the fuzzing server")
	flag.StringVar(&cfg.Agent, "agent", defaultAgent, "agent name the reports are filed under")
	flag.StringVar(&cfg.Cases, "cases", "", `case indexes to run, as "1-10,15"; empty means all`)
	flag.BoolVar(&cfg.Compress, "compress", true, "offer permessage-deflate")
	flag.DurationVar(&cfg.CaseTimeout, "case-timeout", 5*time.Minute, "longest a single case may run")
	flag.BoolVar(&cfg.Verbose, "v", false, "print how each case ended")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, name+": unexpected arguments:", flag.Args())
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, cfg, newPeer(cfg.Compress), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// Run asks for the case count, runs the selected cases and updates the
// reports. A case that ends in an error is the suite's business (it judges
// and reports it); Run fails only when it cannot talk to the server.
func Run(ctx context.Context, cfg Config, p Peer, out io.Writer) error {
	base, err := url.Parse(cfg.URL)
	if err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	count, err := p.CaseCount(ctx, endpoint(base, "/getCaseCount", nil))
	if err != nil {
		return fmt.Errorf("getting the case count: %w", err)
	}
	selected, err := ParseCases(cfg.Cases, count)
	if err != nil {
		return fmt.Errorf("-cases: %w", err)
	}
	fmt.Fprintf(out, "%d cases on the server, running %d as agent %q (compression %v)\n", count, len(selected), cfg.Agent, cfg.Compress)
	for _, n := range selected {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		u := endpoint(base, "/runCase", url.Values{"case": {strconv.Itoa(n)}, "agent": {cfg.Agent}})
		err := p.RunCase(ctx, u, cfg.CaseTimeout)
		if cfg.Verbose {
			fmt.Fprintf(out, "case %d: %v\n", n, p.DescribeEnd(err))
		}
	}
	if err := p.UpdateReports(ctx, endpoint(base, "/updateReports", url.Values{"agent": {cfg.Agent}})); err != nil {
		return fmt.Errorf("updating the reports: %w", err)
	}
	fmt.Fprintln(out, "reports updated")
	return nil
}

// endpoint returns base with path appended and q as its query.
func endpoint(base *url.URL, path string, q url.Values) string {
	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = q.Encode()
	return u.String()
}

// ParseCases turns "1-10,15" into the case indexes it names, in order and
// without repeats; "" means 1 to count. Indexes are 1-based, as the
// fuzzing server takes them, and must not exceed count.
func ParseCases(spec string, count int) ([]int, error) {
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
