// Package testenv starts what the envtest suites share: a real kube-apiserver and etcd
// (built from source into bin/), Kova's CRDs and webhooks, and a manager running the
// controllers on the simulated driver.
package testenv

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/controllers"
	"github.com/kova-dev/kova/internal/cachetrim"
	"github.com/kova-dev/kova/internal/compute"
	"github.com/kova-dev/kova/internal/ipam"
	"github.com/kova-dev/kova/internal/rules"
	kovawebhook "github.com/kova-dev/kova/internal/webhook"
)

// Root is the module's root directory, found from the working directory.
func Root() string {
	dir, _ := os.Getwd()
	for d := dir; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "PROJECT")); err == nil {
				return d
			}
		}
	}
	return dir
}

// BinDir is where the control-plane binaries are: $KOVA_BIN_DIR or <root>/bin.
func BinDir() string {
	if d := os.Getenv("KOVA_BIN_DIR"); d != "" {
		return d
	}
	return filepath.Join(Root(), "bin")
}

// Scheme knows Kubernetes' and Kova's types.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = computev1.AddToScheme(s)
	return s
}

// NewEnvironment is an envtest environment with Kova's CRDs and, if webhooks, its
// admission webhooks installed to reach a local manager.
func NewEnvironment(webhooks bool) *envtest.Environment {
	root := Root()
	env := &envtest.Environment{
		BinaryAssetsDirectory: BinDir(),
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		Scheme:                Scheme(),
	}
	if webhooks {
		env.WebhookInstallOptions = envtest.WebhookInstallOptions{Paths: []string{filepath.Join(root, "config", "webhook")}}
	}
	return env
}

// Manager is a running manager and its driver.
type Manager struct {
	Driver *compute.Simulated
	Client client.Client
	// Addresses is the controllers' address allocator: what each server holds.
	Addresses *ipam.Allocator
	cancel    context.CancelFunc
	done      chan error
}

// ManagerOptions configure StartManager.
type ManagerOptions struct {
	StepLatency time.Duration
	StateDir    string
	Hosts       []compute.HostInfo
	Webhooks    bool
	Workers     int
	// WrapTransport sees every request the manager makes (to count API writes).
	WrapTransport func(http.RoundTripper) http.RoundTripper
	// PowerSyncInterval is the manager's --power-sync-interval (0: the default).
	PowerSyncInterval time.Duration
	// WrapDriver stands between the controllers and the simulated driver (to make the
	// backend fail); Manager.Driver stays the simulated driver itself.
	WrapDriver func(compute.Driver) compute.Driver
	// Clock is the image-schedule controller's clock (a fake one steps scheduled images
	// through days), ImageScheduleCheck its longest wait; zero values are the defaults.
	Clock              clock.PassiveClock
	ImageScheduleCheck time.Duration
	// SharedNetworks makes Rackspace's shared networks at start, as cmd/manager does.
	SharedNetworks bool
}

// StartManager runs the controllers (and webhooks) in this process.
func StartManager(env *envtest.Environment, cfg *rest.Config, o ManagerOptions) (*Manager, error) {
	driver, err := compute.NewSimulated(compute.SimulatedConfig{StateDir: o.StateDir, StepLatency: o.StepLatency, Hosts: o.Hosts})
	if err != nil {
		return nil, err
	}
	mopts := ctrl.Options{
		Scheme:                 env.Scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cache.Options{DefaultTransform: cachetrim.TransformInterned()}, // as cmd/manager
	}
	if o.Webhooks {
		wo := &env.WebhookInstallOptions
		mopts.WebhookServer = webhook.NewServer(webhook.Options{
			Host: wo.LocalServingHost, Port: wo.LocalServingPort, CertDir: wo.LocalServingCertDir,
		})
	}
	skip := true
	mopts.Controller.SkipNameValidation = &skip
	cfg = rest.CopyConfig(cfg)
	cfg.QPS = -1 // as cmd/manager's default: no client-side limit, the API server's APF decides
	if o.WrapTransport != nil {
		cfg.Wrap(o.WrapTransport)
	}
	mgr, err := ctrl.NewManager(cfg, mopts)
	if err != nil {
		return nil, err
	}
	addrs := controllers.NewAddressAllocator(mgr, PublicNamespace)
	copts := controllers.Options{PublicNamespace: PublicNamespace, Workers: max(o.Workers, 8), Addresses: addrs,
		PowerSyncInterval: cmp.Or(o.PowerSyncInterval, controllers.DefaultPowerSyncInterval),
		Clock:             o.Clock, ImageScheduleCheck: o.ImageScheduleCheck}
	if o.SharedNetworks {
		copts.SharedNetworks = controllers.RackspaceSharedNetworks()
	}
	var drv compute.Driver = driver
	if o.WrapDriver != nil {
		drv = o.WrapDriver(driver)
	}
	if err := controllers.SetupWithDriver(mgr, copts, drv); err != nil {
		return nil, err
	}
	if o.Webhooks {
		if err := kovawebhook.Setup(mgr, PublicNamespace, WebhookAuthorizationCache); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{Driver: driver, Client: mgr.GetClient(), Addresses: addrs, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- mgr.Start(ctx) }()
	if o.Webhooks {
		if err := waitForWebhook(env); err != nil {
			cancel()
			return nil, err
		}
	}
	return m, nil
}

// Stop stops the manager and waits for it.
func (m *Manager) Stop() error {
	m.cancel()
	return <-m.done
}

func waitForWebhook(env *envtest.Environment) error {
	wo := &env.WebhookInstallOptions
	addr := net.JoinHostPort(wo.LocalServingHost, strconv.Itoa(wo.LocalServingPort))
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // a readiness probe of our own listener
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("webhook server on %s did not start: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WebhookAuthorizationCache is how long the suites' webhooks keep RBAC's answers: a denial
// for a second only, as the suites' nova-api (novaserver.LoopbackOptions), since the suites
// bind roles to users right before they act.
var WebhookAuthorizationCache = kovawebhook.AuthorizationCache{Allowed: kovawebhook.DefaultAuthorizationCache.Allowed, Denied: time.Second}

// PublicNamespace is the namespace of public images and shared networks in the suites.
const PublicNamespace = rules.DefaultPublicNamespace

// Fixtures are what a tenant needs to boot servers: the public namespace with a public
// image "cirros", the tenant's namespace with a network "private" on cidr, and flavor.
func Fixtures(tenant string, flavor *computev1.Flavor, cidr string) []client.Object {
	return []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: PublicNamespace}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tenant}},
		flavor,
		&computev1.Image{ObjectMeta: metav1.ObjectMeta{Namespace: PublicNamespace, Name: "cirros"},
			Spec: computev1.ImageSpec{Visibility: "public", Source: computev1.ImageSource{URL: "example.invalid/cirros"}}},
		&computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "private"}, Spec: computev1.NetworkSpec{CIDR: cidr}},
	}
}
