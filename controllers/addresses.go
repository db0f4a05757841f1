package controllers

import (
	"context"
	"net/netip"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/ipam"
	"github.com/kova-dev/kova/internal/refs"
)

// addressListPage bounds one page of the LIST that rebuilds the allocations, so a large
// fleet is read in pieces rather than held twice in memory at once.
const addressListPage = 500

// NewAddressAllocator returns the manager's address allocator: servers' and floating IPs'
// statuses are the record (see internal/ipam), read once, past the cache, when the manager
// first hands out or gives back an address, which only the leader does.
func NewAddressAllocator(mgr manager.Manager, publicNamespace string) *ipam.Allocator {
	return ipam.New(func(ctx context.Context) ([]ipam.Holding, error) {
		fixed, err := addressHoldings(ctx, mgr.GetAPIReader(), mgr.GetClient(), publicNamespace)
		if err != nil {
			return nil, err
		}
		floating, err := floatingHoldings(ctx, mgr.GetAPIReader())
		return append(fixed, floating...), err
	})
}

// floatingHolding is the address a FloatingIP's status records, if any.
func floatingHolding(f *computev1.FloatingIP) (ipam.Holding, bool) {
	addr, err := netip.ParseAddr(f.Status.Address)
	if err != nil || f.Status.NetworkName == "" {
		return ipam.Holding{}, false
	}
	return ipam.Holding{Network: ipam.Ref{Namespace: f.Status.NetworkNamespace, Name: f.Status.NetworkName},
		Address: addr, UID: string(f.UID)}, true
}

// addressHoldings reads every address a server's status shows, page by page from the API
// server (reader), naming its network. An address recorded before status named its
// network is matched to spec.networks in order (they are immutable, and allocated in that
// order), resolved as a build resolves it (cache, own namespace then shared).
func addressHoldings(ctx context.Context, reader client.Reader, cache client.Reader, publicNamespace string) ([]ipam.Holding, error) {
	var out []ipam.Holding
	cont := ""
	for {
		var list computev1.ServerList
		if err := reader.List(ctx, &list, client.Limit(addressListPage), client.Continue(cont)); err != nil {
			return nil, err
		}
		for i := range list.Items {
			srv := &list.Items[i]
			for j, a := range srv.Status.Addresses {
				addr, err := netip.ParseAddr(a.Address)
				if err != nil || a.Type == "floating" {
					continue
				}
				ref := ipam.Ref{Namespace: a.NetworkNamespace, Name: a.NetworkName}
				if ref.Name == "" {
					if j >= len(srv.Spec.Networks) {
						continue
					}
					n, err := refs.Network(ctx, cache, srv.Namespace, publicNamespace, srv.Spec.Networks[j].Name)
					if refs.IsNotFound(err) {
						continue // the network is gone: nothing to hand out on it
					}
					if err != nil {
						return nil, err
					}
					ref = ipam.RefOf(n)
				}
				out = append(out, ipam.Holding{Network: ref, Address: addr, UID: string(srv.UID)})
			}
		}
		if cont = list.Continue; cont == "" {
			return out, nil
		}
	}
}
