package compute

import (
	"testing"
)

// forcedSpawn is a spawn an admin forced with "zone:host", "zone:host:node" or "zone::node".
func forcedSpawn(token string, f Resources, host, node string) OpRequest {
	req := spawn(token, f)
	req.Host, req.Node = host, node
	return req
}

func TestForcedHost(t *testing.T) {
	// Two empty hosts of the same size: unforced placement picks "a" (a tie broken by name),
	// so landing on "b" is the forcing's doing.
	hosts := smallHosts(2, Resources{VCPUs: 4, RAMMiB: 8192, DiskGiB: 100})
	if inst := mustStart(t, newSim(t, SimulatedConfig{Hosts: hosts}), "free", spawn("t", small)); inst.Host != "a" {
		t.Fatalf("unforced spawn on %q, the test needs it on a", inst.Host)
	}
	tests := []struct {
		name, host, node string
		flavor           Resources
		wantHost         string // "" = the spawn fails with wantFault
		wantFault        string
	}{
		{name: "zone:host", host: "b", flavor: small, wantHost: "b"},
		{name: "zone:host:node", host: "b", node: "b", flavor: small, wantHost: "b"},
		{name: "zone::node", node: "b", flavor: small, wantHost: "b"},
		{name: "unknown host", host: "zz", flavor: small,
			wantFault: "No valid host was found. No such host - host: zz node: None "},
		{name: "unknown node", node: "zz", flavor: small,
			wantFault: "No valid host was found. No such host - host: None node: zz "},
		{name: "node of another host", host: "a", node: "b", flavor: small,
			wantFault: "No valid host was found. No such host - host: a node: b "},
		{name: "no room on the forced host", host: "b", flavor: Resources{VCPUs: 5, RAMMiB: 1024, DiskGiB: 10},
			wantFault: "No valid host was found. "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSim(t, SimulatedConfig{Hosts: hosts})
			inst := mustStart(t, s, "vm", forcedSpawn("t1", tt.flavor, tt.host, tt.node))
			if tt.wantHost != "" {
				if !inst.Op.Done || inst.Host != tt.wantHost || used(t, s, tt.wantHost) != tt.flavor {
					t.Fatalf("forced spawn: %s, want Done on %s holding %+v", fmtInst(inst), tt.wantHost, tt.flavor)
				}
			} else if !inst.Op.Failed || inst.Host != "" || inst.Op.Fault == nil ||
				inst.Op.Fault.Code != 500 || inst.Op.Fault.Message != tt.wantFault {
				t.Fatalf("forced spawn: %s, want Failed with 500 %q", fmtInst(inst), tt.wantFault)
			}
			if tt.wantHost == "" && totalUsed(t, s) != (Resources{}) {
				t.Fatalf("a failed forced spawn holds %+v", totalUsed(t, s))
			}
			checkAccounting(t, s)
		})
	}
}

func TestForcedHostFullWhileOthersHaveRoom(t *testing.T) {
	s := newSim(t, SimulatedConfig{Hosts: smallHosts(2, Resources{VCPUs: 2, RAMMiB: 4096, DiskGiB: 100})})
	for i, id := range []string{"b1", "b2"} {
		if inst := mustStart(t, s, id, forcedSpawn("t", small, "b", "")); !inst.Op.Done || inst.Host != "b" {
			t.Fatalf("forced spawn %d: %s", i, fmtInst(inst))
		}
	}
	// b is full, a is empty: Nova skips its filters for a forced host but does not move it.
	inst := mustStart(t, s, "b3", forcedSpawn("t", small, "b", ""))
	if !inst.Op.Failed || inst.Op.Fault.Message != NoRoomOnForcedHostMessage || inst.Host != "" {
		t.Fatalf("forced spawn on a full host: %s", fmtInst(inst))
	}
	if used(t, s, "a") != (Resources{}) {
		t.Fatalf("a forced spawn spilled onto a: %+v", used(t, s, "a"))
	}
	checkAccounting(t, s)
	// Room freed on b: the same record spawns there with a new token.
	if err := s.Destroy(ctx, "b1"); err != nil {
		t.Fatal(err)
	}
	if inst := mustStart(t, s, "b3", forcedSpawn("t2", small, "b", "")); !inst.Op.Done || inst.Host != "b" {
		t.Fatalf("retried forced spawn: %s", fmtInst(inst))
	}
	checkAccounting(t, s)
}

func TestForcedHostOnlyInState(t *testing.T) {
	dir := t.TempDir()
	three := smallHosts(3, Resources{VCPUs: 4, RAMMiB: 8192, DiskGiB: 100})
	s := newSim(t, SimulatedConfig{StateDir: dir, Hosts: three})
	if inst := mustStart(t, s, "on-c", forcedSpawn("t", small, "c", "")); inst.Host != "c" {
		t.Fatalf("forced spawn on c: %s", fmtInst(inst))
	}
	// Restarted without c: c is known from state only, and nothing new goes there.
	s = newSim(t, SimulatedConfig{StateDir: dir, Hosts: three[:2]})
	inst := mustStart(t, s, "vm", forcedSpawn("t", small, "c", ""))
	if !inst.Op.Failed || inst.Op.Fault.Message != NoSuchHostMessage("c", "") {
		t.Fatalf("forced spawn on a host no longer configured: %s", fmtInst(inst))
	}
	if used(t, s, "c") != small || totalUsed(t, s) != small {
		t.Fatalf("c holds %+v, all hosts %+v: want only on-c's %+v", used(t, s, "c"), totalUsed(t, s), small)
	}
}

func TestForcedHostIsForSpawnOnly(t *testing.T) {
	s := newSim(t, SimulatedConfig{Hosts: smallHosts(2, Resources{VCPUs: 4, RAMMiB: 8192, DiskGiB: 100})})
	if inst := mustStart(t, s, "vm", forcedSpawn("t", small, "b", "")); inst.Host != "b" {
		t.Fatalf("forced spawn: %s", fmtInst(inst))
	}
	mustStart(t, s, "vm", op(OpShelve, "s"))
	mustStart(t, s, "vm", op(OpShelveOffload, "o"))
	// Nova resets forced destinations for an unshelve: it is scheduled like any other.
	unshelve := op(OpUnshelve, "u")
	unshelve.Host = "zz"
	if inst := mustStart(t, s, "vm", unshelve); !inst.Op.Done || inst.Host != "a" {
		t.Fatalf("unshelve with a stale forced host: %s", fmtInst(inst))
	}
	checkAccounting(t, s)
}
