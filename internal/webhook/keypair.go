package webhook

import (
	"context"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/keys"
	"github.com/kova-dev/kova/internal/quota"
)

// +kubebuilder:webhook:path=/mutate-compute-kova-dev-v1alpha1-keypair,mutating=true,failurePolicy=fail,sideEffects=None,groups=compute.kova.dev,resources=keypairs,verbs=create,versions=v1alpha1,name=mkeypair.compute.kova.dev,admissionReviewVersions=v1
// +kubebuilder:webhook:path=/validate-compute-kova-dev-v1alpha1-keypair,mutating=false,failurePolicy=fail,sideEffects=None,groups=compute.kova.dev,resources=keypairs,verbs=create;update,versions=v1alpha1,name=vkeypair.compute.kova.dev,admissionReviewVersions=v1

// KeypairWebhook makes the creating user the owner of a keypair (Nova keypairs are per
// user), refuses another user's name from anyone who may not act for others, refuses a
// second keypair of one user with the same Nova name, refuses a public key that does not
// parse, and keeps each user to the key_pairs quota, with Nova's messages.
type KeypairWebhook struct {
	Admins *Admins
	// Reader lists keypairs past the cache, so that a keypair made a moment ago counts.
	Reader client.Reader
	// Quotas holds each user's key_pairs quota against concurrent creates.
	Quotas *QuotaGate
}

var keypairGK = computev1.GroupVersion.WithKind("Keypair").GroupKind()
var keypairGR = computev1.GroupVersion.WithResource("keypairs").GroupResource()

// Default sets the owner and the Nova name.
func (w *KeypairWebhook) Default(ctx context.Context, kp *computev1.Keypair) error {
	if kp.Spec.UserID == "" {
		kp.Spec.UserID = userOf(ctx).Username
	}
	if kp.Spec.Name == "" && kp.Name != "" {
		kp.Spec.Name = kp.NovaName()
	}
	return nil
}

// ValidateCreate checks the owner, the name and the public key.
func (w *KeypairWebhook) ValidateCreate(ctx context.Context, kp *computev1.Keypair) (admission.Warnings, error) {
	if err := w.checkOwner(ctx, kp); err != nil {
		return nil, err
	}
	if err := checkPublicKey(kp); err != nil {
		return nil, err
	}
	if err := w.checkUnique(ctx, kp); err != nil {
		return nil, err
	}
	// Last: the user's key_pairs quota, reserved before the keypair is stored.
	return nil, w.Quotas.reserveObjects(ctx, kp.Namespace, keypairGR, kp.Name, quota.ObjectClaim{
		UID: string(kp.UID), Generation: kp.Generation, Scope: kp.Spec.UserID, Counts: map[string]int64{quota.KeyPairs: 1}})
}

// ValidateUpdate refuses a change of owner (spec.userID is immutable, and one that was never
// set is set only as at create) and checks the public key like a create.
func (w *KeypairWebhook) ValidateUpdate(ctx context.Context, old, kp *computev1.Keypair) (admission.Warnings, error) {
	if kp.Spec.UserID != old.Spec.UserID {
		if old.Spec.UserID != "" {
			return nil, apierrors.NewInvalid(keypairGK, kp.Name, field.ErrorList{
				field.Forbidden(field.NewPath("spec", "userID"), "spec.userID is immutable: a keypair stays its user's")})
		}
		if err := w.checkOwner(ctx, kp); err != nil {
			return nil, err
		}
	}
	if kp.Spec.PublicKey != old.Spec.PublicKey {
		if err := checkPublicKey(kp); err != nil {
			return nil, err
		}
	}
	if kp.NovaName() != old.NovaName() || kp.Spec.UserID != old.Spec.UserID {
		return nil, w.checkUnique(ctx, kp)
	}
	return nil, nil
}

// ValidateDelete allows deletes.
func (w *KeypairWebhook) ValidateDelete(context.Context, *computev1.Keypair) (admission.Warnings, error) {
	return nil, nil
}

// checkPublicKey refuses a public key that does not parse, with Nova's message.
func checkPublicKey(kp *computev1.Keypair) error {
	if kp.Spec.PublicKey == "" {
		return nil
	}
	if _, err := keys.Fingerprint(kp.Spec.Type, kp.Spec.PublicKey); err != nil {
		return apierrors.NewInvalid(keypairGK, kp.Name,
			field.ErrorList{field.Invalid(field.NewPath("spec", "publicKey"), "<key>", err.Error())})
	}
	return nil
}

// checkOwner refuses a keypair in another user's name unless the requester may act for
// other users: otherwise a tenant user could plant a key that another user then boots with.
func (w *KeypairWebhook) checkOwner(ctx context.Context, kp *computev1.Keypair) error {
	user := userOf(ctx)
	if kp.Spec.UserID == user.Username {
		return nil
	}
	ok, err := w.Admins.MayActForOthers(ctx, user)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	if ok {
		return nil
	}
	return apierrors.NewForbidden(keypairGR, kp.Name,
		fmt.Errorf("spec.userID: a keypair belongs to the user who creates it (%s); only Nova's admin may create one for "+
			"another user (%s): leave spec.userID empty", user.Username, kp.Spec.UserID))
}

// checkUnique refuses a second keypair of one user with one Nova name, with Nova's 409
// message. It reads the keypairs as they are now; two creates that race past it both
// succeed, and then every reader takes the older (rules.UserKeypairs), so the user still
// has one keypair by that name.
func (w *KeypairWebhook) checkUnique(ctx context.Context, kp *computev1.Keypair) error {
	var list computev1.KeypairList
	if err := w.Reader.List(ctx, &list, client.InNamespace(kp.Namespace)); err != nil {
		return apierrors.NewInternalError(err)
	}
	name := kp.NovaName()
	for i := range list.Items {
		other := &list.Items[i]
		if other.Name == kp.Name || other.NovaName() != name || other.Spec.UserID != kp.Spec.UserID ||
			!other.DeletionTimestamp.IsZero() {
			continue
		}
		return &apierrors.StatusError{ErrStatus: metav1.Status{
			Status: metav1.StatusFailure, Code: http.StatusConflict, Reason: metav1.StatusReasonAlreadyExists,
			Details: &metav1.StatusDetails{Group: keypairGK.Group, Kind: "keypairs", Name: kp.Name},
			Message: fmt.Sprintf("Key pair '%s' already exists.", name) +
				fmt.Sprintf(" (Keypair %s of user %s; Nova keypair names are per user: choose another spec.name)", other.Name, kp.Spec.UserID),
		}}
	}
	return nil
}
