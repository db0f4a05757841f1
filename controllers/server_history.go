package controllers

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// completeDeleteRecord ends the record of srv's delete, which the admission webhook wrote as
// the delete was asked (rules.DeleteRecord), once the instance is gone and just before the
// server goes: Nova's delete action ends with its compute_terminate_instance event, and
// the server's history is kept for the retention from then (ServerActionReconciler). A
// server deleted before deletes were recorded has none.
func (r *ServerReconciler) completeDeleteRecord(ctx context.Context, srv *computev1.Server) error {
	key := client.ObjectKey{Namespace: srv.Namespace, Name: rules.DeleteRecordName(srv)}
	sa := &computev1.ServerAction{}
	err := r.Get(ctx, key, sa)
	if apierrors.IsNotFound(err) && r.APIReader != nil {
		// Written in the DELETE, it may not have reached the cache yet.
		err = r.APIReader.Get(ctx, key, sa)
	}
	if err != nil || sa.Status.Phase == computev1.ActionSucceeded {
		return client.IgnoreNotFound(err)
	}
	patch := client.MergeFrom(sa.DeepCopy())
	start, now := sa.CreationTimestamp, metav1.NewTime(r.now())
	sa.Status.Phase = computev1.ActionSucceeded
	sa.Status.ServerUID = string(srv.UID)
	sa.Status.StartTime, sa.Status.CompletionTime = &start, &now
	return client.IgnoreNotFound(r.Status().Patch(ctx, sa, patch))
}
