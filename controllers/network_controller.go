package controllers

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/ipam"
	"github.com/kova-dev/kova/internal/rules"
)

// networkStatusBatch is how long a network's count waits after an address is handed out or
// given back before it is written: a burst of boots on one network writes its status about
// once per interval, not once per boot.
const networkStatusBatch = time.Second

// NetworkReconciler reports how many addresses of a network are held and how many it has.
type NetworkReconciler struct {
	client.Client
	// Addresses is the allocator whose counts are reported.
	Addresses *ipam.Allocator
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
	pool, err := rules.NewPool(n)
	if err != nil {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, "InvalidCIDR", err.Error()
	} else {
		if n.Status.Allocated, err = r.Addresses.Allocated(ctx, ipam.RefOf(n)); err != nil {
			return reconcile.Result{}, err
		}
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

// SetupWithManager registers the controller; a change in a network's count wakes it after
// networkStatusBatch (the queue keeps one pending wake per network, so the changes of a
// burst share one status write).
func (r *NetworkReconciler) SetupWithManager(mgr manager.Manager) error {
	return builder.ControllerManagedBy(mgr).
		// Its own status writes do not wake it (they would write the next count at once,
		// undoing the batching): only a new network or a spec change does.
		For(&computev1.Network{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesRawSource(source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
			r.Addresses.OnChange(func(ref ipam.Ref) {
				q.AddAfter(reconcile.Request{NamespacedName: client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}}, networkStatusBatch)
			})
			return nil
		})).
		Complete(r)
}
