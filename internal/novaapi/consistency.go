package novaapi

import (
	"context"
	"fmt"
	"slices"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	kschema "k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	js "github.com/kova-dev/kova/internal/novaapi/validation"
)

// Read-your-writes. Nova answers a write once its database has it, so the next read shows
// it, whoever makes it. Kova's informer cache gets a write a moment after the API server
// has it, and each nova-api replica's cache gets it at its own moment: remembering this
// process's own writes cannot help a client whose next request lands on another replica.
// So what a client can see a write in is read from the API server, and the informer cache
// only saves work:
//
//   - one object (a show, the server an action or a metadata call is about, a keypair, an
//     image) is a GET, which the API server answers from etcd; an object this replica has
//     not cached yet is found by a metadata-only LIST;
//   - an action accepted here is named on its server first (annPendingAction), as Nova sets
//     the task on the instance before it answers; whoever reads the server reads that action
//     too, with a GET when the cache does not have it finished, so its task shows at once
//     (the other actions, made with kubectl, come from the cache);
//   - a page of a list of servers is checked by a LIST of versions (server_versions.go),
//     which names every server that can be on it and its resourceVersion: a cached copy
//     with the same resourceVersion is the object, the others are read again, servers that
//     are gone are dropped. In creation order the LIST holds only the range of creation seconds the
//     page spans (consistency_pages.go); otherwise it holds every server;
//   - the floating IPs a server view shows are those the cache or the server itself names,
//     each read with a GET (floatingip_views.go);
//   - keypairs, images and a server's action history are LISTed.
//
// GETs, not LISTs, where it can be: kube-apiserver serves a consistent LIST from its watch
// cache once that has caught up with etcd, which under writes to other resources waits for
// etcd's next progress notification (up to 100 ms); a GET goes to etcd at once.
//
// What only decorates a view (a server's flavor and image, networks) stays cached: the shim
// does not write those.

// annPendingAction names, on a server, the ServerAction the shim accepted for it last.
const annPendingAction = annPrefix + "pending-action"

// fieldServerName is a selectable field of the ServerAction CRD (api/v1alpha1): the API
// server answers a field selector on it.
const fieldServerName = "spec.serverName"

// maxStaleGets bounds how many stale servers a list reads one by one; past it one LIST is
// cheaper.
const maxStaleGets = 32

// freshGets is how many of those reads run at once.
const freshGets = 8

// byUID finds the object of obj's kind with the given uid in ns, as the API server has it
// now, into obj. It says false when there is none.
func (h *handler) byUID(ctx context.Context, obj client.Object, ns, uid string) (bool, error) {
	return h.byUIDIn(ctx, obj, []string{ns}, uid)
}

// byUIDIn is byUID over several namespaces, the first that has it winning. The cache names
// the object (uids never change, nor do names); what this replica has not cached yet is
// looked for past it.
func (h *handler) byUIDIn(ctx context.Context, obj client.Object, namespaces []string, uid string) (bool, error) {
	if uid == "" {
		return false, nil
	}
	uid = js.CanonicalUUID(uid)
	gvk, err := apiutil.GVKForObject(obj, h.client.Scheme())
	if err != nil {
		return false, err
	}
	for _, find := range []func(context.Context, kschema.GroupVersionKind, string, string) (string, bool, error){h.cachedName, h.liveName} {
		for _, ns := range namespaces {
			name, ok, err := find(ctx, gvk, ns, uid)
			if err != nil {
				return false, err
			}
			if !ok {
				continue
			}
			if err := h.live.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
				if apierrors.IsNotFound(err) {
					continue
				}
				return false, err
			}
			// Gone and another made under the same name: the one asked for is gone.
			if string(obj.GetUID()) == uid {
				return true, nil
			}
		}
	}
	return false, nil
}

// serverGK is the kind whose uids Config.ServerUIDs names.
var serverGK = computev1.GroupVersion.WithKind("Server").GroupKind()

// cachedName is the name of the object with the uid in ns, from the cache: a server's from
// the server uid index, another kind's from the cache's field index on metadata.uid (their
// objects are few).
func (h *handler) cachedName(ctx context.Context, gvk kschema.GroupVersionKind, ns, uid string) (string, bool, error) {
	if gvk.GroupKind() == serverGK {
		if h.serverUIDs == nil {
			return "", false, nil
		}
		key, ok := h.serverUIDs.Lookup(types.UID(uid))
		return key.Name, ok && key.Namespace == ns, nil
	}
	obj, err := h.client.Scheme().New(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err != nil {
		return "", false, err
	}
	list, ok := obj.(client.ObjectList)
	if !ok {
		return "", false, fmt.Errorf("%s is not a list", gvk.Kind+"List")
	}
	if err := h.cache.List(ctx, list, client.InNamespace(ns), client.MatchingFields{indexUID: uid}); err != nil {
		return "", false, err
	}
	name := ""
	err = meta.EachListItem(list, func(o runtime.Object) error {
		if m, err := meta.Accessor(o); err == nil && string(m.GetUID()) == uid && m.GetNamespace() == ns {
			name = m.GetName()
		}
		return nil
	})
	return name, name != "", err
}

// liveName is the name of the object with the uid in ns, from a metadata-only LIST (a
// server's, from the LIST of versions: serverVersions): an object made a moment ago through
// another replica, one this replica's cache has not got yet, or none (a 404). A server the
// uid index saw deleted is none, without the LIST.
func (h *handler) liveName(ctx context.Context, gvk kschema.GroupVersionKind, ns, uid string) (string, bool, error) {
	if gvk.GroupKind() == serverGK {
		if h.serverUIDs != nil {
			if gone, ok := h.serverUIDs.Deleted(types.UID(uid)); ok && gone.Namespace == ns {
				return "", false, nil // deleted, for good
			}
		}
		live, err := h.serverVersions(ctx, []string{ns}, []labels.Selector{labels.Everything()})
		if err != nil {
			return "", false, err
		}
		for key, v := range live {
			if string(v.UID) == uid {
				return key.Name, true, nil
			}
		}
		return "", false, nil
	}
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := h.live.List(ctx, list, client.InNamespace(ns)); err != nil {
		return "", false, err
	}
	for _, it := range list.Items {
		if string(it.UID) == uid {
			return it.Name, true, nil
		}
	}
	return "", false, nil
}

// inNamespace lists in ns, or everywhere for "".
func inNamespace(ns string) []client.ListOption {
	if ns == "" {
		return nil
	}
	return []client.ListOption{client.InNamespace(ns)}
}

// serverCheck is a LIST of the servers' versions in some namespaces (serverVersions), in
// flight while the cached copies are put to use; wait says which of them were current.
type serverCheck struct {
	done chan struct{}
	live map[client.ObjectKey]ServerVersion
	err  error
}

// checkServers starts the LIST behind a list of servers (see the top of this file).
func (h *handler) checkServers(ctx context.Context, namespaces []string) *serverCheck {
	c := &serverCheck{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.live, c.err = h.serverVersions(ctx, namespaces, []labels.Selector{labels.Everything()})
	}()
	return c
}

// cachedServers are the cached copies of the servers in namespaces ("" for all). They are
// the cache's own objects, not copies (a list reads every server of a tenant, and copying
// them all cost more than the page): whoever reads them must not change them.
func (h *handler) cachedServers(ctx context.Context, namespaces []string) ([]computev1.Server, error) {
	var out []computev1.Server
	for _, ns := range namespaces {
		var list computev1.ServerList
		if err := h.cache.List(ctx, &list, append(inNamespace(ns), client.UnsafeDisableDeepCopy)...); err != nil {
			return nil, err
		}
		out = append(out, list.Items...)
	}
	return out, nil
}

// wait waits for the LIST and makes cached current: the copies whose resourceVersion is the
// API server's are kept, the others read again, the servers gone dropped. It says whether
// anything changed.
func (c *serverCheck) wait(ctx context.Context, h *handler, cached []computev1.Server) ([]computev1.Server, bool, error) {
	select {
	case <-c.done:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	if c.err != nil {
		return nil, false, c.err
	}
	have := make(map[client.ObjectKey]*computev1.Server, len(cached))
	for i := range cached {
		have[client.ObjectKeyFromObject(&cached[i])] = &cached[i]
	}
	out := make([]computev1.Server, 0, len(c.live))
	var stale []client.ObjectKey
	for key, v := range c.live {
		if s, ok := have[key]; ok && s.ResourceVersion == v.ResourceVersion {
			out = append(out, *s)
			continue
		}
		stale = append(stale, key)
	}
	if len(stale) == 0 && len(out) == len(cached) {
		return cached, false, nil
	}
	byNamespace := map[string]bool{}
	var namespaces []string
	for _, key := range stale {
		if !byNamespace[key.Namespace] {
			byNamespace[key.Namespace] = true
			namespaces = append(namespaces, key.Namespace)
		}
	}
	out, err := h.reread(ctx, out, stale, namespaces, []labels.Selector{labels.Everything()},
		func(s *computev1.Server) bool { return byNamespace[s.Namespace] })
	return out, err == nil, err
}

// reread reads the stale servers again into out: a GET each or, past maxStaleGets, one LIST
// of each namespace under each selector, which then stands for every server of out that
// covered says it holds (a server of another namespace or selection stays as it is).
func (h *handler) reread(ctx context.Context, out []computev1.Server, stale []client.ObjectKey, namespaces []string,
	selectors []labels.Selector, covered func(*computev1.Server) bool) ([]computev1.Server, error) {
	if len(stale) <= maxStaleGets {
		got, err := getAll[computev1.Server](ctx, h, stale)
		if err != nil {
			return nil, err
		}
		return append(out, got...), nil
	}
	// One LIST in full is cheaper than a GET each.
	full, err := listEach(ctx, h.live, namespaces, selectors, func() *computev1.ServerList { return &computev1.ServerList{} })
	if err != nil {
		return nil, err
	}
	out = slices.DeleteFunc(out, func(s computev1.Server) bool { return covered(&s) })
	for _, l := range full {
		out = append(out, l.Items...)
	}
	return out, nil
}

// getAll reads the objects named, a few at a time; one gone since is left out.
func getAll[T any, PT interface {
	*T
	client.Object
}](ctx context.Context, h *handler, keys []client.ObjectKey) ([]T, error) {
	got := make([]PT, len(keys))
	errs := make([]error, len(keys))
	sem := make(chan struct{}, freshGets)
	var wg sync.WaitGroup
	for i, key := range keys {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			obj := PT(new(T))
			if err := h.live.Get(ctx, key, obj); err != nil {
				if !apierrors.IsNotFound(err) {
					errs[i] = err
				}
				return
			}
			got[i] = obj
		})
	}
	wg.Wait()
	out := make([]T, 0, len(keys))
	for i := range keys {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if got[i] != nil {
			out = append(out, *got[i])
		}
	}
	return out, nil
}
