package conformance

import (
	"bytes"
	"compress/flate"
	"fmt"
	"strconv"
	"strings"

	"github.com/rfc6455/websocket/internal/flateref"
)

// pmdParams are the permessage-deflate parameters of a handshake answer
// (RFC 7692 §7.1). Window bits of 0 mean the parameter was absent (15).
type pmdParams struct {
	serverNoContextTakeover bool
	clientNoContextTakeover bool
	serverMaxWindowBits     int
	clientMaxWindowBits     int
}

// parsePMD reads the answer in a Sec-WebSocket-Extensions value. It accepts
// exactly one permessage-deflate element with valid parameters, as a client
// must (RFC 7692 §5, §7.1).
func parsePMD(answer string) (pmdParams, error) {
	var p pmdParams
	elems := strings.Split(answer, ",")
	if len(elems) != 1 {
		return p, fmt.Errorf("answer %q has %d extensions, want one", answer, len(elems))
	}
	parts := strings.Split(elems[0], ";")
	if strings.TrimSpace(parts[0]) != "permessage-deflate" {
		return p, fmt.Errorf("answer %q is not permessage-deflate", answer)
	}
	seen := map[string]bool{}
	for _, part := range parts[1:] {
		name, value, hasValue := strings.Cut(strings.TrimSpace(part), "=")
		name = strings.TrimSpace(name)
		value = strings.Trim(strings.TrimSpace(value), `"`)
		if seen[name] {
			return p, fmt.Errorf("answer %q repeats %s (RFC 7692 §7)", answer, name)
		}
		seen[name] = true
		switch name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if hasValue {
				return p, fmt.Errorf("answer %q gives %s a value (RFC 7692 §7.1.1)", answer, name)
			}
			if name == "server_no_context_takeover" {
				p.serverNoContextTakeover = true
			} else {
				p.clientNoContextTakeover = true
			}
		case "server_max_window_bits", "client_max_window_bits":
			bits, err := strconv.Atoi(value)
			if !hasValue || err != nil || bits < 8 || bits > 15 || value != strconv.Itoa(bits) {
				return p, fmt.Errorf("answer %q has %s=%q (RFC 7692 §7.1.2)", answer, name, value)
			}
			if name == "server_max_window_bits" {
				p.serverMaxWindowBits = bits
			} else {
				p.clientMaxWindowBits = bits
			}
		default:
			return p, fmt.Errorf("answer %q has unknown parameter %q (RFC 7692 §7)", answer, name)
		}
	}
	return p, nil
}

// pmdPeer compresses the peer's messages and decompresses our side's, with
// the parameters the handshake settled (RFC 7692 §7.2).
type pmdPeer struct {
	params pmdParams
	client bool // the peer is the client

	out  bytes.Buffer
	fw   *flate.Writer
	hist []byte // the last 32 KiB our side's messages inflated to, for context takeover
}

func newPMDPeer(params pmdParams, client bool) *pmdPeer {
	p := &pmdPeer{params: params, client: client}
	// compress/flate always looks back up to 32 KiB. When the handshake
	// gave the peer a smaller window (RFC 7692 §7.1.2), it codes without
	// back-references at all, which every window allows.
	level := flate.BestSpeed
	if bits := p.ownWindowBits(); bits != 0 && bits < 15 {
		level = flate.HuffmanOnly
	}
	p.fw, _ = flate.NewWriter(&p.out, level)
	return p
}

// ownWindowBits is the window the peer's compressor may use; 0 means 15.
func (p *pmdPeer) ownWindowBits() int {
	if p.client {
		return p.params.clientMaxWindowBits
	}
	return p.params.serverMaxWindowBits
}

// ownNoContextTakeover reports whether the peer must compress each message
// on its own, and ourNoContextTakeover whether our side must.
func (p *pmdPeer) ownNoContextTakeover() bool {
	if p.client {
		return p.params.clientNoContextTakeover
	}
	return p.params.serverNoContextTakeover
}

func (p *pmdPeer) ourNoContextTakeover() bool {
	if p.client {
		return p.params.serverNoContextTakeover
	}
	return p.params.clientNoContextTakeover
}

// compress turns f, a whole message, into its compressed frame: RFC 7692
// §7.2.1, a sync-flushed DEFLATE block without its 00 00 ff ff tail, RSV1
// set.
func (p *pmdPeer) compress(f frame) frame {
	if p == nil {
		panic("conformance: a row sends a compressed frame without negotiating permessage-deflate")
	}
	p.out.Reset()
	if p.ownNoContextTakeover() {
		p.fw.Reset(&p.out)
	}
	_, _ = p.fw.Write(f.payload)
	_ = p.fw.Flush()
	b := bytes.TrimSuffix(p.out.Bytes(), []byte{0, 0, 0xff, 0xff})
	f.payload = bytes.Clone(b)
	f.rsv |= rsv1
	f.deflate = false
	return f
}

// ourWindowBits is the window our side's compressor agreed to (RFC 7692
// §7.1.2); absent means 15.
func (p *pmdPeer) ourWindowBits() int {
	bits := p.params.clientMaxWindowBits
	if p.client {
		bits = p.params.serverMaxWindowBits
	}
	if bits == 0 {
		bits = 15
	}
	return bits
}

// decompress inflates a compressed message from our side (RFC 7692 §7.2.2)
// with the peer's own decoder, which holds our side to what it agreed:
// without context takeover on our side, no history is offered, so a
// back-reference into an earlier message fails; and no back-reference may
// reach further than our side's window.
func (p *pmdPeer) decompress(b []byte) ([]byte, error) {
	if p.ourNoContextTakeover() {
		p.hist = nil
	}
	in := append(bytes.Clone(b), 0, 0, 0xff, 0xff)
	out, st, err := flateref.Inflate(in, p.hist, flateref.Options{Limit: maxReadPayload})
	if err != nil {
		return nil, err
	}
	if bits := p.ourWindowBits(); st.MaxDist > 1<<bits {
		return nil, fmt.Errorf("a back-reference of %d bytes with a window of %d bits (RFC 7692 §7.1.2)", st.MaxDist, bits)
	}
	p.hist = append(p.hist, out...)
	if len(p.hist) > 32<<10 {
		p.hist = bytes.Clone(p.hist[len(p.hist)-32<<10:])
	}
	return out, nil
}

// deflateAlone compresses b on its own, as a message sent without context
// takeover: for rows that cut a compressed message into frames by hand.
// final ends it with a BFINAL block (RFC 7692 §7.2.3.5) instead of an empty
// stored block.
func deflateAlone(b []byte, final bool) []byte {
	var out bytes.Buffer
	fw, _ := flate.NewWriter(&out, flate.BestSpeed)
	_, _ = fw.Write(b)
	if final {
		_ = fw.Close()
		return out.Bytes()
	}
	_ = fw.Flush()
	return bytes.TrimSuffix(out.Bytes(), []byte{0, 0, 0xff, 0xff})
}
