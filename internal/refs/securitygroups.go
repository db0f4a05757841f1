package refs

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// SecurityGroupsFor are the groups of ns to resolve a server's group names against
// (rules.SecurityGroupsNamed), for the REST shim's boot and the admission webhook alike.
// They come from cache when it finds exactly one group for every name, and from live (the
// API server) otherwise, so a group made a moment ago, through any replica, is found, and
// a name the cache finds on several groups is judged on what the API server has now. The
// cache is read first because a LIST of a kind not written lately waits for the API
// server's watch cache to catch up with etcd (up to 100 ms): it was most of a boot's POST.
// As Resolve does for the other references, a group renamed or deleted within the cache's
// lag (milliseconds) can still be named then.
func SecurityGroupsFor(ctx context.Context, cache, live client.Reader, ns string, names []string) ([]computev1.SecurityGroup, error) {
	var cached computev1.SecurityGroupList
	if err := cache.List(ctx, &cached, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	exact := true
	for _, n := range names {
		if len(rules.SecurityGroupsNamed(cached.Items, n)) != 1 {
			exact = false
			break
		}
	}
	if exact {
		return cached.Items, nil
	}
	var now computev1.SecurityGroupList
	if err := live.List(ctx, &now, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	return now.Items, nil
}
