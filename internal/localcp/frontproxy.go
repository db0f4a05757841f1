package localcp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

const (
	frontProxyCAName  = "kova-front-proxy-ca"
	clientCertPeriod  = 365 * 24 * time.Hour
	caRenewBeforeDays = 30
)

// ensureFrontProxyCerts makes sure dir holds a front-proxy CA and a fresh
// front-proxy client certificate signed by it.
//
// The CA is kept across restarts, unlike the other certificates, because an
// aggregated API server configured with it (possibly a separate process that
// outlives a restart) must keep trusting kube-apiserver. The client
// certificate is cheap and is issued anew on every start.
func ensureFrontProxyCerts(l layout) error {
	caCert, caKey, err := loadOrCreateCA(l.frontProxyCA(), l.frontProxyCAKey())
	if err != nil {
		return err
	}
	certPEM, keyPEM, err := newClientCert(caCert, caKey, FrontProxyClientName)
	if err != nil {
		return err
	}
	if err := writeFile(l.frontProxyClientKey(), keyPEM); err != nil {
		return err
	}
	return writeFile(l.frontProxyClientCert(), certPEM)
}

// loadOrCreateCA reads a CA from certFile and keyFile, or creates one there
// if they are missing, unreadable or about to expire.
func loadOrCreateCA(certFile, keyFile string) (*x509.Certificate, crypto.Signer, error) {
	cert, key, err := loadCA(certFile, keyFile)
	if err == nil && time.Until(cert.NotAfter) > caRenewBeforeDays*24*time.Hour {
		return cert, key, nil
	}
	key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	cert, err = certutil.NewSelfSignedCACert(certutil.Config{CommonName: frontProxyCAName}, key)
	if err != nil {
		return nil, nil, err
	}
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return nil, nil, err
	}
	if err := writeFile(keyFile, keyPEM); err != nil {
		return nil, nil, err
	}
	if err := writeFile(certFile, pemCert(cert)); err != nil {
		return nil, nil, err
	}
	return cert, key, nil
}

func loadCA(certFile, keyFile string) (*x509.Certificate, crypto.Signer, error) {
	certs, err := certutil.CertsFromFile(certFile)
	if err != nil {
		return nil, nil, err
	}
	raw, err := keyutil.PrivateKeyFromFile(keyFile)
	if err != nil {
		return nil, nil, err
	}
	key, ok := raw.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New("CA key cannot sign")
	}
	return certs[0], key, nil
}

// newClientCert issues a client-auth certificate for commonName.
func newClientCert(ca *x509.Certificate, caKey crypto.Signer, commonName string) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    now.Add(-time.Hour), // tolerate small clock differences
		NotAfter:     now.Add(clientCertPeriod),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("signing %s certificate: %w", commonName, err)
	}
	keyPEM, err = keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: certutil.CertificateBlockType, Bytes: der}), keyPEM, nil
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: certutil.CertificateBlockType, Bytes: c.Raw})
}
