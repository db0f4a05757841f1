package webhook

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// +kubebuilder:webhook:path=/validate-compute-kova-dev-v1alpha1-image,mutating=false,failurePolicy=fail,sideEffects=None,groups=compute.kova.dev,resources=images,verbs=create;update;delete,versions=v1alpha1,name=vimage.compute.kova.dev,admissionReviewVersions=v1

// ImageValidator keeps the image API's rules for kubectl: a public image only in the public
// namespace (Glance's publicize_image is the operator's), and no delete of a protected image
// or of one a server is being built from. RBAC already gives image writes to kova-admin only,
// as the matrix does over REST.
type ImageValidator struct {
	// Reader reads past the cache: a server made a moment ago counts.
	Reader          client.Reader
	PublicNamespace string
}

var imageGR = computev1.GroupVersion.WithResource("images").GroupResource()

// ValidateCreate checks the visibility.
func (v *ImageValidator) ValidateCreate(_ context.Context, img *computev1.Image) (admission.Warnings, error) {
	if err := rules.CheckImageVisibility(img, v.PublicNamespace); err != nil {
		return nil, apierrors.NewForbidden(imageGR, img.Name, err)
	}
	return nil, nil
}

// ValidateUpdate checks the visibility.
func (v *ImageValidator) ValidateUpdate(ctx context.Context, _, img *computev1.Image) (admission.Warnings, error) {
	return v.ValidateCreate(ctx, img)
}

// ValidateDelete refuses what Glance refuses, except while the namespace itself is being
// deleted, which must not hang on a protected image.
func (v *ImageValidator) ValidateDelete(ctx context.Context, img *computev1.Image) (admission.Warnings, error) {
	ns := &corev1.Namespace{}
	if err := v.Reader.Get(ctx, client.ObjectKey{Name: img.Namespace}, ns); err == nil && !ns.DeletionTimestamp.IsZero() {
		return nil, nil
	} else if err != nil && !apierrors.IsNotFound(err) {
		return nil, apierrors.NewInternalError(err)
	}
	var servers computev1.ServerList
	var opts []client.ListOption
	if ns := rules.ImageUsers(img, v.PublicNamespace); ns != "" {
		opts = append(opts, client.InNamespace(ns))
	}
	if err := v.Reader.List(ctx, &servers, opts...); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	err := rules.CheckImageDelete(img, servers.Items, v.PublicNamespace)
	var inUse *rules.ImageInUseError
	switch {
	case err == nil:
		return nil, nil
	case errors.As(err, &inUse):
		return nil, apierrors.NewConflict(imageGR, img.Name, err)
	default:
		return nil, apierrors.NewForbidden(imageGR, img.Name, err)
	}
}
