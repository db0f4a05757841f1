package rules

import (
	"fmt"
	"net/netip"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Rackspace's shared networks, which exist from the start in every account with these ids.
const (
	PublicNetworkID     = "00000000-0000-0000-0000-000000000000"
	ServiceNetNetworkID = "11111111-1111-1111-1111-111111111111"
)

// Bounds on a network's CIDR: the smallest prefix (largest network) a tenant may ask for,
// so that no request makes a subnet whose addresses no one could ever walk, and the
// largest (smallest network) that still has two usable hosts after the network address,
// the gateway and (IPv4) the broadcast address, as Nova's os-tenant-networks required.
const (
	MinIPv4Prefix = 16
	MaxIPv4Prefix = 29
	MinIPv6Prefix = 64
	MaxIPv6Prefix = 126
)

// MaxNetworkLabel is the longest label (Nova's os-tenant-networks schema: maxLength 255).
const MaxNetworkLabel = 255

// CheckNetworkCIDR says, in the words a client of the REST API and of kubectl reads, what
// is wrong with a network's CIDR, or nil: it must parse, be the network's own address
// (10.0.0.0/24, not 10.0.0.5/24) and have a prefix within the bounds.
func CheckNetworkCIDR(cidr string) error {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return &InvalidError{fmt.Sprintf("Invalid CIDR %q: a CIDR is an address and a prefix length, e.g. 10.0.0.0/24 or fd00::/64.", cidr)}
	}
	if p.Masked() != p {
		return &InvalidError{fmt.Sprintf("Invalid CIDR %s: the address is not the network's own; use %s.", cidr, p.Masked())}
	}
	lo, hi := MinIPv4Prefix, MaxIPv4Prefix
	if p.Addr().Is6() {
		lo, hi = MinIPv6Prefix, MaxIPv6Prefix
	}
	if p.Bits() < lo || p.Bits() > hi {
		return &InvalidError{fmt.Sprintf("Invalid CIDR %s: the prefix length must be between /%d and /%d.", cidr, lo, hi)}
	}
	return nil
}

// ServersUsingNetwork are the names of the servers among srvs that hold an address on net
// or are to get one: an address recorded against it in status, or (while no address of
// that name is recorded yet, a server still building) an entry of spec.networks that names
// it, from the network's own namespace or, for a shared network, from any. A network is
// deleted only when this is empty, so no server is left holding an address on a network
// that is gone.
func ServersUsingNetwork(srvs []computev1.Server, net *computev1.Network, publicNamespace string) []string {
	var out []string
	for i := range srvs {
		if serverUsesNetwork(&srvs[i], net, publicNamespace) {
			out = append(out, srvs[i].Name)
		}
	}
	return out
}

func serverUsesNetwork(srv *computev1.Server, net *computev1.Network, publicNamespace string) bool {
	recorded := map[string]bool{}
	for _, a := range srv.Status.Addresses {
		if a.NetworkName == net.Name && a.NetworkNamespace == net.Namespace {
			return true
		}
		recorded[a.NetworkName] = true
	}
	if srv.Namespace != net.Namespace && net.Namespace != publicNamespace {
		return false
	}
	for _, n := range srv.Spec.Networks {
		if n.Name == net.Name && !recorded[n.Name] {
			return true
		}
	}
	return false
}
