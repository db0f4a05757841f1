package testenv

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kova-dev/kova/internal/compute"
	"github.com/kova-dev/kova/internal/localcp"
	"github.com/kova-dev/kova/internal/novaserver"
)

// Stack is the whole of Kova on a local control plane, as `make run` has it: kube-apiserver
// with aggregation and kube-controller-manager, the manager with its webhooks, and the
// nova-api server registered as APIService v1.nova.kova.dev and listening directly.
type Stack struct {
	CP      *localcp.ControlPlane
	Client  client.Client // admin
	Manager *Manager
	// DirectURL is the direct endpoint (https://127.0.0.1:port); AggregatedURL the
	// compute roots' parent through kube-apiserver (.../apis/nova.kova.dev/v1/namespaces).
	DirectURL, AggregatedURL string
	// DirectCAs trusts nova-api's serving certificate; APIServerCAs kube-apiserver's.
	DirectCAs, APIServerCAs *x509.CertPool
	// DirectCAFile is nova-api's serving certificate as a file (for --os-cacert).
	DirectCAFile string

	stop func()
}

// RoleNames are the roles of the permission matrix, in its order.
var RoleNames = []string{"observer", "creator", "admin"}

// StartStack starts everything; Stop stops it.
func StartStack(ctx context.Context, stepLatency time.Duration, nova novaserver.Nova) (*Stack, error) {
	root := Root()
	cp, err := localcp.Start(ctx, localcp.Options{
		BinDir:       BinDir(),
		CRDPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		WebhookPaths: []string{filepath.Join(root, "config", "webhook")},
		Aggregation:  true,
	})
	if err != nil {
		return nil, err
	}
	st := &Stack{CP: cp}
	cp.Env.Scheme = Scheme()
	var stops []func()
	st.stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
		_ = cp.Stop()
	}
	fail := func(err error) (*Stack, error) { st.Stop(); return nil, err }

	if st.Client, err = client.New(cp.Config, client.Options{Scheme: Scheme()}); err != nil {
		return fail(err)
	}
	stateDir, err := os.MkdirTemp("", "kova-driver-")
	if err != nil {
		return fail(err)
	}
	stops = append(stops, func() { _ = os.RemoveAll(stateDir) })
	if st.Manager, err = StartManager(cp.Env, cp.Config, ManagerOptions{StepLatency: stepLatency, StateDir: stateDir, Webhooks: true,
		Hosts: []compute.HostInfo{ // room for the benchmark's fleet
			{Name: "sim-host-1", Capacity: compute.Resources{VCPUs: 2048, RAMMiB: 4 << 20, DiskGiB: 1 << 16}},
			{Name: "sim-host-2", Capacity: compute.Resources{VCPUs: 2048, RAMMiB: 4 << 20, DiskGiB: 1 << 16}},
		}}); err != nil {
		return fail(err)
	}
	stops = append(stops, func() { _ = st.Manager.Stop() })
	if err := st.Apply(ctx, filepath.Join(root, "config", "rbac", "user_roles.yaml"), nil); err != nil {
		return fail(err)
	}

	secure, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	direct, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	securePort := secure.Addr().(*net.TCPAddr).Port
	st.DirectURL = "https://" + direct.Addr().String()
	st.AggregatedURL = strings.TrimRight(cp.Config.Host, "/") + "/apis/nova.kova.dev/v1/namespaces"
	certDir, err := os.MkdirTemp("", "kova-nova-api-")
	if err != nil {
		return fail(err)
	}
	stops = append(stops, func() { _ = os.RemoveAll(certDir) })

	caFile, allowed := cp.FrontProxy()
	o := novaserver.LoopbackOptions(secure, direct, certDir, cp.AdminKubeconfig(), caFile, allowed)
	if err := o.Validate(); err != nil {
		return fail(err)
	}
	cfg, err := o.Config()
	if err != nil {
		return fail(err)
	}
	srv, err := cfg.New(nova)
	if err != nil {
		return fail(err)
	}
	serverCtx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Run(serverCtx) }()
	stops = append(stops, func() {
		cancel()
		select {
		case err := <-stopped:
			_ = err // a stop on the way out: nothing is left to report it to
		case <-time.After(time.Minute):
		}
	})

	st.DirectCAFile = novaserver.ServingCertFile(certDir)
	caBundle, err := os.ReadFile(st.DirectCAFile)
	if err != nil {
		return fail(err)
	}
	st.DirectCAs = x509.NewCertPool()
	st.DirectCAs.AppendCertsFromPEM(caBundle)
	st.APIServerCAs = x509.NewCertPool()
	st.APIServerCAs.AppendCertsFromPEM(cp.Config.CAData)

	if err := st.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kova-system"}}); err != nil {
		return fail(err)
	}
	if err := st.Apply(ctx, filepath.Join(root, "config", "apiservice", "apiservice.yaml"), func(u *unstructured.Unstructured) error {
		return novaserver.ConfigureAPIService(u, caBundle, securePort)
	}); err != nil {
		return fail(err)
	}
	// Ready when kube-apiserver proxies to it.
	admin, err := rest.HTTPClientFor(cp.Config)
	if err != nil {
		return fail(err)
	}
	last := "no answer"
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, st.AggregatedURL+"/default/flavors", nil)
		if err != nil {
			return false, err
		}
		resp, err := admin.Do(req)
		if err != nil {
			last = err.Error()
			return false, nil
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_ = resp.Body.Close()
		last = fmt.Sprintf("%d %s", resp.StatusCode, body)
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		svc := &unstructured.Unstructured{}
		svc.SetAPIVersion("apiregistration.k8s.io/v1")
		svc.SetKind("APIService")
		_ = st.Client.Get(context.Background(), client.ObjectKey{Name: "v1.nova.kova.dev"}, svc)
		conds, _, _ := unstructured.NestedSlice(svc.Object, "status", "conditions")
		return fail(fmt.Errorf("the APIService never became reachable (last: %s; APIService conditions %v): %w", last, conds, err))
	}
	return st, nil
}

// Stop stops everything StartStack started.
func (s *Stack) Stop() {
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
}

// Apply creates every object of a YAML file, after edit if given; existing ones are left.
func (s *Stack) Apply(ctx context.Context, path string, edit func(*unstructured.Unstructured) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if u.Object == nil {
			continue
		}
		if edit != nil {
			if err := edit(u); err != nil {
				return err
			}
		}
		if err := client.IgnoreAlreadyExists(s.Client.Create(ctx, u)); err != nil {
			return fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
}

// Tenant makes a namespace with one service account per role, each bound to its
// ClusterRole, and returns their tokens by role.
func (s *Stack) Tenant(ctx context.Context, name string) (map[string]string, error) {
	if err := client.IgnoreAlreadyExists(s.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})); err != nil {
		return nil, err
	}
	tokens := map[string]string{}
	for _, role := range RoleNames {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: role}}
		if err := s.Client.Create(ctx, sa); err != nil {
			return nil, err
		}
		if err := s.Client.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: "kova-" + role},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "kova-" + role},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: name, Name: role}},
		}); err != nil {
			return nil, err
		}
		tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](7200)}}
		if err := s.Client.SubResource("token").Create(ctx, sa, tr); err != nil {
			return nil, err
		}
		tokens[role] = tr.Status.Token
	}
	return tokens, nil
}
