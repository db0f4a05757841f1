package novaapi

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// A server's floating addresses are not in its status (the server controller writes that,
// and a floating IP is another object's): they are added to its addresses as it is shown,
// each under the network of the fixed address it points at, with that port's MAC and type
// "floating", as Nova's network info shows them.
//
// Which floating IPs point at a server is read so that an association made through the
// shim shows in the next read, through any replica, without a LIST per request (a
// consistent LIST of a kind rarely written waits for etcd's next progress notification,
// 30-50 ms, and was most of a poll's time):
//
//   - the candidates are the floating IPs the cache says point at the server, and those the
//     server's annFloatingIPs names: the shim names a floating IP there before it points the
//     floating IP at the server (addFloatingIp, the networking API's port_id), as it names
//     an action before making it (annPendingAction);
//   - each candidate is read from the API server (a GET, which etcd answers at once), so a
//     disassociation, a move to another server or a release shows at once too;
//   - a server no floating IP points at, which is nearly every server, costs no request.
//
// An association written with kubectl shows once the cache has it (milliseconds), as an
// action made with kubectl does. Past maxStaleGets reads in one request (a page of many
// servers with floating IPs), the tenant's floating IPs are LISTed once instead.

// annFloatingIPs names, on a server, the floating IPs the shim pointed at it last (at most
// maxFloatingHints, newest first, comma-separated).
const annFloatingIPs = annPrefix + "floating-ips"

// maxFloatingHints bounds annFloatingIPs: a name is needed only until the cache has the
// association, so a few cover even concurrent associations.
const maxFloatingHints = 4

// floatingHints are the names annFloatingIPs holds on srv, at most maxFloatingHints and
// only names an object can have: the annotation is the shim's, but whoever may edit the
// server with kubectl can write it (what it names is only read, in the server's namespace).
func floatingHints(srv *computev1.Server) []string {
	note := srv.Annotations[annFloatingIPs]
	if note == "" {
		return nil // nearly every server, in every list
	}
	var names []string
	for n := range strings.SplitSeq(note, ",") {
		if len(names) < maxFloatingHints && len(validation.IsDNS1123Subdomain(n)) == 0 {
			names = append(names, n)
		}
	}
	return names
}

// noteFloatingIP names the floating IP fip on srv (annFloatingIPs) before the shim points it
// at srv, so every replica reads it with the server. It is written with the shim's own
// identity, as annPendingAction is. srv's annotations give the names kept.
func (h *handler) noteFloatingIP(ctx context.Context, srv *computev1.Server, fip string) error {
	names := []string{fip}
	for _, n := range floatingHints(srv) {
		if n != fip && len(names) < maxFloatingHints {
			names = append(names, n)
		}
	}
	return h.noteOnServer(ctx, srv, annFloatingIPs, strings.Join(names, ","))
}

// floatingMemo is what one request has read of floating IPs: each by namespace and name
// (nil for none), and the namespaces LISTed whole once the reads passed maxStaleGets.
type floatingMemo struct {
	mu     sync.Mutex
	byName map[types.NamespacedName]*computev1.FloatingIP
	listed map[string][]computev1.FloatingIP
}

// floatingOf are the floating IPs that point at srv and hold an address, as the API
// server has them.
func (rq *request) floatingOf(srv *computev1.Server) ([]computev1.FloatingIP, error) {
	var cached computev1.FloatingIPList
	if err := cachedNaming(rq.ctx, rq.h, &cached, &cached.Items, indexFloatingServer, srv.Namespace, srv.Name); err != nil {
		return nil, err
	}
	names := floatingHints(srv)
	for i := range cached.Items {
		if !slices.Contains(names, cached.Items[i].Name) {
			names = append(names, cached.Items[i].Name)
		}
	}
	if len(names) == 0 {
		return nil, nil
	}
	m := &rq.floating
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byName == nil {
		m.byName = map[types.NamespacedName]*computev1.FloatingIP{}
	}
	all, listed := m.listed[srv.Namespace]
	if !listed && len(m.byName)+len(names) > maxStaleGets {
		var err error
		if all, err = rq.h.floatingIPs(rq.ctx, srv.Namespace); err != nil {
			return nil, err
		}
		if m.listed == nil {
			m.listed = map[string][]computev1.FloatingIP{}
		}
		m.listed[srv.Namespace], listed = all, true
	}
	var out []computev1.FloatingIP
	if listed {
		for _, f := range all {
			if f.Spec.Server == srv.Name {
				out = append(out, f)
			}
		}
		return out, nil
	}
	for _, name := range names {
		key := types.NamespacedName{Namespace: srv.Namespace, Name: name}
		f, read := m.byName[key]
		if !read {
			live := &computev1.FloatingIP{}
			switch err := rq.h.live.Get(rq.ctx, key, live); {
			case apierrors.IsNotFound(err):
				live = nil
			case err != nil:
				return nil, err
			}
			m.byName[key], f = live, live
		}
		if f != nil && f.Spec.Server == srv.Name && floatingInUse(f) {
			out = append(out, *f)
		}
	}
	// In the LIST's order, by name.
	slices.SortFunc(out, func(a, b computev1.FloatingIP) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// withFloating is srv, or a copy of it with its floating addresses added.
func (rq *request) withFloating(srv *computev1.Server) (*computev1.Server, error) {
	fips, err := rq.floatingOf(srv)
	if err != nil || len(fips) == 0 {
		return srv, err
	}
	out := srv.DeepCopy()
	for i := range fips {
		f := &fips[i]
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
