package websocket

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

func TestNetConnCopyRoundTrip(t *testing.T) {
	client, server := connPair(t, nil)
	ctx := context.Background()
	cn, sn := NetConn(ctx, client, BinaryMessage), NetConn(ctx, server, BinaryMessage)
	echoed := make(chan error, 1)
	go func() {
		// Echo until the client closes: io.Copy sees io.EOF on 1000.
		_, err := io.Copy(sn, sn)
		echoed <- err
	}()
	data := pattern(9, 1<<20)
	writeErr := make(chan error, 1)
	go func() {
		for i := 0; i < len(data); i += 10000 {
			if _, err := cn.Write(data[i:min(i+10000, len(data))]); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- nil
	}()
	got := make([]byte, len(data))
	if _, err := io.ReadFull(cn, got); err != nil {
		t.Fatal(err)
	}
	if err := <-writeErr; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("stream damaged")
	}
	if err := cn.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-echoed; err != nil {
		t.Fatalf("echo: %v", err)
	}
	if _, err := sn.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after close: %v, want io.EOF", err)
	}
}

func TestNetConnDeadlines(t *testing.T) {
	client, server := connPair(t, nil)
	cn, sn := NetConn(context.Background(), client, BinaryMessage), NetConn(context.Background(), server, BinaryMessage)
	if cn.LocalAddr().String() != sn.RemoteAddr().String() {
		t.Fatal("addresses do not match")
	}
	sn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	buf := make([]byte, 10)
	_, err := sn.Read(buf)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read: %v, want a timeout net.Error", err)
	}
	// The timeout did not break the stream.
	sn.SetReadDeadline(time.Time{})
	if _, err := cn.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	n, err := sn.Read(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	// A write deadline in the past fails before sending and leaves the
	// connection usable.
	cn.SetWriteDeadline(time.Now().Add(-time.Second))
	if _, err := cn.Write([]byte("late")); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("write: %v, want a timeout", err)
	}
	cn.SetWriteDeadline(time.Time{})
	if _, err := cn.Write([]byte("again")); err != nil {
		t.Fatal(err)
	}
	if n, err := sn.Read(buf); err != nil || string(buf[:n]) != "again" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
}

func TestNetConnContext(t *testing.T) {
	client, server := connPair(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	sn := NetConn(ctx, server, BinaryMessage)
	cancel()
	if _, err := sn.Read(make([]byte, 1)); !errors.Is(err, context.Canceled) {
		t.Fatalf("read: %v, want context.Canceled", err)
	}
	// The Conn itself still works.
	go client.WriteMessage(BinaryMessage, []byte("x"))
	if _, b, err := server.ReadMessage(); err != nil || string(b) != "x" {
		t.Fatalf("got %q, %v", b, err)
	}
}

func TestNetConnWrongType(t *testing.T) {
	c, peer := serverWithRawClient(t, nil)
	nc := NetConn(context.Background(), c, BinaryMessage)
	peer.writeFrame(true, opText, []byte("text"))
	if _, err := nc.Read(make([]byte, 10)); err == nil {
		t.Fatal("text message accepted by a binary NetConn")
	}
	peer.expectClose(StatusUnsupportedData)
}
