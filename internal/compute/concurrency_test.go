package compute

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestConcurrentSpawnsNeverOversubscribe(t *testing.T) {
	tests := []struct {
		name     string
		stateDir bool
		latency  time.Duration
	}{
		{"in memory", false, 0},
		{"persisted", true, 0},
		{"persisted with latency", true, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			cfg := SimulatedConfig{
				Hosts:       smallHosts(4, Resources{VCPUs: 4, RAMMiB: 8192, DiskGiB: 100}),
				StepLatency: tt.latency,
				Now:         clk.Now,
			}
			if tt.stateDir {
				cfg.StateDir = t.TempDir()
			}
			s := newSim(t, cfg)
			flavor := Resources{VCPUs: 1, RAMMiB: 1024, DiskGiB: 10} // 4 fit per host (vCPU-bound)
			const n = 200
			var wg sync.WaitGroup
			results := make([]Instance, n)
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					results[i], errs[i] = s.Start(ctx, fmt.Sprint("vm-", i), spawn("t", flavor))
				})
			}
			// Readers race with the writers.
			for range 4 {
				wg.Go(func() {
					for range 50 {
						if _, err := s.Hosts(ctx); err != nil {
							t.Error(err)
						}
						if _, err := s.List(ctx); err != nil {
							t.Error(err)
						}
						clk.Advance(time.Millisecond)
					}
				})
			}
			wg.Wait()
			placed := 0
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("Start %d: %v", i, errs[i])
				}
				if results[i].Host != "" {
					placed++
				} else if !results[i].Op.Failed || results[i].Op.Fault.Message != NoValidHostMessage {
					t.Fatalf("unplaced instance %d without fault: %+v", i, results[i].Op)
				}
			}
			if placed != 16 {
				t.Fatalf("placed %d instances, capacity is 16", placed)
			}
			for _, h := range hostMap(t, s) {
				if h.Instances != 4 || h.Used != (Resources{VCPUs: 4, RAMMiB: 4096, DiskGiB: 40}) {
					t.Errorf("host %+v", h)
				}
			}
			checkAccounting(t, s)
			if ids, _ := s.List(ctx); len(ids) != n {
				t.Fatalf("List has %d ids, want %d", len(ids), n)
			}
			if tt.stateDir {
				if files := stateFiles(t, cfg.StateDir); len(files) != n {
					t.Fatalf("%d state files, want %d", len(files), n)
				}
				assertSameState(t, s, newSim(t, cfg))
			}
		})
	}
}

func TestConcurrentMixedOps(t *testing.T) {
	// Many goroutines spawn, poll, power-cycle, resize and destroy
	// overlapping instances while the clock moves; afterwards the accounting
	// must balance and a restarted driver must agree.
	clk := newClock()
	cfg := SimulatedConfig{
		StateDir:    t.TempDir(),
		Hosts:       smallHosts(3, Resources{VCPUs: 8, RAMMiB: 16384, DiskGiB: 200}),
		StepLatency: time.Millisecond,
		Now:         clk.Now,
	}
	s := newSim(t, cfg)
	const workers, rounds, ids = 16, 60, 24
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				id := fmt.Sprint("vm-", (w*7+r)%ids)
				tok := fmt.Sprint(w, "-", r)
				var err error
				switch (w + r) % 6 {
				case 0, 1:
					_, err = s.Start(ctx, id, OpRequest{Kind: OpSpawn, Token: tok, Steps: 2, Flavor: medium})
				case 2:
					_, err = s.Start(ctx, id, OpRequest{Kind: OpResize, Token: tok, Steps: 2, Flavor: large})
				case 3:
					kinds := []OpKind{OpPowerOff, OpPowerOn, OpConfirmResize, OpRevertResize, OpShelveOffload, OpUnshelve}
					_, err = s.Start(ctx, id, OpRequest{Kind: kinds[r%len(kinds)], Token: tok, Steps: 1, FailStep: r % 2})
				case 4:
					_, err = s.Get(ctx, id)
				case 5:
					if r%3 == 0 {
						err = s.Destroy(ctx, id)
					} else {
						_, err = s.Hosts(ctx)
					}
				}
				if err != nil && err != ErrNotFound && err != ErrBusy {
					t.Errorf("worker %d round %d: %v", w, r, err)
				}
				clk.Advance(time.Millisecond / 3)
			}
		})
	}
	wg.Wait()
	checkAccounting(t, s)
	clk.Advance(time.Second) // let every op finish
	checkAccounting(t, s)
	s2 := newSim(t, cfg)
	assertSameState(t, s, s2)
	ids2, _ := s2.List(ctx)
	if files := stateFiles(t, cfg.StateDir); len(files) != len(ids2) {
		t.Fatalf("%d state files for %d instances: %v", len(files), len(ids2), files)
	}
}

func TestThousandSpawnsAreFast(t *testing.T) {
	cfg := SimulatedConfig{StateDir: t.TempDir()}
	s := newSim(t, cfg)
	const n, workers = 1000, 16
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				if _, err := s.Start(ctx, fmt.Sprintf("uid-%04d", i), spawn("t", small)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	t.Logf("%d persisted spawns from %d goroutines: %v", n, workers, elapsed)
	// Well under a second normally; generous for -race and loaded machines.
	if elapsed > 10*time.Second {
		t.Errorf("too slow: %v", elapsed)
	}
	if ids, _ := s.List(ctx); len(ids) != n {
		t.Fatalf("%d instances", len(ids))
	}
	if files := stateFiles(t, cfg.StateDir); len(files) != n {
		t.Fatalf("%d files", len(files))
	}
}

func BenchmarkSpawnPersisted(b *testing.B) {
	s := newSim(b, SimulatedConfig{StateDir: b.TempDir(), Hosts: []HostInfo{{Name: "big", Capacity: Resources{VCPUs: 1 << 30, RAMMiB: 1 << 50, DiskGiB: 1 << 50}}}})
	var n int64
	var mu sync.Mutex
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			n++
			id := fmt.Sprint("vm-", n)
			mu.Unlock()
			if _, err := s.Start(ctx, id, spawn("t", small)); err != nil {
				b.Error(err)
			}
		}
	})
}
