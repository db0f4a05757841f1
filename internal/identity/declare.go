package identity

import (
	"context"
	"fmt"

	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// hashSecret writes the bcrypt hash of secret into the Secret name, creating or updating it.
func hashSecret(ctx context.Context, c client.Client, namespace, name, secret string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(secret), bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("hashing the secret of %s: %w", name, err)
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if _, err := controllerutil.CreateOrUpdate(ctx, c, s, func() error {
		s.Type = corev1.SecretTypeOpaque
		s.Data = map[string][]byte{computev1.SecretKeyPasswordHash: hash}
		return nil
	}); err != nil {
		return fmt.Errorf("the Secret %s: %w", name, err)
	}
	return nil
}

// DeclareApplicationCredential creates or updates an ApplicationCredential of user in
// project and its Secret (the bcrypt hash of secret, named after it with "-secret").
func DeclareApplicationCredential(ctx context.Context, c client.Client, namespace, name, user, project, secret string, expiresAt *metav1.Time) error {
	if err := hashSecret(ctx, c, namespace, name+"-secret", secret); err != nil {
		return err
	}
	ac := &computev1.ApplicationCredential{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	_, err := controllerutil.CreateOrUpdate(ctx, c, ac, func() error {
		ac.Spec = computev1.ApplicationCredentialSpec{User: user, Project: project, SecretRef: name + "-secret", ExpiresAt: expiresAt}
		return nil
	})
	return err
}

// DeclareUser creates or updates a User and its password Secret (the bcrypt hash only),
// as `make run` and the tests declare their users; a GitOps repository holds the same two
// objects. The Secret is named after the user with "-password".
func DeclareUser(ctx context.Context, c client.Client, namespace, name, password, defaultProject string) (*computev1.User, error) {
	if err := hashSecret(ctx, c, namespace, name+"-password", password); err != nil {
		return nil, err
	}
	u := &computev1.User{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if _, err := controllerutil.CreateOrUpdate(ctx, c, u, func() error {
		u.Spec.PasswordSecretRef = name + "-password"
		u.Spec.DefaultProject = defaultProject
		return nil
	}); err != nil {
		return nil, fmt.Errorf("the User %s: %w", name, err)
	}
	return u, nil
}
