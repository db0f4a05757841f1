package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/keys"
)

// PrivateKeySecretName is the Secret that hands back a generated private key.
func PrivateKeySecretName(kp *computev1.Keypair) string { return kp.Name + "-private-key" }

// KeypairReconciler fingerprints keypairs and generates the key of those created without
// one. A generated private key goes into a Secret owned by the keypair, once; it is never
// written into the Keypair, and if status already names a Secret the key is not made again
// (a deleted Secret means the key is gone, as with Nova).
//
// The Secret is for the keypair's user alone, as Nova hands a generated key to the one who
// asked: no tenant role may read Secrets, and with the Secret come a Role and a RoleBinding
// of the same name, owned by the keypair, that let the keypair's user get and delete that
// one Secret.
type KeypairReconciler struct {
	client.Client
	// APIReader reads Secrets past the cache: the manager must not mirror every Secret.
	APIReader client.Reader
	Scheme    *runtime.Scheme
}

// +kubebuilder:rbac:groups=compute.kova.dev,resources=keypairs,verbs=get;list;watch
// +kubebuilder:rbac:groups=compute.kova.dev,resources=keypairs/status,verbs=get;update;patch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=create;get;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=create;get

// Reconcile handles one Keypair.
func (r *KeypairReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	kp := &computev1.Keypair{}
	if err := r.Get(ctx, req.NamespacedName, kp); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	before := kp.DeepCopy()
	cond := metav1.Condition{Type: computev1.ConditionReady, Status: metav1.ConditionTrue,
		Reason: computev1.ReasonAvailable, Message: "The key can be injected into servers.", ObservedGeneration: kp.Generation}

	switch {
	case kp.Spec.PublicKey != "":
		fp, err := keys.Fingerprint(kp.Spec.Type, kp.Spec.PublicKey)
		if err != nil {
			cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, "InvalidKey", err.Error()
		}
		kp.Status.Fingerprint, kp.Status.PublicKey = fp, kp.Spec.PublicKey
	case kp.Status.PublicKey == "":
		gen, err := keys.Generate("Generated-by-Kova")
		if err != nil {
			return reconcile.Result{}, err
		}
		secret := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: kp.Namespace, Name: PrivateKeySecretName(kp)},
			Type:       corev1.SecretTypeSSHAuth,
			Data:       map[string][]byte{corev1.SSHAuthPrivateKey: []byte(gen.PrivateKey)},
		}
		if err := controllerutil.SetControllerReference(kp, secret, r.Scheme); err != nil {
			return reconcile.Result{}, err
		}
		err = r.Create(ctx, secret)
		if apierrors.IsAlreadyExists(err) {
			// Ours from a reconcile that did not get to record it: read the key back.
			// Anyone else's is not ours to overwrite.
			if gen, err = r.recover(ctx, kp, secret.Name); err != nil {
				return reconcile.Result{}, err
			}
			if gen == nil {
				cond.Status, cond.Reason = metav1.ConditionFalse, "SecretExists"
				cond.Message = "Secret " + secret.Name + " already exists; delete it or give spec.publicKey."
				break
			}
		} else if err != nil {
			return reconcile.Result{}, err
		}
		if err := r.grantSecret(ctx, kp, secret.Name); err != nil {
			return reconcile.Result{}, err
		}
		kp.Status.PublicKey, kp.Status.Fingerprint, kp.Status.PrivateKeySecret = gen.PublicKey, gen.Fingerprint, secret.Name
	}
	kp.Status.ObservedGeneration = kp.Generation
	setCondition(&kp.Status.Conditions, cond, metav1.Now().Time)
	if equalStatus(before.Status, kp.Status) {
		return reconcile.Result{}, nil
	}
	return reconcile.Result{}, client.IgnoreNotFound(r.Status().Patch(ctx, kp, client.MergeFrom(before)))
}

// grantSecret lets the keypair's user, and no one else of the tenant, get and delete the
// Secret holding its private key (PrivateKeyAccess), with objects owned by the keypair so
// they go with it.
func (r *KeypairReconciler) grantSecret(ctx context.Context, kp *computev1.Keypair, secret string) error {
	if kp.Spec.UserID == "" {
		return nil // made without the admission webhook: no user to hand it to
	}
	role, binding := PrivateKeyAccess(kp, secret)
	if err := r.createOwned(ctx, kp, role, &rbacv1.Role{}); err != nil {
		return err
	}
	return r.createOwned(ctx, kp, binding, &rbacv1.RoleBinding{})
}

// PrivateKeyAccess is a Role naming the one Secret that holds a keypair's generated private
// key, with get and delete on it, and a RoleBinding of it to the keypair's user; both are
// named after the Secret. The manager may grant this because it holds get and delete on
// Secrets itself (RBAC refuses to grant more than one has).
func PrivateKeyAccess(kp *computev1.Keypair, secret string) (*rbacv1.Role, *rbacv1.RoleBinding) {
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: kp.Namespace, Name: secret},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"secrets"},
			ResourceNames: []string{secret}, Verbs: []string{"get", "delete"}}},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: kp.Namespace, Name: secret},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: kp.Spec.UserID}},
	}
	return role, binding
}

// createOwned creates obj controlled by the keypair; one already there is fine if it is
// the keypair's (a reconcile that did not get to record its work), an error if not.
func (r *KeypairReconciler) createOwned(ctx context.Context, kp *computev1.Keypair, obj, existing client.Object) error {
	if err := controllerutil.SetControllerReference(kp, obj, r.Scheme); err != nil {
		return err
	}
	err := r.Create(ctx, obj)
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(obj), existing); err != nil {
		return err
	}
	if !metav1.IsControlledBy(existing, kp) {
		return fmt.Errorf("%s/%s exists and is not keypair %s's: delete it or give spec.publicKey", obj.GetNamespace(), obj.GetName(), kp.Name)
	}
	return nil
}

// recover reads a generated key back from the Secret this keypair owns; nil if the Secret
// is someone else's.
func (r *KeypairReconciler) recover(ctx context.Context, kp *computev1.Keypair, name string) (*keys.Generated, error) {
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: kp.Namespace, Name: name}, secret); err != nil {
		return nil, err
	}
	if !metav1.IsControlledBy(secret, kp) {
		return nil, nil
	}
	return keys.FromPrivate(secret.Data[corev1.SSHAuthPrivateKey], "Generated-by-Kova")
}

// SetupWithManager registers the controller.
func (r *KeypairReconciler) SetupWithManager(mgr manager.Manager) error {
	return builder.ControllerManagedBy(mgr).For(&computev1.Keypair{}).Complete(r)
}
