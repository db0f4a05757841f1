package localcp

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// kcmStartAttempts: kube-controller-manager's port is picked by us and could
// be taken by someone else before it binds; it then exits and we try again.
const kcmStartAttempts = 3

// startControllerManager runs kube-controller-manager against the API server
// and waits until it reports healthy.
func (c *ControlPlane) startControllerManager(ctx context.Context) error {
	kubeconfig := filepath.Join(c.dirs.kcm(), "kubeconfig")
	// A system:masters identity: with --use-service-account-credentials=false
	// every controller (garbage collector included) acts as this user, and
	// the stock system:kube-controller-manager role does not cover that.
	if err := c.WriteKubeconfig(kubeconfig, "system:kube-controller-manager", []string{"system:masters"}); err != nil {
		return err
	}
	var lastErr error
	for range kcmStartAttempts {
		port, err := FreePort()
		if err != nil {
			return err
		}
		stdout, stderr := c.output("kube-controller-manager")
		p, err := StartProcess("kube-controller-manager", filepath.Join(c.opts.BinDir, "kube-controller-manager"),
			c.controllerManagerArgs(kubeconfig, port), stdout, stderr, nil)
		if err != nil {
			return fmt.Errorf("localcp: %w", err)
		}
		lastErr = waitHealthy(ctx, p, fmt.Sprintf("https://127.0.0.1:%d/healthz", port))
		if lastErr == nil {
			c.kcm = Supervise(p, c.log)
			return nil
		}
		if done, _ := p.exited(); !done {
			_ = p.Stop(stopTimeout)
			return fmt.Errorf("localcp: kube-controller-manager: %w", lastErr)
		}
	}
	return fmt.Errorf("localcp: kube-controller-manager: %w", lastErr)
}

func (c *ControlPlane) controllerManagerArgs(kubeconfig string, port int) []string {
	return []string{
		"--kubeconfig=" + kubeconfig,
		// Delegated authn/authz for its own HTTPS endpoint; /healthz is always allowed.
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(port),
		"--cert-dir=" + c.dirs.kcm(),
		"--leader-elect=false",
		"--use-service-account-credentials=false",
		"--service-account-private-key-file=" + c.dirs.serviceAccountKey(),
		"--root-ca-file=" + c.dirs.apiServerCA(),
		"--controllers=*",
	}
}

// waitHealthy polls url until it answers 200, the process exits, ctx ends or
// startTimeout passes.
func waitHealthy(ctx context.Context, p *Process, url string) error {
	client := &http.Client{
		Timeout: 2 * time.Second,
		// Its serving certificate is self-signed, and only liveness matters here.
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec
	}
	defer client.CloseIdleConnections()
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, startTimeout, true, func(ctx context.Context) (bool, error) {
		if done, err := p.exited(); done {
			return false, fmt.Errorf("exited during startup: %w", err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return false, nil // not listening yet
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, for the servers
// started beside the control plane (kube-controller-manager here, nova-api in cmd/localcp).
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
