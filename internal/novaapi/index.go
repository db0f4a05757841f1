package novaapi

import (
	"context"
	"fmt"
	"sync/atomic"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// Cache indexes. Nova ids are uids, so every show looks an object up by uid (a server's by
// Config.ServerUIDs, the few images' and networks' by a field index); a server's actions
// are found by the server they name.
const (
	indexUID        = ".metadata.uid"
	indexServerName = ".spec.serverName"
	// indexFloatingServer finds the floating IPs that point at a server.
	indexFloatingServer = ".spec.server"
	// indexImageMember finds the images shared with a tenant: an Image by each member.
	indexImageMember = ".spec.members.project"
)

type fieldIndex struct {
	obj   client.Object
	field string
	fn    client.IndexerFunc
}

// perServer says whether a page looks fi up once for every server it shows (cachedNaming).
func (fi fieldIndex) perServer() bool {
	return fi.field == indexServerName || fi.field == indexFloatingServer
}

func uidOf(o client.Object) []string { return []string{string(o.GetUID())} }

// fieldIndexes are the indexes New relies on; tests register the same ones on a fake
// client.
func fieldIndexes() []fieldIndex {
	return []fieldIndex{
		{&computev1.Image{}, indexUID, uidOf},
		{&computev1.Network{}, indexUID, uidOf},
		{&computev1.Image{}, indexImageMember, func(o client.Object) []string {
			var out []string
			for _, m := range o.(*computev1.Image).Spec.Members {
				out = append(out, m.Project)
			}
			return out
		}},
		{&computev1.ServerAction{}, indexServerName, func(o client.Object) []string {
			return []string{o.(*computev1.ServerAction).Spec.ServerName}
		}},
		{&computev1.FloatingIP{}, indexFloatingServer, func(o client.Object) []string {
			if s := o.(*computev1.FloatingIP).Spec.Server; s != "" {
				return []string{s}
			}
			return nil
		}},
		// The API server answers the same selector on its selectable field. A group is
		// never asked for by an empty name, so a server in none (nearly all) has no entry.
		{&computev1.Server{}, rules.FieldServerGroup, func(o client.Object) []string {
			if g := o.(*computev1.Server).Spec.ServerGroup; g != "" {
				return []string{g}
			}
			return nil
		}},
	}
}

// IndexFields registers the cache indexes New relies on: Image and Network by
// metadata.uid, Image by its members, ServerAction by spec.serverName, FloatingIP by
// spec.server. Call it on the cache given to New before the cache starts. When idx is an
// informer cache, the two a page looks up once per server are put on the informers
// themselves (cachedNaming), not through controller-runtime.
func IndexFields(ctx context.Context, idx client.FieldIndexer) error {
	informers, _ := idx.(cache.Informers)
	for _, fi := range fieldIndexes() {
		if fi.perServer() && informers != nil {
			if err := indexInformer(ctx, informers, fi); err != nil {
				return fmt.Errorf("indexing %T by %s: %w", fi.obj, fi.field, err)
			}
			continue
		}
		if err := idx.IndexField(ctx, fi.obj, fi.field, fi.fn); err != nil {
			return fmt.Errorf("indexing %T by %s: %w", fi.obj, fi.field, err)
		}
	}
	return nil
}

// indexInformer puts fi on its kind's informer as a client-go index of the same name, by
// "namespace/value": what informerIndexes finds and cachedNaming looks up.
func indexInformer(ctx context.Context, informers cache.Informers, fi fieldIndex) error {
	inf, err := informers.GetInformer(ctx, fi.obj, cache.BlockUntilSynced(false))
	if err != nil {
		return err
	}
	return inf.AddIndexers(toolscache.Indexers{fi.field: func(obj any) ([]string, error) {
		o, ok := obj.(client.Object)
		if !ok {
			return nil, nil
		}
		values := fi.fn(o)
		keys := make([]string, len(values))
		for i, v := range values {
			keys[i] = namedKey(o.GetNamespace(), v)
		}
		return keys, nil
	}})
}

func namedKey(ns, value string) string { return ns + "/" + value }

// informerIndexes finds the indexes IndexFields put on a cache's informers. The handler is
// made before the cache starts, and IndexFields called as it starts, so they are looked
// for at their first use and kept once found. A cache that is not an informer cache (a
// client, in tests) has none, and its field indexes are listed through.
type informerIndexes struct {
	informers cache.Informers
	found     atomic.Pointer[map[string]toolscache.Indexer]
}

func newInformerIndexes(reader client.Reader) *informerIndexes {
	informers, _ := reader.(cache.Informers)
	return &informerIndexes{informers: informers}
}

// get is the indexer of field, if its informer has the index.
func (x *informerIndexes) get(field string) (toolscache.Indexer, bool) {
	if x.informers == nil {
		return nil, false
	}
	if m := x.found.Load(); m != nil {
		ix, ok := (*m)[field]
		return ix, ok
	}
	m := map[string]toolscache.Indexer{}
	for _, fi := range fieldIndexes() {
		if !fi.perServer() {
			continue
		}
		inf, err := x.informers.GetInformer(context.Background(), fi.obj, cache.BlockUntilSynced(false))
		if err != nil {
			return nil, false
		}
		ii, ok := inf.(toolscache.SharedIndexInformer)
		if !ok {
			return nil, false
		}
		if _, indexed := ii.GetIndexer().GetIndexers()[fi.field]; !indexed {
			return nil, false // not yet: IndexFields has not run
		}
		m[fi.field] = ii.GetIndexer()
	}
	x.found.Store(&m)
	ix, ok := m[field]
	return ix, ok
}

// cachedNaming fills items (list's) with the cache's objects in ns whose field
// (indexServerName, indexFloatingServer) is value, in no order: copies of the structs only,
// whose maps and slices are the cache's and must not be changed. A page of 1,000 servers
// looks each server up twice; on the informer's index that builds no list by reflection,
// and for a server with none allocates nothing. A cache without the index (a client, in
// tests) is listed by its field index.
func cachedNaming[T any](ctx context.Context, h *handler, list client.ObjectList, items *[]T, field, ns, value string) error {
	ix, ok := h.named.get(field)
	if !ok {
		return h.cache.List(ctx, list, client.InNamespace(ns), client.MatchingFields{field: value}, client.UnsafeDisableDeepCopy)
	}
	objs, err := ix.ByIndex(field, namedKey(ns, value))
	if err != nil || len(objs) == 0 {
		*items = nil
		return err
	}
	out := make([]T, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*T); ok {
			out = append(out, *p)
		}
	}
	*items = out
	return nil
}
