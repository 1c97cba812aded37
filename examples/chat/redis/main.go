// Command redis is the chat of examples/chat, able to share its rooms with
// other instances through Redis pub/sub, so that it can run on several
// machines behind a load balancer.
//
//	cd examples/chat/redis
//	go run . -redis redis://127.0.0.1:6379 -addr 127.0.0.1:8081
//	go run . -redis redis://127.0.0.1:6379 -addr 127.0.0.1:8082
//
// Users connected to either instance see each other in the rooms they
// share, and what they say. Without -redis it is the chat of examples/chat,
// in one process. It is a module of its own so that the library's go.mod
// does not require a Redis client; README.md says how to run it behind
// nginx.
//
// Each instance publishes its users and their rooms on the channel (-channel)
// when they change and every heartbeat (-heartbeat), and what they say; an
// instance not heard from for 3 heartbeats, or one that shut down, leaves
// the others' member lists. When Redis is unreachable each instance goes on
// serving its own users, says so in its log, and tries again with a backoff
// doubling from 100ms to 2s; once back, the rooms are shared again within a
// heartbeat.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rfc6455/websocket/examples/chat/chatserver"
)

// shutdownTimeout bounds how long the server waits, after a signal, for its
// clients to finish the close handshake and for its bye to reach Redis.
const shutdownTimeout = 10 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

// run serves the chat until ctx ends, then shuts down gracefully. It prints
// the page's URL to stdout once the listener is open.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("chat", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "127.0.0.1:8080", "address to listen on")
	queue := flags.Int("queue", 64, "events queued per client before it is dropped as too slow")
	ping := flags.Duration("ping", 30*time.Second, "keepalive: ping each client this often (0 disables)")
	redisURL := flags.String("redis", "", "share rooms through the Redis at this URL (redis://host:port[/db]); empty: this process only")
	channel := flags.String("channel", "chat", "Redis pub/sub channel of the chat; instances on one channel share rooms")
	heartbeat := flags.Duration("heartbeat", time.Second, "how often each instance tells the others who is connected; one silent for 3 heartbeats is taken as gone")
	static := flags.String("static", "../static", "directory of the chat page (examples/chat/static)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flags.Args())
	}
	if *heartbeat <= 0 {
		return errors.New("-heartbeat must be positive")
	}
	// The page is read from disk, not embedded: embed cannot reach a
	// directory above the module's own.
	if _, err := os.Stat(*static + "/index.html"); err != nil {
		return fmt.Errorf("the chat page: %w (set -static to examples/chat/static)", err)
	}

	logger := log.New(stderr, "", log.LstdFlags)
	cfg := chatserver.Config{
		QueueLen:     *queue,
		PingInterval: *ping,
		Logf:         logger.Printf,
		Page:         os.DirFS(*static),
		Heartbeat:    *heartbeat,
	}
	if *redisURL != "" {
		bus, err := newRedisBus(*redisURL, *channel)
		if err != nil {
			return fmt.Errorf("-redis: %w", err)
		}
		defer bus.Close()
		redis.SetLogger(redisLogger{logger.Printf})
		cfg.Bus = bus
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	s := chatserver.New(cfg)
	fmt.Fprintf(stdout, "chat: serving http://%s/\n", ln.Addr())

	return s.Serve(ctx, ln, logger, shutdownTimeout)
}
