package localcp

import (
	"os"
	"path/filepath"
	"strings"
)

// layout names the files and directories inside the data dir.
type layout struct{ root string }

func (l layout) path(elem ...string) string {
	return filepath.Join(append([]string{l.root}, elem...)...)
}

func (l layout) adminKubeconfig() string      { return l.path("kubeconfig") }
func (l layout) lockFile() string             { return l.path("lock") }
func (l layout) etcd() string                 { return l.path("etcd") }
func (l layout) apiServer() string            { return l.path("apiserver") }
func (l layout) pki() string                  { return l.path("pki") }
func (l layout) apiServerCA() string          { return l.path("pki", "apiserver-ca.crt") }
func (l layout) frontProxyCA() string         { return l.path("pki", "front-proxy-ca.crt") }
func (l layout) frontProxyCAKey() string      { return l.path("pki", "front-proxy-ca.key") }
func (l layout) frontProxyClientCert() string { return l.path("pki", "front-proxy-client.crt") }
func (l layout) frontProxyClientKey() string  { return l.path("pki", "front-proxy-client.key") }
func (l layout) webhookCerts() string         { return l.path("webhook-certs") }
func (l layout) kcm() string                  { return l.path("kube-controller-manager") }
func (l layout) logs() string                 { return l.path("logs") }
func (l layout) authnConfig() string          { return l.path("pki", "authentication-config.yaml") }

// serviceAccountKey signs service-account tokens (kube-apiserver, and
// kube-controller-manager for legacy ones) and verifies them; kept across restarts.
func (l layout) serviceAccountKey() string { return l.path("pki", "service-account.key") }

// resetAPIServerDir removes what a previous run left in the kube-apiserver
// cert dir. envtest only generates the serving certificate (and learns its
// CA, which it needs to provision users) when apiserver.crt is absent, and it
// adds a kubeconfig file there on every start.
func (l layout) resetAPIServerDir() error {
	entries, err := os.ReadDir(l.apiServer())
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".crt") || strings.HasSuffix(name, ".key") || strings.HasSuffix(name, ".kubecfg") {
			if err := os.Remove(filepath.Join(l.apiServer(), name)); err != nil {
				return err
			}
		}
	}
	return nil
}
