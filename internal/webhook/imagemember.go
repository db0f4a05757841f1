package webhook

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// +kubebuilder:webhook:path=/validate-compute-kova-dev-v1alpha1-imagemember,mutating=false,failurePolicy=fail,sideEffects=None,groups=compute.kova.dev,resources=imagemembers,verbs=create;update,versions=v1alpha1,name=vimagemember.compute.kova.dev,admissionReviewVersions=v1

// ImageMemberValidator lets a tenant answer only for an image shared with it, as the image
// API does (Glance's 404 for any other): the image its name gives, in spec.imageNamespace,
// must be shared and list the tenant as a member. RBAC already limits the write to the
// tenant's own namespace.
type ImageMemberValidator struct {
	// Reader reads past the cache: a membership added a moment ago counts.
	Reader client.Reader
}

var imageMemberGR = computev1.GroupVersion.WithResource("imagemembers").GroupResource()

// ValidateCreate checks that the answer is to an image shared with its namespace.
func (v *ImageMemberValidator) ValidateCreate(ctx context.Context, m *computev1.ImageMember) (admission.Warnings, error) {
	var images computev1.ImageList
	if err := v.Reader.List(ctx, &images, client.InNamespace(m.Spec.ImageNamespace)); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	for i := range images.Items {
		img := &images.Items[i]
		if string(img.UID) == m.Name && rules.ImageMembership(img, m.Namespace) != nil {
			return nil, nil
		}
	}
	return nil, apierrors.NewForbidden(imageMemberGR, m.Name, fmt.Errorf(
		"no image %s in namespace %s is shared with %s: its owner must make it shared and add %s as a member first",
		m.Name, m.Spec.ImageNamespace, m.Namespace, m.Namespace))
}

// ValidateUpdate checks the same: a member removed since cannot answer again.
func (v *ImageMemberValidator) ValidateUpdate(ctx context.Context, _, m *computev1.ImageMember) (admission.Warnings, error) {
	return v.ValidateCreate(ctx, m)
}

// ValidateDelete allows taking an answer back.
func (v *ImageMemberValidator) ValidateDelete(context.Context, *computev1.ImageMember) (admission.Warnings, error) {
	return nil, nil
}
