package novaapi

import (
	"context"
	"errors"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache/informertest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// informerCache is a cache as cmd/nova-api has one: informers that are also read through.
type informerCache struct {
	client.Reader
	cache.Informers
}

// listForbidden fails every read: what is looked up through the informers' indexes lists
// nothing.
type listForbidden struct{}

func (listForbidden) Get(context.Context, client.ObjectKey, client.Object, ...client.GetOption) error {
	return errors.New("read through the cache's reader")
}

func (listForbidden) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("listed through the cache's reader")
}

// TestCachedNamingByTheInformersIndexes: on an informer cache, IndexFields puts the
// per-server look-ups on the informers themselves, and cachedNaming finds a server's
// actions and floating IPs there, by namespace and name, without a List, in a handler made
// before they were put on.
func TestCachedNamingByTheInformersIndexes(t *testing.T) {
	ctx := context.Background()
	newInformer := func(obj client.Object) toolscache.SharedIndexInformer {
		return toolscache.NewSharedIndexInformer(&toolscache.ListWatch{}, obj, 0, toolscache.Indexers{})
	}
	actions, floating := newInformer(&computev1.ServerAction{}), newInformer(&computev1.FloatingIP{})
	informers := &informertest.FakeInformers{Scheme: testScheme(t), InformersByGVK: map[schema.GroupVersionKind]toolscache.SharedIndexInformer{
		computev1.GroupVersion.WithKind("ServerAction"): actions,
		computev1.GroupVersion.WithKind("FloatingIP"):   floating,
	}}
	// As cmd/nova-api does: the handler is made, then the indexes put on as the cache starts.
	h := newHandler(Config{Cache: informerCache{Reader: listForbidden{}, Informers: informers}})
	var early computev1.ServerActionList
	if err := cachedNaming(ctx, h, &early, &early.Items, indexServerName, tenant, "a"); err == nil {
		t.Error("a look-up before the indexes were put on did not list through")
	}
	if err := IndexFields(ctx, informers); err != nil {
		t.Fatal(err)
	}
	action := func(ns, name, server string) *computev1.ServerAction {
		return &computev1.ServerAction{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: computev1.ServerActionSpec{ServerName: server}}
	}
	for _, sa := range []*computev1.ServerAction{
		action(tenant, "a-create", "a"), action(tenant, "a-stop", "a"), action(tenant, "b-create", "b"), action("other", "a-create", "a"),
	} {
		if err := actions.GetIndexer().Add(sa); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []*computev1.FloatingIP{
		{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "fip-a"}, Spec: computev1.FloatingIPSpec{Server: "a"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "fip-free"}},
	} {
		if err := floating.GetIndexer().Add(f); err != nil {
			t.Fatal(err)
		}
	}

	actionsOf := func(ns, server string) []string {
		var list computev1.ServerActionList
		if err := cachedNaming(ctx, h, &list, &list.Items, indexServerName, ns, server); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, sa := range list.Items {
			names = append(names, sa.Name)
		}
		slices.Sort(names)
		return names
	}
	for _, tt := range []struct {
		ns, server string
		want       []string
	}{
		{tenant, "a", []string{"a-create", "a-stop"}},
		{tenant, "b", []string{"b-create"}},
		{tenant, "c", nil},
		{"other", "a", []string{"a-create"}},
	} {
		if got := actionsOf(tt.ns, tt.server); !slices.Equal(got, tt.want) {
			t.Errorf("the actions of %s/%s: %v, want %v", tt.ns, tt.server, got, tt.want)
		}
	}
	var fips computev1.FloatingIPList
	if err := cachedNaming(ctx, h, &fips, &fips.Items, indexFloatingServer, tenant, "a"); err != nil {
		t.Fatal(err)
	}
	if len(fips.Items) != 1 || fips.Items[0].Name != "fip-a" {
		t.Errorf("the floating IPs of a: %v", fips.Items)
	}
	if err := cachedNaming(ctx, h, &fips, &fips.Items, indexFloatingServer, tenant, ""); err != nil || len(fips.Items) != 0 {
		t.Errorf("a floating IP pointing nowhere is found by the empty name: %v, %v", fips.Items, err)
	}

	// A cache without those indexes (a client, as in the other tests) is listed through.
	plain := newHandler(Config{Cache: listForbidden{}})
	var list computev1.ServerActionList
	if err := cachedNaming(ctx, plain, &list, &list.Items, indexServerName, tenant, "a"); err == nil {
		t.Error("a cache without the informers' indexes was not listed through")
	}
}
