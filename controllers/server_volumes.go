package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// +kubebuilder:rbac:groups="",resources=persistentvolumeclaims,verbs=get;update;patch;delete

// Reasons of a volume's failure.
const (
	deviceVolumeNotFound = "VolumeNotFound"
	deviceVolumeInUse    = "VolumeInUse"
	deviceInvalidDevice  = "InvalidDevicePath"
	deviceDeviceInUse    = "DevicePathInUse"
)

// claimVolume takes the claim for srv before the driver attaches it: the claim names the
// server (annotation) and holds the finalizer, under the claim's optimistic lock, so two
// servers never both take it (Kova's volumes are not multiattach) and the claim is not
// deleted while attached. A claim another server holds, and still wants, is refused.
func (r *ServerReconciler) claimVolume(ctx context.Context, srv *computev1.Server, name string) (*attachFailure, error) {
	pvc := &corev1.PersistentVolumeClaim{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: srv.Namespace, Name: name}, pvc); err != nil {
		if apierrors.IsNotFound(err) {
			return &attachFailure{deviceVolumeNotFound, fmt.Errorf("Volume %s could not be found.", name)}, nil //nolint:staticcheck // Nova's words
		}
		return nil, err
	}
	if !pvc.DeletionTimestamp.IsZero() {
		return &attachFailure{deviceVolumeInUse, fmt.Errorf("Invalid volume: volume %s is being deleted", pvc.UID)}, nil //nolint:staticcheck // Nova's words
	}
	holder := pvc.Annotations[computev1.AnnotationAttachedTo]
	if holder == string(srv.UID) && controllerutil.ContainsFinalizer(pvc, computev1.VolumeFinalizer) {
		return nil, nil
	}
	if holder != "" && holder != string(srv.UID) {
		other, err := r.serverByUID(ctx, srv.Namespace, holder)
		if err != nil {
			return nil, err
		}
		if other != nil && other.DeletionTimestamp.IsZero() && rules.WantsVolume(other, name) {
			return &attachFailure{deviceVolumeInUse, fmt.Errorf( //nolint:staticcheck // Nova's words
				"Invalid volume: volume %s is already attached to instances: %s", pvc.UID, holder)}, nil
		}
	}
	patch := client.MergeFromWithOptions(pvc.DeepCopy(), client.MergeFromWithOptimisticLock{})
	if pvc.Annotations == nil {
		pvc.Annotations = map[string]string{}
	}
	pvc.Annotations[computev1.AnnotationAttachedTo] = string(srv.UID)
	controllerutil.AddFinalizer(pvc, computev1.VolumeFinalizer)
	return nil, r.Patch(ctx, pvc, patch)
}

// releaseVolume gives a claim back once srv no longer has it attached: the finalizer and
// the annotation go, if they are srv's; with deleteClaim the claim is deleted too (Nova's
// delete_on_termination).
func (r *ServerReconciler) releaseVolume(ctx context.Context, srv *computev1.Server, name string, deleteClaim bool) error {
	pvc := &corev1.PersistentVolumeClaim{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: srv.Namespace, Name: name}, pvc); err != nil {
		return client.IgnoreNotFound(err)
	}
	if pvc.Annotations[computev1.AnnotationAttachedTo] != string(srv.UID) {
		return nil
	}
	patch := client.MergeFromWithOptions(pvc.DeepCopy(), client.MergeFromWithOptimisticLock{})
	delete(pvc.Annotations, computev1.AnnotationAttachedTo)
	controllerutil.RemoveFinalizer(pvc, computev1.VolumeFinalizer)
	if err := r.Patch(ctx, pvc, patch); err != nil {
		return client.IgnoreNotFound(err)
	}
	if deleteClaim {
		return client.IgnoreNotFound(r.Delete(ctx, pvc, client.Preconditions{UID: &pvc.UID}))
	}
	return nil
}

// releaseVolumes gives back every claim a server being deleted holds or was taking.
func (r *ServerReconciler) releaseVolumes(ctx context.Context, srv *computev1.Server) error {
	del := map[string]bool{}
	names := map[string]bool{}
	for _, v := range srv.Spec.Volumes {
		names[v.ClaimName], del[v.ClaimName] = true, v.DeleteOnTermination
	}
	for _, a := range srv.Status.VolumeAttachments {
		names[a.ClaimName] = true
	}
	for name := range names {
		if err := r.releaseVolume(ctx, srv, name, del[name]); err != nil {
			return fmt.Errorf("releasing volume %s: %w", name, err)
		}
	}
	return nil
}

// serverByUID is the server of ns with uid, or nil. The uid index names it; a server the
// index has not got (its event handler follows the cache by a moment) is looked for among
// the namespace's cached servers, which only a volume held by another server costs.
func (r *ServerReconciler) serverByUID(ctx context.Context, ns, uid string) (*computev1.Server, error) {
	if r.uids != nil {
		if key, ok := r.uids.Lookup(types.UID(uid)); ok && key.Namespace == ns {
			srv := &computev1.Server{}
			err := r.Get(ctx, key, srv)
			if err == nil && string(srv.UID) == uid {
				return srv, nil
			}
			if err != nil && !apierrors.IsNotFound(err) {
				return nil, err
			}
		}
	}
	var list computev1.ServerList
	if err := r.List(ctx, &list, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	for i := range list.Items {
		if string(list.Items[i].UID) == uid {
			return list.Items[i].DeepCopy(), nil
		}
	}
	return nil, nil
}

// volumeAttachment is the status record of claim attached to srv.
func (r *ServerReconciler) volumeAttachment(ctx context.Context, srv *computev1.Server, name string) (computev1.ServerVolumeAttachment, error) {
	pvc := &corev1.PersistentVolumeClaim{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: srv.Namespace, Name: name}, pvc); err != nil {
		return computev1.ServerVolumeAttachment{}, err
	}
	want := ""
	for _, v := range srv.Spec.Volumes {
		if v.ClaimName == name {
			want = v.Device
		}
	}
	dev, err := rules.AssignDevice(srv, name, want)
	if err != nil {
		return computev1.ServerVolumeAttachment{}, err
	}
	return computev1.ServerVolumeAttachment{ID: string(pvc.UID), ServerID: string(srv.UID), VolumeID: string(pvc.UID),
		ClaimName: name, Device: dev}, nil
}
