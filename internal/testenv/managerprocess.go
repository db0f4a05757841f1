package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// ManagerProcessEnv is a control plane (with Kova's webhooks registered) for suites that run
// the manager binary as processes of their own, to kill and restart them: the restart and
// failover suites.
type ManagerProcessEnv struct {
	Env *envtest.Environment
	// Config is the admin's; Kubeconfig is the file the manager processes are given.
	Config     *rest.Config
	Binary     string
	Kubeconfig string
}

// StartManagerProcessEnv builds cmd/manager into dir, starts the control plane and writes a
// kubeconfig for the manager processes. The caller stops Env.
func StartManagerProcessEnv(dir string) (*ManagerProcessEnv, error) {
	p := &ManagerProcessEnv{Binary: filepath.Join(dir, "manager"), Kubeconfig: filepath.Join(dir, "kubeconfig")}
	build := exec.Command("go", "build", "-o", p.Binary, "./cmd/manager")
	build.Dir = Root()
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building the manager: %w\n%s", err, out)
	}
	p.Env = NewEnvironment(true)
	cfg, err := p.Env.Start()
	if err != nil {
		return nil, err
	}
	p.Config = cfg
	if c, err := client.New(cfg, client.Options{Scheme: Scheme()}); err != nil {
		_ = p.Env.Stop()
		return nil, err
	} else if err := OpenQuotas(context.Background(), c); err != nil {
		_ = p.Env.Stop()
		return nil, err
	}
	admin, err := p.Env.AddUser(envtest.User{Name: "kova-manager", Groups: []string{"system:masters"}}, nil)
	if err == nil {
		var data []byte
		if data, err = admin.KubeConfig(); err == nil {
			err = os.WriteFile(p.Kubeconfig, data, 0o600)
		}
	}
	if err != nil {
		_ = p.Env.Stop()
		return nil, err
	}
	return p, nil
}
