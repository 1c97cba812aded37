package main

import (
	"os"
	"testing"
	"time"
)

// TestMain lets the test binary play the server, client and in-process
// roles that the steps start it in.
func TestMain(m *testing.M) {
	if runRole() {
		return
	}
	os.Exit(m.Run())
}

// TestStepsSmall runs the three steps at small counts (two server
// processes sharing a port in step 2, two client processes each) and
// checks that every connection opened, every active one echoed every
// round, the figures are plausible, and the clients' leaving gave back
// most of the memory they took.
func TestStepsSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a dozen processes")
	}
	o := &options{
		steps: "1,2,3", libs: "ours,tcp",
		counts: "100,300", machine: "200,400", servers: 2, inproc: "100,1000",
		perClient: 200, active: 5, rounds: 3, interval: 10 * time.Millisecond,
	}
	if err := o.runSteps(); err != nil {
		t.Fatal(err)
	}
	if len(o.runs) != 5 {
		t.Fatalf("%d runs, want 5 (2 libraries in steps 1 and 2, ours in step 3)", len(o.runs))
	}
	want := map[int][]int{1: {100, 300}, 2: {200, 400}, 3: {100, 1000}}
	for _, r := range o.runs {
		if len(r.Results) != len(want[r.Step]) {
			t.Fatalf("step %d %s: %d results, want %d", r.Step, r.Lib, len(r.Results), len(want[r.Step]))
		}
		for i, res := range r.Results {
			n := want[r.Step][i]
			active := (n*5 + 99) / 100
			if res.Conns != n || res.Failures != 0 || res.RoundTrips < active*3 {
				t.Errorf("step %d %s at %d: %+v, want %d connections, no failure, at least %d round trips", r.Step, r.Lib, n, res, n, active*3)
			}
			// An idle connection costs at least a goroutine's smallest
			// stack and never 64 KiB.
			if res.HeapStackBytes < 2048 || res.HeapStackBytes > 64<<10 {
				t.Errorf("step %d %s at %d: %.0f bytes of heap+stack per connection", r.Step, r.Lib, n, res.HeapStackBytes)
			}
		}
		// Under the race detector the descriptors the runtime keeps of
		// ended goroutines are several times larger: at these small counts
		// they hide what the connections gave back.
		if !raceEnabled && r.Released < 0.5 {
			t.Errorf("step %d %s: %.0f%% of the memory released after the clients left", r.Step, r.Lib, 100*r.Released)
		}
	}
}
