package compute

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/kova-dev/kova/internal/lifecycle"
)

var (
	small  = Resources{VCPUs: 1, RAMMiB: 1024, DiskGiB: 10}
	medium = Resources{VCPUs: 2, RAMMiB: 4096, DiskGiB: 20}
	large  = Resources{VCPUs: 4, RAMMiB: 8192, DiskGiB: 40}
)

func spawn(token string, f Resources) OpRequest {
	return OpRequest{Kind: OpSpawn, Token: token, Steps: 1, Flavor: f, Image: "cirros"}
}

func op(kind OpKind, token string) OpRequest {
	return OpRequest{Kind: kind, Token: token, Steps: 1}
}

func TestPlacementMostFreeRAMTieByName(t *testing.T) {
	s := newSim(t, SimulatedConfig{Hosts: []HostInfo{
		{Name: "c", Capacity: Resources{VCPUs: 16, RAMMiB: 16384, DiskGiB: 500}},
		{Name: "b", Capacity: Resources{VCPUs: 16, RAMMiB: 16384, DiskGiB: 500}},
		{Name: "a", Capacity: Resources{VCPUs: 16, RAMMiB: 8192, DiskGiB: 500}},
	}})
	steps := []struct {
		flavor Resources
		want   string
	}{
		{medium, "b"}, // b and c tie at 16384 free: by name
		{medium, "c"}, // b 12288, c 16384
		{medium, "b"}, // b 12288, c 12288: tie again
		{large, "c"},  // a 8192, b 8192, c 12288
		{medium, "a"}, // a 8192, b 8192, c 4096
		{medium, "b"}, // a 4096, b 8192
		{large, ""},   // a 4096, b 4096, c 4096: nothing fits 8192
		{medium, "a"}, // a, b, c tie at 4096
	}
	for i, st := range steps {
		id := fmt.Sprintf("vm%d", i)
		inst := mustStart(t, s, id, spawn("t", st.flavor))
		if inst.Host != st.want {
			t.Fatalf("spawn %d (%+v): host %q, want %q", i, st.flavor, inst.Host, st.want)
		}
		if st.want == "" && !inst.Op.Failed {
			t.Fatalf("spawn %d: op not failed: %+v", i, inst.Op)
		}
	}
	checkAccounting(t, s)
}

func TestSpawnNoValidHost(t *testing.T) {
	host := Resources{VCPUs: 4, RAMMiB: 8192, DiskGiB: 100}
	tests := []struct {
		name    string
		flavor  Resources
		latency time.Duration
	}{
		{"too many vcpus", Resources{VCPUs: 5, RAMMiB: 1, DiskGiB: 1}, 0},
		{"too much ram", Resources{VCPUs: 1, RAMMiB: 8193, DiskGiB: 1}, 0},
		{"too much disk", Resources{VCPUs: 1, RAMMiB: 1, DiskGiB: 101}, 0},
		{"with latency", Resources{VCPUs: 5}, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			s := newSim(t, SimulatedConfig{Hosts: smallHosts(2, host), StepLatency: tt.latency, Now: clk.Now})
			req := spawn("t1", tt.flavor)
			req.Steps = 3
			inst := mustStart(t, s, "vm", req)
			want := Instance{
				ID: "vm", Power: lifecycle.PowerNoState, Flavor: tt.flavor, Image: "cirros",
				Op: &OpStatus{
					Kind: OpSpawn, Token: "t1", Steps: 3, Failed: true, StartedAt: clk.Now(),
					Fault: &Fault{Code: 500, Message: "No valid host was found. There are not enough hosts available.",
						Details: inst.Op.Fault.Details, Created: clk.Now()},
				},
			}
			if !reflect.DeepEqual(inst, want) {
				t.Fatalf("Start = %+v / %+v\nwant %+v / %+v", inst, inst.Op, want, want.Op)
			}
			clk.Advance(time.Hour)
			if got := mustGet(t, s, "vm"); !reflect.DeepEqual(got, want) {
				t.Fatalf("Get = %+v, want %+v", got, want)
			}
			if (totalUsed(t, s) != Resources{}) {
				t.Fatalf("a failed spawn leaked %+v", totalUsed(t, s))
			}
			if ids, _ := s.List(ctx); !reflect.DeepEqual(ids, []string{"vm"}) {
				t.Fatalf("List = %v, the failed record must remain", ids)
			}
			if err := s.Destroy(ctx, "vm"); err != nil {
				t.Fatal(err)
			}
			if ids, _ := s.List(ctx); len(ids) != 0 {
				t.Fatalf("List after Destroy = %v", ids)
			}
		})
	}
}

func TestCapacityExhaustion(t *testing.T) {
	s := newSim(t, SimulatedConfig{Hosts: smallHosts(2, Resources{VCPUs: 2, RAMMiB: 4096, DiskGiB: 100})})
	for i := range 4 {
		if inst := mustStart(t, s, fmt.Sprint("ok", i), spawn("t", small)); !inst.Op.Done || inst.Host == "" {
			t.Fatalf("spawn %d: %+v %+v", i, inst, inst.Op)
		}
	}
	inst := mustStart(t, s, "extra", spawn("t", small))
	if !inst.Op.Failed || inst.Op.Fault.Message != NoValidHostMessage || inst.Host != "" {
		t.Fatalf("5th spawn on full hosts: %+v %+v", inst, inst.Op)
	}
	checkAccounting(t, s)
	// Free one slot and retry the failed spawn with a new token.
	if err := s.Destroy(ctx, "ok0"); err != nil {
		t.Fatal(err)
	}
	inst = mustStart(t, s, "extra", OpRequest{Kind: OpSpawn, Token: "t2"}) // zero flavor: reuse recorded
	if !inst.Op.Done || inst.Host == "" || inst.Flavor != small || inst.Power != lifecycle.PowerRunning {
		t.Fatalf("retried spawn: %+v %+v", inst, inst.Op)
	}
	checkAccounting(t, s)
}

func TestOpResults(t *testing.T) {
	hosts := []HostInfo{
		{Name: "h1", Capacity: Resources{VCPUs: 8, RAMMiB: 8192, DiskGiB: 100}},
		{Name: "h2", Capacity: Resources{VCPUs: 8, RAMMiB: 8192, DiskGiB: 100}},
	}
	resizeTo := func(f Resources) OpRequest { r := op(OpResize, "resize"); r.Flavor = f; return r }
	rebuild := op(OpRebuild, "rebuild")
	rebuild.Image = "fedora"
	tests := []struct {
		name      string
		before    []OpRequest // after the spawn (small flavor, on h1)
		req       OpRequest
		power     lifecycle.PowerState
		host      string
		flavor    Resources
		oldFlavor *Resources
		image     string
	}{
		{name: "spawn", req: spawn("again", small), power: lifecycle.PowerRunning, host: "h1", flavor: small},
		{name: "power_off", req: op(OpPowerOff, "x"), power: lifecycle.PowerShutdown, host: "h1", flavor: small},
		{name: "power_on", before: []OpRequest{op(OpPowerOff, "a")}, req: op(OpPowerOn, "x"), power: lifecycle.PowerRunning, host: "h1", flavor: small},
		{name: "pause", req: op(OpPause, "x"), power: lifecycle.PowerPaused, host: "h1", flavor: small},
		{name: "unpause", before: []OpRequest{op(OpPause, "a")}, req: op(OpUnpause, "x"), power: lifecycle.PowerRunning, host: "h1", flavor: small},
		{name: "suspend", req: op(OpSuspend, "x"), power: lifecycle.PowerSuspended, host: "h1", flavor: small},
		{name: "resume", before: []OpRequest{op(OpSuspend, "a")}, req: op(OpResume, "x"), power: lifecycle.PowerRunning, host: "h1", flavor: small},
		{name: "reboot", before: []OpRequest{op(OpPowerOff, "a")}, req: op(OpReboot, "x"), power: lifecycle.PowerRunning, host: "h1", flavor: small},
		{name: "reboot_hard", before: []OpRequest{op(OpPause, "a")}, req: op(OpRebootHard, "x"), power: lifecycle.PowerRunning, host: "h1", flavor: small},
		{name: "rebuild", before: []OpRequest{op(OpPowerOff, "a")}, req: rebuild, power: lifecycle.PowerRunning, host: "h1", flavor: small, image: "fedora"},
		{name: "rescue", req: op(OpRescue, "x"), power: lifecycle.PowerShutdown, host: "h1", flavor: small},
		{name: "unrescue", before: []OpRequest{op(OpRescue, "a")}, req: op(OpUnrescue, "x"), power: lifecycle.PowerRunning, host: "h1", flavor: small},
		{name: "snapshot keeps power", before: []OpRequest{op(OpPause, "a")}, req: op(OpSnapshot, "x"), power: lifecycle.PowerPaused, host: "h1", flavor: small},
		{name: "set_password keeps power", before: []OpRequest{op(OpPowerOff, "a")}, req: op(OpSetPassword, "x"), power: lifecycle.PowerShutdown, host: "h1", flavor: small},
		{name: "shelve", req: op(OpShelve, "x"), power: lifecycle.PowerShutdown, host: "h1", flavor: small},
		{name: "shelve_offload", before: []OpRequest{op(OpShelve, "a")}, req: op(OpShelveOffload, "x"), power: lifecycle.PowerShutdown, host: "", flavor: small},
		{name: "unshelve offloaded", before: []OpRequest{op(OpShelve, "a"), op(OpShelveOffload, "b")}, req: op(OpUnshelve, "x"), power: lifecycle.PowerRunning, host: "h1", flavor: small},
		{name: "unshelve not offloaded", before: []OpRequest{op(OpShelve, "a")}, req: op(OpUnshelve, "x"), power: lifecycle.PowerRunning, host: "h1", flavor: small},
		{name: "resize same host", req: resizeTo(medium), power: lifecycle.PowerRunning, host: "h1", flavor: medium, oldFlavor: &small},
		{name: "resize keeps shutdown", before: []OpRequest{op(OpPowerOff, "a")}, req: resizeTo(medium), power: lifecycle.PowerShutdown, host: "h1", flavor: medium, oldFlavor: &small},
		{name: "resize other host", req: resizeTo(large), power: lifecycle.PowerRunning, host: "h2", flavor: large, oldFlavor: &small},
		{name: "confirm", before: []OpRequest{resizeTo(large)}, req: op(OpConfirmResize, "x"), power: lifecycle.PowerRunning, host: "h2", flavor: large},
		{name: "confirm stopped", before: []OpRequest{op(OpPowerOff, "a"), resizeTo(large)}, req: op(OpConfirmResize, "x"), power: lifecycle.PowerShutdown, host: "h2", flavor: large},
		{name: "revert", before: []OpRequest{resizeTo(large)}, req: op(OpRevertResize, "x"), power: lifecycle.PowerRunning, host: "h1", flavor: small},
		{name: "revert stopped", before: []OpRequest{op(OpPowerOff, "a"), resizeTo(medium)}, req: op(OpRevertResize, "x"), power: lifecycle.PowerShutdown, host: "h1", flavor: small},
		{name: "confirm without resize", req: op(OpConfirmResize, "x"), power: lifecycle.PowerRunning, host: "h1", flavor: small},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, SimulatedConfig{Hosts: hosts})
			mustStart(t, s, "vm", spawn("spawn", small))
			for _, r := range tt.before {
				if inst := mustStart(t, s, "vm", r); !inst.Op.Done {
					t.Fatalf("setup op %s not done: %+v", r.Kind, inst.Op)
				}
			}
			inst := mustStart(t, s, "vm", tt.req)
			if !inst.Op.Done || inst.Op.Progress != 100 || inst.Op.Kind != tt.req.Kind {
				t.Fatalf("op not done: %+v", inst.Op)
			}
			image := tt.image
			if image == "" {
				image = "cirros"
			}
			if inst.Power != tt.power || inst.Host != tt.host || inst.Flavor != tt.flavor || inst.Image != image {
				t.Errorf("got power=%v host=%q flavor=%+v image=%q, want %v %q %+v %q",
					inst.Power, inst.Host, inst.Flavor, inst.Image, tt.power, tt.host, tt.flavor, image)
			}
			if !reflect.DeepEqual(inst.OldFlavor, tt.oldFlavor) {
				t.Errorf("OldFlavor = %v, want %v", inst.OldFlavor, tt.oldFlavor)
			}
			if tt.oldFlavor != nil && inst.OldHost != "h1" {
				t.Errorf("OldHost = %q, want h1", inst.OldHost)
			}
			checkAccounting(t, s)
		})
	}
}

func TestOpsRejectedWhenNotPlaced(t *testing.T) {
	s := newSim(t, SimulatedConfig{Hosts: smallHosts(1, large)})
	mustStart(t, s, "vm", spawn("s", small))
	mustStart(t, s, "vm", op(OpShelveOffload, "off"))
	for _, kind := range []OpKind{OpPowerOn, OpPowerOff, OpReboot, OpRebuild, OpResize, OpPause, OpRescue, OpSetPassword} {
		inst := mustStart(t, s, "vm", op(kind, "tok-"+string(kind)))
		if !inst.Op.Failed || inst.Op.Fault.Code != 409 || inst.Host != "" || inst.Power != lifecycle.PowerShutdown {
			t.Errorf("%s on offloaded instance: %+v op %+v", kind, inst, inst.Op)
		}
	}
	for _, kind := range []OpKind{OpShelve, OpShelveOffload, OpSnapshot} {
		if inst := mustStart(t, s, "vm", op(kind, "ok-"+string(kind))); !inst.Op.Done {
			t.Errorf("%s on offloaded instance: %+v", kind, inst.Op)
		}
	}
	checkAccounting(t, s)
}

func TestPowerWhileOpRuns(t *testing.T) {
	clk := newClock()
	s := newSim(t, SimulatedConfig{Hosts: smallHosts(1, large), StepLatency: time.Second, Now: clk.Now})
	inst := mustStart(t, s, "vm", spawn("s", small))
	if inst.Power != lifecycle.PowerNoState || inst.Host != "a" || inst.Op.Done {
		t.Fatalf("spawning: %+v %+v", inst, inst.Op)
	}
	clk.Advance(time.Second)
	if inst = mustGet(t, s, "vm"); inst.Power != lifecycle.PowerRunning || !inst.Op.Done {
		t.Fatalf("spawned: %+v %+v", inst, inst.Op)
	}
	req := op(OpPowerOff, "off")
	req.Steps = 3
	mustStart(t, s, "vm", req)
	clk.Advance(2 * time.Second)
	if inst = mustGet(t, s, "vm"); inst.Power != lifecycle.PowerRunning || inst.Op.Step != 2 {
		t.Fatalf("powering off: %+v %+v", inst, inst.Op)
	}
	clk.Advance(time.Second)
	if inst = mustGet(t, s, "vm"); inst.Power != lifecycle.PowerShutdown || !inst.Op.Done {
		t.Fatalf("powered off: %+v %+v", inst, inst.Op)
	}
}

func TestProgress(t *testing.T) {
	const lat = 10 * time.Second
	tests := []struct {
		steps int
		// after each advance of lat/2
		progress []int32
		step     []int
		nextIn   []time.Duration
	}{
		{
			steps:    2,
			progress: []int32{0, 0, 50, 50, 100, 100},
			step:     []int{0, 0, 1, 1, 2, 2},
			nextIn:   []time.Duration{lat, lat / 2, lat, lat / 2, 0, 0},
		},
		{
			steps:    3,
			progress: []int32{0, 0, 33, 33, 66, 66, 100},
			step:     []int{0, 0, 1, 1, 2, 2, 3},
			nextIn:   []time.Duration{lat, lat / 2, lat, lat / 2, lat, lat / 2, 0},
		},
		{
			steps:    0, // counts as 1
			progress: []int32{0, 0, 100},
			step:     []int{0, 0, 1},
			nextIn:   []time.Duration{lat, lat / 2, 0},
		},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.steps, "steps"), func(t *testing.T) {
			clk := newClock()
			s := newSim(t, SimulatedConfig{StepLatency: lat, Now: clk.Now})
			start := clk.Now()
			req := spawn("s", small)
			req.Steps = tt.steps
			inst := mustStart(t, s, "vm", req)
			for i := range tt.progress {
				if i > 0 {
					clk.Advance(lat / 2)
					inst = mustGet(t, s, "vm")
				}
				o := inst.Op
				last := i == len(tt.progress)-1
				if o.Progress != tt.progress[i] || o.Step != tt.step[i] || o.NextIn != tt.nextIn[i] || o.Done != (tt.progress[i] == 100) || o.Failed {
					t.Fatalf("t=%v: op %+v, want progress %d step %d nextIn %v", clk.Now().Sub(start), o, tt.progress[i], tt.step[i], tt.nextIn[i])
				}
				if !o.StartedAt.Equal(start) || o.Steps != max(tt.steps, 1) {
					t.Fatalf("op %+v: StartedAt/Steps wrong", o)
				}
				if last != o.Done && tt.progress[i] != 100 {
					t.Fatalf("op finished early: %+v", o)
				}
			}
		})
	}
}

func TestStepLatencyZeroCompletesAtStart(t *testing.T) {
	s := newSim(t, SimulatedConfig{})
	req := spawn("s", small)
	req.Steps = 5
	inst := mustStart(t, s, "vm", req)
	if !inst.Op.Done || inst.Op.Step != 5 || inst.Op.Progress != 100 || inst.Op.NextIn != 0 || inst.Power != lifecycle.PowerRunning {
		t.Fatalf("%+v %+v", inst, inst.Op)
	}
}

func TestClockGoingBackwards(t *testing.T) {
	clk := newClock()
	s := newSim(t, SimulatedConfig{StepLatency: time.Second, Now: clk.Now})
	mustStart(t, s, "vm", spawn("s", small))
	clk.Advance(-time.Minute)
	inst := mustGet(t, s, "vm")
	if inst.Op.Step != 0 || inst.Op.Done || inst.Op.NextIn <= 0 {
		t.Fatalf("%+v", inst.Op)
	}
}

func TestFailStep(t *testing.T) {
	const lat = time.Second
	hosts := []HostInfo{
		{Name: "h1", Capacity: Resources{VCPUs: 8, RAMMiB: 8192, DiskGiB: 100}},
		{Name: "h2", Capacity: Resources{VCPUs: 8, RAMMiB: 8192, DiskGiB: 100}},
	}
	type want struct {
		step    int       // step reached when failing
		failAt  int       // in units of lat after the op started
		message string    //
		host    string    // after failure
		flavor  Resources // after failure
		power   lifecycle.PowerState
		used    map[string]Resources // per host after failure
	}
	tests := []struct {
		name  string
		setup []OpRequest // done at once (before the clock-driven op)
		req   OpRequest
		want  want
	}{
		{
			name: "spawn fails at step 1",
			req:  OpRequest{Kind: OpSpawn, Token: "t", Steps: 2, Flavor: small, FailStep: 1},
			want: want{step: 0, failAt: 1, message: "Simulated failure in spawn", host: "", flavor: small, power: lifecycle.PowerNoState,
				used: map[string]Resources{"h1": {}, "h2": {}}},
		},
		{
			name: "spawn fails at step 2 with message",
			req:  OpRequest{Kind: OpSpawn, Token: "t", Steps: 3, Flavor: small, FailStep: 2, FailMessage: "disk on fire"},
			want: want{step: 1, failAt: 2, message: "disk on fire", host: "", flavor: small, power: lifecycle.PowerNoState,
				used: map[string]Resources{"h1": {}, "h2": {}}},
		},
		{
			name: "FailStep beyond Steps fails on the last step",
			req:  OpRequest{Kind: OpSpawn, Token: "t", Steps: 2, Flavor: small, FailStep: 7},
			want: want{step: 1, failAt: 2, message: "Simulated failure in spawn", host: "", flavor: small, power: lifecycle.PowerNoState,
				used: map[string]Resources{"h1": {}, "h2": {}}},
		},
		{
			name:  "power_off keeps power",
			setup: []OpRequest{spawn("s", small)},
			req:   OpRequest{Kind: OpPowerOff, Token: "t", Steps: 2, FailStep: 2},
			want: want{step: 1, failAt: 2, message: "Simulated failure in power_off", host: "h1", flavor: small, power: lifecycle.PowerRunning,
				used: map[string]Resources{"h1": small, "h2": {}}},
		},
		{
			name:  "resize to other host keeps the old allocation",
			setup: []OpRequest{spawn("s", small)},
			req:   OpRequest{Kind: OpResize, Token: "t", Steps: 2, Flavor: large, FailStep: 2},
			want: want{step: 1, failAt: 2, message: "Simulated failure in resize", host: "h1", flavor: small, power: lifecycle.PowerRunning,
				used: map[string]Resources{"h1": small, "h2": {}}},
		},
		{
			name:  "resize on same host keeps the old allocation",
			setup: []OpRequest{spawn("s", small)},
			req:   OpRequest{Kind: OpResize, Token: "t", Steps: 1, Flavor: medium, FailStep: 1},
			want: want{step: 0, failAt: 1, message: "Simulated failure in resize", host: "h1", flavor: small, power: lifecycle.PowerRunning,
				used: map[string]Resources{"h1": small, "h2": {}}},
		},
		{
			name:  "unshelve releases its host",
			setup: []OpRequest{spawn("s", small), op(OpShelve, "sh"), op(OpShelveOffload, "off")},
			req:   OpRequest{Kind: OpUnshelve, Token: "t", Steps: 1, FailStep: 1},
			want: want{step: 0, failAt: 1, message: "Simulated failure in unshelve", host: "", flavor: small, power: lifecycle.PowerShutdown,
				used: map[string]Resources{"h1": {}, "h2": {}}},
		},
		{
			name:  "shelve_offload keeps the host",
			setup: []OpRequest{spawn("s", small), op(OpShelve, "sh")},
			req:   OpRequest{Kind: OpShelveOffload, Token: "t", Steps: 1, FailStep: 1},
			want: want{step: 0, failAt: 1, message: "Simulated failure in shelve_offload", host: "h1", flavor: small, power: lifecycle.PowerShutdown,
				used: map[string]Resources{"h1": small, "h2": {}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			// Setup ops run with zero latency, then the same state is
			// continued with latency (shared state dir).
			dir := t.TempDir()
			s0 := newSim(t, SimulatedConfig{StateDir: dir, Hosts: hosts, Now: clk.Now})
			for _, r := range tt.setup {
				if inst := mustStart(t, s0, "vm", r); !inst.Op.Done {
					t.Fatalf("setup %s: %+v", r.Kind, inst.Op)
				}
			}
			s := newSim(t, SimulatedConfig{StateDir: dir, Hosts: hosts, Now: clk.Now, StepLatency: lat})
			start := clk.Now()
			mustStart(t, s, "vm", tt.req)
			// Just before the failure the op runs and holds what it placed.
			clk.Advance(time.Duration(tt.want.failAt)*lat - time.Nanosecond)
			inst := mustGet(t, s, "vm")
			if inst.Op.Failed || inst.Op.Done || inst.Op.Step != tt.want.failAt-1 {
				t.Fatalf("before failure: %+v", inst.Op)
			}
			checkAccounting(t, s)
			clk.Advance(time.Nanosecond)
			inst = mustGet(t, s, "vm")
			wantFault := &Fault{Code: 500, Message: tt.want.message, Details: inst.Op.Fault.Details,
				Created: start.Add(time.Duration(tt.want.failAt) * lat)}
			if !inst.Op.Failed || inst.Op.Done || inst.Op.Step != tt.want.step || inst.Op.NextIn != 0 || !reflect.DeepEqual(inst.Op.Fault, wantFault) {
				t.Fatalf("after failure: %+v fault %+v, want step %d fault %+v", inst.Op, inst.Op.Fault, tt.want.step, wantFault)
			}
			if inst.Host != tt.want.host || inst.Flavor != tt.want.flavor || inst.Power != tt.want.power || inst.OldFlavor != nil || inst.OldHost != "" {
				t.Fatalf("after failure: %+v, want host %q flavor %+v power %v", inst, tt.want.host, tt.want.flavor, tt.want.power)
			}
			for h, u := range tt.want.used {
				if got := used(t, s, h); got != u {
					t.Errorf("host %s used %+v, want %+v", h, got, u)
				}
			}
			checkAccounting(t, s)
			// The failure is final, also across a restart.
			clk.Advance(time.Hour)
			s2 := newSim(t, SimulatedConfig{StateDir: dir, Hosts: hosts, Now: clk.Now, StepLatency: lat})
			assertSameState(t, s, s2)
		})
	}
}

func TestFailStepWithZeroLatencyFailsAtStart(t *testing.T) {
	s := newSim(t, SimulatedConfig{Hosts: smallHosts(1, large)})
	inst := mustStart(t, s, "vm", OpRequest{Kind: OpSpawn, Token: "t", Steps: 2, Flavor: small, FailStep: 2})
	if !inst.Op.Failed || inst.Op.Step != 1 || inst.Host != "" || (used(t, s, "a") != Resources{}) {
		t.Fatalf("%+v %+v", inst, inst.Op)
	}
}

func TestStartIdempotentByToken(t *testing.T) {
	clk := newClock()
	s := newSim(t, SimulatedConfig{Hosts: smallHosts(2, large), StepLatency: time.Second, Now: clk.Now})
	req := spawn("gen-1", medium)
	req.Steps = 2
	first := mustStart(t, s, "vm", req)
	clk.Advance(time.Second)
	again := mustStart(t, s, "vm", req)
	if again.Op.StartedAt != first.Op.StartedAt || again.Op.Step != 1 || again.Host != first.Host {
		t.Fatalf("same token restarted the op: %+v vs %+v", again.Op, first.Op)
	}
	if got := totalUsed(t, s); got != medium {
		t.Fatalf("same-token spawn allocated twice: %+v", got)
	}

	// A different op while this one runs: busy, nothing changes.
	if _, err := s.Start(ctx, "vm", op(OpPowerOff, "off-1")); err != ErrBusy {
		t.Fatalf("Start while busy: err %v, want ErrBusy", err)
	}
	if _, err := s.Start(ctx, "vm", spawn("gen-2", medium)); !errors.Is(err, ErrBusy) {
		t.Fatalf("spawn with new token while busy: err %v, want ErrBusy", err)
	}
	clk.Advance(time.Second)
	if inst := mustGet(t, s, "vm"); !inst.Op.Done || inst.Op.Token != "gen-1" {
		t.Fatalf("%+v", inst.Op)
	}

	// A new token replaces a finished op; repeating it is a no-op.
	off := mustStart(t, s, "vm", op(OpPowerOff, "off-1"))
	if off.Op.Kind != OpPowerOff || off.Op.Token != "off-1" || off.Op.Done {
		t.Fatalf("%+v", off.Op)
	}
	clk.Advance(time.Second)
	if inst := mustGet(t, s, "vm"); inst.Power != lifecycle.PowerShutdown {
		t.Fatalf("%+v", inst)
	}
	// Repeating the finished op's token is still a no-op.
	repeat := mustStart(t, s, "vm", op(OpPowerOff, "off-1"))
	if repeat.Op.Token != "off-1" || !repeat.Op.Done || !repeat.Op.StartedAt.Equal(off.Op.StartedAt) {
		t.Fatalf("repeating the current token must be a no-op: %+v", repeat.Op)
	}
	if got := totalUsed(t, s); got != medium {
		t.Fatalf("usage %+v", got)
	}
	// A re-issued spawn of a placed instance keeps its allocation.
	mustStart(t, s, "vm", spawn("gen-2", medium))
	clk.Advance(time.Second)
	inst := mustGet(t, s, "vm")
	if !inst.Op.Done || inst.Power != lifecycle.PowerRunning || totalUsed(t, s) != medium {
		t.Fatalf("%+v %+v used %+v", inst, inst.Op, totalUsed(t, s))
	}
	if ids, _ := s.List(ctx); !reflect.DeepEqual(ids, []string{"vm"}) {
		t.Fatalf("List %v", ids)
	}
}

func TestStartErrors(t *testing.T) {
	s := newSim(t, SimulatedConfig{})
	if _, err := s.Start(ctx, "nope", op(OpPowerOn, "t")); err != ErrNotFound {
		t.Errorf("non-spawn op on unknown id: %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, "nope"); err != ErrNotFound {
		t.Errorf("Get unknown: %v, want ErrNotFound", err)
	}
	if _, err := s.Start(ctx, "vm", op("explode", "t")); err == nil {
		t.Error("unknown op kind accepted")
	}
	if _, err := s.Start(ctx, "", spawn("t", small)); err == nil {
		t.Error("empty id accepted")
	}
	if ids, _ := s.List(ctx); len(ids) != 0 {
		t.Errorf("failed Starts created records: %v", ids)
	}
}

func TestResizeAccounting(t *testing.T) {
	hosts := []HostInfo{
		{Name: "a", Capacity: Resources{VCPUs: 8, RAMMiB: 16384, DiskGiB: 200}},
		{Name: "b", Capacity: Resources{VCPUs: 8, RAMMiB: 16384, DiskGiB: 200}},
	}
	f4 := Resources{VCPUs: 2, RAMMiB: 4096, DiskGiB: 20}
	f8 := Resources{VCPUs: 4, RAMMiB: 8192, DiskGiB: 40}
	f12 := Resources{VCPUs: 4, RAMMiB: 12288, DiskGiB: 40}
	f20 := Resources{VCPUs: 4, RAMMiB: 20480, DiskGiB: 40}
	resize := func(tok string, f Resources) OpRequest { r := op(OpResize, tok); r.Flavor = f; return r }

	type usage struct{ a, b Resources }
	s := newSim(t, SimulatedConfig{Hosts: hosts})
	check := func(step string, inst Instance, host string, flavor Resources, old *Resources, oldHost string, u usage) {
		t.Helper()
		if inst.Host != host || inst.Flavor != flavor || !reflect.DeepEqual(inst.OldFlavor, old) || inst.OldHost != oldHost {
			t.Fatalf("%s: got host %q flavor %+v old %v@%q, want %q %+v %v@%q", step, inst.Host, inst.Flavor, inst.OldFlavor, inst.OldHost, host, flavor, old, oldHost)
		}
		if got := (usage{used(t, s, "a"), used(t, s, "b")}); got != u {
			t.Fatalf("%s: usage %+v, want %+v", step, got, u)
		}
		checkAccounting(t, s)
	}

	inst := mustStart(t, s, "vm", spawn("s", f4))
	check("spawn", inst, "a", f4, nil, "", usage{a: f4})

	// f8 fits on a beside f4: same host, both held.
	inst = mustStart(t, s, "vm", resize("r1", f8))
	check("resize same host", inst, "a", f8, &f4, "a", usage{a: f4.add(f8)})
	if hostMap(t, s)["a"].Instances != 1 {
		t.Fatal("a same-host resize counts the instance once")
	}
	inst = mustStart(t, s, "vm", resize("r1b", f8))
	if !inst.Op.Failed || inst.Op.Fault.Code != 409 {
		t.Fatalf("resize while awaiting confirmation: %+v", inst.Op)
	}
	check("second resize rejected", inst, "a", f8, &f4, "a", usage{a: f4.add(f8)})
	inst = mustStart(t, s, "vm", op(OpConfirmResize, "c1"))
	check("confirm", inst, "a", f8, nil, "", usage{a: f8})

	// f12 does not fit on a beside f8 (20480 > 16384): goes to b.
	inst = mustStart(t, s, "vm", resize("r2", f12))
	check("resize other host", inst, "b", f12, &f8, "a", usage{a: f8, b: f12})
	if hm := hostMap(t, s); hm["a"].Instances != 1 || hm["b"].Instances != 1 {
		t.Fatalf("both hosts hold the instance: %+v", hm)
	}
	inst = mustStart(t, s, "vm", op(OpRevertResize, "v2"))
	check("revert", inst, "a", f8, nil, "", usage{a: f8})

	// f20 fits nowhere: no valid host, nothing changes.
	inst = mustStart(t, s, "vm", resize("r3", f20))
	if !inst.Op.Failed || inst.Op.Fault.Message != NoValidHostMessage || inst.Op.Fault.Code != 500 {
		t.Fatalf("oversized resize: %+v", inst.Op)
	}
	check("no valid host", inst, "a", f8, nil, "", usage{a: f8})

	// Resize, then destroy while unconfirmed: both allocations freed.
	inst = mustStart(t, s, "vm", resize("r4", f12))
	check("resize again", inst, "b", f12, &f8, "a", usage{a: f8, b: f12})
	if err := s.Destroy(ctx, "vm"); err != nil {
		t.Fatal(err)
	}
	if got := (usage{used(t, s, "a"), used(t, s, "b")}); got != (usage{}) {
		t.Fatalf("destroy during resize leaked %+v", got)
	}
}

func TestResizeWithLatencyHoldsBothUntilDone(t *testing.T) {
	clk := newClock()
	hosts := smallHosts(2, Resources{VCPUs: 4, RAMMiB: 4096, DiskGiB: 40})
	s := newSim(t, SimulatedConfig{Hosts: hosts, StepLatency: time.Second, Now: clk.Now})
	mustStart(t, s, "vm", spawn("s", medium))
	clk.Advance(time.Second)
	mustGet(t, s, "vm")
	req := op(OpResize, "r")
	req.Flavor, req.Steps = large.sub(Resources{RAMMiB: 4096}), 2 // 4 vcpus, 4096 RAM: other host
	inst := mustStart(t, s, "vm", req)
	if inst.Host != "b" || inst.OldHost != "a" || inst.Op.Done {
		t.Fatalf("%+v %+v", inst, inst.Op)
	}
	// Meanwhile nothing else fits anywhere.
	if other := mustStart(t, s, "other", spawn("o", Resources{VCPUs: 3})); !other.Op.Failed {
		t.Fatalf("oversubscribed: %+v", other)
	}
	clk.Advance(2 * time.Second)
	inst = mustGet(t, s, "vm")
	if !inst.Op.Done || inst.Power != lifecycle.PowerRunning || inst.OldFlavor == nil {
		t.Fatalf("%+v %+v", inst, inst.Op)
	}
	mustStart(t, s, "vm", op(OpConfirmResize, "c"))
	clk.Advance(time.Second)
	// Start advances every running op, so the freed host is usable at once.
	if other := mustStart(t, s, "other", spawn("o2", Resources{VCPUs: 3})); other.Host != "a" {
		t.Fatalf("freed capacity not reused: %+v %+v", other, other.Op)
	}
	checkAccounting(t, s)
}

func TestShelveOffloadFreesCapacity(t *testing.T) {
	s := newSim(t, SimulatedConfig{Hosts: smallHosts(1, medium)})
	mustStart(t, s, "A", spawn("s", medium))
	if inst := mustStart(t, s, "B", spawn("s", medium)); !inst.Op.Failed {
		t.Fatalf("host should be full: %+v", inst)
	}
	mustStart(t, s, "A", op(OpShelve, "sh"))
	if used(t, s, "a") != medium {
		t.Fatal("shelve (not offloaded) keeps the allocation")
	}
	inst := mustStart(t, s, "A", op(OpShelveOffload, "off"))
	if inst.Host != "" || inst.Power != lifecycle.PowerShutdown || inst.Flavor != medium {
		t.Fatalf("offloaded: %+v", inst)
	}
	if (used(t, s, "a") != Resources{}) || hostMap(t, s)["a"].Instances != 0 {
		t.Fatalf("shelve_offload did not free: %+v", hostMap(t, s))
	}
	if inst := mustStart(t, s, "B", spawn("s2", medium)); !inst.Op.Done || inst.Host != "a" {
		t.Fatalf("spawn after offload: %+v", inst)
	}
	// Unshelving A now finds no room; it stays offloaded.
	inst = mustStart(t, s, "A", op(OpUnshelve, "u1"))
	if !inst.Op.Failed || inst.Op.Fault.Message != NoValidHostMessage || inst.Host != "" || inst.Power != lifecycle.PowerShutdown {
		t.Fatalf("unshelve on full host: %+v %+v", inst, inst.Op)
	}
	if err := s.Destroy(ctx, "B"); err != nil {
		t.Fatal(err)
	}
	inst = mustStart(t, s, "A", op(OpUnshelve, "u2"))
	if !inst.Op.Done || inst.Host != "a" || inst.Power != lifecycle.PowerRunning {
		t.Fatalf("unshelve: %+v %+v", inst, inst.Op)
	}
	checkAccounting(t, s)
}

func TestDestroy(t *testing.T) {
	clk := newClock()
	hosts := smallHosts(2, Resources{VCPUs: 8, RAMMiB: 10240, DiskGiB: 100})
	s := newSim(t, SimulatedConfig{Hosts: hosts, StepLatency: time.Second, Now: clk.Now, StateDir: t.TempDir()})
	mustStart(t, s, "spawning", spawn("s", small)) // op still running
	mustStart(t, s, "resizing", spawn("s", medium))
	clk.Advance(time.Second)
	mustGet(t, s, "resizing")
	r := op(OpResize, "r")
	r.Flavor = large
	if inst := mustStart(t, s, "resizing", r); inst.OldFlavor == nil || inst.OldHost == inst.Host {
		t.Fatalf("want a cross-host resize: %+v", inst)
	}
	for _, id := range []string{"spawning", "resizing", "spawning", "never-existed"} {
		if err := s.Destroy(ctx, id); err != nil {
			t.Fatalf("Destroy(%s): %v", id, err)
		}
		if _, err := s.Get(ctx, id); err != ErrNotFound {
			t.Fatalf("Get(%s) after Destroy: %v", id, err)
		}
	}
	if ids, _ := s.List(ctx); len(ids) != 0 {
		t.Fatalf("List %v", ids)
	}
	for _, h := range hostMap(t, s) {
		if (h.Used != Resources{}) || h.Instances != 0 {
			t.Fatalf("leak on %+v", h)
		}
	}
	// A new spawn with the same id starts from scratch.
	if inst := mustStart(t, s, "spawning", spawn("s", small)); inst.Op.Done || inst.Op.Step != 0 {
		t.Fatalf("%+v", inst.Op)
	}
}

func TestNewSimulatedConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  SimulatedConfig
	}{
		{"duplicate host", SimulatedConfig{Hosts: []HostInfo{{Name: "h"}, {Name: "h"}}}},
		{"empty name", SimulatedConfig{Hosts: []HostInfo{{Name: ""}}}},
		{"negative capacity", SimulatedConfig{Hosts: []HostInfo{{Name: "h", Capacity: Resources{RAMMiB: -1}}}}},
		{"negative latency", SimulatedConfig{StepLatency: -time.Second}},
	}
	for _, tt := range tests {
		if _, err := NewSimulated(tt.cfg); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	s := newSim(t, SimulatedConfig{})
	if hs, _ := s.Hosts(ctx); !reflect.DeepEqual(hs, DefaultHosts()) {
		t.Errorf("default hosts = %+v", hs)
	}
}

func TestReturnedInstanceIsACopy(t *testing.T) {
	s := newSim(t, SimulatedConfig{})
	mustStart(t, s, "vm", spawn("s", small))
	r := op(OpResize, "r")
	r.Flavor = medium
	inst := mustStart(t, s, "vm", r)
	inst.OldFlavor.VCPUs = 99
	inst.Op.Token = "mutated"
	got := mustGet(t, s, "vm")
	if got.OldFlavor.VCPUs != small.VCPUs || got.Op.Token != "r" {
		t.Fatalf("caller mutation leaked into the driver: %+v", got)
	}
}

func TestCanceledContext(t *testing.T) {
	s := newSim(t, SimulatedConfig{})
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Start(c, "vm", spawn("s", small)); err == nil {
		t.Error("Start with canceled context succeeded")
	}
	if ids, _ := s.List(ctx); len(ids) != 0 {
		t.Errorf("List %v", ids)
	}
}
