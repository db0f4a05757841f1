// Package restart kills the manager in the middle of 50 builds and checks that a new one
// finishes them all with nothing made twice: the driver's state survives on disk, the spawn
// token makes a repeated start a no-op, and addresses are looked up before they are taken.
package restart

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/compute"
	"github.com/kova-dev/kova/internal/testenv"
)

func TestRestart(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(3 * time.Minute)
	SetDefaultEventuallyPollingInterval(20 * time.Millisecond)
	RunSpecs(t, "Manager restart suite")
}

const servers = 50

var _ = Describe("A manager killed in the middle of 50 builds", func() {
	var (
		env        *envtest.Environment
		k8s        client.Client
		managerBin string
		kubeconfig string
		stateDir   string
		ctx        = context.Background()
	)

	BeforeEach(func() {
		tmp := GinkgoT().TempDir()
		pe, err := testenv.StartManagerProcessEnv(tmp)
		Expect(err).NotTo(HaveOccurred())
		env, managerBin, kubeconfig = pe.Env, pe.Binary, pe.Kubeconfig
		DeferCleanup(env.Stop)
		k8s, err = client.New(pe.Config, client.Options{Scheme: env.Scheme})
		Expect(err).NotTo(HaveOccurred())
		stateDir = filepath.Join(tmp, "driver")
	})

	// startManager runs the manager binary as its own process, as `make run` does.
	startManager := func() *exec.Cmd {
		wo := env.WebhookInstallOptions
		cmd := exec.Command(managerBin,
			"--kubeconfig", kubeconfig,
			"--webhook-host", wo.LocalServingHost, "--webhook-port", strconv.Itoa(wo.LocalServingPort),
			"--webhook-cert-dir", wo.LocalServingCertDir,
			"--sim-state-dir", stateDir, "--sim-step-latency", "1s",
			"--metrics-bind-address", "0", "--health-probe-bind-address", "0",
			"--public-namespace", testenv.PublicNamespace)
		cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
		Expect(cmd.Start()).To(Succeed())
		return cmd
	}

	statuses := func() map[string]int {
		var list computev1.ServerList
		Expect(k8s.List(ctx, &list, client.InNamespace("tenant"))).To(Succeed())
		out := map[string]int{}
		for _, s := range list.Items {
			out[s.Status.Status]++
		}
		return out
	}

	It("leaves 50 ACTIVE servers with nothing duplicated", func() {
		first := startManager()
		for _, obj := range testenv.Fixtures("tenant", &computev1.Flavor{ObjectMeta: metav1.ObjectMeta{Name: "m1.small"},
			Spec: computev1.FlavorSpec{VCPUs: 2, RAM: 2048, Disk: 20, IsPublic: true}}, "10.1.0.0/24") {
			Eventually(func() error { return client.IgnoreAlreadyExists(k8s.Create(ctx, obj)) }).Should(Succeed())
		}
		Eventually(func() computev1.ImagePhase {
			img := &computev1.Image{}
			Expect(k8s.Get(ctx, client.ObjectKey{Namespace: testenv.PublicNamespace, Name: "cirros"}, img)).To(Succeed())
			return img.Status.Status
		}).Should(Equal(computev1.ImageActive))

		var wg sync.WaitGroup
		for i := range servers {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				Expect(k8s.Create(ctx, &computev1.Server{
					ObjectMeta: metav1.ObjectMeta{Namespace: "tenant", Name: fmt.Sprintf("web-%02d", i)},
					Spec: computev1.ServerSpec{FlavorRef: "m1.small", ImageRef: "cirros", PowerState: computev1.PowerActive,
						Networks: []computev1.NetworkAttachment{{Name: "private"}}},
				})).To(Succeed())
			}()
		}
		wg.Wait()

		By("killing the manager while some servers are ACTIVE and others still BUILD")
		Eventually(func(g Gomega) {
			st := statuses()
			g.Expect(st["ACTIVE"]).To(BeNumerically(">=", 1))
			g.Expect(st["BUILD"] + st[""]).To(BeNumerically(">=", 1))
		}).Should(Succeed())
		Expect(first.Process.Signal(syscall.SIGKILL)).To(Succeed())
		_ = first.Wait()
		midway := statuses()
		GinkgoWriter.Printf("statuses when killed: %v\n", midway)
		Expect(midway["ACTIVE"]).To(BeNumerically("<", servers))

		By("a new manager on the same state finishing every build")
		second := startManager()
		Eventually(func() int { return statuses()["ACTIVE"] }).Should(Equal(servers))
		// The new manager rebuilt its allocations from the servers' statuses: it counts
		// exactly one address per server, none lost to the kill and none held twice.
		Eventually(func() int64 {
			n := &computev1.Network{}
			Expect(k8s.Get(ctx, client.ObjectKey{Namespace: "tenant", Name: "private"}, n)).To(Succeed())
			return n.Status.Allocated
		}).Should(BeEquivalentTo(servers), "addresses the rebuilt allocator holds")
		Expect(second.Process.Signal(syscall.SIGTERM)).To(Succeed())
		Expect(second.Wait()).To(Succeed())

		var list computev1.ServerList
		Expect(k8s.List(ctx, &list, client.InNamespace("tenant"))).To(Succeed())
		Expect(list.Items).To(HaveLen(servers))
		uids := map[string]bool{}
		addrOf := map[string]string{}
		for _, s := range list.Items {
			Expect(s.Status.TaskState).To(BeEmpty())
			Expect(s.Status.Addresses).To(HaveLen(1), s.Name)
			uids[string(s.UID)] = true
			addrOf[string(s.UID)] = s.Status.Addresses[0].Address
		}

		By("one instance per server on the hypervisors, and their usage adds up")
		driver, err := compute.NewSimulated(compute.SimulatedConfig{StateDir: stateDir})
		Expect(err).NotTo(HaveOccurred())
		ids, err := driver.List(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(ids).To(HaveLen(servers))
		for _, id := range ids {
			Expect(uids).To(HaveKey(id))
		}
		hosts, err := driver.Hosts(ctx)
		Expect(err).NotTo(HaveOccurred())
		var used compute.Resources
		var instances int
		for _, h := range hosts {
			used.VCPUs += h.Used.VCPUs
			used.RAMMiB += h.Used.RAMMiB
			instances += h.Instances
		}
		Expect(instances).To(Equal(servers))
		Expect(used.VCPUs).To(Equal(int32(2 * servers)))
		Expect(used.RAMMiB).To(Equal(int64(2048 * servers)))

		By("one address per server, each its own")
		seen := map[string]bool{}
		for uid, addr := range addrOf {
			Expect(seen).NotTo(HaveKey(addr), "address %s shown by two servers (one is %s)", addr, uid)
			seen[addr] = true
		}
		Expect(seen).To(HaveLen(servers))
	})
})
