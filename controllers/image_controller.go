package controllers

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// ImageReconciler moves images that come from a URL from queued to active. Snapshot images
// belong to the server controller, which moves them queued -> saving -> active as the
// snapshot runs, and uploaded ones to the image API, which stores their data; each image
// has one status writer.
type ImageReconciler struct {
	client.Client
}

// The Image webhook (internal/webhook, served by the manager) reads an image's namespace:
// a namespace being deleted may delete a protected image.
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get

// Reconcile handles one Image.
func (r *ImageReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	img := &computev1.Image{}
	if err := r.Get(ctx, req.NamespacedName, img); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if img.Spec.Source.ServerSnapshot != nil || img.Spec.Source.Upload != nil {
		return reconcile.Result{}, nil
	}
	before := img.DeepCopy()
	if img.Status.Status == "" || img.Status.Status == computev1.ImageQueued {
		// The simulated image service has nothing to download: a URL image is usable at once.
		now := metav1.Now()
		img.Status.Status = computev1.ImageActive
		img.Status.Progress = 100
		img.Status.SizeBytes = 1 << 30
		img.Status.Updated = &now
	}
	img.Status.ObservedGeneration = img.Generation
	setImageConditions(img)
	if equalStatus(before.Status, img.Status) {
		return reconcile.Result{}, nil
	}
	return reconcile.Result{}, client.IgnoreNotFound(r.Status().Patch(ctx, img, client.MergeFrom(before)))
}

// SetupWithManager registers the controller.
func (r *ImageReconciler) SetupWithManager(mgr manager.Manager) error {
	return builder.ControllerManagedBy(mgr).For(&computev1.Image{}).Complete(r)
}
