// Package localcp runs a local Kubernetes control plane (etcd, kube-apiserver
// and, optionally, kube-controller-manager) for `make run` and for the test
// suites, on loopback only and with no downloads.
//
// It is a thin layer over controller-runtime's envtest, which already knows
// how to run etcd and kube-apiserver, install CRDs and webhook configurations
// (rewritten to a local URL with a local serving certificate) and provision
// client-certificate users. localcp adds what a cluster-like environment needs
// on top of that:
//
//   - a persistent data directory, so that objects survive a restart;
//   - kube-controller-manager, without which deleted namespaces never finish
//     deleting and ownerReferences are never garbage-collected;
//   - the kube-apiserver flags for API aggregation (a front-proxy CA and client
//     certificate), so that an aggregated API server can be registered later;
//   - kubeconfig files on disk for an admin and for arbitrary users;
//   - a service-account signing key and issuer that stay the same across restarts, so
//     that tokens issued before a restart keep working until they expire;
//   - supervision: etcd, kube-apiserver and kube-controller-manager are started again,
//     after a back-off, when one of them dies (see superviseControlPlane).
//
// Layout of the data directory:
//
//	kubeconfig                   admin (system:masters) kubeconfig
//	etcd/                        etcd data (kept across restarts)
//	apiserver/                   kube-apiserver cert dir (certificates regenerated on each start)
//	pki/                         front-proxy CA (kept), front-proxy client cert, API server CA,
//	                             service-account signing key (kept)
//	webhook-certs/               serving certificate for the webhook server (tls.crt, tls.key)
//	kube-controller-manager/     its kubeconfig and serving certificate
//	logs/                        process output when Options.Stdout/Stderr are nil
//	lock                         held by the running control plane
package localcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// FrontProxyClientName is the common name of the client certificate
// kube-apiserver presents to aggregated API servers, and the only name
// those servers should accept identity headers from.
const FrontProxyClientName = "front-proxy-client"

// startTimeout bounds how long each process may take to become healthy. The
// envtest default (20s) is tight for kube-apiserver on a busy 2-core machine.
const startTimeout = 90 * time.Second

// stopTimeout bounds how long each process may take to stop after SIGTERM before it is
// killed, so that Stop returns even when a process hangs (say, because its data dir was
// removed underneath it): at most about three times this for the whole plane.
const stopTimeout = 15 * time.Second

// Options configures a control plane. Only BinDir is required.
type Options struct {
	// BinDir holds the etcd, kube-apiserver and kube-controller-manager binaries.
	BinDir string

	// DataDir, if set, holds etcd data, certificates, kubeconfigs and logs, and
	// is kept by Stop so that a later Start on the same directory sees the same
	// objects. If empty, a temporary directory is used and removed by Stop.
	DataDir string

	// CRDPaths are files or directories of CustomResourceDefinition manifests.
	// A missing path is an error.
	CRDPaths []string

	// WebhookPaths are files or directories with
	// Validating/MutatingWebhookConfiguration manifests (service-based, as
	// controller-gen writes them). They are installed with their service
	// reference replaced by the URL returned by WebhookOptions. A missing
	// path is an error; a directory without such manifests is fine.
	WebhookPaths []string

	// ControllerManager also runs kube-controller-manager (garbage collection,
	// namespace deletion, ...).
	ControllerManager bool

	// Aggregation configures kube-apiserver for API aggregation: request-header
	// authentication with a front-proxy CA kept in DataDir, and a front-proxy
	// client certificate. See FrontProxy.
	Aggregation bool

	// Stdout and Stderr receive the output of the control-plane processes.
	// If both are nil, each process writes to DataDir/logs/<process>.log when
	// DataDir is set, and its output is discarded otherwise. If only one is
	// set, the other stream is discarded.
	Stdout, Stderr io.Writer
}

// ControlPlane is a running local control plane. Create it with Start.
type ControlPlane struct {
	// Env is the underlying envtest environment. Use it, for example, to
	// look at the installed CRDs; do not Stop it directly.
	Env *envtest.Environment
	// Config connects to the API server as an admin (system:masters).
	Config *rest.Config

	opts      Options
	dirs      layout
	removeDir bool // DataDir is temporary
	logs      []io.Closer
	lock      *os.File // held while running; see lockDataDir
	kcm       *Supervisor
	usersMu   sync.Mutex // envtest's user CA is not safe for concurrent use
	log       logr.Logger

	// planeMu keeps a restart of etcd or kube-apiserver and Stop apart.
	planeMu       sync.Mutex
	stopSupervise context.CancelFunc
	supervising   sync.WaitGroup

	stopOnce sync.Once
	stopErr  error
}

// Start starts etcd and kube-apiserver (and kube-controller-manager if asked),
// installs CRDs and webhook configurations, and writes the admin kubeconfig.
// On error everything already started is stopped again.
func Start(ctx context.Context, o Options) (_ *ControlPlane, retErr error) {
	if o.BinDir == "" {
		return nil, errors.New("localcp: Options.BinDir is required")
	}
	binDir, err := filepath.Abs(o.BinDir)
	if err != nil {
		return nil, err
	}
	o.BinDir = binDir

	c := &ControlPlane{opts: o, log: ctrllog.Log.WithName("localcp")}
	defer func() {
		if retErr != nil {
			_ = c.Stop()
		}
	}()
	if err := c.prepareDataDir(); err != nil {
		return nil, err
	}

	c.Env = c.newEnvironment()
	if o.Aggregation {
		if err := c.configureAggregation(); err != nil {
			return nil, err
		}
	}
	if c.Config, err = c.Env.Start(); err != nil {
		return nil, fmt.Errorf("localcp: starting etcd and kube-apiserver: %w", err)
	}
	if err := c.writeAdminFiles(); err != nil {
		return nil, err
	}
	if err := c.moveWebhookCerts(); err != nil {
		return nil, err
	}
	if o.ControllerManager {
		if err := c.startControllerManager(ctx); err != nil {
			return nil, err
		}
	}
	superviseCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.stopSupervise = cancel
	c.supervising.Go(func() { c.superviseControlPlane(superviseCtx) })
	return c, nil
}

// prepareDataDir creates (or reuses) the data directory and clears the files
// envtest would otherwise refuse to regenerate.
func (c *ControlPlane) prepareDataDir() error {
	root := c.opts.DataDir
	if root == "" {
		tmp, err := os.MkdirTemp("", "kova-localcp-")
		if err != nil {
			return err
		}
		root, c.removeDir = tmp, true
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	c.dirs = layout{root: root}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return err
	}
	if c.lock, err = lockDataDir(c.dirs.lockFile()); err != nil {
		return err
	}
	for _, d := range []string{c.dirs.etcd(), c.dirs.apiServer(), c.dirs.pki(), c.dirs.logs(), c.dirs.kcm()} {
		// etcd insists on 0700 for its data dir; the rest holds private keys.
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	if err := ensureServiceAccountKey(c.dirs.serviceAccountKey()); err != nil {
		return err
	}
	return c.dirs.resetAPIServerDir()
}

// newEnvironment configures envtest with explicit binary paths (so that a
// stray KUBEBUILDER_ASSETS cannot pick other binaries) and directories inside
// the data dir (so that etcd data persists).
func (c *ControlPlane) newEnvironment() *envtest.Environment {
	o := c.opts
	useExistingCluster := false // never let USE_EXISTING_CLUSTER skip the start
	env := &envtest.Environment{
		UseExistingCluster:       &useExistingCluster,
		BinaryAssetsDirectory:    o.BinDir,
		CRDDirectoryPaths:        o.CRDPaths,
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: startTimeout,
		ControlPlaneStopTimeout:  stopTimeout,
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			Paths: o.WebhookPaths,
			// Pin IPv4 loopback: "localhost" may resolve to ::1 first.
			LocalServingHost: "127.0.0.1",
		},
		ControlPlane: envtest.ControlPlane{
			Etcd: &envtest.Etcd{
				Path:    filepath.Join(o.BinDir, "etcd"),
				DataDir: c.dirs.etcd(),
			},
			APIServer: &envtest.APIServer{
				Path:    filepath.Join(o.BinDir, "kube-apiserver"),
				CertDir: c.dirs.apiServer(),
			},
		},
	}
	env.ControlPlane.Etcd.Out, env.ControlPlane.Etcd.Err = c.output("etcd")
	env.ControlPlane.APIServer.Out, env.ControlPlane.APIServer.Err = c.output("kube-apiserver")

	// Left alone, kube-apiserver advertises the host's default interface and
	// publishes it as the endpoint of the "kubernetes" Service; everything
	// here must stay on loopback. With a loopback advertise address the
	// default "lease" endpoint reconciler refuses to start ("may not be in the
	// loopback range"), and envtest does not turn it off. Nothing uses those
	// endpoints here, so run no reconciler.
	env.ControlPlane.APIServer.Configure().
		Set("advertise-address", "127.0.0.1").
		Set("endpoint-reconciler-type", "none")
	// envtest makes a new signing key on every start and names the port in the issuer:
	// either would refuse every token issued before a restart.
	env.ControlPlane.APIServer.Configure().
		Set("service-account-issuer", ServiceAccountIssuer).
		Set("service-account-key-file", c.dirs.serviceAccountKey()).
		Set("service-account-signing-key-file", c.dirs.serviceAccountKey())
	return env
}

// configureAggregation creates the front-proxy certificates and passes the
// request-header and proxy-client flags to kube-apiserver.
func (c *ControlPlane) configureAggregation() error {
	// A request with no credentials is a 401, as OpenStack clients expect, not a 403 for
	// system:anonymous: anonymous access stays only for the health checks.
	if err := writeFile(c.dirs.authnConfig(), []byte(anonymousHealthOnly)); err != nil {
		return err
	}
	c.Env.ControlPlane.APIServer.Configure().Set("authentication-config", c.dirs.authnConfig())
	if err := ensureFrontProxyCerts(c.dirs); err != nil {
		return fmt.Errorf("localcp: front-proxy certificates: %w", err)
	}
	c.Env.ControlPlane.APIServer.Configure().
		Set("requestheader-client-ca-file", c.dirs.frontProxyCA()).
		Set("requestheader-allowed-names", FrontProxyClientName).
		Set("requestheader-username-headers", "X-Remote-User").
		Set("requestheader-group-headers", "X-Remote-Group").
		Set("requestheader-extra-headers-prefix", "X-Remote-Extra-").
		Set("proxy-client-cert-file", c.dirs.frontProxyClientCert()).
		Set("proxy-client-key-file", c.dirs.frontProxyClientKey())
	return nil
}

// writeAdminFiles writes the admin kubeconfig and the API server's CA, which
// envtest keeps only in memory.
func (c *ControlPlane) writeAdminFiles() error {
	if err := writeFile(c.AdminKubeconfig(), c.Env.KubeConfig); err != nil {
		return err
	}
	return writeFile(c.dirs.apiServerCA(), c.Env.ControlPlane.APIServer.CA)
}

// moveWebhookCerts moves the webhook serving certificate from the temporary
// directory envtest always picks into the data dir, where a manager running
// as a separate process can find it. envtest's Stop removes it from there.
func (c *ControlPlane) moveWebhookCerts() error {
	w := &c.Env.WebhookInstallOptions
	dst := c.dirs.webhookCerts()
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return err
	}
	for _, name := range []string{"tls.crt", "tls.key"} {
		data, err := os.ReadFile(filepath.Join(w.LocalServingCertDir, name))
		if err != nil {
			return fmt.Errorf("localcp: reading webhook serving certificate: %w", err)
		}
		if err := writeFile(filepath.Join(dst, name), data); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(w.LocalServingCertDir); err != nil {
		return err
	}
	w.LocalServingCertDir = dst
	return nil
}

// output returns where a process's stdout and stderr go.
func (c *ControlPlane) output(name string) (io.Writer, io.Writer) {
	if c.opts.Stdout != nil || c.opts.Stderr != nil {
		return orDiscard(c.opts.Stdout), orDiscard(c.opts.Stderr)
	}
	if c.removeDir {
		return io.Discard, io.Discard
	}
	f, err := os.OpenFile(filepath.Join(c.dirs.logs(), name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		// Logs are a convenience; failing to open one must not stop the plane.
		return io.Discard, io.Discard
	}
	fmt.Fprintf(f, "\n===== localcp: starting %s at %s =====\n", name, time.Now().Format(time.RFC3339))
	c.logs = append(c.logs, f)
	return f, f
}

// Stop stops kube-controller-manager, kube-apiserver and etcd, and removes the
// data dir if it was temporary. It is safe to call more than once; later calls
// return the first call's result.
func (c *ControlPlane) Stop() error {
	c.stopOnce.Do(func() { c.stopErr = c.stop() })
	return c.stopErr
}

func (c *ControlPlane) stop() error {
	var errs []error
	// No restarts from here on; a restart under way finishes first.
	if c.stopSupervise != nil {
		c.stopSupervise()
		c.supervising.Wait()
	}
	// kube-controller-manager first: it would only log errors once the API
	// server is gone.
	if c.kcm != nil {
		if err := c.kcm.Stop(stopTimeout); err != nil {
			errs = append(errs, fmt.Errorf("stopping kube-controller-manager: %w", err))
		}
	}
	if c.Env != nil {
		c.planeMu.Lock()
		err := c.Env.Stop()
		c.planeMu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("stopping kube-apiserver and etcd: %w", err))
		}
	}
	for _, l := range c.logs {
		_ = l.Close()
	}
	if c.lock != nil {
		_ = c.lock.Close() // releases the lock
	}
	if c.removeDir && c.dirs.root != "" {
		if err := os.RemoveAll(c.dirs.root); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// DataDir returns the absolute path of the data directory (temporary if
// Options.DataDir was empty).
func (c *ControlPlane) DataDir() string { return c.dirs.root }

// AdminKubeconfig returns the path of a kubeconfig for an admin user in the
// system:masters group, in the data dir.
func (c *ControlPlane) AdminKubeconfig() string { return c.dirs.adminKubeconfig() }

// WriteKubeconfig writes to path a kubeconfig that authenticates to the API
// server as user, member of groups, with a client certificate signed by the
// API server's client CA. The file is replaced if it exists.
func (c *ControlPlane) WriteKubeconfig(path, user string, groups []string) error {
	c.usersMu.Lock()
	u, err := c.Env.AddUser(envtest.User{Name: user, Groups: groups}, nil)
	c.usersMu.Unlock()
	if err != nil {
		return fmt.Errorf("localcp: provisioning user %q: %w", user, err)
	}
	data, err := u.KubeConfig()
	if err != nil {
		return fmt.Errorf("localcp: kubeconfig for user %q: %w", user, err)
	}
	return writeFile(path, data)
}

// WebhookOptions returns where a webhook server must listen (host and port)
// and the directory with its serving certificate (tls.crt and tls.key) for
// the installed webhook configurations to reach it.
func (c *ControlPlane) WebhookOptions() (host string, port int, certDir string) {
	w := c.Env.WebhookInstallOptions
	return w.LocalServingHost, w.LocalServingPort, w.LocalServingCertDir
}

// ServiceAccountSigningKey returns the file with the private key kube-apiserver signs
// service-account tokens with (tests sign tokens of their own with it, for instance one
// that expires sooner than TokenRequest allows).
func (c *ControlPlane) ServiceAccountSigningKey() string { return c.dirs.serviceAccountKey() }

// FrontProxy returns the CA file that signs the client certificate
// kube-apiserver uses when proxying to aggregated API servers, and the
// certificate names allowed to assert identities: what an aggregated server
// needs for its --requestheader-client-ca-file and
// --requestheader-allowed-names. It returns "" and nil unless
// Options.Aggregation was set.
func (c *ControlPlane) FrontProxy() (caFile string, allowedNames []string) {
	if !c.opts.Aggregation {
		return "", nil
	}
	return c.dirs.frontProxyCA(), []string{FrontProxyClientName}
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// writeFile writes private material (keys, kubeconfigs) readable by the owner only.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// anonymousHealthOnly is kube-apiserver's authentication configuration: anonymous
// requests are authenticated for the health endpoints and nowhere else.
const anonymousHealthOnly = `apiVersion: apiserver.config.k8s.io/v1
kind: AuthenticationConfiguration
anonymous:
  enabled: true
  conditions:
  - path: /livez
  - path: /readyz
  - path: /healthz
  - path: /version
`
