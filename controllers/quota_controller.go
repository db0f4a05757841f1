package controllers

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
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
}

// +kubebuilder:rbac:groups=compute.kova.dev,resources=quotas,verbs=get;list;watch;create
// +kubebuilder:rbac:groups=compute.kova.dev,resources=quotas/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=compute.kova.dev,resources=quotaclasses,verbs=get;list;watch

// Reconcile counts one tenant's servers into its Quota.
func (r *QuotaReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	q := &computev1.Quota{}
	if err := r.Get(ctx, req.NamespacedName, q); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	var servers computev1.ServerList
	if err := r.List(ctx, &servers, client.InNamespace(q.Namespace)); err != nil {
		return reconcile.Result{}, err
	}
	flavors, err := quota.Flavors(ctx, r.Client, r.APIReader, servers.Items)
	if err != nil {
		return reconcile.Result{}, err
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	st := quota.Recount(q.Status, servers.Items, flavors, now)
	var result reconcile.Result
	if next := quota.NextExpiry(st); !next.IsZero() {
		result.RequeueAfter = next.Sub(now) + time.Second
	}
	if q.Status.ObservedTime != nil && st.Used == q.Status.Used && equalStatus(st.Reservations, q.Status.Reservations) {
		return result, nil
	}
	q.Status = st
	// An update, not a patch: it carries the resourceVersion read, so a reservation
	// written since makes it fail and the count runs again.
	return result, client.IgnoreNotFound(r.Status().Update(ctx, q))
}

// SetupWithManager registers the controller: a tenant's quota is counted again whenever
// its Quota or one of its servers changes.
func (r *QuotaReconciler) SetupWithManager(mgr manager.Manager) error {
	toQuota := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: computev1.QuotaName}}}
	})
	return builder.ControllerManagedBy(mgr).
		Named("quota").
		For(&computev1.Quota{}).
		Watches(&computev1.Server{}, toQuota).
		Complete(r)
}
