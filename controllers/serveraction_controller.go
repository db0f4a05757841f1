package controllers

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// ServerActionReconciler fails an action whose server does not exist, and keeps a deleted
// server's history (its ServerActions, which no server owns: they outlive it) for the
// retention, then removes it. The server controller carries actions out; this one never
// carries out anything, and writes nothing for an action on a live server.
type ServerActionReconciler struct {
	client.Client
	// APIReader reads Secrets, which the manager does not cache, and a server before its
	// history is removed.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	// Retention is how long a deleted server's actions are kept (0: the default).
	Retention time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// +kubebuilder:rbac:groups=compute.kova.dev,resources=serveractions,verbs=delete;deletecollection

// Reconcile handles one ServerAction.
func (r *ServerActionReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	sa := &computev1.ServerAction{}
	if err := r.Get(ctx, req.NamespacedName, sa); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	switch {
	case rules.IsDeleteRecord(sa):
		return r.expireHistory(ctx, sa)
	case rules.IsRecord(sa):
		return reconcile.Result{}, nil
	case sa.Status.Phase.Ended():
		return r.expireOrphan(ctx, sa)
	}
	srv := &computev1.Server{}
	err := r.Get(ctx, client.ObjectKey{Namespace: sa.Namespace, Name: sa.Spec.ServerName}, srv)
	if client.IgnoreNotFound(err) != nil {
		return reconcile.Result{}, err
	}
	uid := sa.Status.ServerUID
	if uid == "" {
		uid = sa.Labels[computev1.LabelServerUID]
	}
	if err == nil && (uid == "" || uid == string(srv.UID)) && (srv.DeletionTimestamp.IsZero() || sa.Status.Phase != "") {
		return reconcile.Result{}, nil
	}
	if err := releasePasswordSecret(ctx, r.Client, r.APIReader, sa, computev1.ActionFailed); err != nil {
		return reconcile.Result{}, err
	}
	patch := client.MergeFrom(sa.DeepCopy())
	now := metav1.NewTime(r.now())
	sa.Status.Phase = computev1.ActionFailed
	sa.Status.Message = fmt.Sprintf("Instance %s could not be found.", sa.Spec.ServerName)
	sa.Status.StartTime, sa.Status.CompletionTime = &now, &now
	if err := r.Status().Patch(ctx, sa, patch); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	return r.expireOrphan(ctx, sa)
}

func (r *ServerActionReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *ServerActionReconciler) retention() time.Duration {
	if r.Retention > 0 {
		return r.Retention
	}
	return rules.DefaultHistoryRetention
}

// expireHistory removes, once the retention has passed, the history a delete record closes:
// every ServerAction of that server (by its uid label), the record last among them. A
// server still there (its teardown stuck) keeps its history until it is gone.
func (r *ServerActionReconciler) expireHistory(ctx context.Context, record *computev1.ServerAction) (reconcile.Result, error) {
	if wait := rules.HistoryExpiry(record, r.retention()).Sub(r.now()); wait > 0 {
		return reconcile.Result{RequeueAfter: wait}, nil
	}
	uid := record.Labels[computev1.LabelServerUID]
	srv := &computev1.Server{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: record.Namespace, Name: record.Spec.ServerName}, srv)
	if client.IgnoreNotFound(err) != nil {
		return reconcile.Result{}, err
	}
	if err == nil && string(srv.UID) == uid {
		return reconcile.Result{RequeueAfter: r.retention()}, nil
	}
	if err := r.DeleteAllOf(ctx, &computev1.ServerAction{}, client.InNamespace(record.Namespace),
		client.MatchingLabels{computev1.LabelServerUID: uid}); err != nil {
		return reconcile.Result{}, err
	}
	log.FromContext(ctx).Info("Removed a deleted server's history", "serverUID", uid, "server", record.Spec.ServerName)
	return reconcile.Result{}, client.IgnoreNotFound(r.Delete(ctx, record))
}

// expireOrphan removes, a retention after it ended, an action that belongs to no server's
// history: one that named no server when it was made (no uid label), and that no server
// owns (those made before histories outlived their servers go with their server).
func (r *ServerActionReconciler) expireOrphan(ctx context.Context, sa *computev1.ServerAction) (reconcile.Result, error) {
	if sa.Labels[computev1.LabelServerUID] != "" || len(sa.OwnerReferences) > 0 || sa.Status.CompletionTime == nil {
		return reconcile.Result{}, nil
	}
	if wait := sa.Status.CompletionTime.Add(r.retention()).Sub(r.now()); wait > 0 {
		return reconcile.Result{RequeueAfter: wait}, nil
	}
	return reconcile.Result{}, client.IgnoreNotFound(r.Delete(ctx, sa))
}

// SetupWithManager registers the controller.
func (r *ServerActionReconciler) SetupWithManager(mgr manager.Manager) error {
	return builder.ControllerManagedBy(mgr).For(&computev1.ServerAction{}).Complete(r)
}
