package novaapi

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kschema "k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// Read-your-writes. Nova answers a write once its database has it, so the next read shows
// it, whoever makes it. Kova's informer cache gets a write a moment after the API server
// has it, and each nova-api replica's cache gets it at its own moment: remembering this
// process's own writes cannot help a client whose next request lands on another replica.
// So what a client can see a write in is read consistently from the API server (which
// serves such reads from its watch cache once that has caught up with etcd), and the
// informer cache only saves work:
//
//   - one object (a show, the server an action or a metadata call is about, a keypair, an
//     image) is a GET; an object this replica has not cached yet is found by a metadata-only
//     LIST;
//   - a server's actions are a LIST selected by spec.serverName, and in a list of servers the
//     tenant's unfinished actions a LIST selected by status.phase (selectable fields of the
//     ServerAction CRD, which the API server keeps precomputed), so the task an action starts
//     shows at once;
//   - a list of servers starts with a metadata-only LIST, which names every server and its
//     resourceVersion: a cached copy with the same resourceVersion is the object, the others
//     are read again and servers that are gone are dropped;
//   - keypairs and images, small collections per tenant, are LISTed.
//
// What only decorates a view (a server's flavor and image, networks) stays cached: the shim
// does not write those.

// Selectable fields of the ServerAction CRD (api/v1alpha1): a field selector on them is
// answered by the API server.
const (
	fieldServerName  = "spec.serverName"
	fieldActionPhase = "status.phase"
)

// unfinishedPhases are the phases of an action the controller has not finished; "" is an
// action it has not seen yet.
var unfinishedPhases = []computev1.ActionPhase{"", computev1.ActionPending, computev1.ActionRunning}

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
	uid = canonicalUUID(uid)
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
			if err := h.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
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

// cachedName is the name of the object with the uid in ns, from the cache's uid index.
func (h *handler) cachedName(ctx context.Context, gvk kschema.GroupVersionKind, ns, uid string) (string, bool, error) {
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

// liveName is the name of the object with the uid in ns, from a metadata-only LIST: an object
// made a moment ago through another replica, or one this replica's cache has not got yet.
func (h *handler) liveName(ctx context.Context, gvk kschema.GroupVersionKind, ns, uid string) (string, bool, error) {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := h.client.List(ctx, list, client.InNamespace(ns)); err != nil {
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

// freshServers are the servers in ns ("" for all) as the API server has them now: the
// cached copies that are current, the others read again.
func (h *handler) freshServers(ctx context.Context, ns string) ([]computev1.Server, error) {
	live := &metav1.PartialObjectMetadataList{}
	live.SetGroupVersionKind(computev1.GroupVersion.WithKind("ServerList"))
	if err := h.client.List(ctx, live, inNamespace(ns)...); err != nil {
		return nil, err
	}
	var cached computev1.ServerList
	if err := h.cache.List(ctx, &cached, inNamespace(ns)...); err != nil {
		return nil, err
	}
	have := make(map[client.ObjectKey]*computev1.Server, len(cached.Items))
	for i := range cached.Items {
		have[client.ObjectKeyFromObject(&cached.Items[i])] = &cached.Items[i]
	}
	out := make([]computev1.Server, 0, len(live.Items))
	var stale []client.ObjectKey
	for i := range live.Items {
		key := client.ObjectKeyFromObject(&live.Items[i])
		if c, ok := have[key]; ok && c.ResourceVersion == live.Items[i].ResourceVersion {
			out = append(out, *c)
			continue
		}
		stale = append(stale, key)
	}
	if len(stale) == 0 {
		return out, nil
	}
	if len(stale) > maxStaleGets {
		var all computev1.ServerList
		if err := h.client.List(ctx, &all, inNamespace(ns)...); err != nil {
			return nil, err
		}
		return all.Items, nil
	}
	got, err := h.getAll(ctx, stale)
	if err != nil {
		return nil, err
	}
	return append(out, got...), nil
}

// getAll reads the servers named, a few at a time; one gone since is left out.
func (h *handler) getAll(ctx context.Context, keys []client.ObjectKey) ([]computev1.Server, error) {
	got := make([]*computev1.Server, len(keys))
	errs := make([]error, len(keys))
	sem := make(chan struct{}, freshGets)
	var wg sync.WaitGroup
	for i, key := range keys {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			srv := &computev1.Server{}
			if err := h.client.Get(ctx, key, srv); err != nil {
				if !apierrors.IsNotFound(err) {
					errs[i] = err
				}
				return
			}
			got[i] = srv
		})
	}
	wg.Wait()
	out := make([]computev1.Server, 0, len(keys))
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

// serverActions lists the ServerActions of a server, past the cache.
func (h *handler) serverActions(ctx context.Context, srv *computev1.Server) ([]computev1.ServerAction, error) {
	var list computev1.ServerActionList
	if err := h.client.List(ctx, &list, client.InNamespace(srv.Namespace), client.MatchingFields{fieldServerName: srv.Name}); err != nil {
		return nil, err
	}
	return list.Items, nil
}

// unfinishedActions lists the actions in ns ("" for all) the controller has not finished,
// past the cache, by the server they are for (namespace/name).
func (h *handler) unfinishedActions(ctx context.Context, ns string) (map[string][]computev1.ServerAction, error) {
	lists := make([]computev1.ServerActionList, len(unfinishedPhases))
	errs := make([]error, len(unfinishedPhases))
	var wg sync.WaitGroup
	for i, phase := range unfinishedPhases {
		wg.Go(func() {
			opts := append(inNamespace(ns), client.MatchingFields{fieldActionPhase: string(phase)})
			errs[i] = h.client.List(ctx, &lists[i], opts...)
		})
	}
	wg.Wait()
	out := map[string][]computev1.ServerAction{}
	for i := range lists {
		if errs[i] != nil {
			return nil, errs[i]
		}
		for _, sa := range lists[i].Items {
			k := sa.Namespace + "/" + sa.Spec.ServerName
			out[k] = append(out[k], sa)
		}
	}
	return out, nil
}

// shownState is the server to show and the state to show it in. The server was read before
// its actions; an action the controller finished in between would leave the copy in hand
// older than the action, showing neither its task nor its outcome. Then the server is read
// again, so what is shown is never older than the actions it is projected from.
func (h *handler) shownState(ctx context.Context, srv *computev1.Server) (*computev1.Server, lifecycle.State, error) {
	actions, err := h.serverActions(ctx, srv)
	if err != nil {
		return nil, lifecycle.State{}, err
	}
	if finishedSince(actions, srv) {
		fresh := &computev1.Server{}
		err := h.client.Get(ctx, client.ObjectKeyFromObject(srv), fresh)
		switch {
		case apierrors.IsNotFound(err) || err == nil && fresh.UID != srv.UID:
			return nil, lifecycle.State{}, notFound("Instance %s could not be found.", srv.UID)
		case err != nil:
			return nil, lifecycle.State{}, err
		}
		srv = fresh
	}
	return srv, projectedState(srv, actions), nil
}

// finishedSince says whether an action finished after srv was last written. Resource
// versions are etcd revisions; should one not read as a number, nothing is assumed.
func finishedSince(actions []computev1.ServerAction, srv *computev1.Server) bool {
	at, err := strconv.ParseUint(srv.ResourceVersion, 10, 64)
	if err != nil {
		return false
	}
	for _, sa := range actions {
		if sa.Status.Phase != computev1.ActionSucceeded && sa.Status.Phase != computev1.ActionFailed {
			continue
		}
		if rv, err := strconv.ParseUint(sa.ResourceVersion, 10, 64); err == nil && rv > at {
			return true
		}
	}
	return false
}
