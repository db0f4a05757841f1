package novaapi

import (
	"net/netip"
	"sync"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// A server's floating addresses are not in its status (the server controller writes that,
// and a floating IP is another object's): they are added to its addresses as it is shown,
// each under the network of the fixed address it points at, with that port's MAC and type
// "floating", as Nova's network info shows them. The tenant's floating IPs are read once
// per request, from the API server, so an association shows in the next read.

// floatingMemo is the floating IPs of one request, by namespace and server name.
type floatingMemo struct {
	mu   sync.Mutex
	byNS map[string]map[string][]computev1.FloatingIP
}

// floatingFor are the floating IPs that point at servers of ns, by server name.
func (rq *request) floatingFor(ns string) (map[string][]computev1.FloatingIP, error) {
	m := &rq.floating
	m.mu.Lock()
	defer m.mu.Unlock()
	if got, ok := m.byNS[ns]; ok {
		return got, nil
	}
	fips, err := rq.h.floatingIPs(rq.ctx, ns)
	if err != nil {
		return nil, err
	}
	out := map[string][]computev1.FloatingIP{}
	for _, f := range fips {
		if f.Spec.Server != "" {
			out[f.Spec.Server] = append(out[f.Spec.Server], f)
		}
	}
	if m.byNS == nil {
		m.byNS = map[string]map[string][]computev1.FloatingIP{}
	}
	m.byNS[ns] = out
	return out, nil
}

// withFloating is srv, or a copy of it with its floating addresses added.
func (rq *request) withFloating(srv *computev1.Server) (*computev1.Server, error) {
	byServer, err := rq.floatingFor(srv.Namespace)
	if err != nil || len(byServer[srv.Name]) == 0 {
		return srv, err
	}
	out := srv.DeepCopy()
	for i := range byServer[srv.Name] {
		f := &byServer[srv.Name][i]
		fixed, ok := floatingTarget(f, srv)
		if !ok {
			continue
		}
		for _, a := range srv.Status.Addresses {
			if a.Type == "floating" || a.Address != fixed {
				continue
			}
			version := int32(4)
			if ip, err := netip.ParseAddr(f.Status.Address); err == nil && ip.Is6() {
				version = 6
			}
			out.Status.Addresses = append(out.Status.Addresses, computev1.ServerAddress{Network: a.Network,
				Address: f.Status.Address, Version: version, MACAddress: a.MACAddress, Type: "floating"})
			break
		}
	}
	return out, nil
}
