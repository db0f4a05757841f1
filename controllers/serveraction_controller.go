package controllers

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// ServerActionReconciler ties each ServerAction to its server: it makes the server its
// owner (so the audit trail goes with the server) and fails an action whose server does
// not exist. The server controller carries the action out.
type ServerActionReconciler struct {
	client.Client
	// APIReader reads Secrets, which the manager does not cache.
	APIReader client.Reader
	Scheme    *runtime.Scheme
}

// Reconcile handles one ServerAction.
func (r *ServerActionReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	sa := &computev1.ServerAction{}
	if err := r.Get(ctx, req.NamespacedName, sa); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if sa.Status.Phase == computev1.ActionSucceeded || sa.Status.Phase == computev1.ActionFailed {
		return reconcile.Result{}, nil
	}
	srv := &computev1.Server{}
	err := r.Get(ctx, client.ObjectKey{Namespace: sa.Namespace, Name: sa.Spec.ServerName}, srv)
	if client.IgnoreNotFound(err) != nil {
		return reconcile.Result{}, err
	}
	if err != nil || (sa.Status.ServerUID != "" && sa.Status.ServerUID != string(srv.UID)) || !srv.DeletionTimestamp.IsZero() && sa.Status.Phase == "" {
		if err := releasePasswordSecret(ctx, r.Client, r.APIReader, sa, computev1.ActionFailed); err != nil {
			return reconcile.Result{}, err
		}
		patch := client.MergeFrom(sa.DeepCopy())
		now := metav1.Now()
		sa.Status.Phase = computev1.ActionFailed
		sa.Status.Message = fmt.Sprintf("Instance %s could not be found.", sa.Spec.ServerName)
		sa.Status.StartTime, sa.Status.CompletionTime = &now, &now
		return reconcile.Result{}, client.IgnoreNotFound(r.Status().Patch(ctx, sa, patch))
	}
	if len(sa.OwnerReferences) == 0 {
		patch := client.MergeFrom(sa.DeepCopy())
		if err := controllerutil.SetOwnerReference(srv, sa, r.Scheme); err != nil {
			return reconcile.Result{}, err
		}
		return reconcile.Result{}, client.IgnoreNotFound(r.Patch(ctx, sa, patch))
	}
	return reconcile.Result{}, nil
}

// SetupWithManager registers the controller.
func (r *ServerActionReconciler) SetupWithManager(mgr manager.Manager) error {
	return builder.ControllerManagedBy(mgr).For(&computev1.ServerAction{}).Complete(r)
}
