package webhook

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/keys"
)

// +kubebuilder:webhook:path=/mutate-compute-kova-dev-v1alpha1-keypair,mutating=true,failurePolicy=fail,sideEffects=None,groups=compute.kova.dev,resources=keypairs,verbs=create,versions=v1alpha1,name=mkeypair.compute.kova.dev,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-compute-kova-dev-v1alpha1-keypair,mutating=false,failurePolicy=fail,sideEffects=None,groups=compute.kova.dev,resources=keypairs,verbs=create;update,versions=v1alpha1,name=vkeypair.compute.kova.dev,admissionReviewVersions=v1

// KeypairWebhook makes the creating user the owner of a keypair (Nova keypairs are per
// user) and refuses a public key that does not parse, with Nova's message.
type KeypairWebhook struct{}

// Default sets the owner.
func (w *KeypairWebhook) Default(ctx context.Context, kp *computev1.Keypair) error {
	if kp.Spec.UserID == "" {
		kp.Spec.UserID = userOf(ctx).Username
	}
	return nil
}

// ValidateCreate checks the public key.
func (w *KeypairWebhook) ValidateCreate(_ context.Context, kp *computev1.Keypair) (admission.Warnings, error) {
	if kp.Spec.PublicKey == "" {
		return nil, nil
	}
	if _, err := keys.Fingerprint(kp.Spec.Type, kp.Spec.PublicKey); err != nil {
		return nil, apierrors.NewInvalid(computev1.GroupVersion.WithKind("Keypair").GroupKind(), kp.Name,
			field.ErrorList{field.Invalid(field.NewPath("spec", "publicKey"), "<key>", err.Error())})
	}
	return nil, nil
}

// ValidateUpdate checks the public key like a create.
func (w *KeypairWebhook) ValidateUpdate(ctx context.Context, _, kp *computev1.Keypair) (admission.Warnings, error) {
	return w.ValidateCreate(ctx, kp)
}

// ValidateDelete allows deletes.
func (w *KeypairWebhook) ValidateDelete(context.Context, *computev1.Keypair) (admission.Warnings, error) {
	return nil, nil
}
