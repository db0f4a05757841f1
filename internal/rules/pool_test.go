package rules

import (
	"fmt"
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
		if got := p.Usable(netip.MustParseAddr(addr)); got != want {
			t.Errorf("usable(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestRanges(t *testing.T) {
	for _, c := range []struct{ cidr, gw, want string }{
		{"10.0.0.0/24", "", "[[10.0.0.2 10.0.0.254]]"},
		{"10.0.0.0/24", "10.0.0.100", "[[10.0.0.1 10.0.0.99] [10.0.0.101 10.0.0.254]]"},
		{"10.0.0.0/24", "10.0.0.254", "[[10.0.0.1 10.0.0.253]]"},
		{"10.0.0.0/24", "192.168.0.1", "[[10.0.0.1 10.0.0.254]]"},
		{"fd00::/120", "", "[[fd00::2 fd00::ff]]"},
	} {
		n := &computev1.Network{Spec: computev1.NetworkSpec{CIDR: c.cidr, Gateway: c.gw}}
		p, err := NewPool(n)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(p.Ranges()); got != c.want {
			t.Errorf("%s gateway %q: %s, want %s", c.cidr, c.gw, got, c.want)
		}
	}
}
