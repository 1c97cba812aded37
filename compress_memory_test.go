package websocket

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

// idleConnBytes opens n connections through Dial and Upgrade with the
// given options on both sides, sends msg each way on each, and returns
// the heap bytes one end of an idle connection keeps (the client and the
// server end are alike, so half of a pair), socket included.
func idleConnBytes(tb testing.TB, n int, opts CompressionOptions, msg []byte) float64 {
	tb.Helper()
	up := &Upgrader{Compression: opts}
	accepted := make(chan *Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := up.Upgrade(w, r, nil); err == nil {
			accepted <- c
		}
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	d := &Dialer{HandshakeTimeout: testTimeout, Compression: opts}
	conns := make([]*Conn, 0, 2*n)
	defer func() {
		for _, c := range conns {
			c.CloseNow()
		}
	}()
	// Warm up: the pools, the server's and the runtime's one-off state.
	exchangeOn(tb, d, url, accepted, msg, &conns)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		exchangeOn(tb, d, url, accepted, msg, &conns)
	}
	// Two collections empty the pools and their victim caches: what is
	// left is what the connections hold.
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(conns)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(2*n)
}

// exchangeOn opens one connection and sends msg each way.
func exchangeOn(tb testing.TB, d *Dialer, url string, accepted <-chan *Conn, msg []byte, conns *[]*Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, _, err := d.Dial(ctx, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	s := <-accepted
	*conns = append(*conns, c, s)
	for _, p := range [][2]*Conn{{c, s}, {s, c}} {
		if err := p[0].WriteMessage(TextMessage, msg); err != nil {
			tb.Fatal(err)
		}
		if _, _, err := p[1].ReadMessage(); err != nil {
			tb.Fatal(err)
		}
	}
}

// idleMemoryCases are the configurations whose idle footprint is measured:
// compression off, on without context takeover, on with it (after 1 KiB
// each way, and with both windows full).
func idleMemoryCases() []struct {
	name string
	opts CompressionOptions
	msg  []byte
	max  float64 // bytes per connection end; 0 for no bound
} {
	rng := rand.New(rand.NewPCG(1, 1))
	small, large := jsonLike(rng, 1024), jsonLike(rng, 40<<10)
	ct := CompressionOptions{Mode: CompressionContextTakeover}
	nct := CompressionOptions{Mode: CompressionNoContextTakeover}
	ct9 := CompressionOptions{Mode: CompressionContextTakeover, Level: 9}
	return []struct {
		name string
		opts CompressionOptions
		msg  []byte
		max  float64
	}{
		{"none, 1 KiB each way", CompressionOptions{}, small, 0},
		{"no takeover, 1 KiB each way", nct, small, 0},
		{"takeover, 1 KiB each way", ct, small, 64 << 10},
		{"takeover, 40 KiB each way", ct, large, 64 << 10},
		{"takeover level 9, 40 KiB each way", ct9, large, 64 << 10},
	}
}

// TestIdleConnMemory opens 1,000 idle connections (100 under -race) of
// each configuration and reports the heap each end keeps. With context
// takeover both ways and both windows full, it must stay within 64 KiB.
func TestIdleConnMemory(t *testing.T) {
	n := 1000
	if raceEnabled || testing.Short() {
		n = 100
	}
	var none float64
	for i, tc := range idleMemoryCases() {
		per := idleConnBytes(t, n, tc.opts, tc.msg)
		if i == 0 {
			none = per
		}
		t.Logf("%-36s %7.0f bytes per connection end (%+.0f over no compression), %d connections", tc.name, per, per-none, n)
		if tc.max > 0 && per > tc.max {
			t.Errorf("%s: %.0f bytes per connection end, want at most %.0f", tc.name, per, tc.max)
		}
	}
}

// BenchmarkIdleConnMemory reports the heap per idle connection end of
// 1,000 connections per configuration, as the metric bytes/conn.
func BenchmarkIdleConnMemory(b *testing.B) {
	for _, tc := range idleMemoryCases() {
		b.Run(strings.ReplaceAll(tc.name, " ", "_"), func(b *testing.B) {
			var per float64
			for b.Loop() {
				per = idleConnBytes(b, 1000, tc.opts, tc.msg)
			}
			b.ReportMetric(per, "bytes/conn")
		})
	}
}

// BenchmarkJSON1KiB sends 1 KiB JSON-like messages from a client to a
// server over loopback, without compression and with permessage-deflate
// with and without context takeover, and reports the bytes on the wire per
// message and the compression ratio beside the throughput (of
// uncompressed payload).
func BenchmarkJSON1KiB(b *testing.B) {
	rng := rand.New(rand.NewPCG(10, 24))
	msgs := make([][]byte, 64)
	for i := range msgs {
		msgs[i] = jsonLike(rng, 1024)
	}
	for _, mode := range []CompressionMode{CompressionDisabled, CompressionNoContextTakeover, CompressionContextTakeover} {
		for _, how := range []string{"whole", "stream"} {
			b.Run(fmt.Sprintf("%v/%s", mode, how), func(b *testing.B) {
				var pmd *deflateConfig
				if mode != CompressionDisabled {
					takeover := mode == CompressionContextTakeover
					pmd = pmdConfig(takeover, takeover, 15, 15)
				}
				client, server := connPair(b, withPMD(pmd))
				wire := &countingConn{Conn: server.netConn}
				server.netConn = wire
				server.reader.nc = wire // the frame reader holds its own reference
				done := make(chan struct{})
				go func() {
					defer close(done)
					buf := make([]byte, 0, 4096)
					for {
						var err error
						if how == "whole" {
							_, buf, err = server.AppendMessage(buf[:0])
						} else {
							var r io.Reader
							if _, r, err = server.NextReader(); err == nil {
								for err == nil {
									_, err = r.Read(buf[:cap(buf)])
								}
								if err == io.EOF {
									err = nil
								}
							}
						}
						if err != nil {
							return
						}
					}
				}()
				b.SetBytes(1024)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					if err := client.WriteMessage(TextMessage, msgs[i%len(msgs)]); err != nil {
						b.Fatal(err)
					}
					i++
				}
				client.Close()
				<-done
				perMsg := float64(wire.n.Load()) / float64(i)
				b.ReportMetric(perMsg, "wire-B/msg")
				b.ReportMetric(1024/perMsg, "ratio")
			})
		}
	}
}
