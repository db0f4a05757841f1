package controllers

import (
	"context"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/quota"
)

// QuotaReconciler counts what a tenant's servers hold into its Quota's status, repairing
// what admission's reservations cannot know: a server deleted, or a create that failed
// after its usage was reserved (the reservation expires). Admission reserves before a
// server is stored (internal/quota.Reserver); both write with the resourceVersion they
// read, so neither loses the other's write.
type QuotaReconciler struct {
	client.Client
	// APIReader finds a flavor the cache has not seen yet.
	APIReader client.Reader
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	gone goneServers
}

// goneServers are the uids of the servers seen deleted, for as long as a reservation of
// theirs can last: a server made and deleted between two counts was never seen by one, and
// its reservation must not hold the quota until it expires.
type goneServers struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (g *goneServers) add(uid string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.at == nil {
		g.at = map[string]time.Time{}
	}
	g.at[uid] = now
	for u, t := range g.at {
		if now.Sub(t) > quota.DefaultTTL {
			delete(g.at, u)
		}
	}
}

func (g *goneServers) has(uid string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.at[uid]
	return ok
}

// +kubebuilder:rbac:groups=compute.kova.dev,resources=quotas,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=compute.kova.dev,resources=quotas/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=compute.kova.dev,resources=quotaclasses,verbs=get;list;watch

func (r *QuotaReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile counts one tenant's servers into its Quota.
func (r *QuotaReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	q := &computev1.Quota{}
	if err := r.Get(ctx, req.NamespacedName, q); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	// The cache's own servers, not copies: a count only reads them, and a tenant may have
	// thousands.
	var servers computev1.ServerList
	if err := r.List(ctx, &servers, client.InNamespace(q.Namespace), client.UnsafeDisableDeepCopy); err != nil {
		return reconcile.Result{}, err
	}
	flavors, err := quota.Flavors(ctx, r.Client, r.APIReader, servers.Items)
	if err != nil {
		return reconcile.Result{}, err
	}
	now := r.now()
	st := quota.Recount(q.Status, servers.Items, flavors, r.gone.has, now)
	var result reconcile.Result
	if next := quota.NextExpiry(st); !next.IsZero() {
		result.RequeueAfter = next.Sub(now) + time.Second
	}
	if q.Status.ObservedTime != nil && st.Used == q.Status.Used && equalStatus(st.Reservations, q.Status.Reservations) {
		return result, nil
	}
	q.Status = st
	// An update, not a patch: it carries the resourceVersion read, so a reservation
	// written since makes it fail and the count runs again. That write (or this count's
	// own last one, which the cache had not caught up with) queued the count already
	// (quotaChanges): a conflict is not an error to log and back off from.
	err = r.Status().Update(ctx, q)
	if apierrors.IsConflict(err) {
		return result, nil
	}
	return result, client.IgnoreNotFound(err)
}

// quotaCountBatch is how long a change of a tenant's servers waits before its Quota is
// counted again: the queue keeps one pending count per tenant, so a burst of boots shares
// one count (a LIST of the tenant's servers) and one status write. Admission does not wait
// for it: a reservation holds a server's usage until a count has seen the server, and a
// refusal is decided on a fresh count.
const quotaCountBatch = time.Second

// SetupWithManager registers the controller: a tenant's quota is counted again when its
// Quota is made or its limits change, or one of its servers is deleted, and
// quotaCountBatch after one of its servers is made or changes or its Quota's status is
// written: admission writes a reservation there for every server it lets through, and a
// count per reservation listed the tenant's servers once per boot (a fifth of the manager's
// CPU during a burst of boots); the server's own create event brings the count that
// settles the reservation anyway.
func (r *QuotaReconciler) SetupWithManager(mgr manager.Manager) error {
	later := func(o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		q.AddAfter(quotaRequest(o), quotaCountBatch)
	}
	return builder.ControllerManagedBy(mgr).
		Named("quota").
		Watches(&computev1.Quota{}, quotaChanges()).
		Watches(&computev1.Server{}, handler.Funcs{
			CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
				later(e.Object, q)
			},
			UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
				if e.ObjectOld.GetDeletionTimestamp() == nil && e.ObjectNew.GetDeletionTimestamp() != nil {
					// A server being deleted holds nothing from now on.
					q.Add(quotaRequest(e.ObjectNew))
					return
				}
				later(e.ObjectNew, q)
			},
			DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
				// A deleted server frees its quota at once, as in Nova, and its
				// reservation with it if no count saw the server.
				r.gone.add(string(e.Object.GetUID()), r.now())
				q.Add(quotaRequest(e.Object))
			},
		}).
		Complete(r)
}

// quotaRequest is the count of o's tenant's Quota.
func quotaRequest(o client.Object) reconcile.Request {
	return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: computev1.QuotaName}}
}

// quotaChanges counts a Quota at once when it is made or its limits change, and
// quotaCountBatch after its status is written (see SetupWithManager).
func quotaChanges() handler.Funcs {
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			q.Add(quotaRequest(e.Object))
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if e.ObjectNew.GetGeneration() != e.ObjectOld.GetGeneration() {
				q.Add(quotaRequest(e.ObjectNew))
				return
			}
			q.AddAfter(quotaRequest(e.ObjectNew), quotaCountBatch)
		},
		GenericFunc: func(_ context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			q.Add(quotaRequest(e.Object))
		},
	}
}
