package bench

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"sync"
	"unicode/utf8"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws/wsflate"
	"github.com/gobwas/ws/wsutil"
)

// gobwasFlate is one gobwas connection's permessage-deflate (RFC 7692)
// state, built from wsflate's pieces as its documentation pairs them: a
// MessageState that carries RSV1 between the frame reader or writer and
// the message, and a wsflate.Reader and Writer over compress/flate at
// level 1 (the level ours, gorilla and coder use). wsflate resets both for
// every message, so this is no context takeover only; context takeover
// would need a history kept by hand, outside the package.
//
// wsflate leaves the compressor's lifetime to the application, and a
// compress/flate writer is about 1.2 MB: held by each connection, as in
// wsflate's examples, it would dominate the memory measured. So the reader
// and writer are borrowed from pools for one message, as a careful
// application would do (and as ours does inside the library).
type gobwasFlate struct {
	msg wsflate.MessageState
	r   gobwasFlateReader
}

// gobwasFlateReader is the reader of a compressed message; it gives its
// wsflate.Reader back to the pool at the end of the message.
type gobwasFlateReader struct {
	fr *wsflate.Reader // nil once the message has ended
}

// gobwasFlateWriter is a compressed message being written: Close ends the
// deflate stream (RFC 7692 §7.2.1: flushed, its empty-block tail removed),
// then the frame, and gives the wsflate.Writer back.
type gobwasFlateWriter struct {
	fw *wsflate.Writer
	wr *wsutil.Writer
}

// flateReader gives compress/flate's reader the one-argument Reset that
// wsflate.Reader looks for (flate's own takes a dictionary too), so that
// one decompressor serves many messages instead of a new one each.
type flateReader struct{ io.ReadCloser }

// Reset starts a new stream from r with an empty window: no context
// takeover.
func (f flateReader) Reset(r io.Reader) { f.ReadCloser.(flate.Resetter).Reset(r, nil) }

var (
	gobwasReaders = sync.Pool{New: func() any {
		return wsflate.NewReader(nil, func(r io.Reader) wsflate.Decompressor {
			return flateReader{flate.NewReader(r)}
		})
	}}
	gobwasWriters = sync.Pool{New: func() any {
		return wsflate.NewWriter(nil, func(w io.Writer) wsflate.Compressor {
			f, _ := flate.NewWriter(w, flate.BestSpeed) // no error for levels -2 to 9
			return f
		})
	}}
)

var (
	errGobwasUTF8   = errors.New("bench: gobwas: text message is not valid UTF-8")
	errGobwasTooBig = errors.New("bench: gobwas: inflated message over the read limit")
)

func newGobwasFlate() *gobwasFlate { return &gobwasFlate{} }

// reader starts inflating the message that src reads.
func (f *gobwasFlate) reader(src io.Reader) io.Reader {
	f.r.release()
	f.r.fr = gobwasReaders.Get().(*wsflate.Reader)
	f.r.fr.Reset(src)
	return &f.r
}

// writer starts a compressed message written through wr.
func (f *gobwasFlate) writer(wr *wsutil.Writer) io.WriteCloser {
	f.msg.SetCompressed(true)
	fw := gobwasWriters.Get().(*wsflate.Writer)
	fw.Reset(wr)
	return gobwasFlateWriter{fw, wr}
}

func (r *gobwasFlateReader) Read(p []byte) (int, error) {
	if r.fr == nil {
		return 0, io.EOF
	}
	n, err := r.fr.Read(p)
	if err != nil {
		r.release()
	}
	return n, err
}

func (r *gobwasFlateReader) release() {
	if r.fr != nil {
		r.fr.Reset(nil)
		gobwasReaders.Put(r.fr)
		r.fr = nil
	}
}

// gobwasAccepted reports whether the server's answer holds permessage-deflate
// with parameters wsflate can parse.
func gobwasAccepted(exts []httphead.Option) bool {
	for _, opt := range exts {
		if bytes.Equal(opt.Name, wsflate.ExtensionNameBytes) {
			var p wsflate.Parameters
			return p.Parse(opt) == nil
		}
	}
	return false
}

func (w gobwasFlateWriter) Write(p []byte) (int, error) { return w.fw.Write(p) }

func (w gobwasFlateWriter) Close() error {
	err := w.fw.Flush()
	if err == nil {
		// A writer that failed keeps its error: only a good one goes back.
		w.fw.Reset(nil)
		gobwasWriters.Put(w.fw)
		err = w.wr.Flush()
	}
	return err
}

// readInflated reads a whole message, inflated if it was sent compressed,
// and checks text as UTF-8 as the uncompressed path does.
func (c *gobwasConn) readInflated() (MsgType, []byte, error) {
	t, r, err := c.NextReader()
	if err != nil {
		return 0, nil, err
	}
	// Inflated bytes count against the same limit as the frames.
	p, err := io.ReadAll(io.LimitReader(r, readLimit+1))
	if err != nil {
		return 0, nil, err
	}
	if len(p) > readLimit {
		return 0, nil, errGobwasTooBig
	}
	if t == Text && !utf8.Valid(p) {
		return 0, nil, errGobwasUTF8
	}
	return t, p, nil
}

// writeDeflated writes p as one compressed message.
func (c *gobwasConn) writeDeflated(t MsgType, p []byte) error {
	w, err := c.NextWriter(t)
	if err != nil {
		return err
	}
	if _, err := w.Write(p); err != nil {
		return err
	}
	return w.Close()
}
