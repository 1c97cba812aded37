// Command report judges Autobahn|Testsuite results: it reads index.json in
// each directory named on the command line, prints a summary per agent, and
// exits 1 listing every case whose behavior or behaviorClose is not OK
// (INFORMATIONAL counts as OK on the three cases the suite does not judge,
// 7.1.6, 7.13.1 and 7.13.2). It exits 2 when a directory has no readable index or no cases.
//
//	go run ./autobahn/report autobahn/reports/servers autobahn/reports/clients
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(dirs []string, stdout, stderr io.Writer) int {
	if len(dirs) == 0 {
		fmt.Fprintln(stderr, "usage: report DIR [DIR...]   (each DIR holds the suite's index.json)")
		return 2
	}
	var failures []failure
	for _, dir := range dirs {
		idx, err := loadIndex(dir)
		if err != nil {
			fmt.Fprintln(stderr, "report:", err)
			return 2
		}
		if len(idx) == 0 {
			fmt.Fprintf(stderr, "report: %s: index.json lists no agent: did the suite run?\n", dir)
			return 2
		}
		for _, s := range summarize(idx) {
			if s.Cases == 0 {
				fmt.Fprintf(stderr, "report: %s: agent %s ran no case\n", dir, s.Agent)
				return 2
			}
			fmt.Fprintf(stdout, "%s: agent %s: %d cases, %d not OK\n", dir, s.Agent, s.Cases, len(s.Failures))
			verdicts := make([]string, 0, len(s.Verdicts))
			for v := range s.Verdicts {
				verdicts = append(verdicts, v)
			}
			sort.Strings(verdicts)
			for _, v := range verdicts {
				fmt.Fprintf(stdout, "  %-30s %d\n", v, s.Verdicts[v])
			}
			failures = append(failures, s.Failures...)
		}
	}
	if len(failures) == 0 {
		fmt.Fprintln(stdout, "all cases OK")
		return 0
	}
	fmt.Fprintf(stdout, "%d cases not OK:\n", len(failures))
	for _, f := range failures {
		fmt.Fprintf(stdout, "  %s %s: behavior %s, behaviorClose %s (%s)\n",
			f.Agent, f.Case, f.Behavior, f.BehaviorClose, f.ReportFile)
	}
	return 1
}
