package compute

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// A standby driver shares its state directory with a leader: it reads nothing and writes
// nothing until Load, its calls wait for Load, and Load takes what the leader left.
func TestStandbyLoadsWhenElected(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	hosts := smallHosts(2, Resources{VCPUs: 8, RAMMiB: 8192, DiskGiB: 100})
	leader := newSim(t, SimulatedConfig{StateDir: dir, StepLatency: time.Second, Hosts: hosts, Now: clk.Now})
	mustStart(t, leader, "before", spawn("spawn", small))

	standby := newSim(t, SimulatedConfig{StateDir: dir, StepLatency: time.Second, Hosts: hosts, Now: clk.Now, Standby: true})
	waiting, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := standby.Get(waiting, "before"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a standby answered before Load: %v", err)
	}
	if _, err := standby.Start(waiting, "x", spawn("spawn", small)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a standby started an operation before Load: %v", err)
	}
	files := stateFiles(t, dir)

	// The leader goes on after the standby was built: a spawn in progress at takeover.
	mustStart(t, leader, "building", spawn("spawn", medium))
	if got, want := len(stateFiles(t, dir)), len(files)+1; got != want {
		t.Fatalf("state files: %d, want %d", got, want)
	}

	done := make(chan Instance)
	go func() {
		inst, err := standby.Get(ctx, "building")
		if err != nil {
			t.Errorf("Get after Load: %v", err)
		}
		done <- inst
	}()
	if err := standby.Load(); err != nil {
		t.Fatal(err)
	}
	if inst := <-done; inst.Op == nil || inst.Op.Done || inst.Host == "" {
		t.Fatalf("the waiting call saw %+v, want the leader's spawn in progress", fmtInst(inst))
	}
	assertSameState(t, leader, standby)

	// Asked again with the same token, the spawn in progress is the same one; it finishes.
	again := mustStart(t, standby, "building", spawn("spawn", medium))
	clk.Advance(time.Second)
	if inst := mustGet(t, standby, "building"); !inst.Op.Done || inst.Host != again.Host {
		t.Fatalf("after takeover: %s", fmtInst(inst))
	}
	checkAccounting(t, standby)
}

// The spawn log has one line per spawn begun, from any process, and none for a spawn asked
// again with its token.
func TestSpawnLog(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(t.TempDir(), "spawns.log")
	cfg := SimulatedConfig{StateDir: dir, SpawnLog: log}
	a := newSim(t, cfg)
	mustStart(t, a, "one", spawn("spawn", small))
	mustStart(t, a, "one", spawn("spawn", small))
	b := newSim(t, cfg)
	mustStart(t, b, "one", spawn("spawn", small))
	mustStart(t, b, "two", spawn("spawn", small))
	mustStart(t, b, "two", spawn("respawn", small))
	entries, err := ReadSpawnLog(log)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range entries {
		count[e.ID]++
		if e.Host == "" || e.PID == 0 || e.At.IsZero() {
			t.Errorf("incomplete entry %+v", e)
		}
	}
	if count["one"] != 1 || count["two"] != 2 || len(count) != 2 {
		t.Fatalf("spawns per instance: %v", count)
	}
	if none, err := ReadSpawnLog(filepath.Join(dir, "missing")); err != nil || none != nil {
		t.Fatalf("a missing log: %v %v", none, err)
	}
}
