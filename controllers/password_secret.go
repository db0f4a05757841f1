package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/refs"
)

// A changePassword action carries its password in a Secret it names, never in itself. The
// REST shim writes the action first and then the Secret, owned by the action from its first
// write, so no crash leaves a password that nothing owns: a shim that died in between
// leaves an action whose Secret never comes, and that action fails after PasswordSecretWait.
// Every Secret the action owns goes when the action ends, however it ends; garbage
// collection takes it with the action otherwise.
const (
	// PasswordSecretWait bounds how long a changePassword action waits for its Secret,
	// counted from the action's creation. The shim writes the Secret a moment after the
	// action; a user applies both together.
	PasswordSecretWait = 10 * time.Second
	// requeuePasswordSecret is how often a server looks again for the Secret of the
	// changePassword it waits on (Secrets are not watched: the manager mirrors none).
	requeuePasswordSecret = 100 * time.Millisecond
)

// waitError says an action cannot start yet but may in a while.
type waitError struct {
	after   time.Duration
	message string
}

func (e *waitError) Error() string { return e.message }

// checkPasswordSecret reads the Secret a changePassword action names, past the cache. It
// answers a *waitError while the Secret may still come, and an *refs.InvalidError, which
// fails the action, once it may not.
func (r *ServerReconciler) checkPasswordSecret(ctx context.Context, sa *computev1.ServerAction) error {
	name := sa.Spec.ChangePassword.SecretName
	secret := &corev1.Secret{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: sa.Namespace, Name: name}, secret)
	switch {
	case apierrors.IsNotFound(err):
		if r.now().Before(sa.CreationTimestamp.Add(PasswordSecretWait)) {
			return &waitError{after: requeuePasswordSecret,
				message: fmt.Sprintf("Waiting for Secret %s with the new password of changePassword %s.", name, sa.Name)}
		}
		return &refs.InvalidError{Message: fmt.Sprintf(
			"Secret %s with the new password under key password did not appear within %s of the changePassword; create the Secret first, or together with the ServerAction.",
			name, PasswordSecretWait)}
	case err != nil:
		return err
	case len(secret.Data["password"]) == 0:
		return &refs.InvalidError{Message: fmt.Sprintf("Secret %s with key password is needed for changePassword.", name)}
	}
	return nil
}

// releasePasswordSecret deletes the Secret of a changePassword action that ends in phase:
// once the password is set, the Secret it came in, whoever made it (Kova keeps no copy);
// on failure, the Secret if the action owns it (the one the REST shim made). A Secret a
// user made for an action that failed stays theirs, to fix and use again or to delete.
// It is called before the action is marked ended, so a crash in between repeats it.
func releasePasswordSecret(ctx context.Context, c client.Client, reader client.Reader, sa *computev1.ServerAction, phase computev1.ActionPhase) error {
	if sa.Spec.ChangePassword == nil || sa.Spec.ChangePassword.SecretName == "" {
		return nil
	}
	key := client.ObjectKey{Namespace: sa.Namespace, Name: sa.Spec.ChangePassword.SecretName}
	switch phase {
	case computev1.ActionSucceeded:
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}
		return client.IgnoreNotFound(c.Delete(ctx, secret))
	case computev1.ActionFailed:
		secret := &corev1.Secret{}
		if err := reader.Get(ctx, key, secret); err != nil {
			return client.IgnoreNotFound(err)
		}
		if !ownedBy(secret, sa.UID) {
			return nil
		}
		// The uid precondition keeps a Secret made again under the same name.
		return client.IgnoreNotFound(c.Delete(ctx, secret, client.Preconditions{UID: &secret.UID}))
	}
	return nil
}

func ownedBy(obj metav1.Object, uid types.UID) bool {
	for _, ref := range obj.GetOwnerReferences() {
		if ref.UID == uid {
			return true
		}
	}
	return false
}
