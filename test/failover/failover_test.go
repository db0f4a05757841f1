package failover

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/compute"
	"github.com/kova-dev/kova/internal/localcp"
	"github.com/kova-dev/kova/internal/testenv"
)

const (
	servers = 200
	// lateBoots are sent while the standby takes over: the new leader spawns them.
	lateBoots = 50
	tenant    = "tenant"
	// A short lease, so a failover takes seconds: the standby takes the Lease once the
	// leader has not renewed it for the lease duration.
	leaseDuration = 4 * time.Second
	renewDeadline = 3 * time.Second
	retryPeriod   = time.Second
	// client-go waits a retry period plus up to 1.2 times more (its jitter) between tries.
	maxRetryWait = retryPeriod + retryPeriod*12/10
	// latencySlack allows for the API round trips and the scheduling of a shared machine
	// on top of the election's own timing.
	latencySlack = time.Second
	// stepLatency keeps builds in progress long enough for the kill to find some.
	stepLatency = time.Second
	// Four hosts with room for the whole burst.
	simHosts = "h1:vcpus=256,ram=262144,disk=4096;h2:vcpus=256,ram=262144,disk=4096;" +
		"h3:vcpus=256,ram=262144,disk=4096;h4:vcpus=256,ram=262144,disk=4096"
)

// manager is one replica: its process and its ports.
type manager struct {
	cmd                *exec.Cmd
	webhook, debugAddr string
}

// leads tells whether the replica serves the simulated driver's debug endpoint, which
// only the leader does.
func (m *manager) leads() bool {
	c, err := net.DialTimeout("tcp", m.debugAddr, time.Second)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

var _ = Describe("Two managers, the leader killed in the middle of 200 boots", Ordered, func() {
	var (
		env        *envtest.Environment
		k8s        client.Client
		kubeconfig string
		stateDir   string
		spawnLog   string
		managerBin string
		lb         *balancer
		ctx        = context.Background()
	)

	BeforeAll(func() {
		tmp := GinkgoT().TempDir()
		pe, err := testenv.StartManagerProcessEnv(tmp)
		Expect(err).NotTo(HaveOccurred())
		env, managerBin, kubeconfig = pe.Env, pe.Binary, pe.Kubeconfig
		DeferCleanup(env.Stop)
		fast := rest.CopyConfig(pe.Config)
		fast.QPS, fast.Burst = -1, 0 // the test's own client is not what is measured
		k8s, err = client.New(fast, client.Options{Scheme: env.Scheme})
		Expect(err).NotTo(HaveOccurred())
		stateDir = filepath.Join(tmp, "driver")
		spawnLog = filepath.Join(tmp, "spawns.log")
		Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kova-system"}})).To(Succeed())
	})

	// startManager runs one replica with leader election, sharing the state directory; its
	// webhooks listen on webhookPort, or on a new port if 0.
	startManager := func(name string, webhookPort int) *manager {
		var err error
		if webhookPort == 0 {
			webhookPort, err = localcp.FreePort()
			Expect(err).NotTo(HaveOccurred())
		}
		debugPort, err := localcp.FreePort()
		Expect(err).NotTo(HaveOccurred())
		m := &manager{
			webhook:   net.JoinHostPort("127.0.0.1", strconv.Itoa(webhookPort)),
			debugAddr: net.JoinHostPort("127.0.0.1", strconv.Itoa(debugPort)),
		}
		m.cmd = exec.Command(managerBin,
			"--kubeconfig", kubeconfig,
			"--leader-elect", "--leader-election-namespace=kova-system",
			"--leader-election-lease-duration="+leaseDuration.String(),
			"--leader-election-renew-deadline="+renewDeadline.String(),
			"--leader-election-retry-period="+retryPeriod.String(),
			"--webhook-host=127.0.0.1", "--webhook-port="+strconv.Itoa(webhookPort),
			"--webhook-cert-dir="+env.WebhookInstallOptions.LocalServingCertDir,
			"--sim-state-dir="+stateDir, "--sim-spawn-log="+spawnLog,
			"--sim-step-latency="+stepLatency.String(), "--sim-hosts="+simHosts,
			"--sim-debug-address="+m.debugAddr,
			"--metrics-bind-address=0", "--health-probe-bind-address=0",
			"--public-namespace="+testenv.PublicNamespace)
		out := prefixed(GinkgoWriter, name)
		m.cmd.Stdout, m.cmd.Stderr = out, out
		Expect(m.cmd.Start()).To(Succeed())
		DeferCleanup(func() {
			if m.cmd.ProcessState == nil {
				_ = m.cmd.Process.Signal(syscall.SIGTERM)
				_ = m.cmd.Wait()
			}
		})
		// Its webhooks serve whether it leads or not.
		Eventually(func() error {
			c, err := net.DialTimeout("tcp", m.webhook, time.Second)
			if err == nil {
				_ = c.Close()
			}
			return err
		}).Should(Succeed())
		return m
	}

	lease := func() *coordinationv1.Lease {
		GinkgoHelper()
		l := &coordinationv1.Lease{}
		Expect(client.IgnoreNotFound(k8s.Get(ctx, client.ObjectKey{Namespace: "kova-system", Name: "manager.compute.kova.dev"}, l))).To(Succeed())
		return l
	}
	holder := func() string {
		if h := lease().Spec.HolderIdentity; h != nil {
			return *h
		}
		return ""
	}

	statuses := func() map[string]int {
		GinkgoHelper()
		var list computev1.ServerList
		Expect(k8s.List(ctx, &list, client.InNamespace(tenant))).To(Succeed())
		out := map[string]int{}
		for _, s := range list.Items {
			out[s.Status.Status]++
			if s.Status.Status == "BUILD" && s.Status.Operation != nil {
				out["BUILD with a spawn in progress"]++
			}
			if s.Status.Status == "ACTIVE" && s.Status.TaskState == "" {
				out["ACTIVE, no task"]++
			}
		}
		return out
	}

	It("takes over within the lease, ends with 200 ACTIVE servers, none spawned twice, no address leaked", func() {
		By("a first manager taking the Lease, then a standby that serves webhooks but nothing else")
		first := startManager("manager-a", 0)
		Eventually(holder).ShouldNot(BeEmpty())
		Eventually(first.leads).Should(BeTrue())
		leaderID := holder()
		second := startManager("manager-b", 0)
		Expect(second.leads()).To(BeFalse(), "the standby serves the debug endpoint")
		Expect(holder()).To(Equal(leaderID))
		var err error
		lb, err = newBalancer(net.JoinHostPort(env.WebhookInstallOptions.LocalServingHost,
			strconv.Itoa(env.WebhookInstallOptions.LocalServingPort)), first.webhook, second.webhook)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(lb.Close)

		flavor := &computev1.Flavor{ObjectMeta: metav1.ObjectMeta{Name: "m1.tiny"},
			Spec: computev1.FlavorSpec{VCPUs: 1, RAM: 512, Disk: 1, IsPublic: true}}
		for _, obj := range testenv.Fixtures(tenant, flavor, "10.1.0.0/23") {
			Eventually(func() error { return client.IgnoreAlreadyExists(k8s.Create(ctx, obj)) }).Should(Succeed())
		}
		Eventually(func() computev1.ImagePhase {
			img := &computev1.Image{}
			Expect(k8s.Get(ctx, client.ObjectKey{Namespace: testenv.PublicNamespace, Name: "cirros"}, img)).To(Succeed())
			return img.Status.Status
		}).Should(Equal(computev1.ImageActive))

		By("the standby answering admission reviews itself")
		probe := &computev1.Server{
			TypeMeta:   metav1.TypeMeta{APIVersion: computev1.GroupVersion.String(), Kind: "Server"},
			ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "probe", UID: "probe-uid"},
			Spec: computev1.ServerSpec{FlavorRef: flavor.Name, ImageRef: "cirros", PowerState: computev1.PowerActive,
				Networks: []computev1.NetworkAttachment{{Name: "private"}}},
		}
		Eventually(func(g Gomega) {
			answer := review(ctx, second.webhook, env.WebhookInstallOptions.LocalServingCAData, probe)
			g.Expect(answer.Allowed).To(BeTrue(), "%+v", answer.Result)
		}).Should(Succeed())
		Expect(second.leads()).To(BeFalse())

		By("a burst of 200 boots, the last 50 of them sent after the kill")
		var wg sync.WaitGroup
		names := make(chan string, servers)
		for i := range servers - lateBoots {
			names <- fmt.Sprintf("web-%03d", i)
		}
		var refusedMu sync.Mutex
		var refused []time.Time // when a create was refused
		for range 16 {
			wg.Go(func() {
				defer GinkgoRecover()
				for name := range names {
					// A create refused while a replica dies (its webhook call cut) is sent again.
					Eventually(func() error {
						err := client.IgnoreAlreadyExists(k8s.Create(ctx, &computev1.Server{
							ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: name},
							Spec: computev1.ServerSpec{FlavorRef: flavor.Name, ImageRef: "cirros", PowerState: computev1.PowerActive,
								Networks: []computev1.NetworkAttachment{{Name: "private"}}},
						}))
						if err != nil {
							refusedMu.Lock()
							refused = append(refused, time.Now())
							refusedMu.Unlock()
						}
						return err
					}).Should(Succeed())
				}
			})
		}

		By("kill -9 of the leader while some servers are ACTIVE and others still build")
		Eventually(func(g Gomega) {
			st := statuses()
			g.Expect(st["ACTIVE"]).To(BeNumerically(">=", 10))
			g.Expect(st["BUILD with a spawn in progress"]).To(BeNumerically(">=", 10))
		}).WithPolling(20 * time.Millisecond).Should(Succeed())
		Expect(first.leads()).To(BeTrue())
		Expect(holder()).To(Equal(leaderID))
		killed := time.Now()
		Expect(first.cmd.Process.Signal(syscall.SIGKILL)).To(Succeed())
		_ = first.cmd.Wait()
		midway := statuses()
		AddReportEntry("statuses when the leader was killed", fmt.Sprint(midway))
		Expect(midway["ACTIVE"]).To(BeNumerically("<", servers))
		for i := servers - lateBoots; i < servers; i++ {
			names <- fmt.Sprintf("web-%03d", i)
		}
		close(names)

		By("the standby taking the Lease within the lease time")
		Eventually(holder).WithPolling(20 * time.Millisecond).ShouldNot(Equal(leaderID))
		l := lease()
		Expect(l.Spec.AcquireTime).NotTo(BeNil())
		acquired := l.Spec.AcquireTime.Time
		takeover := acquired.Sub(killed)
		AddReportEntry("takeover", fmt.Sprintf("%v after kill -9 (lease %v, retry %v)", takeover.Round(time.Millisecond), leaseDuration, retryPeriod))
		// The standby last saw the Lease renewed at one of its tries (at most a jittered
		// retry after the kill), then waits the lease duration and takes it at its next try.
		Expect(takeover).To(BeNumerically("<=", leaseDuration+2*maxRetryWait+latencySlack))
		Expect(*l.Spec.LeaseTransitions).To(BeNumerically(">=", 1))
		Eventually(second.leads).Should(BeTrue())
		wg.Wait()

		By("every server ACTIVE with no task left")
		Eventually(func() int { return statuses()["ACTIVE, no task"] }).Should(Equal(servers))
		AddReportEntry("all ACTIVE", fmt.Sprintf("%v after kill -9", time.Since(killed).Round(time.Millisecond)))
		var list computev1.ServerList
		Expect(k8s.List(ctx, &list, client.InNamespace(tenant))).To(Succeed())
		Expect(list.Items).To(HaveLen(servers))
		addrOf := map[string]string{}
		for _, s := range list.Items {
			Expect(s.Status.Addresses).To(HaveLen(1), s.Name)
			addrOf[string(s.UID)] = s.Status.Addresses[0].Address
		}

		By("one spawn per server: the dead leader's spawns in progress were resumed, not begun again")
		spawns, err := compute.ReadSpawnLog(spawnLog)
		Expect(err).NotTo(HaveOccurred())
		perServer := map[string]int{}
		byReplica := map[int]int{}
		for _, s := range spawns {
			Expect(addrOf).To(HaveKey(s.ID))
			perServer[s.ID]++
			byReplica[s.PID]++
			switch s.PID {
			case first.cmd.Process.Pid:
				Expect(s.At).To(BeTemporally("<=", killed))
			case second.cmd.Process.Pid:
				// The standby began nothing before it led.
				Expect(s.At).To(BeTemporally(">=", acquired.Add(-time.Millisecond)))
			default:
				Fail(fmt.Sprintf("a spawn by an unknown process: %+v", s))
			}
		}
		Expect(perServer).To(HaveLen(servers))
		Expect(byReplica[second.cmd.Process.Pid]).To(BeNumerically(">=", lateBoots), "the new leader spawned the late boots")
		for id, n := range perServer {
			Expect(n).To(Equal(1), "instance %s spawned %d times", id, n)
		}
		AddReportEntry("spawns by replica", fmt.Sprintf("dead leader %d, new leader %d", byReplica[first.cmd.Process.Pid], byReplica[second.cmd.Process.Pid]))

		By("one instance per server on the hypervisors, and their usage adds up")
		ids, hosts := driverState(ctx, stateDir)
		Expect(ids).To(HaveLen(servers))
		var used compute.Resources
		for _, h := range hosts {
			used.VCPUs += h.Used.VCPUs
			used.RAMMiB += h.Used.RAMMiB
			used.DiskGiB += h.Used.DiskGiB
		}
		Expect(used).To(Equal(compute.Resources{VCPUs: servers, RAMMiB: 512 * servers, DiskGiB: servers}))

		By("one address per server, each its own, as the server shows it")
		held, _ := allocations(ctx, k8s)
		Expect(held).To(HaveLen(servers))
		// The network's count is written in batches: it comes to exactly one per server.
		Eventually(func() int64 { _, allocated := allocations(ctx, k8s); return allocated }).Should(Equal(int64(servers)))
		seen := map[string]bool{}
		for _, a := range held {
			Expect(seen).NotTo(HaveKey(a.Address), "address %s given twice", a.Address)
			seen[a.Address] = true
			Expect(addrOf[a.ServerUID]).To(Equal(a.Address))
		}

		By("the webhooks served throughout: no create refused before the kill, the survivor's after it")
		// kube-apiserver keeps one HTTP/2 connection to a webhook Service, so before the kill
		// it may have talked to either replica; after it, only the survivor is there.
		Expect(lb.served[1].Load()).To(BeNumerically(">", 0), "the survivor %s", second.webhook)
		for _, at := range refused {
			Expect(at).To(BeTemporally(">=", killed), "a create refused while both replicas served")
		}
		AddReportEntry("creates refused (and sent again) after the kill", len(refused))

		By("a rollout: a replacement joins, and the leader stopped with SIGTERM hands over at once")
		_, port, err := net.SplitHostPort(first.webhook)
		Expect(err).NotTo(HaveOccurred())
		webhookPort, err := strconv.Atoi(port)
		Expect(err).NotTo(HaveOccurred())
		third := startManager("manager-c", webhookPort) // the dead replica's endpoint, as a new pod behind the Service
		Expect(third.leads()).To(BeFalse())
		leaderID = holder()
		stopped := time.Now()
		Expect(second.cmd.Process.Signal(syscall.SIGTERM)).To(Succeed())
		Expect(second.cmd.Wait()).To(Succeed())
		Eventually(holder).WithPolling(20 * time.Millisecond).ShouldNot(BeElementOf(leaderID, ""))
		handover := lease().Spec.AcquireTime.Sub(stopped)
		AddReportEntry("handover", fmt.Sprintf("%v after SIGTERM (the Lease released)", handover.Round(time.Millisecond)))
		Expect(handover).To(BeNumerically("<", leaseDuration))
		Eventually(third.leads).Should(BeTrue())

		By("every address free again once the 200 are deleted")
		Expect(k8s.DeleteAllOf(ctx, &computev1.Server{}, client.InNamespace(tenant))).To(Succeed())
		Eventually(func() []computev1.Server {
			var left computev1.ServerList
			Expect(k8s.List(ctx, &left, client.InNamespace(tenant))).To(Succeed())
			return left.Items
		}).Should(BeEmpty())
		Eventually(func(g Gomega) {
			held, allocated := allocations(ctx, k8s)
			g.Expect(held).To(BeEmpty())
			g.Expect(allocated).To(BeZero())
		}).Should(Succeed())
		ids, _ = driverState(ctx, stateDir)
		Expect(ids).To(BeEmpty())
	})
})
