package compute

import (
	"fmt"
	"sync"
	"testing"
)

func groupSpawn(token string, g *Group) OpRequest {
	req := spawn(token, small)
	req.Group = g
	return req
}

func TestServerGroupPolicies(t *testing.T) {
	hosts := smallHosts(3, Resources{VCPUs: 16, RAMMiB: 32768, DiskGiB: 500})
	tests := []struct {
		policy     string
		maxPerHost int
		wantHosts  []string // where each member lands; "" = NoValidHost
	}{
		// An outsider holds a; without a group the emptiest host wins each time (b, c, a,
		// b, ...). Affinity keeps members on the first one's host though it fills up.
		{policy: PolicyAffinity, wantHosts: []string{"b", "b", "b", "b"}},
		{policy: PolicyAntiAffinity, wantHosts: []string{"b", "c", "a", ""}},
		{policy: PolicyAntiAffinity, maxPerHost: 2, wantHosts: []string{"b", "c", "a", "b", "c", "a", ""}},
		{policy: PolicySoftAffinity, wantHosts: []string{"b", "b", "b"}},
		{policy: PolicySoftAntiAffinity, wantHosts: []string{"b", "c", "a", "b", "c"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.policy, tt.maxPerHost), func(t *testing.T) {
			s := newSim(t, SimulatedConfig{Hosts: hosts})
			mustStart(t, s, "outsider", spawn("t", small))
			g := &Group{ID: "g1", Policy: tt.policy, MaxPerHost: tt.maxPerHost}
			for i, want := range tt.wantHosts {
				inst := mustStart(t, s, fmt.Sprintf("m%d", i), groupSpawn("t", g))
				if want == "" {
					if !inst.Op.Failed || inst.Op.Fault.Message != NoValidHostMessage || inst.Host != "" {
						t.Fatalf("member %d: %s, want NoValidHost", i, fmtInst(inst))
					}
					continue
				}
				if !inst.Op.Done || inst.Host != want {
					t.Fatalf("member %d: %s, want on %s", i, fmtInst(inst), want)
				}
			}
			checkAccounting(t, s)
		})
	}
}

// Members of another group, and a deleted member, do not count.
func TestServerGroupMembershipIsPerGroup(t *testing.T) {
	s := newSim(t, SimulatedConfig{Hosts: smallHosts(2, Resources{VCPUs: 16, RAMMiB: 32768, DiskGiB: 500})})
	g1 := &Group{ID: "g1", Policy: PolicyAntiAffinity}
	g2 := &Group{ID: "g2", Policy: PolicyAntiAffinity}
	for _, id := range []string{"x1", "x2"} {
		if inst := mustStart(t, s, id, groupSpawn("t", g1)); !inst.Op.Done {
			t.Fatalf("%s: %s", id, fmtInst(inst))
		}
	}
	if inst := mustStart(t, s, "y1", groupSpawn("t", g2)); !inst.Op.Done {
		t.Fatalf("another group's member: %s", fmtInst(inst))
	}
	if inst := mustStart(t, s, "x3", groupSpawn("t", g1)); !inst.Op.Failed {
		t.Fatalf("third member of a full anti-affinity group: %s", fmtInst(inst))
	}
	if err := s.Destroy(ctx, "x1"); err != nil {
		t.Fatal(err)
	}
	if inst := mustStart(t, s, "x3", groupSpawn("t2", g1)); !inst.Op.Done {
		t.Fatalf("member after one was deleted: %s", fmtInst(inst))
	}
}

// Concurrent boots into one anti-affinity group never share a host: placement is under
// the driver's lock, from the members' records.
func TestServerGroupConcurrentBoots(t *testing.T) {
	s := newSim(t, SimulatedConfig{Hosts: smallHosts(4, Resources{VCPUs: 16, RAMMiB: 32768, DiskGiB: 500})})
	g := &Group{ID: "g", Policy: PolicyAntiAffinity}
	var wg sync.WaitGroup
	insts := make([]Instance, 12)
	errs := make([]error, len(insts))
	for i := range insts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			insts[i], errs[i] = s.Start(ctx, fmt.Sprintf("m%d", i), groupSpawn("t", g))
		}()
	}
	wg.Wait()
	onHost := map[string]int{}
	failed := 0
	for i, inst := range insts {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if inst.Op.Failed {
			failed++
			continue
		}
		onHost[inst.Host]++
	}
	if len(onHost) != 4 || failed != 8 {
		t.Fatalf("12 concurrent members over 4 hosts: placed %v, %d failed; want one on each host and 8 failed", onHost, failed)
	}
	for h, n := range onHost {
		if n != 1 {
			t.Fatalf("%d members on %s", n, h)
		}
	}
}
