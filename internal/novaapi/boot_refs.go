package novaapi

import (
	"context"
	"slices"

	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// The image and networks a boot names, from the cache when it has them. A boot records
// them by name in the Server it creates, and the Server webhook checks every one of them
// again as the API server stores it, the way it does for kubectl: from its cache, then
// from the API server for what its cache has not got (refs.Resolve). So the shim does the
// same: what its cache has, and what passes every check the shim makes of it there, is
// taken as it is; whatever the cache has not got, or has in a form the shim would refuse,
// is looked up as the API server has it now (lookup.go), so an image or network made,
// shared or activated a moment ago, through any replica, boots at once, and a refusal is
// only ever made on the API server's copy. An image or network changed or deleted within
// the cache's lag (milliseconds) can still be named at that moment, as through kubectl;
// the controller then checks it once more as it builds, and ends the server in ERROR with
// Nova's words if it is gone (nothing is allocated for it). A boot read three to five
// objects from the API server before; at 16 clients those reads were CPU of the API server
// and the shim that the kubectl path does not spend (docs/benchmarks.md).

// cachedBootImage is the image with uid id, from the cache, if it is the tenant's or a
// public one, visible to the tenant, active, fit for flavor and not another tenant's
// shared image (whose member's answer is read past the cache); else nil.
func (h *handler) cachedBootImage(ctx context.Context, ns, id string, flavor *computev1.Flavor) (*computev1.Image, error) {
	var list computev1.ImageList
	if err := h.cache.List(ctx, &list, client.MatchingFields{indexUID: id}); err != nil {
		return nil, err
	}
	namespaces := rules.VisibleNamespaces(ns, h.public)
	for i := range list.Items {
		img := &list.Items[i]
		if string(img.UID) != id || !slices.Contains(namespaces, img.Namespace) || !rules.ImageVisible(img, ns) ||
			rules.ImageMembership(img, ns) != nil || !rules.ImageUsable(img, ns, nil) ||
			img.Status.Status != computev1.ImageActive || rules.FitsImage(flavor, img) != nil {
			continue
		}
		return img, nil
	}
	return nil, nil
}

// cachedNetwork is the network whose id (Network.NovaID) is id among the tenant's and the
// shared networks, from the cache, found as network finds it past the cache: by name when
// the id can be a name (a network may be named by a UUID), else by uid; nil when the cache
// has none.
func (h *handler) cachedNetwork(ctx context.Context, ns, id string) (*computev1.Network, error) {
	namespaces := rules.VisibleNamespaces(ns, h.public)
	if net, err := networkNamed(ctx, h.cache, namespaces, ns, id); err != nil || net != nil {
		return net, err
	}
	var list computev1.NetworkList
	if err := h.cache.List(ctx, &list, client.MatchingFields{indexUID: id}); err != nil {
		return nil, err
	}
	for _, n := range namespaces {
		for i := range list.Items {
			net := &list.Items[i]
			if net.Namespace == n && string(net.UID) == id && net.NovaID() == id && rules.NetworkVisible(net, ns) {
				return net, nil
			}
		}
	}
	return nil, nil
}

// bootNetwork is the network a boot names by id: from the cache when it has it, else as
// the API server has it now (network). ok is false when there is none.
func (h *handler) bootNetwork(ctx context.Context, ns, id string) (*computev1.Network, bool, error) {
	net, err := h.cachedNetwork(ctx, ns, id)
	if err != nil || net != nil {
		return net, net != nil, err
	}
	return h.network(ctx, ns, id)
}
