package testenv

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kova-dev/kova/internal/compute"
	"github.com/kova-dev/kova/internal/localcp"
	"github.com/kova-dev/kova/internal/novaserver"
)

// The components of a ProcessStack, each its own OS process.
const (
	ComponentManager       = "manager"
	ComponentNovaAPI       = "nova-api"
	ComponentKubeAPIServer = "kube-apiserver"
	ComponentEtcd          = "etcd"
)

// ProcessStackOptions configure StartProcessStack.
type ProcessStackOptions struct {
	// StepLatency and SimHosts are the manager's --sim-step-latency and --sim-hosts.
	StepLatency time.Duration
	SimHosts    string
	// NovaAPIArgs are more flags for nova-api (say --max-servers-per-request).
	NovaAPIArgs []string
	// GoGC is the manager's and nova-api's GOGC, as localcp's --go-gc sets it (config/manager
	// and config/nova-api set 50); empty leaves the environment's.
	GoGC string
	// LogDir receives each process's output as <name>.log; empty discards it.
	LogDir string
	// Log is where the supervisors say what they restart.
	Log logr.Logger
}

// ProcessStack is Kova as `make run` runs it, every part its own OS process so that a test
// can kill -9 it: etcd and kube-apiserver run by localcp, which starts them again when they
// die, and the manager and nova-api built from ./cmd and kept running by localcp's
// Supervisor, as cmd/localcp keeps them. Its Stack has no in-process Manager.
type ProcessStack struct {
	*Stack
	ManagerProcess, NovaAPIProcess *localcp.Supervisor
	// DriverDir is the simulated driver's state (see DriverInstances).
	DriverDir string
	hosts     []compute.HostInfo
}

// StartProcessStack builds the manager and nova-api and starts everything.
func StartProcessStack(ctx context.Context, o ProcessStackOptions) (_ *ProcessStack, retErr error) {
	root := Root()
	work, err := os.MkdirTemp("", "kova-processes-")
	if err != nil {
		return nil, err
	}
	st := &Stack{}
	ps := &ProcessStack{Stack: st, DriverDir: filepath.Join(work, "driver")}
	var stops []func()
	st.stop = func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
		_ = os.RemoveAll(work)
	}
	defer func() {
		if retErr != nil {
			st.Stop()
		}
	}()

	bin := filepath.Join(work, "bin")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin+string(filepath.Separator), "./cmd/manager", "./cmd/nova-api")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the manager and nova-api: %w: %s", err, out)
	}
	logFile := func(name string) (io.Writer, error) {
		if o.LogDir == "" {
			return io.Discard, nil
		}
		f, err := os.OpenFile(filepath.Join(o.LogDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, err
		}
		stops = append(stops, func() { _ = f.Close() })
		return f, nil
	}
	cpLog, err := logFile("control-plane")
	if err != nil {
		return nil, err
	}
	cp, err := localcp.Start(ctx, localcp.Options{
		BinDir:       BinDir(),
		CRDPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		WebhookPaths: []string{filepath.Join(root, "config", "webhook")},
		Aggregation:  true,
		Stdout:       cpLog, Stderr: cpLog,
	})
	if err != nil {
		return nil, err
	}
	cp.Env.Scheme = Scheme()
	st.CP = cp
	stops = append(stops, func() { _ = cp.Stop() })
	if st.Client, err = client.New(cp.Config, client.Options{Scheme: Scheme()}); err != nil {
		return nil, err
	}
	if err := OpenQuotas(ctx, st.Client); err != nil {
		return nil, err
	}
	if err := st.Apply(ctx, filepath.Join(root, "config", "rbac", "user_roles.yaml"), nil); err != nil {
		return nil, err
	}
	// The manager and nova-api run as the ServiceAccounts of config/default, with its RBAC.
	managerCfg, novaCfg, err := InstallIdentities(ctx, st.Client, cp.Config)
	if err != nil {
		return nil, err
	}
	managerKubeconfig, novaKubeconfig := filepath.Join(work, "kova-manager.kubeconfig"), filepath.Join(work, "kova-nova-api.kubeconfig")
	if err := WriteKubeconfig(managerKubeconfig, managerCfg); err != nil {
		return nil, err
	}
	if err := WriteKubeconfig(novaKubeconfig, novaCfg); err != nil {
		return nil, err
	}
	if err := st.ApplyFlowControl(ctx); err != nil {
		return nil, err
	}

	// The manager, as cmd/localcp runs it.
	host, port, certDir := cp.WebhookOptions()
	managerArgs := []string{
		"--kubeconfig=" + managerKubeconfig,
		"--webhook-host=" + host, "--webhook-port=" + strconv.Itoa(port), "--webhook-cert-dir=" + certDir,
		"--sim-state-dir=" + ps.DriverDir, "--sim-step-latency=" + o.StepLatency.String(),
		"--metrics-bind-address=0", "--health-probe-bind-address=0",
		"--public-namespace=" + PublicNamespace,
	}
	if o.SimHosts != "" {
		managerArgs = append(managerArgs, "--sim-hosts="+o.SimHosts)
		if ps.hosts, err = compute.ParseHosts(o.SimHosts); err != nil {
			return nil, err
		}
	}
	var env []string
	if o.GoGC != "" {
		env = []string{"GOGC=" + o.GoGC}
	}
	if ps.ManagerProcess, err = supervise(ComponentManager, filepath.Join(bin, "manager"), managerArgs, env, logFile, o.Log); err != nil {
		return nil, err
	}
	stops = append(stops, func() { _ = ps.ManagerProcess.Stop(15 * time.Second) })
	if err := waitForWebhook(cp.Env); err != nil {
		return nil, err
	}

	// nova-api, both ways in, on ports that a restart keeps.
	securePort, err := localcp.FreePort()
	if err != nil {
		return nil, err
	}
	directPort, err := localcp.FreePort()
	if err != nil {
		return nil, err
	}
	novaCerts := filepath.Join(work, "nova-api")
	caFile, allowed := cp.FrontProxy()
	novaArgs := append([]string{
		"--kubeconfig=" + novaKubeconfig,
		"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(securePort), "--cert-dir=" + novaCerts,
		"--direct-bind-address=127.0.0.1:" + strconv.Itoa(directPort),
		"--requestheader-client-ca-file=" + caFile, "--requestheader-allowed-names=" + strings.Join(allowed, ","),
		"--public-namespace=" + PublicNamespace,
	}, o.NovaAPIArgs...)
	if ps.NovaAPIProcess, err = supervise(ComponentNovaAPI, filepath.Join(bin, "nova-api"), novaArgs, env, logFile, o.Log); err != nil {
		return nil, err
	}
	stops = append(stops, func() { _ = ps.NovaAPIProcess.Stop(15 * time.Second) })
	if err := novaserver.WaitReady(ctx, securePort, 90*time.Second, nil); err != nil {
		return nil, fmt.Errorf("nova-api never became ready (its output is in %s): %w", o.LogDir, err)
	}

	st.DirectURL = "https://127.0.0.1:" + strconv.Itoa(directPort)
	st.AggregatedURL = strings.TrimRight(cp.Config.Host, "/") + "/apis/nova.kova.dev/v1/namespaces"
	st.DirectCAFile = novaserver.ServingCertFile(novaCerts)
	caBundle, err := os.ReadFile(st.DirectCAFile)
	if err != nil {
		return nil, err
	}
	st.DirectCAs = x509.NewCertPool()
	st.DirectCAs.AppendCertsFromPEM(caBundle)
	st.APIServerCAs = x509.NewCertPool()
	st.APIServerCAs.AppendCertsFromPEM(cp.Config.CAData)
	if err := st.Apply(ctx, filepath.Join(root, "config", "apiservice", "apiservice.yaml"), func(u *unstructured.Unstructured) error {
		return novaserver.ConfigureAPIService(u, caBundle, securePort)
	}); err != nil {
		return nil, err
	}
	if err := st.waitAggregated(ctx); err != nil {
		return nil, err
	}
	return ps, nil
}

// supervise starts a program, with env added to its environment, and keeps it running.
func supervise(name, path string, args, env []string, logFile func(string) (io.Writer, error), log logr.Logger) (*localcp.Supervisor, error) {
	out, err := logFile(name)
	if err != nil {
		return nil, err
	}
	p, err := localcp.StartProcessWithEnv(name, path, args, env, out, out, nil)
	if err != nil {
		return nil, err
	}
	return localcp.Supervise(p, log), nil
}

// waitAggregated waits until kube-apiserver proxies to nova-api: a list of flavors through
// it answers 200.
func (s *Stack) waitAggregated(ctx context.Context) error {
	admin, err := rest.HTTPClientFor(s.CP.Config)
	if err != nil {
		return err
	}
	last := "no answer"
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.AggregatedURL+"/default/flavors", nil)
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
		_ = s.Client.Get(context.Background(), client.ObjectKey{Name: "v1.nova.kova.dev"}, svc)
		conds, _, _ := unstructured.NestedSlice(svc.Object, "status", "conditions")
		return fmt.Errorf("the APIService never became reachable (last: %s; APIService conditions %v): %w", last, conds, err)
	}
	return nil
}

// PID is the process id of a component (ComponentManager, ...) while it runs, else 0.
func (s *ProcessStack) PID(component string) int {
	switch component {
	case ComponentManager, ComponentNovaAPI:
		sup := s.ManagerProcess
		if component == ComponentNovaAPI {
			sup = s.NovaAPIProcess
		}
		p := sup.Current()
		select {
		case <-p.Done():
			return 0
		default:
			return p.Pid()
		}
	case ComponentEtcd:
		return PIDWithArg("--data-dir=" + filepath.Join(s.CP.DataDir(), "etcd"))
	case ComponentKubeAPIServer:
		return PIDWithArg("--cert-dir=" + filepath.Join(s.CP.DataDir(), "apiserver"))
	}
	return 0
}

// PIDWithArg is the process id of a live process with arg on its command line, or 0.
// envtest, which runs etcd and kube-apiserver for localcp, does not tell their pids.
func PIDWithArg(arg string) int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !slices.Contains(strings.Split(string(cmdline), "\x00"), arg) {
			continue
		}
		// A killed child stays a zombie until its parent reaps it: not running.
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		if i := strings.LastIndex(string(stat), ") "); i >= 0 && strings.HasPrefix(string(stat[i+2:]), "Z") {
			continue
		}
		return pid
	}
	return 0
}

// DriverInstances are the simulated driver's instances, and the hosts with what they use,
// read from a copy of its state directory so that the running manager is not disturbed
// (the driver tidies its directory when it opens it).
func (s *ProcessStack) DriverInstances(ctx context.Context) ([]string, []compute.HostInfo, error) {
	tmp, err := os.MkdirTemp("", "kova-driver-copy-")
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	entries, err := os.ReadDir(s.DriverDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(s.DriverDir, e.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue // destroyed meanwhile
		}
		if err != nil {
			return nil, nil, err
		}
		if err := os.WriteFile(filepath.Join(tmp, e.Name()), data, 0o600); err != nil {
			return nil, nil, err
		}
	}
	driver, err := compute.NewSimulated(compute.SimulatedConfig{StateDir: tmp, Hosts: s.hosts})
	if err != nil {
		return nil, nil, err
	}
	ids, err := driver.List(ctx)
	if err != nil {
		return nil, nil, err
	}
	hosts, err := driver.Hosts(ctx)
	return ids, hosts, err
}
