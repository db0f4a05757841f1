package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"

	"github.com/kova-dev/kova/internal/localcp"
	"github.com/kova-dev/kova/internal/novaserver"
	"github.com/kova-dev/kova/internal/testenv"
)

// TestChildrenComeBack runs the whole local stack, as `make run` does, kills the manager
// and nova-api with SIGKILL, and sees each started again, a token issued before still
// working; then it stops everything within its deadlines.
func TestChildrenComeBack(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole local stack")
	}
	g := NewWithT(t)
	root := testenv.Root()
	if _, err := os.Stat(filepath.Join(testenv.BinDir(), "kube-apiserver")); err != nil {
		t.Skipf("no control-plane binaries in %s (make control-plane)", testenv.BinDir())
	}
	tmp := t.TempDir()
	for _, cmd := range []string{"manager", "nova-api"} {
		build := exec.Command("go", "build", "-o", filepath.Join(tmp, cmd), "./cmd/"+cmd)
		build.Dir = root
		out, err := build.CombinedOutput()
		g.Expect(err).NotTo(HaveOccurred(), "building %s: %s", cmd, out)
	}
	port, err := localcp.FreePort()
	g.Expect(err).NotTo(HaveOccurred())
	o := options{
		dataDir: filepath.Join(tmp, "data"), binDir: testenv.BinDir(), configDir: filepath.Join(root, "config"),
		manager: filepath.Join(tmp, "manager"), novaAPI: filepath.Join(tmp, "nova-api"),
		novaDirect: "127.0.0.1:" + strconv.Itoa(port),
	}

	out := gbytes.NewBuffer() // the children's output, for a failure message
	log := slog.New(slog.NewTextHandler(out, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runLocalCP(ctx, o, log, out, out) }()
	stopped := false
	defer func() { // a failure leaves no stack running
		cancel()
		if !stopped {
			select {
			case err := <-done:
				t.Logf("localcp stopped: %v", err)
			case <-time.After(2 * time.Minute):
			}
		}
	}()
	defer func() {
		if t.Failed() {
			all := out.Contents()
			t.Logf("localcp output (tail):\n%s", all[max(0, len(all)-4000):])
		}
	}()

	// The stack is set up once the tokens of every demo identity used below are written
	// (one after the other).
	tokenFile := func(user string) string { return filepath.Join(o.dataDir, "demo", user+".token") }
	g.Eventually(func(g Gomega) {
		for _, user := range []string{"observer", "admin", "operator"} {
			data, err := os.ReadFile(tokenFile(user))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(data).NotTo(BeEmpty(), user)
		}
	}).WithTimeout(5*time.Minute).WithPolling(time.Second).Should(Succeed(), "the stack is set up")
	token, err := os.ReadFile(tokenFile("observer"))
	g.Expect(err).NotTo(HaveOccurred())
	caPEM, err := os.ReadFile(novaserver.ServingCertFile(filepath.Join(o.dataDir, "nova-api")))
	g.Expect(err).NotTo(HaveOccurred())
	pool := x509.NewCertPool()
	g.Expect(pool.AppendCertsFromPEM(caPEM)).To(BeTrue())
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer hc.CloseIdleConnections()
	get := func(path string, token []byte) func() (int, error) {
		return func() (int, error) {
			req, err := http.NewRequest(http.MethodGet, "https://"+o.novaDirect+path, nil)
			if err != nil {
				return 0, err
			}
			req.Header.Set("X-Auth-Token", string(token))
			resp, err := hc.Do(req)
			if err != nil {
				return 0, err
			}
			defer resp.Body.Close()
			return resp.StatusCode, nil
		}
	}
	listServers := get("/v2.1/demo/servers", token)
	g.Eventually(listServers).WithTimeout(time.Minute).Should(Equal(http.StatusOK))

	// The demo cloud operator is Nova's admin (all_tenants); the tenant's admin is not.
	for user, want := range map[string]int{"admin": http.StatusForbidden, "operator": http.StatusOK} {
		tok, err := os.ReadFile(tokenFile(user))
		g.Expect(err).NotTo(HaveOccurred())
		g.Eventually(get("/v2.1/demo/servers?all_tenants=1", tok)).WithTimeout(time.Minute).Should(Equal(want), user)
	}

	for _, child := range []struct{ name, arg string }{
		{"nova-api", "--cert-dir=" + filepath.Join(o.dataDir, "nova-api")},
		{"manager", "--sim-state-dir=" + filepath.Join(o.dataDir, "driver")},
	} {
		pid := testenv.PIDWithArg(child.arg)
		g.Expect(pid).NotTo(BeZero(), "%s runs", child.name)
		g.Expect(syscall.Kill(pid, syscall.SIGKILL)).To(Succeed())
		g.Eventually(func() int { return testenv.PIDWithArg(child.arg) }).WithTimeout(time.Minute).
			Should(And(Not(BeZero()), Not(Equal(pid))), "%s is started again", child.name)
		g.Eventually(listServers).WithTimeout(2*time.Minute).Should(Equal(http.StatusOK),
			"the token issued before %s was killed works", child.name)
	}
	g.Consistently(func() error {
		select {
		case err := <-done:
			return fmt.Errorf("localcp stopped: %v", err)
		default:
			return nil
		}
	}).WithTimeout(2 * time.Second).Should(Succeed())

	cancel()
	g.Eventually(done).WithTimeout(2*time.Minute).Should(Receive(BeNil()), "localcp stops everything")
	stopped = true
	for _, arg := range []string{"--cert-dir=" + filepath.Join(o.dataDir, "nova-api"), "--sim-state-dir=" + filepath.Join(o.dataDir, "driver")} {
		g.Expect(testenv.PIDWithArg(arg)).To(BeZero(), "%s is stopped", arg)
	}
}
