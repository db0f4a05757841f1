// Command localcp runs Kova on a local control plane: what `make run` runs.
//
// It starts etcd, kube-apiserver and kube-controller-manager (with API
// aggregation configured) from --bin-dir, installs Kova's CRDs and webhook
// configurations from --config-dir, applies config/rbac and config/flowcontrol, runs the manager
// (--manager) as a child process, applies config/samples, runs the Nova API
// (--nova-api, skipped if not built), registers it as an aggregated API
// (config/apiservice), creates demo users (the three tenant roles and a cloud operator) in namespace
// "demo", and prints how to reach the cluster with kubectl and the openstack
// CLI. Ctrl+C (SIGINT) or SIGTERM stops the manager and the Nova API, and then
// the control plane. Everything the cluster stores lives in
// --data-dir, so running it again picks up where it left off.
//
// If the manager or the Nova API exits on its own, localcp says why and starts it
// again with the same flags, after a back-off that doubles from 1s up to 30s and
// starts over once the program has run for a minute (as the kubelet restarts a
// crashing container); so do etcd, kube-apiserver and kube-controller-manager
// (internal/localcp). The service-account signing key lives in --data-dir, so a
// token issued before any restart keeps working until it expires.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/kova-dev/kova/internal/localcp"
	"github.com/kova-dev/kova/internal/novaserver"
)

const (
	// rbacTimeout and samplesTimeout bound the retries while CRDs become
	// served and the manager's webhook server starts.
	rbacTimeout    = 30 * time.Second
	samplesTimeout = 2 * time.Minute
	// managerStopTimeout is how long the manager and the Nova API get to shut down
	// cleanly before they are killed.
	managerStopTimeout = 15 * time.Second
)

// options are the command-line flags.
type options struct {
	dataDir   string
	binDir    string
	manager   string
	configDir string
	// novaAPI is the REST shim's binary; novaDirect where it serves OpenStack clients.
	novaAPI    string
	novaDirect string
	// simDebug is where the manager's simulated driver takes changes behind Kova's back.
	simDebug string
	// sim are the simulated driver's settings passed through to the manager.
	sim simSettings
	// goGC is the GOGC of the manager and nova-api, as the manifests set it; empty leaves
	// what they inherit. The control plane's own processes keep theirs.
	goGC string
}

// childEnv is what the manager's and nova-api's environments get besides localcp's own.
func (o options) childEnv() []string {
	if o.goGC == "" {
		return nil
	}
	return []string{"GOGC=" + o.goGC}
}

// simSettings are manager flags for the simulated cloud that `make run` passes through
// (SIM_STEP_LATENCY, SIM_HOSTS, the allocation ratios), for benchmarks and demos, and its
// shared networks (make tempest's cloud has none); an empty one leaves the manager's default.
type simSettings struct {
	stepLatency, hosts, cpuRatio, ramRatio, diskRatio, sharedNetworks string
}

// bind adds the settings to localcp's flags, under the manager's own names.
func (s *simSettings) bind(fs *flag.FlagSet) {
	fs.StringVar(&s.stepLatency, "sim-step-latency", "", "the manager's --sim-step-latency (simulated time per task step, e.g. 0 or 500ms); empty keeps its default")
	fs.StringVar(&s.hosts, "sim-hosts", "", `the manager's --sim-hosts, e.g. "h1:vcpus=4096,ram=4194304,disk=65536;h2:..."; empty keeps its default hosts`)
	fs.StringVar(&s.cpuRatio, "cpu-allocation-ratio", "", "the manager's --cpu-allocation-ratio (Nova's, default 4.0)")
	fs.StringVar(&s.ramRatio, "ram-allocation-ratio", "", "the manager's --ram-allocation-ratio (Nova's, default 1.0)")
	fs.StringVar(&s.diskRatio, "disk-allocation-ratio", "", "the manager's --disk-allocation-ratio (Nova's, default 1.0)")
	fs.StringVar(&s.sharedNetworks, "shared-networks", "", "the manager's --shared-networks (rackspace, its default, or none)")
}

// managerArgs are the manager flags of the settings that are set.
func (s simSettings) managerArgs() []string {
	var out []string
	for _, f := range []struct{ name, v string }{
		{"sim-step-latency", s.stepLatency}, {"sim-hosts", s.hosts}, {"cpu-allocation-ratio", s.cpuRatio},
		{"ram-allocation-ratio", s.ramRatio}, {"disk-allocation-ratio", s.diskRatio}, {"shared-networks", s.sharedNetworks},
	} {
		if f.v != "" {
			out = append(out, "--"+f.name+"="+f.v)
		}
	}
	return out
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run returns the process exit status.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	// envtest and the controller-runtime client log through this.
	ctrllog.SetLogger(logr.FromSlogHandler(log.Handler()))

	// Keep catching signals until we return: a second Ctrl+C must not kill
	// localcp halfway through stopping its children, which would orphan them.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := runLocalCP(ctx, o, log, stdout, stderr); err != nil {
		log.Error("localcp failed", "err", err)
		return 1
	}
	return 0
}

func parseFlags(args []string, output io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("localcp", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&o.dataDir, "data-dir", ".kova", "directory for the cluster's data (etcd, certificates, kubeconfig, logs); kept across runs")
	fs.StringVar(&o.binDir, "bin-dir", "bin", "directory with etcd, kube-apiserver and kube-controller-manager")
	fs.StringVar(&o.manager, "manager", filepath.Join("bin", "manager"), "path of the manager binary")
	fs.StringVar(&o.configDir, "config-dir", "config", "directory with crd/bases, webhook, rbac, apiservice and samples")
	fs.StringVar(&o.novaAPI, "nova-api", filepath.Join("bin", "nova-api"), "path of the nova-api binary (the Nova REST shim); skipped with a warning if missing")
	fs.StringVar(&o.novaDirect, "nova-api-direct-address", "127.0.0.1:8774", "host:port where nova-api serves OpenStack clients directly")
	fs.StringVar(&o.simDebug, "sim-debug-address", "127.0.0.1:8779", "loopback host:port where the simulated hypervisors take changes behind Kova's back (see the README's demo)")
	fs.StringVar(&o.goGC, "go-gc", "", "GOGC of the manager and nova-api (the collector's headroom in percent of the live heap; config/manager and config/nova-api set it); empty leaves the environment's")
	o.sim.bind(fs)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(output, "localcp: unexpected arguments: %v\n", fs.Args())
		fs.Usage()
		return o, errors.New("unexpected arguments")
	}
	return o, nil
}

// runLocalCP runs everything until ctx ends (a signal) or the manager exits.
// It always stops what it started, the manager before the control plane.
func runLocalCP(ctx context.Context, o options, log *slog.Logger, stdout, stderr io.Writer) (retErr error) {
	// Fail before starting anything if the manager cannot run.
	if err := checkExecutable(o.manager); err != nil {
		return fmt.Errorf("manager binary: %w (build it first)", err)
	}
	cpOpts, err := controlPlaneOptions(o)
	if err != nil {
		return err
	}

	log.Info("starting the control plane", "dataDir", cpOpts.DataDir, "logs", filepath.Join(cpOpts.DataDir, "logs"))
	cp, err := localcp.Start(ctx, cpOpts)
	if err != nil {
		return interrupted(ctx, fmt.Errorf("starting the control plane: %w", err))
	}
	defer func() {
		log.Info("stopping the control plane")
		if err := cp.Stop(); err != nil {
			retErr = errors.Join(retErr, fmt.Errorf("stopping the control plane: %w", err))
		}
	}()

	c, err := client.New(cp.Config, client.Options{})
	if err != nil {
		return err
	}
	apply := &applier{c: c, log: log}
	if err := apply.applyDir(ctx, filepath.Join(o.configDir, "rbac"), serverSideApply, rbacTimeout); err != nil {
		return interrupted(ctx, fmt.Errorf("applying RBAC: %w", err))
	}
	// Priority and fairness for Kova's clients, which have no client-side limit.
	if err := apply.applyDir(ctx, filepath.Join(o.configDir, "flowcontrol"), serverSideApply, rbacTimeout); err != nil {
		return interrupted(ctx, fmt.Errorf("applying the flow schemas: %w", err))
	}

	mgrProcess, err := startManager(cp, o, stdout, stderr)
	if err != nil {
		return err
	}
	mgr := localcp.Supervise(mgrProcess, logr.FromSlogHandler(log.Handler()))
	defer func() {
		log.Info("stopping the manager")
		if err := mgr.Stop(managerStopTimeout); err != nil {
			retErr = errors.Join(retErr, err)
		}
	}()

	nova, err := startNovaAPI(ctx, cp, o, log, stdout, stderr)
	if err != nil {
		return interrupted(ctx, err)
	}
	if nova == nil {
		// An APIService left by an earlier run would point at nothing and fail discovery.
		if err := unregisterNovaAPI(ctx, apply, o.configDir); err != nil {
			log.Warn("could not remove APIService v1.nova.kova.dev; discovery of nova.kova.dev will fail", "err", err)
		}
	} else {
		defer func() {
			log.Info("stopping the Nova API")
			if err := nova.Stop(managerStopTimeout); err != nil {
				retErr = errors.Join(retErr, err)
			}
		}()
	}

	// The samples include custom resources the manager's webhook validates:
	// retry until it serves.
	samplesErr := apply.applyDir(ctx, filepath.Join(o.configDir, "samples"), createIfMissing, samplesTimeout)
	if ctx.Err() != nil {
		return nil
	}
	if samplesErr != nil {
		// The cluster is still useful: say so and keep running.
		log.Warn("could not apply the samples; apply them by hand once fixed", "err", samplesErr)
	}

	var novaBanner func(io.Writer)
	if nova != nil {
		if novaBanner, err = setUpNovaAPI(ctx, nova, apply, cp, o.configDir); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// kubectl still works: say so and keep running.
			log.Warn("the Nova API is running but not fully set up", "err", err)
		}
	}
	printBanner(stdout, cp.DataDir(), cp.AdminKubeconfig(), filepath.Join(o.configDir, "samples"), novaBanner)

	<-ctx.Done()
	log.Info("interrupted, shutting down")
	return nil
}

// setUpNovaAPI registers the Nova API with kube-apiserver and creates the demo users, and
// returns what the banner says about them.
func setUpNovaAPI(ctx context.Context, nova *novaAPI, apply *applier, cp *localcp.ControlPlane, configDir string) (func(io.Writer), error) {
	// First: until it is done, the APIService of a previous run points at its old port, and
	// discovery, namespace deletion included, fails.
	registerErr := nova.register(ctx, apply, configDir)
	if registerErr != nil {
		registerErr = fmt.Errorf("registering APIService v1.nova.kova.dev (the direct endpoint works regardless): %w", registerErr)
	}
	users, err := setUpDemo(ctx, apply.c, cp)
	if err != nil {
		return nil, errors.Join(registerErr, fmt.Errorf("creating the demo users: %w", err))
	}
	clouds, err := declareDemoUsers(ctx, cp.Config, filepath.Join(cp.DataDir(), "demo"),
		"https://"+nova.directAddr, novaserver.ServingCertFile(nova.certDir))
	if err != nil {
		return nil, errors.Join(registerErr, fmt.Errorf("declaring the demo users of the identity service: %w", err))
	}
	return func(w io.Writer) { printNovaBanner(w, nova, users, clouds) }, registerErr
}

// controlPlaneOptions maps the flags onto localcp.Options.
func controlPlaneOptions(o options) (localcp.Options, error) {
	dataDir, err := filepath.Abs(o.dataDir)
	if err != nil {
		return localcp.Options{}, err
	}
	cpOpts := localcp.Options{
		BinDir:            o.binDir,
		DataDir:           dataDir,
		CRDPaths:          []string{filepath.Join(o.configDir, "crd", "bases")},
		ControllerManager: true,
		Aggregation:       true,
	}
	webhookDir := filepath.Join(o.configDir, "webhook")
	hasWebhooks, err := hasWebhookConfigurations(webhookDir)
	if err != nil {
		return localcp.Options{}, fmt.Errorf("reading %s: %w", webhookDir, err)
	}
	if hasWebhooks {
		cpOpts.WebhookPaths = []string{webhookDir}
	}
	return cpOpts, nil
}

// startManager runs the manager against the control plane, serving its
// webhooks where the installed webhook configurations point.
func startManager(cp *localcp.ControlPlane, o options, stdout, stderr io.Writer) (*localcp.Process, error) {
	simStateDir := filepath.Join(cp.DataDir(), "driver")
	if err := os.MkdirAll(simStateDir, 0o755); err != nil {
		return nil, err
	}
	host, port, certDir := cp.WebhookOptions()
	args := []string{
		"--kubeconfig=" + cp.AdminKubeconfig(),
		"--webhook-host=" + host,
		"--webhook-port=" + strconv.Itoa(port),
		"--webhook-cert-dir=" + certDir,
		"--sim-state-dir=" + simStateDir,
		"--sim-debug-address=" + o.simDebug,
		"--metrics-bind-address=0",
		"--health-probe-bind-address=127.0.0.1:0",
		"--leader-elect=false",
	}
	args = append(args, o.sim.managerArgs()...)
	return startChild("manager", o.manager, args, o.childEnv(), stdout, stderr)
}

// interrupted turns an error caused by a signal during startup into a clean exit.
func interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// printBanner says how to use the cluster; nova, if not nil, adds the Nova API.
func printBanner(w io.Writer, dataDir, kubeconfig, samplesDir string, nova func(io.Writer)) {
	fmt.Fprintf(w, `
================================================================
 Kova is running on a local control plane.

 Data folder: %s
   (etcd data, certificates, logs/; delete it to start afresh)

 Use it with kubectl:

   export KUBECONFIG=%s
   kubectl get flavors,images,networks -A
   kubectl apply -f %s/
   kubectl get servers -A

`, dataDir, kubeconfig, samplesDir)
	if nova != nil {
		nova(w)
	}
	fmt.Fprint(w, ` Press Ctrl+C to stop; run again to continue where you left off.
================================================================

`)
}
