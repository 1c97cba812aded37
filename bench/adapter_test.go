package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

func TestPayload(t *testing.T) {
	for _, size := range []int{0, 1, 16, 1000, 1 << 10, 64 << 10} {
		text := Payload(Text, size)
		if len(text) != size || !utf8.Valid(text) {
			t.Errorf("text payload of %d: len %d, valid UTF-8 %v", size, len(text), utf8.Valid(text))
		}
		if bin := Payload(Binary, size); len(bin) != size {
			t.Errorf("binary payload of %d: len %d", size, len(bin))
		}
	}
	if !bytes.Equal(Payload(Binary, 64), Payload(Binary, 64)) {
		t.Error("binary payload is not deterministic")
	}
	for _, m := range JSONPayloads(8, 1<<10) {
		if len(m) < 900 || len(m) > 1200 || !utf8.Valid(m) || m[0] != '{' || m[len(m)-1] != '}' {
			t.Errorf("JSON-like payload of %d bytes: %.40q…", len(m), m)
		}
	}
}

func TestFramesRoundTrip(t *testing.T) {
	for _, size := range []int{0, 125, 126, 65535, 65536} {
		p := Payload(Binary, size)
		b := AppendFrame(nil, Binary, p, true, [4]byte{1, 2, 3, 4})
		b = AppendFrame(b, Text, []byte("hi"), false, [4]byte{})
		fs, err := ParseFrames(b)
		if err != nil || len(fs) != 2 {
			t.Fatalf("size %d: %d frames, %v", size, len(fs), err)
		}
		if !fs[0].Fin || fs[0].Opcode != 2 || !fs[0].Masked || !bytes.Equal(fs[0].Payload, p) {
			t.Errorf("size %d: first frame %+v", size, fs[0].Opcode)
		}
		if fs[1].Opcode != 1 || fs[1].Masked || string(fs[1].Payload) != "hi" {
			t.Errorf("size %d: second frame wrong", size)
		}
	}
}

// TestCodecRead checks that every library's server reads the in-memory
// stream of the codec workload right, with every read API.
func TestCodecRead(t *testing.T) {
	for _, lib := range wsLibraries() {
		for _, typ := range msgTypes {
			for _, api := range readAPIs {
				for _, size := range []int{16, 70 << 10} {
					t.Run(fmt.Sprintf("%s/%s/%s/%d", lib.Name(), typ, api, size), func(t *testing.T) {
						skipAPI(t, lib, api)
						payload := Payload(typ, size)
						c, err := ReplayServer(lib, ReplayStream(typ, payload))
						if err != nil {
							t.Fatal(err)
						}
						defer c.Close()
						chunk := make([]byte, 1000)
						for i := range 3 {
							var got []byte
							var gt MsgType
							if api != apiStream {
								gt, got, err = readWhole(c, api, make([]byte, 3, 5))
							} else {
								var r interface{ Read([]byte) (int, error) }
								gt, r, err = c.NextReader()
								for err == nil {
									var n int
									n, err = r.Read(chunk)
									got = append(got, chunk[:n]...)
								}
								if err.Error() == "EOF" {
									err = nil
								}
							}
							if err != nil {
								t.Fatalf("message %d: %v", i, err)
							}
							if gt != typ || !bytes.Equal(got, payload) {
								t.Fatalf("message %d: type %v, %d bytes, want %v, %d bytes", i, gt, len(got), typ, size)
							}
						}
					})
				}
			}
		}
	}
}

// TestCodecWrite checks that every library's client writes masked frames
// that carry the message, with both APIs.
func TestCodecWrite(t *testing.T) {
	for _, lib := range wsLibraries() {
		for _, typ := range msgTypes {
			for _, api := range writeAPIs {
				t.Run(fmt.Sprintf("%s/%s/%s", lib.Name(), typ, api), func(t *testing.T) {
					c, sink, err := SinkClient(lib)
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					sink.keep = true
					payload := Payload(typ, 100<<10)
					if api == "whole" {
						err = c.WriteMessage(typ, payload)
					} else {
						err = writeStream(c, typ, payload, 7000)
					}
					if err != nil {
						t.Fatal(err)
					}
					fs, err := ParseFrames(sink.kept)
					if err != nil {
						t.Fatal(err)
					}
					var got []byte
					for i, f := range fs {
						if !f.Masked {
							t.Fatalf("frame %d not masked", i)
						}
						got = append(got, f.Payload...)
					}
					wantOp := byte(1)
					if typ == Binary {
						wantOp = 2
					}
					if len(fs) == 0 || fs[0].Opcode != wantOp || !fs[len(fs)-1].Fin || !bytes.Equal(got, payload) {
						t.Fatalf("%d frames, %d bytes", len(fs), len(got))
					}
				})
			}
		}
	}
}

// TestLoopbackEcho checks every adapter, tcp included, over loopback with
// the child server: every read API, both handler patterns, both types, a
// small and a fragmented size.
func TestLoopbackEcho(t *testing.T) {
	ch := child(t)
	for _, lib := range Libraries() {
		for _, api := range readAPIs {
			for _, handler := range handlerPatterns {
				t.Run(lib.Name()+"/"+api+"/"+handler, func(t *testing.T) {
					skipAPI(t, lib, api)
					testLoopbackEcho(t, ch, lib, api, handler)
				})
			}
		}
	}
}

// testLoopbackEcho is one case of TestLoopbackEcho.
func testLoopbackEcho(t *testing.T, ch *Child, lib Library, api, handler string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := lib.Dial(ctx, ch.URL(lib.Name(), "mode=echo&api="+api+"&handler="+handler), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := newSender(c, Text, api, nil)
	defer s.stop()
	for _, typ := range msgTypes {
		for _, size := range []int{10, 100 << 10} {
			payload := Payload(typ, size)
			var got []byte
			var gt MsgType
			done := make(chan error, 1)
			go func() {
				if api != apiStream {
					done <- c.WriteMessage(typ, payload)
				} else {
					done <- writeStream(c, typ, payload, 9000)
				}
			}()
			if api != apiStream {
				gt, got, err = readWhole(c, api, nil)
			} else {
				var n int
				buf := make([]byte, 2*size)
				var r interface{ Read([]byte) (int, error) }
				gt, r, err = c.NextReader()
				for err == nil {
					var k int
					k, err = r.Read(buf[n:])
					n += k
				}
				if err.Error() == "EOF" {
					err = nil
				}
				got = buf[:n]
			}
			if werr := <-done; werr != nil {
				t.Fatal(werr)
			}
			if err != nil {
				t.Fatal(err)
			}
			if gt != typ || !bytes.Equal(got, payload) {
				t.Fatalf("%s %d: got %v, %d bytes", typ, size, gt, len(got))
			}
		}
	}
}

// TestLoopbackBroadcast checks that a broadcast reaches every member.
func TestLoopbackBroadcast(t *testing.T) {
	ch := child(t)
	for _, lib := range Libraries() {
		t.Run(lib.Name(), func(t *testing.T) {
			settle(t, ch)
			const n = 5
			cs := dialMany(t, lib, ch.URL(lib.Name(), "mode=sink"), n, Options{})
			defer closeAll(cs)
			if err := ch.WaitActive(n, 10*time.Second); err != nil {
				t.Fatal(err)
			}
			trigger, err := ch.Broadcaster(context.Background(), lib.Name(), Text, 300)
			if err != nil {
				t.Fatal(err)
			}
			defer trigger.Close()
			for round := range 2 {
				if err := trigger.WriteMessage(Binary, []byte{1}); err != nil {
					t.Fatal(err)
				}
				var wg sync.WaitGroup
				for i, c := range cs {
					wg.Go(func() {
						typ, p, err := c.ReadMessage()
						if err != nil || typ != Text || !bytes.Equal(p, Payload(Text, 300)) {
							t.Errorf("round %d, member %d: %v, %v, %d bytes", round, i, err, typ, len(p))
						}
					})
				}
				wg.Wait()
			}
		})
	}
}

// TestLoopbackCompression checks, for every library and compression mode
// it supports, what goes over the wire: the server's answer holds
// permessage-deflate (with server_no_context_takeover exactly when asked
// for), and both directions carry fewer bytes than the messages; with
// compression off, neither.
func TestLoopbackCompression(t *testing.T) {
	ch := child(t)
	msgs := JSONPayloads(3, 1<<10)
	for _, lib := range wsLibraries() {
		for _, mode := range []Compression{CompressionOff, CompressionNoContext, CompressionContext} {
			for _, api := range readAPIs {
				if !lib.Supports(mode) || api == apiAppend && !lib.Appends() {
					continue
				}
				t.Run(lib.Name()+"/"+mode.String()+"/"+api, func(t *testing.T) {
					testCompressedEcho(t, ch, lib, mode, api, msgs)
				})
			}
		}
	}
}

// testCompressedEcho is one case of TestLoopbackCompression: the server
// echoes with the same API as the client uses.
func testCompressedEcho(t *testing.T, ch *Child, lib Library, mode Compression, api string, msgs [][]byte) {
	total := 0
	for _, m := range msgs {
		total += len(m)
	}
	var wire *wireConn
	o := Options{Compression: mode, NetDial: wireDialer(&wire)}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := lib.Dial(ctx, ch.URL(lib.Name(), "mode=echo&api="+api+"&comp="+mode.String()), o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := wire.answer()
	if err != nil {
		t.Fatalf("handshake answer: %v", err)
	}
	ext := strings.Join(resp.Header.Values("Sec-WebSocket-Extensions"), ", ")
	deflate := strings.Contains(ext, "permessage-deflate")
	noContext := strings.Contains(ext, "server_no_context_takeover")
	if deflate != (mode != CompressionOff) || noContext != (mode == CompressionNoContext) {
		t.Fatalf("asked for %s, answer has Sec-WebSocket-Extensions: %q", mode, ext)
	}
	read0, written0 := wire.read.Load(), wire.written.Load()
	for _, m := range msgs {
		var p []byte
		if api != apiStream {
			if err = c.WriteMessage(Text, m); err == nil {
				_, p, err = readWhole(c, api, nil)
			}
		} else if err = writeStream(c, Text, m, 300); err == nil {
			var r io.Reader
			if _, r, err = c.NextReader(); err == nil {
				p, err = io.ReadAll(r)
			}
		}
		if err != nil || !bytes.Equal(p, m) {
			t.Fatalf("echo: %v, %d bytes", err, len(p))
		}
	}
	sent, got := wire.written.Load()-written0, wire.read.Load()-read0
	t.Logf("%d bytes of messages each way: %d bytes sent, %d received", total, sent, got)
	if mode == CompressionOff {
		if sent < int64(total) || got < int64(total) {
			t.Errorf("uncompressed: %d bytes sent, %d received for %d bytes of messages", sent, got, total)
		}
	} else if 4*sent > 3*int64(total) || 4*got > 3*int64(total) {
		// The JSON-like messages deflate to well under 3/4 even
		// without context takeover.
		t.Errorf("compressed: %d bytes sent, %d received for %d bytes of messages", sent, got, total)
	}
}

// TestChildMeasures checks the server's measurements: CPU time grows, and
// a few idle connections show up in the connection count and the heap.
func TestChildMeasures(t *testing.T) {
	ch := child(t)
	settle(t, ch)
	cpu0, err := ch.CPU()
	if err != nil {
		t.Fatal(err)
	}
	m0, err := ch.Mem()
	if err != nil {
		t.Fatal(err)
	}
	cs := dialMany(t, ours{}, ch.URL("ours", "mode=echo&handler=return"), 20, Options{})
	if err := ch.WaitActive(20, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	m1, err := ch.Mem()
	if err != nil {
		t.Fatal(err)
	}
	closeAll(cs)
	settle(t, ch)
	cpu1, err := ch.CPU()
	if err != nil {
		t.Fatal(err)
	}
	if cpu1 <= cpu0 {
		t.Errorf("server CPU did not grow: %v then %v", cpu0, cpu1)
	}
	if m1.Active != 20 || m1.Goroutines < m0.Goroutines+20 || m1.Heap+m1.Stack <= m0.Heap+m0.Stack {
		t.Errorf("20 connections: before %+v, after %+v", m0, m1)
	}
}
