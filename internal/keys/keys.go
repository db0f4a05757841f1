// Package keys makes and reads the keys of Nova keypairs: it generates a key pair the way
// Nova does (RSA 2048, the private key in PEM) and fingerprints public keys as Nova shows
// them.
package keys

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // Nova fingerprints x509 keypairs with SHA-1.
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Nova's keypair types.
const (
	TypeSSH  = "ssh"
	TypeX509 = "x509"
)

// Generated is a fresh key pair. The private key is handed back once and kept nowhere.
type Generated struct {
	PublicKey   string // OpenSSH authorized_keys line
	PrivateKey  string // PEM
	Fingerprint string
}

// Generate makes an RSA 2048 key pair, as Nova's keypair create does when no public key is
// given. comment ends the public key line, as Nova puts "Generated-by-Nova" there.
func Generate(comment string) (*Generated, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generating a key: %w", err)
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return FromPrivate(priv, comment)
}

// FromPrivate rebuilds the public half of a generated key from its PEM private key.
func FromPrivate(pemKey []byte, comment string) (*Generated, error) {
	signer, err := ssh.ParsePrivateKey(pemKey)
	if err != nil {
		return nil, fmt.Errorf("reading a private key: %w", err)
	}
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	if comment != "" {
		line += " " + comment
	}
	return &Generated{PublicKey: line + "\n", PrivateKey: string(pemKey), Fingerprint: ssh.FingerprintLegacyMD5(signer.PublicKey())}, nil
}

// Fingerprint checks a public key of the given type and returns Nova's fingerprint of it:
// MD5 of the key for ssh, SHA-1 of the certificate for x509, as colon-separated hex.
func Fingerprint(typ, publicKey string) (string, error) {
	switch typ {
	case TypeX509:
		block, _ := pem.Decode([]byte(publicKey))
		if block == nil {
			return "", errors.New("Keypair data is invalid: failed to parse the x509 certificate") //nolint:staticcheck // Nova's words
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return "", fmt.Errorf("Keypair data is invalid: %v", err) //nolint:staticcheck // Nova's words
		}
		sum := sha1.Sum(block.Bytes) //nolint:gosec // Nova's fingerprint
		hexes := make([]string, len(sum))
		for i, b := range sum {
			hexes[i] = fmt.Sprintf("%02x", b)
		}
		return strings.Join(hexes, ":"), nil
	default:
		pub, _, _, _, err := ssh.ParseAuthorizedKey([]byte(publicKey))
		if err != nil {
			return "", errors.New("Keypair data is invalid: failed to generate fingerprint") //nolint:staticcheck // Nova's words
		}
		return ssh.FingerprintLegacyMD5(pub), nil
	}
}
