// Command compatclient drives an Autobahn|Testsuite fuzzing server
// (wstest -m fuzzingserver) with the Dialer of the gorilla-compatible API
// (github.com/rfc6455/websocket/compat/gorilla), as autobahn/client does
// with the native one:
//
//	go run ./autobahn/compatclient -url ws://127.0.0.1:9001 -agent NAME
//
// It asks the server for its case count (GET /getCaseCount), runs each
// selected case (/runCase?case=N&agent=NAME), echoing every message with
// its type until the server closes, and then has the server write its
// reports (/updateReports?agent=NAME). -cases picks cases by index, as in
// "1-10,15"; -compress=false turns permessage-deflate off.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	var cfg config
	flag.StringVar(&cfg.url, "url", "ws://127.0.0.1:9001", "base URL of the fuzzing server")
	flag.StringVar(&cfg.agent, "agent", "rfc6455-compat", "agent name the reports are filed under")
	flag.StringVar(&cfg.cases, "cases", "", `case indexes to run, as "1-10,15"; empty means all`)
	flag.BoolVar(&cfg.compress, "compress", true, "offer permessage-deflate")
	flag.DurationVar(&cfg.caseTimeout, "case-timeout", 5*time.Minute, "longest a single case may run")
	flag.BoolVar(&cfg.verbose, "v", false, "print how each case ended")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "client: unexpected arguments:", flag.Args())
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		log.Fatal(err)
	}
}
