package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// caseResult is one case's entry in the suite's index.json.
type caseResult struct {
	Behavior        string `json:"behavior"`
	BehaviorClose   string `json:"behaviorClose"`
	Duration        int64  `json:"duration"`
	RemoteCloseCode *int   `json:"remoteCloseCode"`
	ReportFile      string `json:"reportfile"`
}

// index maps an agent to its cases by case id ("1.1.1" …), as the suite
// writes it.
type index map[string]map[string]caseResult

// failure is one case that did not pass, with the verdicts that sank it.
type failure struct {
	Agent, Case             string
	Behavior, BehaviorClose string
	ReportFile              string
}

// agentSummary counts one agent's cases by verdict.
type agentSummary struct {
	Agent    string
	Cases    int
	Verdicts map[string]int // "behavior/behaviorClose" → cases
	Failures []failure
}

// informational lists the cases the suite does not judge and always marks
// INFORMATIONAL: 7.1.6 (a close right behind a large message: either order
// of events is allowed) and 7.13.1–2 (close codes 5000 and 65535, which RFC
// 6455 leaves undefined).
var informational = map[string]bool{"7.1.6": true, "7.13.1": true, "7.13.2": true}

// passing reports whether a verdict on case id counts as a pass. OK passes;
// INFORMATIONAL passes only on the cases the suite defines as informational.
// Every other verdict fails: FAILED, NON-STRICT (the suite accepted a
// weaker behaviour than the RFC's, e.g. failing UTF-8 late rather than
// fast), WRONG CODE, UNCLEAN, FAILED BY CLIENT, UNIMPLEMENTED (we offer
// permessage-deflate, so sections 12–13 must run) and anything unknown.
func passing(id, verdict string) bool {
	return verdict == "OK" || verdict == "INFORMATIONAL" && informational[id]
}

// loadIndex reads dir/index.json.
func loadIndex(dir string) (index, error) {
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, err
	}
	var idx index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, "index.json"), err)
	}
	return idx, nil
}

// summarize judges every case of every agent in idx, agents by name and
// cases in the suite's numeric order.
func summarize(idx index) []agentSummary {
	agents := make([]string, 0, len(idx))
	for a := range idx {
		agents = append(agents, a)
	}
	sort.Strings(agents)
	out := make([]agentSummary, 0, len(agents))
	for _, a := range agents {
		cases := idx[a]
		ids := make([]string, 0, len(cases))
		for id := range cases {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return caseLess(ids[i], ids[j]) })
		s := agentSummary{Agent: a, Cases: len(ids), Verdicts: map[string]int{}}
		for _, id := range ids {
			r := cases[id]
			s.Verdicts[r.Behavior+"/"+r.BehaviorClose]++
			if !passing(id, r.Behavior) || !passing(id, r.BehaviorClose) {
				s.Failures = append(s.Failures, failure{a, id, r.Behavior, r.BehaviorClose, r.ReportFile})
			}
		}
		out = append(out, s)
	}
	return out
}

// caseLess orders case ids component by component as numbers, so that
// 1.1.10 follows 1.1.9; a component that is not a number compares as text.
func caseLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		if pa[i] == pb[i] {
			continue
		}
		na, ea := strconv.Atoi(pa[i])
		nb, eb := strconv.Atoi(pb[i])
		if ea == nil && eb == nil {
			return na < nb
		}
		return pa[i] < pb[i]
	}
	return len(pa) < len(pb)
}
