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

// DeclareUser creates or updates a User and its password Secret (the bcrypt hash only),
// as `make run` and the tests declare their users; a GitOps repository holds the same two
// objects. The Secret is named after the user with "-password".
func DeclareUser(ctx context.Context, c client.Client, namespace, name, password, defaultProject string) (*computev1.User, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("hashing the password of %s: %w", name, err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name + "-password"}}
	if _, err := controllerutil.CreateOrUpdate(ctx, c, secret, func() error {
		secret.Type = corev1.SecretTypeOpaque
		secret.Data = map[string][]byte{computev1.SecretKeyPasswordHash: hash}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("the password Secret of %s: %w", name, err)
	}
	u := &computev1.User{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if _, err := controllerutil.CreateOrUpdate(ctx, c, u, func() error {
		u.Spec.PasswordSecretRef = secret.Name
		u.Spec.DefaultProject = defaultProject
		return nil
	}); err != nil {
		return nil, fmt.Errorf("the User %s: %w", name, err)
	}
	return u, nil
}
