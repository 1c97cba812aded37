package main

import (
	"bytes"
	"strings"
	"testing"
)

func runReport(dirs ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(dirs, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestReportAllOK(t *testing.T) {
	code, out, errOut := runReport("testdata/pass")
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"agent rfc6455-message: 3 cases, 0 not OK", "INFORMATIONAL/INFORMATIONAL", "all cases OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestReportListsEveryFailure(t *testing.T) {
	code, out, _ := runReport("testdata/pass", "testdata/fail")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	if !strings.Contains(out, "5 cases not OK:") {
		t.Errorf("output lacks the failure count:\n%s", out)
	}
	// In agent order, then in the suite's numeric case order.
	want := []string{
		"rfc6455-plain 2.10: behavior FAILED, behaviorClose UNCLEAN",
		"rfc6455-stream 6.4.2: behavior NON-STRICT, behaviorClose OK",
		"rfc6455-stream 6.4.3: behavior INFORMATIONAL, behaviorClose OK",
		"rfc6455-stream 7.3.1: behavior OK, behaviorClose WRONG CODE",
		"rfc6455-stream 12.1.1: behavior UNIMPLEMENTED, behaviorClose UNIMPLEMENTED",
	}
	last := -1
	for _, w := range want {
		i := strings.Index(out, w)
		if i < 0 {
			t.Fatalf("output lacks %q:\n%s", w, out)
		}
		if i < last {
			t.Errorf("%q out of order:\n%s", w, out)
		}
		last = i
	}
	for _, ok := range []string{" 1.1.9:", " 1.1.10:", " 2.9:", " 6.4.1:", " 7.1.6:"} {
		if strings.Contains(out, ok) {
			t.Errorf("passing case%s listed as a failure:\n%s", ok, out)
		}
	}
}

func TestReportRefusesMissingOrEmptyIndex(t *testing.T) {
	for _, dirs := range [][]string{nil, {"testdata/nonexistent"}, {"testdata/empty"}} {
		code, _, errOut := runReport(dirs...)
		if code != 2 || errOut == "" {
			t.Errorf("dirs %v: exit %d, stderr %q; want 2 and a reason", dirs, code, errOut)
		}
	}
}

func TestPassing(t *testing.T) {
	for v, want := range map[string]bool{
		"OK": true, "INFORMATIONAL": true,
		"NON-STRICT": false, "FAILED": false, "WRONG CODE": false, "UNCLEAN": false,
		"FAILED BY CLIENT": false, "UNIMPLEMENTED": false, "": false, "ok": false,
	} {
		if got := passing("7.13.1", v); got != want {
			t.Errorf("passing(7.13.1, %q) = %v, want %v", v, got, want)
		}
	}
	// INFORMATIONAL passes only where the suite defines the case so.
	if passing("6.4.1", "INFORMATIONAL") {
		t.Error("INFORMATIONAL passed on 6.4.1, a judged case")
	}
}

func TestCaseLess(t *testing.T) {
	ordered := []string{"1.1.1", "1.1.2", "1.1.10", "1.2.1", "2.1", "2.10", "9.1.1", "12.1.1", "12.1.10", "13.7.18"}
	for i := range ordered {
		for j := range ordered {
			if got := caseLess(ordered[i], ordered[j]); got != (i < j) {
				t.Errorf("caseLess(%s, %s) = %v", ordered[i], ordered[j], got)
			}
		}
	}
}
