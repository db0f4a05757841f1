package testenv

import (
	"context"
	"fmt"
	"path/filepath"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kova-dev/kova/internal/manifests"
)

// The ServiceAccounts config/default runs the two binaries as.
const (
	SystemNamespace       = "kova-system"
	ManagerServiceAccount = "kova-manager"
	NovaAPIServiceAccount = "kova-nova-api"
)

// identityKinds are what config/default says about who the binaries are and what they may do.
var identityKinds = []string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}

// InstallIdentities applies, for real, the namespace, ServiceAccounts and RBAC of
// config/default (built with kustomize, as `make deploy` applies them) with the admin
// client c, and returns a rest.Config for each of the two ServiceAccounts, carrying a token
// of that ServiceAccount and nothing else (no client certificate): a binary given one has
// exactly the rights the manifests give it in a cluster, and whatever they lack fails.
func InstallIdentities(ctx context.Context, c client.Client, admin *rest.Config) (manager, novaAPI *rest.Config, err error) {
	objs, err := manifests.Build(filepath.Join(Root(), "config", "default"))
	if err != nil {
		return nil, nil, err
	}
	for _, o := range manifests.Select(objs, identityKinds...) {
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.DeepCopy()),
			client.FieldOwner("kova-testenv"), client.ForceOwnership); err != nil {
			return nil, nil, fmt.Errorf("applying %s %s: %w", o.GetKind(), o.GetName(), err)
		}
	}
	configs := make([]*rest.Config, 2)
	for i, name := range []string{ManagerServiceAccount, NovaAPIServiceAccount} {
		sa := &corev1.ServiceAccount{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: SystemNamespace, Name: name}, sa); err != nil {
			return nil, nil, fmt.Errorf("config/default has no ServiceAccount %s/%s: %w", SystemNamespace, name, err)
		}
		// Longer than any suite or benchmark runs.
		tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](24 * 3600)}}
		if err := c.SubResource("token").Create(ctx, sa, tr); err != nil {
			return nil, nil, fmt.Errorf("a token for %s/%s: %w", SystemNamespace, name, err)
		}
		configs[i] = &rest.Config{
			Host:            admin.Host,
			APIPath:         admin.APIPath,
			TLSClientConfig: rest.TLSClientConfig{CAData: admin.CAData, CAFile: admin.CAFile, ServerName: admin.ServerName},
			BearerToken:     tr.Status.Token,
		}
	}
	return configs[0], configs[1], nil
}

// WriteKubeconfig writes cfg (a token-bearing config of InstallIdentities) as a kubeconfig
// file at path, for a binary that takes --kubeconfig.
func WriteKubeconfig(path string, cfg *rest.Config) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["local"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData, CertificateAuthority: cfg.CAFile}
	kc.AuthInfos["identity"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: "identity"}
	kc.CurrentContext = "local"
	return clientcmd.WriteToFile(*kc, path)
}
