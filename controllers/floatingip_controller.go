package controllers

import (
	"context"
	"errors"

	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/ipam"
	"github.com/kova-dev/kova/internal/refs"
)

// FloatingIPReconciler hands out floating addresses. A floating address comes from its
// pool's Network through the same allocator as the servers' fixed addresses on it (so the
// two never clash, and the race-free, leak-free record is the same: the FloatingIP's status
// says which address it holds, and the allocator reserves it under the FloatingIP's uid
// before that status is written). The address is freed when the FloatingIP is deleted: its
// finalizer holds it until then.
type FloatingIPReconciler struct {
	client.Client
	Addresses       *ipam.Allocator
	PublicNamespace string
}

// +kubebuilder:rbac:groups=compute.kova.dev,resources=floatingips,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=compute.kova.dev,resources=floatingips/status;floatingips/finalizers,verbs=get;update;patch

// Reconcile handles one FloatingIP.
func (r *FloatingIPReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	fip := &computev1.FloatingIP{}
	if err := r.Get(ctx, req.NamespacedName, fip); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if !fip.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, r.release(ctx, fip)
	}
	if !controllerutil.ContainsFinalizer(fip, computev1.FloatingIPFinalizer) {
		before := fip.DeepCopy()
		controllerutil.AddFinalizer(fip, computev1.FloatingIPFinalizer)
		if err := r.Patch(ctx, fip, client.MergeFrom(before)); err != nil {
			return reconcile.Result{}, client.IgnoreNotFound(err)
		}
	}
	if fip.Status.Address != "" || (fip.Status.Failure != nil && fip.Status.ObservedGeneration == fip.Generation) {
		return reconcile.Result{}, nil
	}
	before := fip.DeepCopy()
	fip.Status.ObservedGeneration = fip.Generation
	pool, err := refs.FloatingIPPool(ctx, r.Client, r.PublicNamespace, fip.Spec.Pool)
	switch {
	case refs.IsNotFound(err):
		fip.Status.Failure = &computev1.FloatingIPFailure{Reason: "FloatingIpPoolNotFound", Message: "Floating IP pool not found."}
	case err != nil:
		return reconcile.Result{}, err
	default:
		addr, err := r.Addresses.Allocate(ctx, pool, string(fip.UID), fip.Spec.Address)
		switch {
		case errors.Is(err, ipam.ErrExhausted):
			fip.Status.Failure = &computev1.FloatingIPFailure{Reason: "NoMoreFloatingIps",
				Message: "No more floating IPs in pool " + fip.Spec.Pool + "."}
		case errors.Is(err, ipam.ErrInUse):
			fip.Status.Failure = &computev1.FloatingIPFailure{Reason: "IpAddressAlreadyAllocated",
				Message: "IP address " + fip.Spec.Address + " already allocated in subnet of network " + pool.NovaID() + "."}
		case err != nil && fip.Spec.Address != "":
			fip.Status.Failure = &computev1.FloatingIPFailure{Reason: "InvalidIpForNetwork",
				Message: "IP address " + fip.Spec.Address + " is not a valid IP for the specified network."}
		case err != nil:
			return reconcile.Result{}, err
		default:
			fip.Status.Address = addr.String()
			fip.Status.NetworkNamespace, fip.Status.NetworkName = pool.Namespace, pool.Name
			fip.Status.Failure = nil
			log.FromContext(ctx).Info("Allocated floating IP", "address", fip.Status.Address, "pool", fip.Spec.Pool)
		}
	}
	// A failed write leaves the reservation under the uid: the retry gets the same address.
	return reconcile.Result{}, client.IgnoreNotFound(r.Status().Patch(ctx, fip, client.MergeFrom(before)))
}

// release frees the address, then lets the object go.
func (r *FloatingIPReconciler) release(ctx context.Context, fip *computev1.FloatingIP) error {
	if !controllerutil.ContainsFinalizer(fip, computev1.FloatingIPFinalizer) {
		return nil
	}
	if err := r.Addresses.Release(ctx, string(fip.UID)); err != nil {
		return err
	}
	before := fip.DeepCopy()
	controllerutil.RemoveFinalizer(fip, computev1.FloatingIPFinalizer)
	if err := r.Patch(ctx, fip, client.MergeFrom(before)); err != nil {
		return client.IgnoreNotFound(err)
	}
	log.FromContext(ctx).Info("Released floating IP", "address", fip.Status.Address)
	return nil
}

// SetupWithManager registers the controller: spec changes and deletions wake it, its own
// status writes do not.
func (r *FloatingIPReconciler) SetupWithManager(mgr manager.Manager) error {
	return builder.ControllerManagedBy(mgr).
		For(&computev1.FloatingIP{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{},
			predicate.AnnotationChangedPredicate{}))).
		Complete(r)
}

// floatingHoldings are the addresses FloatingIPs hold, as their statuses record them.
func floatingHoldings(ctx context.Context, reader client.Reader) ([]ipam.Holding, error) {
	var out []ipam.Holding
	cont := ""
	for {
		var list computev1.FloatingIPList
		if err := reader.List(ctx, &list, client.Limit(addressListPage), client.Continue(cont)); err != nil {
			return nil, err
		}
		for _, f := range list.Items {
			if h, ok := floatingHolding(&f); ok {
				out = append(out, h)
			}
		}
		if cont = list.Continue; cont == "" {
			return out, nil
		}
	}
}
