package identity

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SigningKeySecret is the Secret (in the identity namespace) holding the key every nova-api
// replica signs and checks tokens with. The first replica to need it makes it; deleting
// it makes a new key at the next start and ends every token issued before.
const SigningKeySecret = "kova-identity-token-key"

const signingKeyField = "hs256"

// keys loads the signing key once, creating its Secret if there is none.
type keys struct {
	client    client.Client
	namespace string

	mu  sync.Mutex
	key []byte
}

func (k *keys) get(ctx context.Context) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key != nil {
		return k.key, nil
	}
	secret := &corev1.Secret{}
	err := k.client.Get(ctx, client.ObjectKey{Namespace: k.namespace, Name: SigningKeySecret}, secret)
	if apierrors.IsNotFound(err) {
		fresh := make([]byte, 32)
		if _, err := rand.Read(fresh); err != nil {
			return nil, err
		}
		secret = &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: k.namespace, Name: SigningKeySecret},
			Type:       corev1.SecretTypeOpaque,
			Data:       map[string][]byte{signingKeyField: fresh},
		}
		err = k.client.Create(ctx, secret)
		if apierrors.IsAlreadyExists(err) { // another replica made it first: use theirs
			err = k.client.Get(ctx, client.ObjectKeyFromObject(secret), secret)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("reading the token signing key %s/%s: %w", k.namespace, SigningKeySecret, err)
	}
	key := secret.Data[signingKeyField]
	if len(key) < 32 {
		return nil, fmt.Errorf("the token signing key %s/%s has no %d-byte %q", k.namespace, SigningKeySecret, 32, signingKeyField)
	}
	k.key = key
	return key, nil
}
