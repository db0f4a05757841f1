package controllers

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// DefaultSecurityGroupReconciler makes a tenant's default security group once a server is
// there, as Neutron makes it on a project's first touch (the REST shim makes it too, on a
// tenant's first security-group call). A server made with kubectl is in it by default
// (Server.spec.securityGroups), so the group it names comes to exist. An existing default
// group is left as it is: its rules are the tenant's to change.
type DefaultSecurityGroupReconciler struct {
	client.Client
}

// +kubebuilder:rbac:groups=compute.kova.dev,resources=securitygroups,verbs=get;list;watch;create

// Reconcile handles one server's namespace.
func (r *DefaultSecurityGroupReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	err := r.Get(ctx, client.ObjectKey{Namespace: req.Namespace, Name: rules.DefaultSecurityGroup}, &computev1.SecurityGroup{})
	if !apierrors.IsNotFound(err) {
		return reconcile.Result{}, err
	}
	err = r.Create(ctx, rules.NewDefaultSecurityGroup(req.Namespace))
	if err == nil {
		log.FromContext(ctx).Info("Created default security group", "namespace", req.Namespace)
	}
	if apierrors.IsAlreadyExists(err) || apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
		// Made meanwhile; or the namespace is going away.
		return reconcile.Result{}, nil
	}
	return reconcile.Result{}, err
}

// SetupWithManager registers the controller: a new server wakes it (the request names the
// server; only its namespace counts).
func (r *DefaultSecurityGroupReconciler) SetupWithManager(mgr manager.Manager) error {
	return builder.ControllerManagedBy(mgr).
		Named("default-security-group").
		For(&computev1.Server{}, builder.WithPredicates(predicate.Funcs{
			CreateFunc:  func(event.CreateEvent) bool { return true },
			UpdateFunc:  func(event.UpdateEvent) bool { return false },
			DeleteFunc:  func(event.DeleteEvent) bool { return false },
			GenericFunc: func(event.GenericEvent) bool { return false },
		})).
		Complete(r)
}
