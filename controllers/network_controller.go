package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/ipam"
)

// NetworkReconciler reports how many addresses of a network are held and how many it has.
type NetworkReconciler struct {
	client.Client
}

// +kubebuilder:rbac:groups=compute.kova.dev,resources=networks/status,verbs=get;update;patch

// Reconcile handles one Network.
func (r *NetworkReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	n := &computev1.Network{}
	if err := r.Get(ctx, req.NamespacedName, n); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	before := n.DeepCopy()
	cond := metav1.Condition{Type: computev1.ConditionReady, Status: metav1.ConditionTrue,
		Reason: computev1.ReasonAvailable, Message: "The network has addresses to give.", ObservedGeneration: n.Generation}
	pool, err := ipam.NewPool(n)
	if err != nil {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, "InvalidCIDR", err.Error()
	} else {
		var ips computev1.FixedIPList
		if err := r.List(ctx, &ips, client.InNamespace(n.Namespace), client.MatchingLabels{computev1.LabelNetwork: n.Name}); err != nil {
			return reconcile.Result{}, err
		}
		n.Status.Allocated = int64(len(ips.Items))
		n.Status.Capacity = pool.Capacity()
		if n.Status.Allocated >= n.Status.Capacity {
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, "Exhausted", "Every address of the network is held."
		}
	}
	n.Status.ObservedGeneration = n.Generation
	setCondition(&n.Status.Conditions, cond, metav1.Now().Time)
	if equalStatus(before.Status, n.Status) {
		return reconcile.Result{}, nil
	}
	return reconcile.Result{}, client.IgnoreNotFound(r.Status().Patch(ctx, n, client.MergeFrom(before)))
}

func equalStatus(a, b any) bool { return equality.Semantic.DeepEqual(a, b) }

// SetupWithManager registers the controller; FixedIPs wake their network.
func (r *NetworkReconciler) SetupWithManager(mgr manager.Manager) error {
	return builder.ControllerManagedBy(mgr).
		For(&computev1.Network{}).
		Watches(&computev1.FixedIP{}, handler.EnqueueRequestsFromMapFunc(
			func(_ context.Context, o client.Object) []reconcile.Request {
				ip := o.(*computev1.FixedIP)
				return []reconcile.Request{{NamespacedName: client.ObjectKey{Namespace: ip.Namespace, Name: ip.Spec.Network}}}
			})).
		Complete(r)
}
