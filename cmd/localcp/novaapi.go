package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	certutil "k8s.io/client-go/util/cert"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kova-dev/kova/internal/localcp"
	"github.com/kova-dev/kova/internal/novaserver"
)

const (
	// demoTenant is the namespace where the demo users live.
	demoTenant = "demo"
	// demoTokenTTL is how long the printed demo tokens stay valid.
	demoTokenTTL = 24 * time.Hour
	// novaStartAttempts: the secure port is picked here and could be taken before the shim
	// binds it; it then exits and we try another.
	novaStartAttempts = 3
	novaReadyTimeout  = 90 * time.Second
	apiServiceTimeout = time.Minute
)

// demoIdentity is one demo service account of the demo tenant and what it is granted.
type demoIdentity struct {
	name  string
	roles []string // ClusterRoles of config/rbac/user_roles.yaml
	// cluster grants the roles with ClusterRoleBindings rather than RoleBindings in the
	// demo tenant: the cloud operator's grant counts only cluster-wide.
	cluster bool
}

// demoIdentities are the four identities of the README's RBAC section: the tenant's
// observer, creator and admin (Rackspace's roles, Nova's project reader and members) and
// the cloud operator (Nova's admin).
var demoIdentities = []demoIdentity{
	{name: "observer", roles: []string{"kova-observer"}},
	{name: "creator", roles: []string{"kova-creator"}},
	{name: "admin", roles: []string{"kova-admin"}},
	{name: "operator", roles: []string{"kova-admin", "kova-cloud-admin"}, cluster: true},
}

// novaAPI is the REST shim running as a child of localcp, started again if it dies.
type novaAPI struct {
	*localcp.Supervisor
	securePort int
	certDir    string
	directAddr string
}

// startNovaAPI runs bin/nova-api against the control plane, with its front-proxy CA, and
// waits until it is ready. It returns nil, and says so, if the binary is not built.
func startNovaAPI(ctx context.Context, cp *localcp.ControlPlane, o options, log *slog.Logger, stdout, stderr io.Writer) (*novaAPI, error) {
	if err := checkExecutable(o.novaAPI); err != nil {
		log.Warn("not starting the Nova API: its binary is missing; build it with `go build -o bin/nova-api ./cmd/nova-api`", "err", err)
		return nil, nil
	}
	caFile, allowedNames := cp.FrontProxy()
	certDir := filepath.Join(cp.DataDir(), "nova-api")
	var lastErr error
	for range novaStartAttempts {
		port, err := localcp.FreePort()
		if err != nil {
			return nil, err
		}
		args := []string{
			"--kubeconfig=" + cp.AdminKubeconfig(),
			"--bind-address=127.0.0.1",
			"--secure-port=" + strconv.Itoa(port),
			"--cert-dir=" + certDir,
			"--direct-bind-address=" + o.novaDirect,
			"--requestheader-client-ca-file=" + caFile,
			"--requestheader-allowed-names=" + strings.Join(allowedNames, ","),
			"--default-tenant=" + demoTenant,
			// The image API's uploads, kept across restarts with the rest of the data folder.
			"--image-store-dir=" + filepath.Join(cp.DataDir(), "images"),
		}
		c, err := startChild("nova-api", o.novaAPI, args, o.childEnv(), stdout, stderr)
		if err != nil {
			return nil, err
		}
		if lastErr = waitReady(ctx, c, port); lastErr == nil {
			// A restart keeps the port, so the APIService registered below stays right.
			return &novaAPI{Supervisor: localcp.Supervise(c, logr.FromSlogHandler(log.Handler())),
				securePort: port, certDir: certDir, directAddr: o.novaDirect}, nil
		}
		select {
		case <-c.Done(): // exited during startup: maybe the port was taken, try another
		default:
			_ = c.Stop(managerStopTimeout)
			return nil, fmt.Errorf("nova-api: %w", lastErr)
		}
	}
	return nil, fmt.Errorf("nova-api: %w", lastErr)
}

// waitReady waits for nova-api p on securePort to be ready, giving up at once if it exits.
func waitReady(ctx context.Context, p *localcp.Process, securePort int) error {
	return novaserver.WaitReady(ctx, securePort, novaReadyTimeout, func() error {
		select {
		case <-p.Done():
			return fmt.Errorf("exited during startup (%s)", p.ExitReason())
		default:
			return nil
		}
	})
}

// register applies config/apiservice with the shim's CA bundle and port, and waits for
// kube-apiserver to mark the APIService Available.
func (n *novaAPI) register(ctx context.Context, apply *applier, configDir string) error {
	caBundle, err := os.ReadFile(novaserver.ServingCertFile(n.certDir))
	if err != nil {
		return fmt.Errorf("reading the shim's serving certificate: %w", err)
	}
	if _, err := certutil.ParseCertsPEM(caBundle); err != nil {
		return fmt.Errorf("the shim's serving certificate %s: %w", novaserver.ServingCertFile(n.certDir), err)
	}
	dir := filepath.Join(configDir, "apiservice")
	objs, err := readManifests(dir)
	if err != nil {
		return err
	}
	var apiService *unstructured.Unstructured
	for _, obj := range objs {
		if err := novaserver.ConfigureAPIService(obj, caBundle, n.securePort); err != nil {
			return err
		}
		if obj.GetKind() == "APIService" {
			apiService = obj
		}
		if err := apply.applyWithRetry(ctx, obj, serverSideApply, rbacTimeout); err != nil {
			return fmt.Errorf("%s %s: %w", obj.GetKind(), objectName(obj), err)
		}
	}
	if apiService == nil {
		return fmt.Errorf("no APIService in %s", dir)
	}
	apply.log.Info("registered the Nova API", "apiservice", apiService.GetName())
	return wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, apiServiceTimeout, true, func(ctx context.Context) (bool, error) {
		got := &unstructured.Unstructured{}
		got.SetGroupVersionKind(apiService.GroupVersionKind())
		if err := apply.c.Get(ctx, client.ObjectKeyFromObject(apiService), got); err != nil {
			return false, nil
		}
		conditions, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		for _, c := range conditions {
			if c, ok := c.(map[string]any); ok && c["type"] == "Available" {
				return c["status"] == "True", nil
			}
		}
		return false, nil
	})
}

// unregisterNovaAPI deletes the APIService of config/apiservice, if registered.
func unregisterNovaAPI(ctx context.Context, apply *applier, configDir string) error {
	objs, err := readManifests(filepath.Join(configDir, "apiservice"))
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if obj.GetKind() != "APIService" {
			continue
		}
		if err := apply.c.Delete(ctx, obj); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// demoUser is a service account of the demo tenant, with its token and kubeconfig.
type demoUser struct {
	role, tokenFile, kubeconfig string
}

// setUpDemo creates the demo tenant, a service account for each demo identity in it with
// its grants, and, in DataDir/demo, a token (TokenRequest, demoTokenTTL) and a kubeconfig
// for each.
func setUpDemo(ctx context.Context, c client.Client, cp *localcp.ControlPlane) ([]demoUser, error) {
	if err := ensureCreated(ctx, c, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: demoTenant}}); err != nil {
		return nil, err
	}
	dir := filepath.Join(cp.DataDir(), "demo")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var users []demoUser
	for _, id := range demoIdentities {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: demoTenant, Name: id.name}}
		if err := ensureCreated(ctx, c, sa); err != nil {
			return nil, err
		}
		if err := grantDemo(ctx, c, id); err != nil {
			return nil, err
		}
		seconds := int64(demoTokenTTL / time.Second)
		tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &seconds}}
		if err := c.SubResource("token").Create(ctx, sa, tr); err != nil {
			return nil, fmt.Errorf("requesting a token for %s/%s: %w", demoTenant, id.name, err)
		}
		u := demoUser{role: strings.Join(id.roles, " + "), tokenFile: filepath.Join(dir, id.name+".token"),
			kubeconfig: filepath.Join(dir, id.name+".kubeconfig")}
		if id.cluster {
			u.role += " (cluster-wide)"
		}
		if err := os.WriteFile(u.tokenFile, []byte(tr.Status.Token), 0o600); err != nil {
			return nil, err
		}
		if err := writeTokenKubeconfig(u.kubeconfig, cp.Config, id.name, tr.Status.Token); err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, nil
}

// grantDemo binds a demo identity's roles: in the demo tenant, or cluster-wide.
func grantDemo(ctx context.Context, c client.Client, id demoIdentity) error {
	subjects := []rbacv1.Subject{
		{Kind: rbacv1.ServiceAccountKind, Namespace: demoTenant, Name: id.name},
		// The identity service's demo user of the same name acts as kova:<name>.
		{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "kova:" + id.name},
	}
	for _, role := range id.roles {
		ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}
		var binding client.Object = &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: demoTenant, Name: strings.TrimPrefix(role, "kova-")},
			RoleRef:    ref, Subjects: subjects,
		}
		if id.cluster {
			binding = &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "kova-demo-" + id.name + "-" + strings.TrimPrefix(role, "kova-")},
				RoleRef:    ref, Subjects: subjects,
			}
		}
		if err := ensureBound(ctx, c, binding, subjects); err != nil {
			return err
		}
	}
	return nil
}

// ensureBound creates a binding, or gives an existing one (from a run before the identity
// service's users) the subjects.
func ensureBound(ctx context.Context, c client.Client, binding client.Object, subjects []rbacv1.Subject) error {
	if err := ensureCreated(ctx, c, binding); err != nil {
		return err
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(binding), binding); err != nil {
		return err
	}
	switch b := binding.(type) {
	case *rbacv1.RoleBinding:
		b.Subjects = subjects
	case *rbacv1.ClusterRoleBinding:
		b.Subjects = subjects
	}
	return c.Update(ctx, binding, client.FieldOwner(fieldOwner))
}

func ensureCreated(ctx context.Context, c client.Client, obj client.Object) error {
	if err := c.Create(ctx, obj, client.FieldOwner(fieldOwner)); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating %T %s: %w", obj, obj.GetName(), err)
	}
	return nil
}

// writeTokenKubeconfig writes a kubeconfig that reaches the API server as a demo user.
func writeTokenKubeconfig(path string, admin *rest.Config, user, token string) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kova"] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: admin.CAData}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: token}
	cfg.Contexts[user] = &clientcmdapi.Context{Cluster: "kova", AuthInfo: user, Namespace: demoTenant}
	cfg.CurrentContext = user
	return clientcmd.WriteToFile(*cfg, path)
}

// printNovaBanner says how to reach the Nova API as each demo user.
func printNovaBanner(w io.Writer, n *novaAPI, users []demoUser, clouds string) {
	endpoint := "https://" + n.directAddr + "/v2.1/" + demoTenant
	fmt.Fprintf(w, ` Log in as OpenStack users do: %s has a cloud for each demo user
 (kova-observer, kova-creator, kova-admin, kova-operator; auth_url https://%s/identity/v3):

   export OS_CLIENT_CONFIG_FILE=%s OS_CLOUD=kova-admin
   openstack server list
   openstack server create --flavor m1.small --image <image id> --nic none --wait web

`, clouds, n.directAddr, clouds)
	fmt.Fprintf(w, " Or give the openstack CLI a Kubernetes token, as a user of each role in tenant %q\n (tokens valid for %s, new ones on each start):\n\n", demoTenant, demoTokenTTL)
	for _, u := range users {
		fmt.Fprintf(w, "   # %s\n   openstack --os-auth-type admin_token --os-endpoint %s --os-token \"$(cat %s)\" --os-cacert %s server list\n",
			u.role, endpoint, u.tokenFile, novaserver.ServingCertFile(n.certDir))
	}
	fmt.Fprintf(w, `
 or through kube-apiserver (the aggregated API nova.kova.dev), as the admin or a demo user:

   kubectl get --raw /apis/nova.kova.dev/v1/namespaces/%s/servers/detail
   kubectl --kubeconfig %s get --raw /apis/nova.kova.dev/v1/namespaces/%s/servers/detail

`, demoTenant, users[0].kubeconfig, demoTenant)
}
