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
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/util/yaml"
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
	// ImageStoreDir is the image API's data directory, which every nova-api replica of the
	// stack shares, as replicas share a volume when deployed.
	ImageStoreDir string

	nova    novaserver.Nova
	certDir string
	// novaKubeconfig holds a token of the ServiceAccount kova-nova-api (InstallIdentities).
	novaKubeconfig string
	stop           func()
}

// The stacks' limits: room in one tenant for the benchmark's fleet (1,000 servers made
// through the CRDs) and the servers its clients then boot, and for the end-to-end tests
// (the instances of the QuotaClass "default", OpenQuotas); one create makes at most
// MaxServersPerRequest.
const (
	InstanceQuota        = 2000
	MaxServersPerRequest = 20
)

// RoleNames are the roles of the permission matrix, in its order.
var RoleNames = []string{"observer", "creator", "admin"}

// StartStack starts everything; Stop stops it.
func StartStack(ctx context.Context, stepLatency time.Duration, nova novaserver.Nova) (*Stack, error) {
	return StartStackWith(ctx, StackOptions{StepLatency: stepLatency, Nova: nova})
}

// StackOptions configure StartStackWith.
type StackOptions struct {
	StepLatency time.Duration
	Nova        novaserver.Nova
	// WrapManager and WrapNovaAPI, if set, see every request the manager (its controllers
	// and webhooks) and the first nova-api replica make to kube-apiserver: the benchmarks
	// trace a REST call's cost with them.
	WrapManager, WrapNovaAPI func(http.RoundTripper) http.RoundTripper
}

// StartStackWith starts everything as o says; Stop stops it.
func StartStackWith(ctx context.Context, o StackOptions) (*Stack, error) {
	stepLatency, nova := o.StepLatency, o.Nova
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
	if err := OpenQuotas(ctx, st.Client); err != nil {
		return fail(err)
	}
	// The manager and nova-api run as the ServiceAccounts of config/default, with its RBAC.
	managerCfg, novaCfg, err := InstallIdentities(ctx, st.Client, cp.Config)
	if err != nil {
		return fail(err)
	}
	if err := st.ApplyFlowControl(ctx); err != nil {
		return fail(err)
	}
	stateDir, err := os.MkdirTemp("", "kova-driver-")
	if err != nil {
		return fail(err)
	}
	stops = append(stops, func() { _ = os.RemoveAll(stateDir) })
	if st.Manager, err = StartManager(cp.Env, managerCfg, ManagerOptions{StepLatency: stepLatency, StateDir: stateDir, Webhooks: true, SharedNetworks: true,
		WrapTransport: o.WrapManager,
		Hosts: []compute.HostInfo{ // room for the benchmarks' fleets (10,000 servers)
			{Name: "sim-host-1", Capacity: compute.Resources{VCPUs: 8192, RAMMiB: 4 << 20, DiskGiB: 1 << 16}},
			{Name: "sim-host-2", Capacity: compute.Resources{VCPUs: 8192, RAMMiB: 4 << 20, DiskGiB: 1 << 16}},
		}}); err != nil {
		return fail(err)
	}
	stops = append(stops, func() { _ = st.Manager.Stop() })
	if err := st.Apply(ctx, filepath.Join(root, "config", "rbac", "user_roles.yaml"), nil); err != nil {
		return fail(err)
	}

	st.AggregatedURL = strings.TrimRight(cp.Config.Host, "/") + "/apis/nova.kova.dev/v1/namespaces"
	if st.certDir, err = os.MkdirTemp("", "kova-nova-api-"); err != nil {
		return fail(err)
	}
	stops = append(stops, func() { _ = os.RemoveAll(st.certDir) })
	st.novaKubeconfig = filepath.Join(st.certDir, "kova-nova-api.kubeconfig")
	if err := WriteKubeconfig(st.novaKubeconfig, novaCfg); err != nil {
		return fail(err)
	}
	st.nova = nova
	replica, err := st.startNovaAPI(func(no *novaserver.Options) { no.WrapTransport = o.WrapNovaAPI })
	if err != nil {
		return fail(err)
	}
	stops = append(stops, replica.stop)
	st.DirectURL = replica.DirectURL
	securePort := replica.securePort

	st.DirectCAFile = novaserver.ServingCertFile(st.certDir)
	caBundle, err := os.ReadFile(st.DirectCAFile)
	if err != nil {
		return fail(err)
	}
	st.DirectCAs = x509.NewCertPool()
	st.DirectCAs.AppendCertsFromPEM(caBundle)
	st.APIServerCAs = x509.NewCertPool()
	st.APIServerCAs.AppendCertsFromPEM(cp.Config.CAData)

	if err := st.Apply(ctx, filepath.Join(root, "config", "apiservice", "apiservice.yaml"), func(u *unstructured.Unstructured) error {
		return novaserver.ConfigureAPIService(u, caBundle, securePort)
	}); err != nil {
		return fail(err)
	}
	// Ready when kube-apiserver proxies to it.
	if err := st.waitAggregated(ctx); err != nil {
		return fail(err)
	}
	return st, nil
}

// Replica is one nova-api process of the stack.
type Replica struct {
	// DirectURL is its direct endpoint (https://127.0.0.1:port).
	DirectURL string

	securePort int
	server     *novaserver.Server
	stop       func()
}

// Stop stops the replica and waits for it (a minute at most).
func (r *Replica) Stop() { r.stop() }

// startNovaAPI starts a nova-api server on new loopback listeners, with the stack's serving
// certificate (made by the first one).
func (s *Stack) startNovaAPI(edits ...func(*novaserver.Options)) (*Replica, error) {
	secure, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	direct, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = secure.Close()
		return nil, err
	}
	caFile, allowed := s.CP.FrontProxy()
	o := novaserver.LoopbackOptions(secure, direct, s.certDir, s.novaKubeconfig, caFile, allowed)
	o.MaxServersPerRequest = MaxServersPerRequest
	if s.ImageStoreDir == "" {
		s.ImageStoreDir = filepath.Join(s.certDir, "images")
	}
	o.ImageStoreDir = s.ImageStoreDir
	for _, edit := range edits {
		edit(o)
	}
	cfg, err := func() (*novaserver.Config, error) {
		if err := o.Validate(); err != nil {
			return nil, err
		}
		return o.Config()
	}()
	if err != nil {
		_, _ = secure.Close(), direct.Close()
		return nil, err
	}
	srv, err := cfg.New(s.nova)
	if err != nil {
		_, _ = secure.Close(), direct.Close()
		return nil, err
	}
	serverCtx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- srv.Run(serverCtx) }()
	return &Replica{
		DirectURL:  "https://" + direct.Addr().String(),
		securePort: secure.Addr().(*net.TCPAddr).Port,
		server:     srv,
		stop: sync.OnceFunc(func() {
			cancel()
			select {
			case err := <-stopped:
				_ = err // a stop on the way out: nothing is left to report it to
			case <-time.After(time.Minute):
			}
		}),
	}, nil
}

// StartReplica starts another nova-api over the same API server, as a second replica of a
// Deployment would be: reachable directly (kube-apiserver keeps sending the aggregated way
// to the first), with its own informer cache, and the stack's options after edits. It
// returns once that cache has synced; the stack stops it with the rest.
func (s *Stack) StartReplica(ctx context.Context, edits ...func(*novaserver.Options)) (*Replica, error) {
	r, err := s.startNovaAPI(edits...)
	if err != nil {
		return nil, err
	}
	prev := s.stop
	s.stop = func() { r.Stop(); prev() }
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		return r.server.Synced(), nil
	}); err != nil {
		r.Stop()
		return nil, fmt.Errorf("the replica's informer cache never synced: %w", err)
	}
	return r, nil
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
