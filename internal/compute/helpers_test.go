package compute

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"
)

// fakeClock is a test clock that only moves when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var ctx = context.Background()

// exact offers a host's capacity as written (no overcommit), the ratio the placement tests
// count with; ratios_test.go covers Nova's default ratios.
var exact = AllocationRatios{CPU: 1, RAM: 1, Disk: 1}

// newSim builds a driver; unless cfg says otherwise its hosts are not overcommitted.
func newSim(t testing.TB, cfg SimulatedConfig) *Simulated {
	t.Helper()
	if cfg.AllocationRatios == (AllocationRatios{}) {
		cfg.AllocationRatios = exact
	}
	s, err := NewSimulated(cfg)
	if err != nil {
		t.Fatalf("NewSimulated: %v", err)
	}
	return s
}

func mustStart(t testing.TB, s *Simulated, id string, req OpRequest) Instance {
	t.Helper()
	inst, err := s.Start(ctx, id, req)
	if err != nil {
		t.Fatalf("Start(%s, %s/%s): %v", id, req.Kind, req.Token, err)
	}
	return inst
}

func mustGet(t testing.TB, s *Simulated, id string) Instance {
	t.Helper()
	inst, err := s.Get(ctx, id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return inst
}

func hostMap(t testing.TB, s *Simulated) map[string]HostInfo {
	t.Helper()
	hs, err := s.Hosts(ctx)
	if err != nil {
		t.Fatalf("Hosts: %v", err)
	}
	m := map[string]HostInfo{}
	for _, h := range hs {
		m[h.Name] = h
	}
	return m
}

func used(t testing.TB, s *Simulated, host string) Resources {
	t.Helper()
	h, ok := hostMap(t, s)[host]
	if !ok {
		t.Fatalf("no host %q", host)
	}
	return h.Used
}

func totalUsed(t testing.TB, s *Simulated) Resources {
	t.Helper()
	var sum Resources
	for _, h := range hostMap(t, s) {
		sum = sum.add(h.Used)
	}
	return sum
}

// checkAccounting asserts that every host's usage equals the sum of the
// allocations its instances hold, and that no host is oversubscribed.
func checkAccounting(t testing.TB, s *Simulated) {
	t.Helper()
	ids, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Resources{}
	count := map[string]int{}
	for _, id := range ids {
		inst := mustGet(t, s, id)
		if inst.Host != "" {
			want[inst.Host] = want[inst.Host].add(inst.Flavor)
			count[inst.Host]++
		}
		if inst.OldFlavor != nil {
			want[inst.OldHost] = want[inst.OldHost].add(*inst.OldFlavor)
			if inst.OldHost != inst.Host {
				count[inst.OldHost]++
			}
		}
	}
	hs := hostMap(t, s)
	for name, h := range hs {
		if h.Used != want[name] {
			t.Errorf("host %s: Used = %+v, instances hold %+v", name, h.Used, want[name])
		}
		if h.Instances != count[name] {
			t.Errorf("host %s: Instances = %d, want %d", name, h.Instances, count[name])
		}
		if !h.Capacity.Fits(h.Used) {
			t.Errorf("host %s oversubscribed: used %+v of %+v", name, h.Used, h.Capacity)
		}
	}
	for name := range want {
		if _, ok := hs[name]; !ok {
			t.Errorf("instances hold resources on unlisted host %s", name)
		}
	}
}

// snapshot returns every instance and host, for comparing two drivers.
func snapshot(t testing.TB, s *Simulated) (map[string]Instance, []HostInfo) {
	t.Helper()
	ids, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	insts := map[string]Instance{}
	for _, id := range ids {
		insts[id] = mustGet(t, s, id)
	}
	hs, err := s.Hosts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return insts, hs
}

func assertSameState(t testing.TB, a, b *Simulated) {
	t.Helper()
	ia, ha := snapshot(t, a)
	ib, hb := snapshot(t, b)
	if !reflect.DeepEqual(ia, ib) {
		for id := range ia {
			if !reflect.DeepEqual(ia[id], ib[id]) {
				t.Errorf("instance %s differs:\n  a: %s\n  b: %s", id, fmtInst(ia[id]), fmtInst(ib[id]))
			}
		}
		if len(ia) != len(ib) {
			t.Errorf("instance count differs: %d vs %d", len(ia), len(ib))
		}
	}
	if !reflect.DeepEqual(ha, hb) {
		t.Errorf("hosts differ:\n  a: %+v\n  b: %+v", ha, hb)
	}
}

func fmtInst(i Instance) string {
	s := "{" + i.ID + " host=" + i.Host + " power=" + i.Power.String()
	if i.Op != nil {
		s += " op=" + string(i.Op.Kind) + "/" + i.Op.Token
	}
	return s + "}"
}

func smallHosts(n int, c Resources) []HostInfo {
	hs := make([]HostInfo, n)
	for i := range hs {
		hs[i] = HostInfo{Name: string(rune('a' + i)), Capacity: c}
	}
	return hs
}
