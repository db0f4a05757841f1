package compute

import (
	"fmt"
	"math"
	"testing"
)

// fill spawns 1-vCPU, 1-MiB, 0-disk servers until one does not fit, and says how many fit.
func fill(t *testing.T, s *Simulated, f Resources) int {
	t.Helper()
	for i := 0; ; i++ {
		inst := mustStart(t, s, fmt.Sprintf("i%d", i), spawn("t", f))
		if inst.Op.Failed {
			if inst.Op.Fault == nil || inst.Op.Fault.Message != NoValidHostMessage {
				t.Fatalf("spawn %d failed with %+v, want Nova's NoValidHost", i, inst.Op.Fault)
			}
			return i
		}
		if i > 1000 {
			t.Fatalf("more than 1000 spawns fit")
		}
	}
}

func TestNovaDefaultRatiosOvercommitCPUOnly(t *testing.T) {
	host := []HostInfo{{Name: "h", Capacity: Resources{VCPUs: 4, RAMMiB: 64, DiskGiB: 10}}}
	// Built as the manager builds it: no ratios given means Nova's defaults.
	s, err := NewSimulated(SimulatedConfig{Hosts: host})
	if err != nil {
		t.Fatal(err)
	}
	if got := fill(t, s, Resources{VCPUs: 1, RAMMiB: 1}); got != 16 {
		t.Errorf("a host with vcpus=4 took %d one-vCPU servers, want 16 (cpu_allocation_ratio 4.0)", got)
	}
	s, _ = NewSimulated(SimulatedConfig{Hosts: host})
	if got := fill(t, s, Resources{RAMMiB: 8}); got != 8 {
		t.Errorf("a host with ram=64 took %d 8-MiB servers, want 8 (ram_allocation_ratio 1.0)", got)
	}
	s, _ = NewSimulated(SimulatedConfig{Hosts: host})
	if got := fill(t, s, Resources{DiskGiB: 5}); got != 2 {
		t.Errorf("a host with disk=10 took %d 5-GiB servers, want 2 (disk_allocation_ratio 1.0)", got)
	}
}

func TestConfiguredRatios(t *testing.T) {
	host := []HostInfo{{Name: "h", Capacity: Resources{VCPUs: 4, RAMMiB: 64, DiskGiB: 10}}}
	s := newSim(t, SimulatedConfig{Hosts: host, AllocationRatios: AllocationRatios{CPU: 1.5, RAM: 1.5, Disk: 2}})
	if got := fill(t, s, Resources{VCPUs: 1}); got != 6 {
		t.Errorf("cpu ratio 1.5 on 4 vCPUs: %d fit, want 6", got)
	}
	s = newSim(t, SimulatedConfig{Hosts: host, AllocationRatios: AllocationRatios{CPU: 1.5, RAM: 1.5, Disk: 2}})
	if got := fill(t, s, Resources{RAMMiB: 16}); got != 6 {
		t.Errorf("ram ratio 1.5 on 64 MiB: %d 16-MiB servers fit, want 6", got)
	}
	s = newSim(t, SimulatedConfig{Hosts: host, AllocationRatios: AllocationRatios{CPU: 1.5, RAM: 1.5, Disk: 2}})
	if got := fill(t, s, Resources{DiskGiB: 5}); got != 4 {
		t.Errorf("disk ratio 2 on 10 GiB: %d 5-GiB servers fit, want 4", got)
	}
	// A ratio that is not given stays Nova's default.
	s, _ = NewSimulated(SimulatedConfig{Hosts: host, AllocationRatios: AllocationRatios{RAM: 2}})
	if got := fill(t, s, Resources{VCPUs: 1}); got != 16 {
		t.Errorf("cpu ratio left unset: %d fit, want 16", got)
	}
}

func TestRatiosRefuseNonsense(t *testing.T) {
	for _, r := range []AllocationRatios{{CPU: -1}, {RAM: math.NaN()}, {Disk: math.Inf(1)}} {
		if _, err := NewSimulated(SimulatedConfig{AllocationRatios: r}); err == nil {
			t.Errorf("ratios %+v accepted", r)
		}
	}
}

func TestHostsReportRawCapacity(t *testing.T) {
	s, _ := NewSimulated(SimulatedConfig{Hosts: []HostInfo{{Name: "h", Capacity: Resources{VCPUs: 4, RAMMiB: 64, DiskGiB: 10}}}})
	hosts, err := s.Hosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if hosts[0].Capacity.VCPUs != 4 {
		t.Errorf("host capacity shows %d vCPUs, want the physical 4 (Nova's hypervisor vcpus)", hosts[0].Capacity.VCPUs)
	}
}
