package identity

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SigningKeySecret is the Secret (in the identity namespace) holding the keys every nova-api
// replica signs and checks tokens with, one entry per key. The first replica to need it
// makes it. Tokens are signed with the newest key every replica has had time to read, and
// name it (the JWS "kid"); the older keys still verify the tokens they signed until those
// can no longer be validated, as Keystone's fernet keys rotate: rotation ends no token.
// Deleting the Secret ends every token within keyRefresh.
const SigningKeySecret = "kova-identity-token-key"

// legacyKeyField is the one key of a Secret made before keys rotated: it verifies tokens
// without a "kid", and is retired like any other key once a newer one has signed long
// enough.
const legacyKeyField = "hs256"

// keyFieldPrefix names a key by when it was made: hs256-<unix seconds>.
const keyFieldPrefix = legacyKeyField + "-"

// DefaultKeyRotation is how often a new signing key is made.
const DefaultKeyRotation = 24 * time.Hour

const (
	// keyRefresh is how stale a replica's copy of the keys may get, so a rotation or a
	// deleted Secret reaches every replica.
	keyRefresh = time.Minute
	// keyStaged is how long a new key only verifies before it signs, as Keystone stages a
	// fernet key: longer than keyRefresh, so no replica meets a token of a key it has not read.
	keyStaged = 2 * keyRefresh
	// unknownKeyRefresh spaces the rereads a token naming an unknown key causes (another
	// replica may have just rotated): forged names cost at most one read that often.
	unknownKeyRefresh = time.Second
	keyBytes          = 32
)

var errUnknownKey = errors.New("the token's signing key is unknown")

// signingKey is one key of the Secret.
type signingKey struct {
	id    string
	made  time.Time
	bytes []byte
}

// keys is the replica's copy of the signing keys: read from the Secret, reread when stale,
// rotated when the newest is older than rotation (0: never).
type keys struct {
	client    client.Client
	namespace string
	rotation  time.Duration
	// retain is how long a key verifies after a newer one took over: the longest a token
	// it signed lives, plus the allow_expired window.
	retain time.Duration
	now    func() time.Time

	mu     sync.Mutex
	ring   []signingKey // oldest first
	readAt time.Time
}

// signing is the key new tokens are signed with, rotating first if it is due.
func (k *keys) signing(ctx context.Context) (signingKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.load(ctx, keyRefresh); err != nil {
		return signingKey{}, err
	}
	newest := k.ring[len(k.ring)-1]
	if k.rotation > 0 && !k.now().Before(newest.made.Add(k.rotation)) {
		if err := k.rotate(ctx); err != nil {
			return signingKey{}, err
		}
	}
	return k.primary(), nil
}

// primary is the key that signs: the newest one made at least keyStaged ago, so that every
// replica has read it (they reread each keyRefresh) before a token names it; the oldest when
// none is that old (a Secret just made).
func (k *keys) primary() signingKey {
	for i := len(k.ring) - 1; i >= 0; i-- {
		if !k.now().Before(k.ring[i].made.Add(keyStaged)) {
			return k.ring[i]
		}
	}
	return k.ring[0]
}

// verifying is the key named id ("" for a token signed before keys had names), reading the
// Secret again if this replica does not know it yet.
func (k *keys) verifying(ctx context.Context, id string) ([]byte, error) {
	if id == "" {
		id = legacyKeyField
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.load(ctx, keyRefresh); err != nil {
		return nil, err
	}
	if key := k.find(id); key != nil {
		return key, nil
	}
	if err := k.load(ctx, unknownKeyRefresh); err != nil {
		return nil, err
	}
	if key := k.find(id); key != nil {
		return key, nil
	}
	return nil, errUnknownKey
}

func (k *keys) find(id string) []byte {
	for _, key := range k.ring {
		if key.id == id {
			return key.bytes
		}
	}
	return nil
}

// load reads the Secret if the copy is older than maxAge, making it if there is none.
// Under mu.
func (k *keys) load(ctx context.Context, maxAge time.Duration) error {
	if k.ring != nil && k.now().Sub(k.readAt) < maxAge {
		return nil
	}
	secret := &corev1.Secret{}
	err := k.client.Get(ctx, client.ObjectKey{Namespace: k.namespace, Name: SigningKeySecret}, secret)
	if apierrors.IsNotFound(err) {
		secret, err = k.create(ctx)
	}
	if err != nil {
		if k.ring != nil && !apierrors.IsNotFound(err) {
			// The API server is out of reach: the keys read last still hold, and the
			// next read is tried no sooner than if this one had succeeded.
			k.readAt = k.now()
			return nil
		}
		return fmt.Errorf("reading the token signing keys %s/%s: %w", k.namespace, SigningKeySecret, err)
	}
	return k.take(secret)
}

// take makes secret's keys the replica's copy. Under mu.
func (k *keys) take(secret *corev1.Secret) error {
	ring := parseKeys(secret)
	if len(ring) == 0 {
		return fmt.Errorf("the token signing keys %s/%s hold no %d-byte %q or %q<unix time> entry",
			k.namespace, SigningKeySecret, keyBytes, legacyKeyField, keyFieldPrefix)
	}
	k.ring, k.readAt = ring, k.now()
	return nil
}

// create makes the Secret with one key; if another replica made it first, its keys.
func (k *keys) create(ctx context.Context) (*corev1.Secret, error) {
	id, key, err := k.fresh()
	if err != nil {
		return nil, err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: k.namespace, Name: SigningKeySecret},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{id: key},
	}
	err = k.client.Create(ctx, secret)
	if apierrors.IsAlreadyExists(err) {
		err = k.client.Get(ctx, client.ObjectKeyFromObject(secret), secret)
	}
	return secret, err
}

// rotate adds a new key and drops those retired, with the Secret's resourceVersion: when
// another replica rotated first (a conflict), its keys are taken instead. Under mu.
func (k *keys) rotate(ctx context.Context) error {
	secret := &corev1.Secret{}
	if err := k.client.Get(ctx, client.ObjectKey{Namespace: k.namespace, Name: SigningKeySecret}, secret); err != nil {
		return fmt.Errorf("reading the token signing keys %s/%s: %w", k.namespace, SigningKeySecret, err)
	}
	ring := parseKeys(secret)
	if len(ring) > 0 && k.now().Before(ring[len(ring)-1].made.Add(k.rotation)) {
		return k.take(secret) // rotated by another replica since this one read
	}
	id, key, err := k.fresh()
	if err != nil {
		return err
	}
	now := k.now()
	data := map[string][]byte{id: key}
	for i, old := range ring {
		// A key verifies while a token it signed may still be validated: until its
		// successor (the next key, or the one made now), which signs from keyStaged after
		// it was made, has signed for retain.
		successor := now
		if i+1 < len(ring) {
			successor = ring[i+1].made
		}
		if now.Before(successor.Add(keyStaged + k.retain)) {
			data[old.id] = old.bytes
		}
	}
	secret.Data = data
	if err := k.client.Update(ctx, secret); apierrors.IsConflict(err) {
		if err := k.client.Get(ctx, client.ObjectKeyFromObject(secret), secret); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("rotating the token signing keys %s/%s: %w", k.namespace, SigningKeySecret, err)
	}
	return k.take(secret)
}

// fresh is a new random key and its entry name.
func (k *keys) fresh() (string, []byte, error) {
	key := make([]byte, keyBytes)
	if _, err := rand.Read(key); err != nil {
		return "", nil, err
	}
	return keyFieldPrefix + strconv.FormatInt(k.now().Unix(), 10), key, nil
}

// parseKeys are secret's usable keys, oldest first; the legacy entry counts as made when
// the Secret was.
func parseKeys(secret *corev1.Secret) []signingKey {
	var ring []signingKey
	for field, b := range secret.Data {
		if len(b) < keyBytes {
			continue
		}
		made := secret.CreationTimestamp.Time
		if field != legacyKeyField {
			unix, err := strconv.ParseInt(strings.TrimPrefix(field, keyFieldPrefix), 10, 64)
			if !strings.HasPrefix(field, keyFieldPrefix) || err != nil {
				continue
			}
			made = time.Unix(unix, 0)
		}
		ring = append(ring, signingKey{id: field, made: made, bytes: b})
	}
	sort.Slice(ring, func(i, j int) bool {
		if !ring[i].made.Equal(ring[j].made) {
			return ring[i].made.Before(ring[j].made)
		}
		return ring[i].id < ring[j].id
	})
	return ring
}
