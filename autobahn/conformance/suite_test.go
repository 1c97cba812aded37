package conformance

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/leakcheck"
)

// row is one case of the suite: what the peer sends and what our side must
// answer, on each side it applies to.
type row struct {
	id    string // section.group.n, numbered like Autobahn's where it has the case
	name  string
	steps []step
	limit int64    // our side's read limit; 0 means ourLimit
	sides []side   // nil means every side
	pmd   *pmdCase // permessage-deflate negotiated for the row; nil means none
	// timeout bounds the whole row; 0 means defaultRowTimeout.
	timeout time.Duration
}

const defaultRowTimeout = 10 * time.Second

// pmdCase is the permessage-deflate negotiation of a row: the offer the
// peer makes to our server, the answer it gives to our client's offer, and
// how our side is configured.
type pmdCase struct {
	offer string // sent to our server; "" offers nothing
	// answer builds the peer server's Sec-WebSocket-Extensions from our
	// client's offer; nil answers without extensions.
	answer func(offer string) (string, error)
	// declined: our server must answer the offer without the extension,
	// and our client must offer nothing.
	declined bool
	// want, when set, checks the parameters our server answered.
	want func(pmdParams) error
	ours ourCompression
}

func (c *pmdCase) check(p pmdParams) error {
	if c.want == nil {
		return nil
	}
	return c.want(p)
}

// answer is the peer server's reply to our client's extension offer.
func (r row) answer(offer string) (string, error) {
	switch {
	case r.pmd == nil || r.pmd.declined:
		if offer != "" {
			return "", fmt.Errorf("our client offered %q with compression off", offer)
		}
		return "", nil
	case !strings.Contains(offer, "permessage-deflate"):
		return "", fmt.Errorf("our client did not offer permessage-deflate: %q", offer)
	case r.pmd.answer == nil:
		return "", nil
	}
	return r.pmd.answer(offer)
}

func (r row) runsOn(s side) bool { return r.sides == nil || slices.Contains(r.sides, s.native()) }

// section is one group of rows, named like Autobahn's sections.
type section struct {
	name string
	rows []row
}

// sections lists the suite, section by section. The tables are built once:
// section 9 holds large payloads.
var sections = sync.OnceValue(func() []section {
	return []section{
		{"1-framing", framingRows()},
		{"2-pings", pingRows()},
		{"3-reserved-bits", reservedBitRows()},
		{"4-opcodes", opcodeRows()},
		{"5-fragmentation", fragmentationRows()},
		{"6-utf8", utf8Rows()},
		{"7-close", closeRows()},
		{"9-limits", limitRows()},
		{"10-misc", miscRows()},
		{"12-13-compression", compressionRows()},
	}
})

func TestConformance(t *testing.T) {
	for _, sec := range sections() {
		t.Run(sec.name, func(t *testing.T) {
			for _, r := range sec.rows {
				for _, s := range allSides {
					if !r.runsOn(s) {
						continue
					}
					t.Run(s.String()+"/"+r.id, func(t *testing.T) {
						t.Parallel()
						runRow(t, r, s)
					})
				}
			}
		})
	}
}

// runRow plays r against our side s.
func runRow(t *testing.T, r row, s side) {
	timeout := r.timeout
	if timeout == 0 {
		timeout = defaultRowTimeout
	}
	deadline := time.Now().Add(timeout)
	p, result, err := connect(t, r, s, deadline)
	if err != nil {
		t.Fatalf("%s: handshake: %v", r.name, err)
	}
	defer p.conn.Close()
	steps := r.steps
	if len(steps) == 0 {
		t.Fatalf("%s: no steps", r.name)
	}
	if _, ok := steps[len(steps)-1].(terminal); !ok {
		steps = append(slices.Clip(steps), closeWith(1000, ""))
	}
	for i, st := range steps {
		if err := st.run(p); err != nil {
			// Say how our side ended too: it often tells why.
			p.conn.Close()
			ours := "still running"
			select {
			case e := <-result:
				ours = fmt.Sprintf("%v", e)
			case <-time.After(2 * time.Second):
			}
			t.Fatalf("%s: step %d (%v): %v\nour side's echo loop ended with: %s", r.name, i+1, st, err, ours)
		}
	}
	select {
	case err := <-result:
		if err := p.want.check(err); err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
	case <-time.After(time.Until(deadline)):
		t.Fatalf("%s: our side's echo loop did not end after the TCP close", r.name)
	}
}

// TestRowCount keeps the suite at the size the issue asks for (at least 250
// rows, every section on every side) and ids unique, and logs the counts.
func TestRowCount(t *testing.T) {
	total := 0
	ids := map[string]bool{}
	for _, sec := range sections() {
		counts := make([]int, len(allSides))
		for _, r := range sec.rows {
			if ids[r.id] {
				t.Errorf("row id %s repeated", r.id)
			}
			ids[r.id] = true
			for i, s := range allSides {
				if r.runsOn(s) {
					counts[i]++
				}
			}
		}
		total += len(sec.rows)
		var perSide strings.Builder
		for i, s := range allSides {
			fmt.Fprintf(&perSide, ", %s %3d", s, counts[i])
		}
		t.Logf("section %-18s %3d rows%s", sec.name, len(sec.rows), perSide.String())
		for i, n := range counts {
			if n == 0 {
				t.Errorf("section %s has no row on side %v", sec.name, allSides[i])
			}
		}
		for i, s := range allSides {
			if s.compat() && counts[i] != counts[s.native()] {
				t.Errorf("section %s: %d rows on %v, %d on %v: the compat side skips rows", sec.name, counts[i], s, counts[s.native()], s.native())
			}
		}
	}
	t.Logf("total %d rows", total)
	if total < 250 {
		t.Errorf("%d rows, want at least 250", total)
	}
}

// TestMain fails the run when goroutines outlive the tests: every
// connection of ours must end with its row.
func TestMain(m *testing.M) { leakcheck.Main(m) }
