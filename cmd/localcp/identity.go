package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/identity"
)

// identityNamespace is where nova-api (by its default) reads the identity service's Users.
const identityNamespace = "kova-system"

// declareDemoUsers declares an identity-service User for each demo identity (password in
// DataDir/demo/<name>.password, made once and kept across runs; its hash in a Secret),
// acting as the Kubernetes user kova:<name>, which grantDemo binds beside the service
// account. It writes DataDir/demo/clouds.yaml with a cloud per user and returns its path.
func declareDemoUsers(ctx context.Context, cfg *rest.Config, dir, base, caFile string) (string, error) {
	authURL := base + identity.PathPrefix + "/v3"
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return "", err
	}
	if err := computev1.AddToScheme(scheme); err != nil {
		return "", err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return "", err
	}
	if err := ensureCreated(ctx, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: identityNamespace}}); err != nil {
		return "", err
	}
	imageOverride, err := demoImageOverride(ctx, base, caFile)
	if err != nil {
		return "", err
	}
	clouds := map[string]any{}
	for _, id := range demoIdentities {
		password, err := demoPassword(filepath.Join(dir, id.name+".password"))
		if err != nil {
			return "", err
		}
		if _, err := identity.DeclareUser(ctx, c, identityNamespace, id.name, password, demoTenant); err != nil {
			return "", err
		}
		clouds["kova-"+id.name] = identity.Cloud(authURL, id.name, password, demoTenant, caFile, imageOverride)
	}
	out, err := yaml.Marshal(map[string]any{"clouds": clouds})
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "clouds.yaml")
	return path, os.WriteFile(path, out, 0o600)
}

// demoImageOverride asks nova-api whether it serves the image service (identity.ImageEndpointOverride).
func demoImageOverride(ctx context.Context, base, caFile string) (string, error) {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return "", err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	return identity.ImageEndpointOverride(ctx, c, base, demoTenant), nil
}

// demoPassword reads a demo user's password, or makes one.
func demoPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, 18)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	password := base64.RawURLEncoding.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(password+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing the demo password: %w", err)
	}
	return password, nil
}
