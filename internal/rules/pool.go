package rules

import (
	"fmt"
	"math/big"
	"net/netip"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Pool is the usable range of a network (the rule internal/ipam allocates by and the
// networking API shows as a subnet's allocation pools): its CIDR less the network address, the broadcast
// address (IPv4) and the gateway.
type Pool struct {
	Prefix  netip.Prefix
	Gateway netip.Addr
}

// NewPool parses a network's spec.
func NewPool(n *computev1.Network) (Pool, error) {
	p, err := netip.ParsePrefix(n.Spec.CIDR)
	if err != nil {
		return Pool{}, fmt.Errorf("network %s has an invalid CIDR %q: %w", n.Name, n.Spec.CIDR, err)
	}
	p = p.Masked()
	gw := p.Addr().Next()
	if n.Spec.Gateway != "" {
		if gw, err = netip.ParseAddr(n.Spec.Gateway); err != nil {
			return Pool{}, fmt.Errorf("network %s has an invalid gateway %q: %w", n.Name, n.Spec.Gateway, err)
		}
	}
	return Pool{Prefix: p, Gateway: gw}, nil
}

// size is the number of addresses in the prefix.
func (p Pool) size() *big.Int {
	bits := p.Prefix.Addr().BitLen() - p.Prefix.Bits()
	return new(big.Int).Lsh(big.NewInt(1), uint(bits))
}

// Capacity is how many addresses servers can hold.
func (p Pool) Capacity() int64 {
	n := p.size()
	n.Sub(n, big.NewInt(1)) // network address
	if p.Prefix.Addr().Is4() {
		n.Sub(n, big.NewInt(1)) // broadcast
	}
	if p.Contains(p.Gateway) {
		n.Sub(n, big.NewInt(1))
	}
	if n.Sign() < 0 || !n.IsInt64() {
		if n.Sign() < 0 {
			return 0
		}
		return 1<<62 - 1
	}
	return n.Int64()
}

// nth is the address at offset i from the network address.
func (p Pool) nth(i *big.Int) netip.Addr {
	base := new(big.Int).SetBytes(p.Prefix.Addr().AsSlice())
	base.Add(base, i)
	b := base.Bytes()
	out := make([]byte, p.Prefix.Addr().BitLen()/8)
	copy(out[len(out)-len(b):], b)
	a, _ := netip.AddrFromSlice(out)
	return a
}

// Contains says whether a is an address a server may hold.
func (p Pool) Contains(a netip.Addr) bool {
	if !p.Prefix.Contains(a) || a == p.Prefix.Addr() {
		return false
	}
	if p.Prefix.Addr().Is4() && p.Prefix.Bits() < 31 && a == p.nth(new(big.Int).Sub(p.size(), big.NewInt(1))) {
		return false
	}
	return true
}

// Usable says whether a server may be given a: in the pool and not the gateway.
func (p Pool) Usable(a netip.Addr) bool { return p.Contains(a) && a != p.Gateway }

// First is the lowest address after the network address.
func (p Pool) First() netip.Addr { return p.Prefix.Addr().Next() }

// Ranges are the pool's usable addresses as inclusive [first, last] ranges: the CIDR less
// the network address, the broadcast address (IPv4) and the gateway, which splits the
// range when it is inside it (Neutron's allocation_pools).
func (p Pool) Ranges() [][2]netip.Addr {
	first := p.First()
	last := p.nth(new(big.Int).Sub(p.size(), big.NewInt(1)))
	if p.Prefix.Addr().Is4() && p.Prefix.Bits() < 31 {
		last = last.Prev()
	}
	if !first.IsValid() || !last.IsValid() || last.Less(first) {
		return nil
	}
	if !p.Contains(p.Gateway) || p.Gateway.Less(first) || last.Less(p.Gateway) {
		return [][2]netip.Addr{{first, last}}
	}
	var out [][2]netip.Addr
	if first.Less(p.Gateway) {
		out = append(out, [2]netip.Addr{first, p.Gateway.Prev()})
	}
	if p.Gateway.Less(last) {
		out = append(out, [2]netip.Addr{p.Gateway.Next(), last})
	}
	return out
}
