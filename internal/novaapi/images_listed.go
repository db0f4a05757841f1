package novaapi

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// listedImages are the images a list shows tenant, as Glance's image list for a project
// (not its admin) chooses them:
//
//   - its own images and the public ones, read past the cache (its own writes show at once);
//   - images other tenants share with it whose member status is memberStatus ("all": any),
//     found by the cache's members index (the owners' writes), its answers read past the cache;
//   - community images of other tenants, only when visibility asks for them ("community" or
//     "all"): with no visibility Glance lists only the tenant's own community images.
//
// visibility itself (and every other filter) is left to the caller.
func (h *handler) listedImages(ctx context.Context, tenant, visibility, memberStatus string) ([]*computev1.Image, error) {
	var out []*computev1.Image
	seen := map[string]bool{}
	keep := func(img *computev1.Image) {
		if img.DeletionTimestamp.IsZero() && !seen[string(img.UID)] {
			seen[string(img.UID)] = true
			out = append(out, img)
		}
	}
	community := visibility == "community" || visibility == "all"
	for _, ns := range rules.VisibleNamespaces(tenant, h.public) {
		var list computev1.ImageList
		if err := h.live.List(ctx, &list, client.InNamespace(ns)); err != nil { // past the cache (consistency.go)
			return nil, err
		}
		for i := range list.Items {
			img := &list.Items[i]
			if img.Namespace == tenant || img.Spec.Visibility == "public" || (community && img.Spec.Visibility == "community") {
				keep(img)
			}
		}
	}
	var shared computev1.ImageList
	if err := h.cache.List(ctx, &shared, client.MatchingFields{indexImageMember: tenant}); err != nil {
		return nil, err
	}
	if len(shared.Items) > 0 {
		var answers computev1.ImageMemberList
		if err := h.live.List(ctx, &answers, client.InNamespace(tenant)); err != nil {
			return nil, err
		}
		byImage := map[string]*computev1.ImageMember{}
		for i := range answers.Items {
			byImage[answers.Items[i].Name] = &answers.Items[i]
		}
		for i := range shared.Items {
			img := &shared.Items[i]
			st := rules.ImageMemberStatus(img, tenant, byImage[string(img.UID)])
			if st != "" && (memberStatus == "all" || string(st) == memberStatus) {
				keep(img)
			}
		}
	}
	if community {
		var all computev1.ImageList
		if err := h.cache.List(ctx, &all); err != nil {
			return nil, err
		}
		for i := range all.Items {
			if img := &all.Items[i]; img.Spec.Visibility == "community" {
				keep(img)
			}
		}
	}
	return out, nil
}
