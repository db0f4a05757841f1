package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/instanceactions"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Two nova-api replicas behind one Service answer a client's requests in turn: each request
// may land on either, each with its own informer cache. Whatever one of them answered 2xx,
// the next request, on the other, shows. 50 servers go through create, metadata, rename,
// os-stop, rebuild and delete, each step written through one replica and read at once
// through the other, ten servers at a time so that the caches have work to lag behind.
var _ = Describe("Two nova-api replicas answering alternately", Ordered, func() {
	const (
		rounds   = 50
		parallel = 10
	)
	var a, b *gophercloud.ServiceClient

	BeforeAll(func(ctx SpecContext) {
		a, b = twoReplicas(ctx)
		for _, c := range []*gophercloud.ServiceClient{a, b} {
			c.Microversion = "2.52" // tags at create, and shown
		}
	}, NodeTimeout(2*time.Minute))

	// inProgress says a server shows the action it was just asked for: one of its tasks
	// (with the status Nova shows during it), or, should it be over already, where it leads
	// with no task; never the state before it.
	inProgress := func(g Gomega, s *servers.Server, status string, tasks []string, done string) {
		if s.TaskState == "" {
			g.Expect(s.Status).To(Equal(done), "%s: no task, and not %s yet", s.Name, done)
			return
		}
		g.Expect(s.Status).To(Equal(status), "%s: task %s", s.Name, s.TaskState)
		g.Expect(tasks).To(ContainElement(s.TaskState), "%s: status %s", s.Name, s.Status)
	}
	settled := func(g Gomega, ctx context.Context, c *gophercloud.ServiceClient, id, status string) {
		g.Eventually(func(g Gomega) {
			s, err := servers.Get(ctx, c, id).Extract()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(s.Status).To(Equal(status), "fault %+v", s.Fault)
			g.Expect(s.TaskState).To(BeEmpty())
		}).Should(Succeed())
	}

	// round takes one server through its life, alternating replicas from step to step;
	// odd rounds start on the other replica.
	round := func(g Gomega, ctx context.Context, i int, image string) {
		w, r := a, b
		if i%2 == 1 {
			w, r = b, a
		}
		swap := func() { w, r = r, w }
		name := fmt.Sprintf("ryw-%02d", i)
		tag := fmt.Sprintf("round-%02d", i)

		created, err := servers.Create(ctx, w, servers.CreateOpts{Name: name, FlavorRef: "m1.tiny", ImageRef: image,
			Networks: []servers.Network{{UUID: networkID}}, Tags: []string{tag}}, nil).Extract()
		g.Expect(err).NotTo(HaveOccurred())
		id := created.ID
		s, err := servers.Get(ctx, r, id).Extract()
		g.Expect(err).NotTo(HaveOccurred(), "created through one replica, not found through the other")
		inProgress(g, s, "BUILD", []string{"scheduling", "networking", "spawning"}, "ACTIVE")
		g.Expect(s.Tags).To(HaveValue(ConsistOf(tag)))
		pages, err := servers.List(r, servers.ListOpts{Tags: tag}).AllPages(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		listed, err := servers.ExtractServers(pages)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(listed).To(ConsistOf(HaveField("ID", id)), "the other replica's list")
		// And in the whole list in Nova's default order, which reads a page from the
		// replica's index of servers rather than filtering them all.
		g.Expect(listAll(ctx, g, r)).To(ContainElement(HaveField("ID", id)), "the other replica's unfiltered list")
		settled(g, ctx, r, id, "ACTIVE")

		swap()
		want := fmt.Sprintf("v%d", i)
		_, err = servers.UpdateMetadata(ctx, w, id, servers.MetadataOpts{"round": want}).Extract()
		g.Expect(err).NotTo(HaveOccurred())
		s, err = servers.Get(ctx, r, id).Extract()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(s.Metadata).To(HaveKeyWithValue("round", want))

		swap()
		_, err = servers.Update(ctx, w, id, servers.UpdateOpts{Name: name + "-renamed"}).Extract()
		g.Expect(err).NotTo(HaveOccurred())
		s, err = servers.Get(ctx, r, id).Extract()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(s.Name).To(Equal(name + "-renamed"))
		g.Expect(listAll(ctx, g, r)).To(ContainElement(And(HaveField("ID", id), HaveField("Name", name+"-renamed"))), "the other replica's unfiltered list")

		swap()
		g.Expect(servers.Stop(ctx, w, id).ExtractErr()).To(Succeed())
		s, err = servers.Get(ctx, r, id).Extract()
		g.Expect(err).NotTo(HaveOccurred())
		inProgress(g, s, "ACTIVE", []string{"powering-off"}, "SHUTOFF")
		settled(g, ctx, r, id, "SHUTOFF")

		swap()
		_, err = servers.Rebuild(ctx, w, id, servers.RebuildOpts{ImageRef: image}).Extract()
		g.Expect(err).NotTo(HaveOccurred())
		s, err = servers.Get(ctx, r, id).Extract()
		g.Expect(err).NotTo(HaveOccurred())
		// Nova's rebuild leaves a stopped server stopped: its last task powers it off again
		// (compute manager, "bringing vm to original state"), which a read can catch when the
		// machine is slow. Nova shows that task with vm_state active: status ACTIVE.
		if s.TaskState == "powering-off" {
			g.Expect(s.Status).To(Equal("ACTIVE"), "%s: the rebuild's last task", s.Name)
		} else {
			inProgress(g, s, "REBUILD", []string{"rebuilding", "rebuild_block_device_mapping", "rebuild_spawning"}, "SHUTOFF")
		}
		settled(g, ctx, r, id, "SHUTOFF")

		swap()
		g.Expect(servers.Delete(ctx, w, id).ExtractErr()).To(Succeed())
		s, err = servers.Get(ctx, r, id).Extract()
		if err == nil {
			// Nova shows a server being deleted until it is gone.
			g.Expect(s.TaskState).To(Equal("deleting"), "status %s", s.Status)
		} else {
			g.Expect(gophercloud.ResponseCodeIs(err, http.StatusNotFound)).To(BeTrue(), "%v", err)
		}
		g.Eventually(func() bool {
			_, err := servers.Get(ctx, r, id).Extract()
			return gophercloud.ResponseCodeIs(err, http.StatusNotFound)
		}).Should(BeTrue())
	}

	It("shows each write through the other replica at once, 50 servers through their life", func(ctx SpecContext) {
		image := listImages(ctx, compute(tokens["admin"], "direct"))["cirros"] // the images proxy ends at 2.35
		work := make(chan int, rounds)
		for i := range rounds {
			work <- i
		}
		close(work)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var failures []error
		for range parallel {
			wg.Go(func() {
				defer GinkgoRecover()
				for i := range work {
					g := NewGomega(func(message string, _ ...int) {
						panic(errors.New(message))
					})
					func() {
						defer func() {
							if p := recover(); p != nil {
								mu.Lock()
								failures = append(failures, fmt.Errorf("round %d: %v", i, p))
								mu.Unlock()
							}
						}()
						round(g, ctx, i, image)
					}()
				}
			})
		}
		wg.Wait()
		Expect(failures).To(BeEmpty())
	}, NodeTimeout(3*time.Minute))
})

// Two os-stops of one server at the same instant, one through each replica: Nova takes
// one and refuses the other with its 409 (it saves the task expecting none), and records one
// stop. Five times over, so that the two meet in flight.
var _ = Describe("Two nova-api replicas taking actions on one server at once", Ordered, func() {
	var a, b *gophercloud.ServiceClient

	BeforeAll(func(ctx SpecContext) {
		a, b = twoReplicas(ctx)
	}, NodeTimeout(2*time.Minute))

	It("takes one stop and refuses the other with Nova's 409", func(ctx SpecContext) {
		image := listImages(ctx, a)["cirros"]
		s, err := servers.Create(ctx, a, servers.CreateOpts{Name: "two-stops", FlavorRef: "m1.tiny", ImageRef: image,
			Networks: []servers.Network{{UUID: networkID}}}, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { _ = servers.Delete(ctx, a, s.ID).ExtractErr() })
		shown := func(status string) {
			Eventually(func(g Gomega) {
				cur, err := servers.Get(ctx, b, s.ID).Extract()
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(cur.Status).To(Equal(status))
				g.Expect(cur.TaskState).To(BeEmpty())
			}).Should(Succeed())
		}
		stops := func() []instanceactions.InstanceAction {
			pages, err := instanceactions.List(a, s.ID, nil).AllPages(ctx)
			Expect(err).NotTo(HaveOccurred())
			all, err := instanceactions.ExtractInstanceActions(pages)
			Expect(err).NotTo(HaveOccurred())
			var out []instanceactions.InstanceAction
			for _, x := range all {
				if x.Action == "stop" {
					out = append(out, x)
				}
			}
			return out
		}
		shown("ACTIVE")
		for round := range 5 {
			ready := make(chan struct{})
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i, c := range []*gophercloud.ServiceClient{a, b} {
				wg.Go(func() {
					<-ready
					errs[i] = servers.Stop(ctx, c, s.ID).ExtractErr()
				})
			}
			close(ready)
			wg.Wait()
			taken := 0
			for _, err := range errs {
				if err == nil {
					taken++
					continue
				}
				Expect(codeOf(err)).To(Equal(http.StatusConflict), "round %d: %v", round, err)
				// In flight, or done already if the first was quick.
				Expect(bodyOf(err)).To(Or(
					ContainSubstring(fmt.Sprintf("Cannot 'stop' instance %s while it is in task_state powering-off", s.ID)),
					ContainSubstring(fmt.Sprintf("Cannot 'stop' instance %s while it is in vm_state stopped", s.ID))), "round %d", round)
			}
			Expect(taken).To(Equal(1), "round %d: %v", round, errs)
			shown("SHUTOFF")
			recorded := stops()
			Expect(recorded).To(HaveLen(round+1), "round %d: one stop recorded", round)
			for _, x := range recorded {
				Expect(x.Message).To(BeEmpty(), "round %d: a stop failed", round)
			}
			Expect(servers.Start(ctx, a, s.ID).ExtractErr()).To(Succeed())
			shown("ACTIVE")
		}
	}, NodeTimeout(2*time.Minute))
})

// twoReplicas starts a second nova-api for the spec and gives the admin's client of each:
// the stack's own and the second.
func twoReplicas(ctx context.Context) (a, b *gophercloud.ServiceClient) {
	replica, err := stack.StartReplica(ctx)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(replica.Stop)
	return compute(tokens["admin"], "direct"), computeAt(tokens["admin"], replica.DirectURL)
}

// listAll is every server of c's tenant, page by page in Nova's default order, as
// /servers/detail shows them.
func listAll(ctx context.Context, g Gomega, c *gophercloud.ServiceClient) []servers.Server {
	pages, err := servers.List(c, servers.ListOpts{Limit: 20}).AllPages(ctx)
	g.Expect(err).NotTo(HaveOccurred())
	all, err := servers.ExtractServers(pages)
	g.Expect(err).NotTo(HaveOccurred())
	return all
}
