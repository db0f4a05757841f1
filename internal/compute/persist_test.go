package compute

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kova-dev/kova/internal/lifecycle"
)

func stateFiles(t testing.TB, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	sort.Strings(names)
	return names
}

func TestRestartContinuesOps(t *testing.T) {
	const lat = 10 * time.Second
	dir := t.TempDir()
	clk := newClock()
	// a ends up with 3 small instances, b with a medium one that a
	// resize to 6144 MiB moves to a.
	hosts := smallHosts(2, Resources{VCPUs: 8, RAMMiB: 9216, DiskGiB: 100})
	cfg := SimulatedConfig{StateDir: dir, StepLatency: lat, Hosts: hosts, Now: clk.Now}
	s1 := newSim(t, cfg)

	// "spawning": a 3-step spawn, 1 step done at the restart.
	req := spawn("g1", small)
	req.Steps = 3
	mustStart(t, s1, "spawning", req)
	// "resizing": spawned, then a cross-host resize in progress.
	mustStart(t, s1, "resizing", spawn("g1", medium))
	// "failing": spawn that will fail at step 2 after the restart.
	fr := spawn("g1", small)
	fr.Steps, fr.FailStep, fr.FailMessage = 2, 2, "boom"
	mustStart(t, s1, "failing", fr)
	// "offloaded": shelved and offloaded.
	mustStart(t, s1, "offloaded", spawn("g1", small))
	clk.Advance(lat)
	for _, id := range []string{"spawning", "resizing", "failing", "offloaded"} {
		mustGet(t, s1, id)
	}
	rr := op(OpResize, "g2")
	rr.Flavor, rr.Steps = Resources{VCPUs: 4, RAMMiB: 6144, DiskGiB: 40}, 2
	if inst := mustStart(t, s1, "resizing", rr); inst.OldHost == inst.Host || inst.OldFlavor == nil {
		t.Fatalf("want a cross-host resize: %+v", inst)
	}
	mustStart(t, s1, "offloaded", op(OpShelve, "g2"))
	clk.Advance(lat)
	mustStart(t, s1, "offloaded", op(OpShelveOffload, "g3"))
	mustStart(t, s1, "destroyed", spawn("g1", small))
	if err := s1.Destroy(ctx, "destroyed"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(lat / 2)

	want := []string{"failing.json", "offloaded.json", "resizing.json", "spawning.json"}
	if got := stateFiles(t, dir); !reflect.DeepEqual(got, want) {
		t.Fatalf("state files %v, want %v", got, want)
	}

	// The "killed" process's memory is gone; a new one loads the files.
	s2 := newSim(t, cfg)
	assertSameState(t, s1, s2)
	checkAccounting(t, s2)
	insts, _ := snapshot(t, s2)
	if o := insts["spawning"].Op; o.Step != 2 || o.Done { // 2.5 latencies since start
		t.Fatalf("spawning: %+v", o)
	}
	if i := insts["resizing"]; i.Op.Step != 1 || i.OldFlavor == nil {
		t.Fatalf("resizing: %+v %+v", i, i.Op)
	}

	// Idempotent Start after the restart: the same tokens change nothing.
	mustStart(t, s2, "spawning", req)
	mustStart(t, s2, "resizing", rr)
	mustStart(t, s2, "offloaded", op(OpShelveOffload, "g3"))
	if _, err := s2.Start(ctx, "spawning", op(OpReboot, "other")); err != ErrBusy {
		t.Fatalf("busy after restart: %v", err)
	}
	assertSameState(t, s1, s2)

	// Ops continue by the clock in the new process.
	clk.Advance(lat)
	insts, _ = snapshot(t, s2)
	if i := insts["spawning"]; !i.Op.Done || i.Power != lifecycle.PowerRunning {
		t.Fatalf("spawning after restart: %+v %+v", i, i.Op)
	}
	if i := insts["resizing"]; !i.Op.Done || i.OldFlavor == nil {
		t.Fatalf("resizing after restart: %+v %+v", i, i.Op)
	}
	if i := insts["failing"]; !i.Op.Failed || i.Op.Fault.Message != "boom" || i.Host != "" {
		t.Fatalf("failing after restart: %+v %+v", i, i.Op)
	}
	checkAccounting(t, s2)
	mustStart(t, s2, "resizing", op(OpConfirmResize, "g3"))
	clk.Advance(lat)
	mustGet(t, s2, "resizing")

	// And a third process agrees with the second.
	s3 := newSim(t, cfg)
	assertSameState(t, s2, s3)
	checkAccounting(t, s3)
	ids, _ := s3.List(ctx)
	if !reflect.DeepEqual(ids, []string{"failing", "offloaded", "resizing", "spawning"}) {
		t.Fatalf("List after restarts: %v", ids)
	}
	if got := totalUsed(t, s3); got != small.add(rr.Flavor) {
		t.Fatalf("total usage %+v", got)
	}
}

func TestRestartWithoutCallsInBetween(t *testing.T) {
	// Ops that finished while no process ran are completed on load with
	// the same result they would have had.
	dir := t.TempDir()
	clk := newClock()
	cfg := SimulatedConfig{StateDir: dir, StepLatency: time.Second, Hosts: smallHosts(1, medium), Now: clk.Now}
	s1 := newSim(t, cfg)
	req := OpRequest{Kind: OpSpawn, Token: "t", Steps: 4, Flavor: medium, FailStep: 3}
	mustStart(t, s1, "vm", req)
	clk.Advance(time.Hour)
	s2 := newSim(t, cfg)
	inst := mustGet(t, s2, "vm")
	if !inst.Op.Failed || inst.Op.Step != 2 || !inst.Op.Fault.Created.Equal(inst.Op.StartedAt.Add(3*time.Second)) {
		t.Fatalf("%+v %+v", inst.Op, inst.Op.Fault)
	}
	// Capacity is free again, also per Hosts without any Get.
	s3 := newSim(t, cfg)
	if (used(t, s3, "a") != Resources{}) {
		t.Fatalf("usage %+v", used(t, s3, "a"))
	}
	assertSameState(t, s2, s3)
}

func TestRestartNoDuplicates(t *testing.T) {
	dir := t.TempDir()
	cfg := SimulatedConfig{StateDir: dir, Hosts: smallHosts(2, Resources{VCPUs: 10, RAMMiB: 10240, DiskGiB: 100})}
	s1 := newSim(t, cfg)
	for i := range 10 {
		mustStart(t, s1, fmt.Sprint("vm-", i), spawn("gen-1", small))
	}
	before := totalUsed(t, s1)
	s2 := newSim(t, cfg)
	// The controller, restarted too, re-issues every Start.
	for i := range 10 {
		mustStart(t, s2, fmt.Sprint("vm-", i), spawn("gen-1", small))
	}
	if got := totalUsed(t, s2); got != before {
		t.Fatalf("usage %+v after re-issued spawns, want %+v", got, before)
	}
	ids, _ := s2.List(ctx)
	if len(ids) != 10 || len(stateFiles(t, dir)) != 10 {
		t.Fatalf("ids %v files %v", ids, stateFiles(t, dir))
	}
	assertSameState(t, s1, s2)
}

func TestStateDirHousekeeping(t *testing.T) {
	dir := t.TempDir()
	s1 := newSim(t, SimulatedConfig{StateDir: dir})
	odd := "tenant/weird id:ü"
	mustStart(t, s1, odd, spawn("t", small))
	mustStart(t, s1, "plain-uid_1.2", spawn("t", small))
	files := stateFiles(t, dir)
	if len(files) != 2 || !strings.HasPrefix(files[1], "x-") || files[0] != "plain-uid_1.2.json" {
		t.Fatalf("files %v", files)
	}
	// A temp file left by a killed write, and an unrelated file.
	if err := os.WriteFile(filepath.Join(dir, tempPrefix+"plain-uid_1.2.json-123"), []byte("{partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("hi"), 0o600); err != nil {
		t.Fatal(err)
	}
	s2 := newSim(t, SimulatedConfig{StateDir: dir})
	assertSameState(t, s1, s2)
	if got := stateFiles(t, dir); !reflect.DeepEqual(got, []string{"README", files[0], files[1]}) {
		t.Fatalf("files after load %v", got)
	}
	if err := s2.Destroy(ctx, odd); err != nil {
		t.Fatal(err)
	}
	if got := stateFiles(t, dir); !reflect.DeepEqual(got, []string{"README", "plain-uid_1.2.json"}) {
		t.Fatalf("files after destroy %v", got)
	}
}

func TestStateDirCreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	s := newSim(t, SimulatedConfig{StateDir: dir})
	mustStart(t, s, "vm", spawn("t", small))
	if got := stateFiles(t, dir); !reflect.DeepEqual(got, []string{"vm.json"}) {
		t.Fatalf("files %v", got)
	}
}

func TestLoadErrors(t *testing.T) {
	good := func(id string) string {
		return fmt.Sprintf(`{"schema":1,"id":%q,"power":1,"flavor":{"vcpus":1,"ramMiB":1,"diskGiB":1}}`, id)
	}
	tests := []struct {
		name, file, content, wantErr string
	}{
		{"corrupt", "vm.json", "{nope", "vm.json"},
		{"empty", "vm.json", "", "vm.json"},
		{"schema", "vm.json", `{"schema":9,"id":"vm"}`, "schema version 9"},
		{"no id", "vm.json", `{"schema":1}`, "no instance id"},
		{"wrong file", "other.json", good("vm"), "whose file is vm.json"},
		{"bad op", "vm.json", `{"schema":1,"id":"vm","op":{"kind":"spawn","steps":0}}`, "inconsistent operation"},
		{"bad kind", "vm.json", `{"schema":1,"id":"vm","op":{"kind":"fly","steps":1}}`, "unknown operation kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := NewSimulated(SimulatedConfig{StateDir: dir})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadStateOnRemovedHost(t *testing.T) {
	// The host list shrank between runs: the instance keeps its host, which
	// is reported (zero capacity) but never placed on.
	dir := t.TempDir()
	s1 := newSim(t, SimulatedConfig{StateDir: dir, Hosts: []HostInfo{{Name: "old", Capacity: large}}})
	mustStart(t, s1, "vm", spawn("t", medium))
	s2 := newSim(t, SimulatedConfig{StateDir: dir, Hosts: []HostInfo{{Name: "new", Capacity: large}}})
	hs, _ := s2.Hosts(ctx)
	want := []HostInfo{
		{Name: "new", Capacity: large},
		{Name: "old", Used: medium, Instances: 1},
	}
	if !reflect.DeepEqual(hs, want) {
		t.Fatalf("Hosts %+v, want %+v", hs, want)
	}
	if inst := mustStart(t, s2, "vm2", spawn("t", Resources{})); inst.Host != "new" {
		t.Fatalf("placed on removed host: %+v", inst)
	}
	if err := s2.Destroy(ctx, "vm"); err != nil {
		t.Fatal(err)
	}
	if u := hostMap(t, s2)["old"].Used; (u != Resources{}) {
		t.Fatalf("old host usage %+v", u)
	}
}

func TestPersistFailureIsRetried(t *testing.T) {
	dir := t.TempDir()
	s := newSim(t, SimulatedConfig{StateDir: dir})
	mustStart(t, s, "vm", spawn("t", small))
	// Make the directory unusable by replacing it with a file (directory
	// permissions would not stop root).
	moved := dir + ".moved"
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(ctx, "vm", op(OpPowerOff, "off")); err == nil {
		t.Fatal("Start succeeded although the state could not be written")
	}
	// Restore the directory: the next call persists the pending change.
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(moved, dir); err != nil {
		t.Fatal(err)
	}
	if inst := mustStart(t, s, "vm", op(OpPowerOff, "off")); inst.Power != lifecycle.PowerShutdown {
		t.Fatalf("%+v", inst)
	}
	s2 := newSim(t, SimulatedConfig{StateDir: dir})
	assertSameState(t, s, s2)
}
