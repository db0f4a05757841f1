package localcp

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"

	"k8s.io/client-go/util/keyutil"
)

// ServiceAccountIssuer is the issuer of the service-account tokens kube-apiserver signs,
// and the audience of those it accepts by default. envtest's default names the API
// server's port, picked anew on each start, which would refuse every token issued before.
const ServiceAccountIssuer = "https://kubernetes.default.svc.cluster.local"

// saKeyBits: RSA, as kube-apiserver's own signer defaults to (RS256 tokens).
const saKeyBits = 2048

// ensureServiceAccountKey makes sure path holds the private key that signs (and, its public
// half, verifies) service-account tokens, creating it once. It is kept across restarts, so
// that a token issued before one keeps working until it expires.
func ensureServiceAccountKey(path string) error {
	if keys, err := keyutil.PrivateKeyFromFile(path); err == nil {
		if _, ok := keys.(*rsa.PrivateKey); ok {
			return nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("localcp: the service-account signing key %s is unreadable (delete it to make a new one, which refuses every token issued so far): %w", path, err)
	}
	key, err := rsa.GenerateKey(rand.Reader, saKeyBits)
	if err != nil {
		return err
	}
	pemBytes, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return err
	}
	return writeFile(path, pemBytes)
}
