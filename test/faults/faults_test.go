package faults

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/compute"
	"github.com/kova-dev/kova/internal/testenv"
)

const (
	creates = 200
	// actionServers each get actionsPerServer actions, in turn: 50 in all.
	actionServers    = 10
	actionsPerServer = 5
	// clients send the creates, as many at once.
	clients = 16
	// killAfter creates answered 202, the component is killed (once some server is
	// mid-build).
	killAfter = 60
)

var _ = Describe("A kill -9 in the middle of a burst of creates and actions", func() {
	DescribeTable("leaves exactly what the clients were told, all of it ACTIVE",
		func(ctx SpecContext, component string, cidr string) {
			burst(ctx, component, cidr)
		},
		Entry("of the manager", testenv.ComponentManager, "10.1.0.0/22", SpecTimeout(7*time.Minute)),
		Entry("of nova-api", testenv.ComponentNovaAPI, "10.2.0.0/22", SpecTimeout(7*time.Minute)),
		Entry("of kube-apiserver", testenv.ComponentKubeAPIServer, "10.3.0.0/22", SpecTimeout(7*time.Minute)),
		Entry("of etcd", testenv.ComponentEtcd, "10.4.0.0/22", SpecTimeout(7*time.Minute)),
	)
})

// figures are what a spec measured, for the report.
type figures struct {
	start, killedAt, backAt, firstAfterKill, burstDone, settled time.Time
	atKill                                                      map[string]int
	retried, unanswered, replayed, totalTries                   int
	// codes counts the answers to creates by status and way in ("0" is no answer);
	// bodies has the first body of each.
	codes  map[string]int
	bodies map[string]string
}

func (f *figures) String() string {
	since := func(t time.Time, from time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.Sub(from).Round(10 * time.Millisecond).String()
	}
	return fmt.Sprintf("statuses at the kill %v; back after %s; first 202 to a create sent after the kill %s after it; burst %s; settled %s after it; "+
		"%d creates retried (%d tries in all), %d attempts unanswered, %d answered by a replay; answers %v; first bodies %v",
		f.atKill, since(f.backAt, f.killedAt), since(f.firstAfterKill, f.killedAt), since(f.burstDone, f.start),
		since(f.settled, f.burstDone), f.retried, f.totalTries, f.unanswered, f.replayed, f.codes, f.bodies)
}

func burst(ctx context.Context, component, cidr string) {
	k8s := stack.Client
	tenant := "faults-" + component
	tokens, err := stack.Tenant(ctx, tenant)
	Expect(err).NotTo(HaveOccurred())
	network := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "private"}, Spec: computev1.NetworkSpec{CIDR: cidr}}
	Expect(k8s.Create(ctx, network)).To(Succeed())
	direct := computeClient(tokens["admin"], tenant, false)
	aggregated := computeClient(tokens["admin"], tenant, true)
	clientFor := func(i int) *gophercloud.ServiceClient {
		if i%2 == 1 {
			return aggregated
		}
		return direct
	}
	opts := func(name string) servers.CreateOpts {
		return servers.CreateOpts{Name: name, FlavorRef: "m1.tiny", ImageRef: imageID,
			Networks: []servers.Network{{UUID: string(network.UID)}}}
	}

	By("booting the servers the actions will act on")
	actionIDs := make([]string, actionServers)
	for i := range actionServers {
		r := createServer(ctx, direct, fmt.Sprintf("%s-act-%02d", tenant, i), opts(fmt.Sprintf("act-%02d", i)))
		Expect(r.last.err).NotTo(HaveOccurred())
		actionIDs[i] = r.id
	}
	Eventually(func(g Gomega) {
		for _, id := range actionIDs {
			s, err := servers.Get(ctx, direct, id).Extract()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(s.Status).To(Equal("ACTIVE"))
		}
	}).WithContext(ctx).Should(Succeed())

	By(fmt.Sprintf("sending %d keyed creates and %d actions, and killing %s midway", creates, actionServers*actionsPerServer, component))
	f := &figures{start: time.Now(), codes: map[string]int{}, bodies: map[string]string{}}
	results := make([]*createResult, creates)
	var answered atomic.Int32
	var wg sync.WaitGroup
	keys := make(chan int)
	for range clients {
		wg.Go(func() {
			defer GinkgoRecover()
			for i := range keys {
				r := createServer(ctx, clientFor(i), fmt.Sprintf("%s-%03d", tenant, i), opts(fmt.Sprintf("burst-%03d", i)))
				results[i] = r
				if r.id != "" {
					answered.Add(1)
				}
			}
		})
	}
	actionErrs := make([]error, actionServers)
	for i, id := range actionIDs {
		wg.Go(func() {
			defer GinkgoRecover()
			actionErrs[i] = actOn(ctx, clientFor(i), id, i)
		})
	}
	wg.Go(func() {
		defer close(keys)
		for i := range creates {
			select {
			case keys <- i:
			case <-ctx.Done():
				return
			}
		}
	})

	// The kill: once killAfter creates are answered and some server is mid-build.
	Eventually(func(g Gomega) {
		g.Expect(int(answered.Load())).To(BeNumerically(">=", killAfter))
		st := statuses(ctx, tenant)
		if answered.Load() < creates*3/4 {
			g.Expect(st["BUILD"]).To(BeNumerically(">", 0), "no server is mid-build yet")
		}
		f.atKill = st
	}).WithContext(ctx).WithPolling(20 * time.Millisecond).Should(Succeed())
	pid := stack.PID(component)
	Expect(pid).NotTo(BeZero(), "%s is running", component)
	Expect(syscall.Kill(pid, syscall.SIGKILL)).To(Succeed())
	f.killedAt = time.Now()
	GinkgoWriter.Printf("killed %s (pid %d) with %d creates answered; statuses %v\n", component, pid, answered.Load(), f.atKill)

	By(component + " coming back")
	Eventually(func() int { return stack.PID(component) }).WithContext(ctx).
		Should(And(Not(BeZero()), Not(Equal(pid))), "%s is started again", component)
	f.backAt = time.Now()
	wg.Wait()
	f.burstDone = time.Now()

	By("every create answered 202 and every action carried out")
	var unanswered []string
	for _, r := range results {
		Expect(r).NotTo(BeNil())
		way := "direct"
		if r.aggregated {
			way = "aggregated"
		}
		for _, o := range r.attempts.history {
			k := fmt.Sprintf("%d %s", o.code, way)
			f.codes[k]++
			if _, seen := f.bodies[k]; !seen && o.code >= 300 {
				f.bodies[k] = o.body
			}
		}
		if r.attempts.tries > 1 {
			f.retried++
		}
		f.totalTries += r.attempts.tries
		f.unanswered += r.attempts.unanswered()
		if r.replayed {
			f.replayed++
		}
		if r.id == "" {
			unanswered = append(unanswered, fmt.Sprintf("%s after %d tries: %v", r.name, r.attempts.tries, r.last.err))
			continue
		}
		if r.sentAt.After(f.killedAt) && (f.firstAfterKill.IsZero() || r.answerAt.Before(f.firstAfterKill)) {
			f.firstAfterKill = r.answerAt
		}
	}
	Expect(unanswered).To(BeEmpty(), "creates never answered 202")
	for i, err := range actionErrs {
		Expect(err).NotTo(HaveOccurred(), "actions on act-%02d", i)
	}

	By("what exists matching what the clients were told, once settled")
	Eventually(func(g Gomega) { checkInvariants(ctx, g, tenant, results, actionIDs, direct) }).WithContext(ctx).Should(Succeed())
	f.settled = time.Now()
	AddReportEntry("kill of "+component, f.String())
	GinkgoWriter.Printf("kill of %s: %s\n", component, f)
}

// statuses counts the tenant's servers by status ("" while the controller has not seen one).
func statuses(ctx context.Context, tenant string) map[string]int {
	var list computev1.ServerList
	Expect(stack.Client.List(ctx, &list, client.InNamespace(tenant))).To(Succeed())
	out := map[string]int{}
	for _, s := range list.Items {
		out[s.Status.Status]++
	}
	return out
}

// The actions, in turn on one server, each carried out (its end state seen) before the
// next: what `openstack server stop --wait` and the like do.
type action struct {
	name string
	do   func(ctx context.Context, c *gophercloud.ServiceClient, id string) error
	// done says the action is carried out, from the server as the client sees it.
	done func(s *servers.Server) bool
}

func activeIdle(s *servers.Server) bool { return s.Status == "ACTIVE" && s.TaskState == "" }

func actionsFor(i int) []action {
	stop := action{"stop", func(ctx context.Context, c *gophercloud.ServiceClient, id string) error {
		return servers.Stop(ctx, c, id).ExtractErr()
	}, func(s *servers.Server) bool { return s.Status == "SHUTOFF" && s.TaskState == "" }}
	start := action{"start", func(ctx context.Context, c *gophercloud.ServiceClient, id string) error {
		return servers.Start(ctx, c, id).ExtractErr()
	}, activeIdle}
	reboot := action{"reboot", func(ctx context.Context, c *gophercloud.ServiceClient, id string) error {
		kind := servers.SoftReboot
		if i%2 == 1 {
			kind = servers.HardReboot
		}
		return servers.Reboot(ctx, c, id, servers.RebootOpts{Type: kind}).ExtractErr()
	}, activeIdle}
	metadata := action{"metadata", func(ctx context.Context, c *gophercloud.ServiceClient, id string) error {
		_, err := servers.CreateMetadatum(ctx, c, id, servers.MetadatumOpts{"burst": "yes"}).Extract()
		return err
	}, func(s *servers.Server) bool { return s.Metadata["burst"] == "yes" }}
	password := action{"changePassword", func(ctx context.Context, c *gophercloud.ServiceClient, id string) error {
		return servers.ChangeAdminPassword(ctx, c, id, fmt.Sprintf("secret-%02d", i)).ExtractErr()
	}, activeIdle}
	lock := action{"lock", func(ctx context.Context, c *gophercloud.ServiceClient, id string) error {
		return servers.Lock(ctx, c, id).ExtractErr()
	}, func(s *servers.Server) bool { return s.Locked != nil && *s.Locked }}
	// Half the servers have their metadata set, half their password changed; all end
	// ACTIVE and locked.
	if i%2 == 0 {
		return []action{stop, start, reboot, metadata, lock}
	}
	return []action{password, reboot, stop, start, lock}
}

// actOn carries out server i's actions in turn. An action that got no answer or a 5xx is
// sent again unless the server shows it done; a 409 is an action already under way (a
// lost answer's), and the client waits for it.
func actOn(ctx context.Context, c *gophercloud.ServiceClient, id string, i int) error {
	for _, a := range actionsFor(i) {
		tries := newAttempts()
		for {
			o := outcomeOf(a.do(ctx, c, id))
			if o.err == nil {
				break
			}
			if o.code == http.StatusConflict {
				if tries.tries == 0 {
					return fmt.Errorf("%s: refused although nothing else runs: %w", a.name, o.err)
				}
				break // an earlier try of ours got there: wait for it
			}
			if !tries.again(ctx, o) {
				return fmt.Errorf("%s: %w", a.name, o.err)
			}
			if s, err := servers.Get(ctx, c, id).Extract(); err == nil && a.done(s) {
				break
			}
		}
		// Wait for the end state, as a client's --wait does; GETs that fail are tried again.
		deadline := time.Now().Add(clientDeadline)
		for {
			s, err := servers.Get(ctx, c, id).Extract()
			if err == nil && a.done(s) && s.TaskState == "" {
				break
			}
			if err == nil && s.Status == "ERROR" {
				return fmt.Errorf("%s: the server went to ERROR: %+v", a.name, s.Fault)
			}
			if time.Now().After(deadline) {
				last := "no answer"
				if err == nil {
					last = fmt.Sprintf("status %s, task %q", s.Status, s.TaskState)
				}
				return fmt.Errorf("%s: not carried out within %s (last: %s)", a.name, clientDeadline, last)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

// checkInvariants asserts the state of the world after the burst.
func checkInvariants(ctx context.Context, g Gomega, tenant string, results []*createResult, actionIDs []string, c *gophercloud.ServiceClient) {
	k8s := stack.Client
	var list computev1.ServerList
	g.Expect(k8s.List(ctx, &list, client.InNamespace(tenant))).To(Succeed())
	byName := map[string][]computev1.Server{}
	byUID := map[string]computev1.Server{}
	for _, s := range list.Items {
		byName[s.Spec.Name] = append(byName[s.Spec.Name], s)
		byUID[string(s.UID)] = s
		g.Expect(s.Status.TaskState).To(BeEmpty(), "server %s (%s) is stuck in a task", s.Spec.Name, s.Name)
		g.Expect(s.Status.Addresses).To(HaveLen(1), "server %s (%s) addresses", s.Spec.Name, s.Name)
	}

	// Each keyed create made one server, the one its 202 named, and it is ACTIVE.
	for _, r := range results {
		made := byName[r.name]
		g.Expect(serverNames(made)).To(HaveLen(1), "servers made by the create keyed %s", r.key)
		g.Expect(string(made[0].UID)).To(Equal(r.id), "the server the 202 for %s named", r.key)
		g.Expect(made[0].Status.Status).To(Equal("ACTIVE"), "server %s", r.name)
	}
	g.Expect(list.Items).To(HaveLen(creates+actionServers), "servers in the tenant")

	// The servers acted on ended as their last action left them.
	for i, id := range actionIDs {
		g.Expect(byUID).To(HaveKey(id))
		s, err := servers.Get(ctx, c, id).Extract()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(s.Status).To(Equal("ACTIVE"), "act-%02d", i)
		g.Expect(s.Locked).To(HaveValue(BeTrue()), "act-%02d", i)
		if i%2 == 0 {
			g.Expect(s.Metadata).To(HaveKeyWithValue("burst", "yes"), "act-%02d", i)
		}
	}

	// One address per server, as its status records it (the record the manager's allocator
	// is rebuilt from), none twice; the network counts exactly those, so none is held by no one.
	held := map[string]string{}
	for _, srv := range list.Items {
		g.Expect(srv.Status.Addresses).To(HaveLen(1), "the addresses server %s shows", srv.Spec.Name)
		a := srv.Status.Addresses[0]
		g.Expect(held).NotTo(HaveKey(a.Address), "address %s is held by %s and %s", a.Address, held[a.Address], srv.Spec.Name)
		held[a.Address] = srv.Spec.Name
		g.Expect(a.NetworkNamespace + "/" + a.NetworkName).To(Equal(tenant + "/private"))
	}
	network := &computev1.Network{}
	g.Expect(k8s.Get(ctx, client.ObjectKey{Namespace: tenant, Name: "private"}, network)).To(Succeed())
	g.Expect(network.Status.Allocated).To(BeEquivalentTo(len(list.Items)), "addresses the network counts")

	// No Secret that nothing will delete: each is owned.
	var secrets corev1.SecretList
	g.Expect(k8s.List(ctx, &secrets, client.InNamespace(tenant))).To(Succeed())
	for _, s := range secrets.Items {
		g.Expect(s.OwnerReferences).NotTo(BeEmpty(), "Secret %s has no owner", s.Name)
	}
	// Every action ended.
	var actions computev1.ServerActionList
	g.Expect(k8s.List(ctx, &actions, client.InNamespace(tenant))).To(Succeed())
	for _, a := range actions.Items {
		g.Expect(a.Status.Phase).To(BeElementOf(computev1.ActionSucceeded, computev1.ActionFailed), "ServerAction %s", a.Name)
	}

	// The hypervisors hold one instance per server, of every tenant, and nothing else.
	var all computev1.ServerList
	g.Expect(k8s.List(ctx, &all)).To(Succeed())
	uids := map[string]bool{}
	for _, s := range all.Items {
		uids[string(s.UID)] = true
	}
	ids, hosts, err := stack.DriverInstances(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ids).To(HaveLen(len(uids)), "instances on the hypervisors")
	for _, id := range ids {
		g.Expect(uids).To(HaveKey(id), "instance %s has no server", id)
	}
	// Every server has m1.tiny: what the hosts hold adds up to that many of it.
	var instances int
	var used compute.Resources
	for _, h := range hosts {
		instances += h.Instances
		used.VCPUs += h.Used.VCPUs
		used.RAMMiB += h.Used.RAMMiB
		used.DiskGiB += h.Used.DiskGiB
	}
	g.Expect(instances).To(Equal(len(ids)), "instances the hosts count")
	n := int64(len(ids))
	g.Expect(used).To(Equal(compute.Resources{VCPUs: int32(n), RAMMiB: 512 * n, DiskGiB: n}), "what the hosts hold")
}

// serverNames are the servers' object names, to say which ones a failure is about.
func serverNames(list []computev1.Server) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		out = append(out, s.Name)
	}
	return out
}
