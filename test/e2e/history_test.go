package e2e

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/instanceactions"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Tempest's InstanceActionsV221TestJSON.test_get_list_deleted_instance_actions: a deleted
// server's actions are listed from 2.21, create and delete, the delete with the DELETE's
// request id and caller, right after the DELETE and still once garbage collection (which
// this stack runs) has had its turn.
var _ = Describe("A deleted server's instance actions", func() {
	for _, way := range []string{"direct", "aggregated"} {
		It(fmt.Sprintf("lists create and delete from 2.21 through the %s way in", way), func(ctx SpecContext) {
			c := compute(tokens["admin"], way)
			s, err := servers.Create(ctx, c, servers.CreateOpts{Name: "history-" + way, FlavorRef: "m1.tiny",
				ImageRef: listImages(ctx, c)["cirros"], Networks: []servers.Network{{UUID: networkID}}}, nil).Extract()
			Expect(err).NotTo(HaveOccurred())
			waitFor(ctx, c, s.ID, "ACTIVE")

			del := servers.Delete(ctx, c, s.ID)
			Expect(del.ExtractErr()).To(Succeed())
			deleteID := del.Header.Get("X-Openstack-Request-Id")
			Expect(deleteID).To(HavePrefix("req-"))

			c.Microversion = "2.21"
			list := func() []instanceactions.InstanceAction {
				GinkgoHelper()
				pages, err := instanceactions.List(c, s.ID, nil).AllPages(ctx)
				Expect(err).NotTo(HaveOccurred())
				out, err := instanceactions.ExtractInstanceActions(pages)
				Expect(err).NotTo(HaveOccurred())
				return out
			}
			By("right after the DELETE answered, the delete is listed")
			now := list()
			Expect(now).NotTo(BeEmpty())
			Expect(now[0].Action).To(Equal("delete"))
			Expect(now[0].RequestID).To(Equal(deleteID))

			By("once the server is gone")
			Eventually(func() int {
				_, err := servers.Get(ctx, c, s.ID).Extract()
				return codeOf(err)
			}).Should(Equal(http.StatusNotFound))
			var sa computev1.ServerActionList
			Eventually(func(g Gomega) {
				// Garbage collection runs here: nothing owns the history, so none of it goes.
				g.Expect(stack.Client.List(ctx, &sa, client.InNamespace(tenantName), client.MatchingLabels{computev1.LabelServerUID: s.ID})).To(Succeed())
				g.Expect(sa.Items).To(HaveLen(1))
				g.Expect(sa.Items[0].Status.Phase).To(Equal(computev1.ActionSucceeded))
			}).Should(Succeed())
			gone := list()
			Expect(gone).To(HaveLen(2))
			Expect([]string{gone[0].Action, gone[1].Action}).To(Equal([]string{"delete", "create"}))
			Expect(gone[0].RequestID).To(Equal(deleteID))
			Expect(gone[0].UserID).To(Equal(gone[1].UserID))
			Expect(gone[0].UserID).NotTo(BeEmpty())
			Expect(gone[0].InstanceUUID).To(Equal(s.ID))
			Expect(gone[0].StartTime).To(BeTemporally("~", time.Now(), time.Minute))

			By("one with its events from 2.51")
			c.Microversion = "2.51"
			one, err := instanceactions.Get(ctx, c, s.ID, deleteID).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(one.Events).NotTo(BeNil())
			events := *one.Events
			Expect(events).To(HaveLen(1))
			Expect(events[0].Event).To(Equal("compute_terminate_instance"))
			Expect(events[0].Result).To(Equal("Success"))

			By("below 2.21, and for another tenant, the server is unknown")
			c.Microversion = "2.20"
			_, err = instanceactions.List(c, s.ID, nil).AllPages(ctx)
			Expect(codeOf(err)).To(Equal(http.StatusNotFound))
			other := computeFor(otherTokens["admin"], way, "other")
			other.Microversion = "2.21"
			_, err = instanceactions.List(other, s.ID, nil).AllPages(ctx)
			Expect(codeOf(err)).To(Equal(http.StatusNotFound))
		}, SpecTimeout(3*time.Minute))
	}
})
