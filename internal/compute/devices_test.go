package compute

import (
	"slices"
	"testing"
	"time"
)

// An interface or a volume is attached and detached with the driver's latency, survives a
// restart, a fault leaves the instance without it, and an offloaded instance takes a
// volume but no interface.
func TestDevicesAttachDetach(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	cfg := SimulatedConfig{StateDir: dir, StepLatency: time.Second, Hosts: smallHosts(1, medium), Now: clk.Now}
	s := newSim(t, cfg)
	mustStart(t, s, "vm", spawn("s", small))
	clk.Advance(time.Second)

	req := OpRequest{Kind: OpAttachInterface, Token: "a1", Steps: 2, Device: "iface-1"}
	if inst := mustStart(t, s, "vm", req); inst.Op.Done || len(inst.Devices) != 0 {
		t.Fatalf("attach finished before its latency: %+v", inst)
	}
	clk.Advance(2 * time.Second)
	if inst := mustGet(t, s, "vm"); !inst.Op.Done || !slices.Equal(inst.Devices, []string{"iface-1"}) {
		t.Fatalf("after the attach: %+v devices %v", inst.Op, inst.Devices)
	}

	failing := OpRequest{Kind: OpAttachVolume, Token: "v1", Steps: 1, Device: "vol-1", FailStep: 1, FailMessage: "no"}
	mustStart(t, s, "vm", failing)
	clk.Advance(time.Second)
	if inst := mustGet(t, s, "vm"); !inst.Op.Failed || inst.Op.Fault.Message != "no" || len(inst.Devices) != 1 {
		t.Fatalf("failed attach: %+v devices %v", inst.Op, inst.Devices)
	}

	mustStart(t, s, "vm", OpRequest{Kind: OpAttachVolume, Token: "v2", Steps: 1, Device: "vol-1"})
	clk.Advance(time.Second)
	restarted := newSim(t, cfg)
	if inst := mustGet(t, restarted, "vm"); !slices.Equal(inst.Devices, []string{"iface-1", "vol-1"}) {
		t.Fatalf("after a restart: devices %v", inst.Devices)
	}
	mustStart(t, restarted, "vm", OpRequest{Kind: OpDetachInterface, Token: "d1", Steps: 1, Device: "iface-1"})
	clk.Advance(time.Second)
	if inst := mustGet(t, restarted, "vm"); !slices.Equal(inst.Devices, []string{"vol-1"}) {
		t.Fatalf("after the detach: devices %v", inst.Devices)
	}

	mustStart(t, restarted, "vm", op(OpShelveOffload, "off"))
	clk.Advance(time.Second)
	if inst := mustStart(t, restarted, "vm", OpRequest{Kind: OpAttachInterface, Token: "a2", Steps: 1, Device: "iface-2"}); !inst.Op.Failed {
		t.Fatalf("an interface attached to an offloaded instance: %+v", inst.Op)
	}
	mustStart(t, restarted, "vm", OpRequest{Kind: OpDetachVolume, Token: "d2", Steps: 1, Device: "vol-1"})
	clk.Advance(time.Second)
	if inst := mustGet(t, restarted, "vm"); !inst.Op.Done || len(inst.Devices) != 0 {
		t.Fatalf("volume detach from an offloaded instance: %+v devices %v", inst.Op, inst.Devices)
	}
}
