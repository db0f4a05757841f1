package controllers

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// +kubebuilder:rbac:groups=compute.kova.dev,resources=images,verbs=list;delete

// rotateBackups deletes the server's older backups of the new one's type beyond its
// rotation, once the new one is active (Nova's _rotate_backups after the upload), so a
// failed backup deletes none. Images are read past the cache: a backup made just before
// must count. Deleting an image still in use (a server built from it) is refused by the
// Image webhook; that backup stays, as Glance keeps an image it cannot delete.
func (r *ServerReconciler) rotateBackups(ctx context.Context, srv *computev1.Server, op *computev1.ServerOperation) error {
	reader := r.APIReader
	if reader == nil {
		reader = r.Client
	}
	img := &computev1.Image{}
	if err := reader.Get(ctx, client.ObjectKey{Namespace: srv.Namespace, Name: op.Image}, img); err != nil {
		return client.IgnoreNotFound(err)
	}
	if _, ok := img.Annotations[rules.AnnBackupRotation]; !ok {
		return nil
	}
	var images computev1.ImageList
	if err := reader.List(ctx, &images, client.InNamespace(srv.Namespace), client.MatchingLabels{computev1.LabelServer: srv.Name}); err != nil {
		return err
	}
	for _, old := range rules.BackupsToRotate(img, images.Items) {
		uid := old.UID
		if err := r.Delete(ctx, &old, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			if apierrors.IsForbidden(err) || apierrors.IsInvalid(err) {
				continue // in use: kept
			}
			return err
		}
	}
	return nil
}
