package controllers

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// A shelved server has its snapshot, as in Nova (shelved_image_id): "<name>-shelved",
// made active when the shelve finishes, deleted when the server is unshelved or deleted,
// so it neither lingers nor goes before the server needs it no more.

// saveShelvedImage makes the shelved server's snapshot, or finds the one an earlier try
// made, and marks it active.
func (r *ServerReconciler) saveShelvedImage(ctx context.Context, srv *computev1.Server) error {
	img := rules.ShelvedImage(srv)
	err := r.Create(ctx, img)
	if apierrors.IsAlreadyExists(err) {
		err = r.Get(ctx, client.ObjectKeyFromObject(img), img)
	}
	if err != nil {
		return err
	}
	return r.patchImagePhase(ctx, img, computev1.ImageActive)
}

// dropShelvedImage deletes the server's shelved snapshot, if there is one. One the Image
// webhook keeps (the owner made it protected) is left, as Nova logs a snapshot it cannot
// delete and carries on: it must not hold the server's unshelve or delete.
func (r *ServerReconciler) dropShelvedImage(ctx context.Context, srv *computev1.Server) error {
	img := &computev1.Image{}
	img.Namespace, img.Name = srv.Namespace, rules.ShelvedImageName(srv)
	err := r.Delete(ctx, img)
	if apierrors.IsForbidden(err) || apierrors.IsInvalid(err) || apierrors.IsConflict(err) {
		log.FromContext(ctx).Info("Kept the shelved server's snapshot", "image", img.Name, "reason", err.Error())
		return nil
	}
	return client.IgnoreNotFound(err)
}
