package ipam

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

var ctx = context.Background()

// newNetwork is a network named "net" (so namespaces tell them apart).
func newNetwork(ns, cidr string) *computev1.Network {
	n := &computev1.Network{Spec: computev1.NetworkSpec{CIDR: cidr}}
	n.Namespace, n.Name = ns, "net"
	return n
}

func fromNothing(context.Context) ([]Holding, error) { return nil, nil }

func mustAllocate(t *testing.T, a *Allocator, n *computev1.Network, uid, want string) netip.Addr {
	t.Helper()
	addr, err := a.Allocate(ctx, n, uid, want)
	if err != nil {
		t.Fatalf("Allocate(%s, %s, %q): %v", n.Name, uid, want, err)
	}
	return addr
}

func TestAllocatesInOrderSkippingGatewayAndRetriesGetTheSame(t *testing.T) {
	a := New(fromNothing)
	n := newNetwork("t", "10.0.0.0/29") // .1 gateway, .2-.6 usable, .7 broadcast
	var got []string
	for i := range 5 {
		got = append(got, mustAllocate(t, a, n, fmt.Sprint("uid-", i), "").String())
	}
	if fmt.Sprint(got) != "[10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.5 10.0.0.6]" {
		t.Errorf("allocated %v", got)
	}
	if again := mustAllocate(t, a, n, "uid-3", ""); again.String() != "10.0.0.5" {
		t.Errorf("a retry of uid-3 got %s, want its 10.0.0.5", again)
	}
	if _, err := a.Allocate(ctx, n, "uid-5", ""); !errors.Is(err, ErrExhausted) {
		t.Errorf("sixth server on a /29: %v, want ErrExhausted", err)
	}
	if c, _ := a.Allocated(ctx, RefOf(n)); c != 5 {
		t.Errorf("Allocated = %d, want 5", c)
	}
	// A released address is given again (the search wraps around).
	if err := a.Release(ctx, "uid-1"); err != nil {
		t.Fatal(err)
	}
	if addr := mustAllocate(t, a, n, "uid-6", ""); addr.String() != "10.0.0.3" {
		t.Errorf("after releasing 10.0.0.3 the next server got %s", addr)
	}
}

func TestRequestedAddresses(t *testing.T) {
	a := New(fromNothing)
	n := newNetwork("t", "10.0.0.0/24")
	if addr := mustAllocate(t, a, n, "a", "10.0.0.9"); addr.String() != "10.0.0.9" {
		t.Fatalf("got %s", addr)
	}
	mustAllocate(t, a, n, "a", "10.0.0.9") // its own, again
	_, err := a.Allocate(ctx, n, "b", "10.0.0.9")
	if !errors.Is(err, ErrInUse) || err.Error() != "address already in use: fixed IP address 10.0.0.9 is already in use on network net" {
		t.Errorf("another server asking for a held address: %v", err)
	}
	for _, bad := range []string{"10.0.0.1", "10.0.0.0", "10.0.0.255", "10.0.1.5", "nonsense"} {
		if _, err := a.Allocate(ctx, n, "c", bad); err == nil || errors.Is(err, ErrInUse) {
			t.Errorf("asking for %s: %v, want an unusable-address error", bad, err)
		}
	}
	// The next free address steps over the requested one.
	for i := range 7 {
		mustAllocate(t, a, n, fmt.Sprint("x", i), "")
	}
	if addr := mustAllocate(t, a, n, "next", ""); addr.String() != "10.0.0.10" {
		t.Errorf("after .2-.8 and the requested .9, the next is %s, want 10.0.0.10", addr)
	}
}

func TestNetworksAreKeptApart(t *testing.T) {
	a := New(fromNothing)
	n1, n2, shared := newNetwork("t1", "10.0.0.0/24"), newNetwork("t2", "10.0.0.0/24"), newNetwork("public", "10.9.0.0/24")
	a1, a2 := mustAllocate(t, a, n1, "s1", ""), mustAllocate(t, a, n2, "s2", "")
	if a1 != a2 {
		t.Errorf("two tenants' networks of the same name share addresses: %s, %s", a1, a2)
	}
	mustAllocate(t, a, shared, "s1", "")
	if err := a.Release(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	for ref, want := range map[Ref]int64{RefOf(n1): 0, RefOf(n2): 1, RefOf(shared): 0} {
		if c, _ := a.Allocated(ctx, ref); c != want {
			t.Errorf("%v holds %d, want %d", ref, c, want)
		}
	}
}

func TestRebuildsFromWhatServersShow(t *testing.T) {
	n := newNetwork("t", "10.0.0.0/24")
	loads := 0
	a := New(func(context.Context) ([]Holding, error) {
		loads++
		return []Holding{
			{Network: RefOf(n), Address: netip.MustParseAddr("10.0.0.2"), UID: "old-1"},
			{Network: RefOf(n), Address: netip.MustParseAddr("10.0.0.3"), UID: "old-2"},
		}, nil
	})
	if addr := mustAllocate(t, a, n, "old-2", ""); addr.String() != "10.0.0.3" {
		t.Errorf("a server that shows 10.0.0.3 got %s after a restart", addr)
	}
	if addr := mustAllocate(t, a, n, "new", ""); addr.String() != "10.0.0.4" {
		t.Errorf("a new server got %s, want the first free 10.0.0.4", addr)
	}
	if _, err := a.Allocate(ctx, n, "new-2", "10.0.0.2"); !errors.Is(err, ErrInUse) {
		t.Errorf("asking for an address a server shows: %v, want ErrInUse", err)
	}
	if loads != 1 {
		t.Errorf("loaded %d times, want once", loads)
	}
}

func TestALoadThatFailsIsTriedAgain(t *testing.T) {
	fail := true
	a := New(func(context.Context) ([]Holding, error) {
		if fail {
			return nil, errors.New("API server away")
		}
		return nil, nil
	})
	n := newNetwork("t", "10.0.0.0/24")
	if _, err := a.Allocate(ctx, n, "s", ""); err == nil {
		t.Fatal("allocated without knowing what is held")
	}
	if err := a.Release(ctx, "s"); err == nil {
		t.Fatal("released without knowing what is held")
	}
	fail = false
	mustAllocate(t, a, n, "s", "")
}

func TestConcurrentAllocationsNeverShareAnAddress(t *testing.T) {
	a := New(fromNothing)
	n := newNetwork("t", "fd00::/116") // IPv6: 4095 usable
	var changes sync.Map
	a.OnChange(func(r Ref) { changes.Store(r, true) })
	const servers = 2000
	addrs := make([]netip.Addr, servers)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Go(func() {
			addr, err := a.Allocate(ctx, n, fmt.Sprint("uid-", i), "")
			if err != nil {
				t.Error(err)
			}
			addrs[i] = addr
		})
	}
	wg.Wait()
	seen := map[netip.Addr]bool{}
	for _, addr := range addrs {
		if seen[addr] {
			t.Fatalf("%s handed out twice", addr)
		}
		seen[addr] = true
	}
	if _, ok := changes.Load(RefOf(n)); !ok {
		t.Error("no change was reported for the network")
	}
}

// ReleaseOn frees one network's address of a server and keeps the others.
func TestReleaseOnKeepsOtherNetworks(t *testing.T) {
	a := New(fromNothing)
	n1, n2 := newNetwork("a", "10.1.0.0/29"), newNetwork("b", "10.2.0.0/29")
	a1, err := a.Allocate(ctx, n1, "s1", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Allocate(ctx, n2, "s1", ""); err != nil {
		t.Fatal(err)
	}
	if err := a.ReleaseOn(ctx, "s1", RefOf(n1)); err != nil {
		t.Fatal(err)
	}
	if n, _ := a.Allocated(ctx, RefOf(n1)); n != 0 {
		t.Fatalf("network a holds %d after its release", n)
	}
	if n, _ := a.Allocated(ctx, RefOf(n2)); n != 1 {
		t.Fatalf("network b holds %d, want 1", n)
	}
	// The freed address goes to the next server that asks for it.
	got, err := a.Allocate(ctx, n1, "s2", a1.String())
	if err != nil || got != a1 {
		t.Fatalf("the freed address: %v %v", got, err)
	}
}
