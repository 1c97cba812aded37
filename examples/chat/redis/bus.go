package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// Bounds of the Redis bus's waits.
const (
	// minBackoff and maxBackoff bound the wait between two attempts to
	// reach Redis: it doubles from the first to the second, so a Redis that
	// is back is found within maxBackoff, and one that stays down costs
	// one attempt every maxBackoff.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 2 * time.Second
	// dialTimeout bounds one attempt to connect.
	dialTimeout = 2 * time.Second
	// idleTimeout is how long a subscription may stay silent before it is
	// pinged, and then how long the pong may take: a Redis that vanished
	// without closing the connection is found within twice that.
	idleTimeout = 5 * time.Second
)

// redisBus is a chatserver.Bus over one Redis pub/sub channel: every chat
// server publishes to it and subscribes to it.
type redisBus struct {
	client  *redis.Client
	channel string
}

// newRedisBus returns a bus on channel of the Redis at url
// (redis://[user:password@]host:port[/db]). It does not connect yet.
func newRedisBus(url, channel string) (*redisBus, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	opts.DialTimeout = dialTimeout
	// A publish that fails is not retried: the chat goes on without it, and
	// the next heartbeat carries the state again.
	opts.MaxRetries = -1
	// CLIENT SETINFO is Redis 7.2's; Debian 12 has 7.0, which refuses it.
	opts.DisableIdentity = true
	return &redisBus{client: redis.NewClient(opts), channel: channel}, nil
}

// Close closes the connections to Redis, once Subscribe has returned.
func (b *redisBus) Close() error { return b.client.Close() }

// Publish implements chatserver.Bus.
func (b *redisBus) Publish(ctx context.Context, msg []byte) error {
	return b.client.Publish(ctx, b.channel, msg).Err()
}

// Subscribe implements chatserver.Bus: it subscribes, hands over messages
// until the subscription fails, and tries again after a backoff that
// doubles from minBackoff to maxBackoff (and starts over once subscribed),
// until ctx ends.
func (b *redisBus) Subscribe(ctx context.Context, deliver func([]byte), status func(error)) {
	backoff := minBackoff
	for {
		subscribed, err := b.subscribeOnce(ctx, deliver, status)
		if ctx.Err() != nil {
			return
		}
		status(err)
		if subscribed {
			backoff = minBackoff
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// subscribeOnce subscribes, reports it with status(nil), and delivers
// messages until the subscription fails or ctx ends. It reports whether it
// got as far as subscribing.
func (b *redisBus) subscribeOnce(ctx context.Context, deliver func([]byte), status func(error)) (subscribed bool, err error) {
	ps := b.client.Subscribe(ctx, b.channel)
	defer ps.Close()
	// go-redis reads with deadlines, not with ctx: closing the subscription
	// is what ends a receive blocked on the network when ctx ends. (A short
	// deadline instead would cut large messages in the middle.)
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer stop()
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, idleTimeout)
		var ne net.Error
		switch {
		case ctx.Err() != nil:
			return subscribed, ctx.Err()
		case err == nil:
			pinged = false
		case errors.As(err, &ne) && ne.Timeout() && subscribed && !pinged:
			// Silence may be a dead peer: one ping tells.
			if err := ps.Ping(ctx); err != nil {
				return subscribed, fmt.Errorf("pinging redis: %w", err)
			}
			pinged = true
			continue
		default:
			return subscribed, err
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && !subscribed {
				subscribed = true
				status(nil)
			}
		case *redis.Message:
			deliver([]byte(m.Payload))
		case *redis.Pong:
		}
	}
}

// redisLogger passes go-redis's own log lines to the chat's log.
type redisLogger struct{ logf func(string, ...any) }

func (l redisLogger) Printf(_ context.Context, format string, args ...any) {
	l.logf("chat: redis: "+format, args...)
}
