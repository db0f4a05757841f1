package novaapi

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
	"github.com/kova-dev/kova/internal/refs"
	"github.com/kova-dev/kova/internal/rules"
)

// server finds a server of the caller's tenant by its Nova id, as the API server has it
// now; another tenant's server is simply not there (404), as in Nova.
func (h *handler) server(ctx context.Context, ns, id string) (*computev1.Server, error) {
	srv := &computev1.Server{}
	ok, err := h.byUID(ctx, srv, ns, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("Instance %s could not be found.", id)
	}
	return srv, nil
}

// image finds an image by id among the tenant's images and the public ones, as the API
// server has it now, then among other tenants' images it sees (shared with it, community),
// which the cache names: those are other tenants' writes.
func (h *handler) image(ctx context.Context, ns, id string) (*computev1.Image, bool, error) {
	img := &computev1.Image{}
	ok, err := h.byUIDIn(ctx, img, rules.VisibleNamespaces(ns, h.public), id)
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return h.othersImage(ctx, ns, id)
	}
	if !rules.ImageVisible(img, ns) {
		return nil, false, nil
	}
	return img, true, nil
}

// othersImage finds an image of another tenant that ns sees, by id: named by the cache,
// read from the API server.
func (h *handler) othersImage(ctx context.Context, ns, id string) (*computev1.Image, bool, error) {
	var list computev1.ImageList
	if err := h.cache.List(ctx, &list, client.MatchingFields{indexUID: js.CanonicalUUID(id)}); err != nil {
		return nil, false, err
	}
	for i := range list.Items {
		img := &computev1.Image{}
		err := h.live.Get(ctx, client.ObjectKeyFromObject(&list.Items[i]), img)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		// Public images are the public namespace's, looked in already.
		if img.UID == list.Items[i].UID && (img.Spec.Visibility == "community" || rules.ImageMembership(img, ns) != nil) {
			return img, true, nil
		}
	}
	return nil, false, nil
}

// imageUsable says whether tenant may boot from img (rules.ImageUsable), reading its answer
// to a shared image past the cache: a member that just accepted boots at once.
func (h *handler) imageUsable(ctx context.Context, tenant string, img *computev1.Image) (bool, error) {
	if rules.ImageMembership(img, tenant) == nil {
		return rules.ImageUsable(img, tenant, nil), nil
	}
	answer := &computev1.ImageMember{}
	if err := h.live.Get(ctx, client.ObjectKey{Namespace: tenant, Name: string(img.UID)}, answer); apierrors.IsNotFound(err) {
		answer = nil
	} else if err != nil {
		return false, err
	}
	return rules.ImageUsable(img, tenant, answer), nil
}

// imageByName finds the image a server names (Server.spec.imageRef): a name, tenant first,
// or namespace/name for another tenant's image it sees.
func (h *handler) imageByName(ctx context.Context, ns, name string) (*computev1.Image, error) {
	if owner, short := rules.SplitImageRef(name); owner != "" {
		img := &computev1.Image{}
		err := h.cache.Get(ctx, client.ObjectKey{Namespace: owner, Name: short}, img)
		if err == nil && rules.ImageVisible(img, ns) {
			return img, nil
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return nil, err
		}
		return nil, nil
	}
	return refs.FirstVisible(ctx, h.cache, rules.VisibleNamespaces(ns, h.public), name,
		func(img *computev1.Image) bool { return rules.ImageVisible(img, ns) })
}

// network finds a network by id (Network.NovaID) among the tenant's networks and the
// shared ones, as the API server has it now: by name when the id can be a name, else by
// uid.
func (h *handler) network(ctx context.Context, ns, id string) (*computev1.Network, bool, error) {
	id = js.CanonicalUUID(id)
	namespaces := rules.VisibleNamespaces(ns, h.public)
	if net, err := networkNamed(ctx, h.live, namespaces, ns, id); err != nil || net != nil {
		return net, net != nil, err
	}
	net := &computev1.Network{}
	ok, err := h.byUIDIn(ctx, net, namespaces, id)
	if err != nil || !ok || net.NovaID() != id || !rules.NetworkVisible(net, ns) {
		return nil, false, err
	}
	return net, true, nil
}

// networkNamed is the network named id in the first of namespaces that has one visible to
// ns, read through r; nil when id cannot be a name (computev1.IsNetworkID) or none has it.
func networkNamed(ctx context.Context, r client.Reader, namespaces []string, ns, id string) (*computev1.Network, error) {
	if !computev1.IsNetworkID(id) {
		return nil, nil
	}
	return refs.FirstVisible(ctx, r, namespaces, id,
		func(net *computev1.Network) bool { return rules.NetworkVisible(net, ns) })
}

// flavor gets a flavor by its Nova id (its name); nil when there is none.
func (h *handler) flavor(ctx context.Context, id string) (*computev1.Flavor, error) {
	if id == "" {
		return nil, nil
	}
	f := &computev1.Flavor{}
	if err := h.cache.Get(ctx, client.ObjectKey{Name: id}, f); err != nil {
		if apierrors.IsNotFound(err) || apierrors.IsBadRequest(err) || apierrors.IsInvalid(err) {
			return nil, nil
		}
		return nil, err
	}
	return f, nil
}
