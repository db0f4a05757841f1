package ipam

import (
	"net/netip"
	"testing"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

func pool(t *testing.T, cidr, gw string) Pool {
	t.Helper()
	n := &computev1.Network{Spec: computev1.NetworkSpec{CIDR: cidr, Gateway: gw}}
	n.Name = "net"
	p, err := NewPool(n)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCapacity(t *testing.T) {
	for _, tc := range []struct {
		cidr, gw string
		want     int64
	}{
		{"10.0.0.0/24", "", 253}, // less network, broadcast, gateway .1
		{"10.0.0.0/28", "", 13},
		{"10.0.0.7/24", "", 253},         // host bits are masked
		{"10.0.0.0/24", "10.9.9.9", 254}, // a gateway outside the range takes nothing
		{"fd00::/120", "", 254},          // IPv6 has no broadcast
	} {
		if got := pool(t, tc.cidr, tc.gw).Capacity(); got != tc.want {
			t.Errorf("Capacity(%s, gw %q) = %d, want %d", tc.cidr, tc.gw, got, tc.want)
		}
	}
}

func TestUsable(t *testing.T) {
	p := pool(t, "192.168.1.0/24", "")
	for addr, want := range map[string]bool{
		"192.168.1.0":   false, // network
		"192.168.1.1":   false, // gateway
		"192.168.1.2":   true,
		"192.168.1.254": true,
		"192.168.1.255": false, // broadcast
		"192.168.2.1":   false, // outside
	} {
		if got := p.usable(netip.MustParseAddr(addr)); got != want {
			t.Errorf("usable(%s) = %v, want %v", addr, got, want)
		}
	}
}
