package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servergroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Server groups (os-server-groups): gophercloud through both ways in, boots with the
// scheduler hint "group" placed by the policy on the e2e stack's two hosts, kubectl under
// the same RBAC, and the two quotas.

// withVersion is c at a microversion.
func withVersion(c *gophercloud.ServiceClient, v string) *gophercloud.ServiceClient {
	cc := *c
	cc.Microversion = v
	return &cc
}

// bootInGroup boots a tiny server with no network (2.37) into a group.
func bootInGroup(ctx SpecContext, c *gophercloud.ServiceClient, name, group string) (*servers.Server, error) {
	image := listImages(ctx, withVersion(c, ""))["cirros"] // the image proxy ends at 2.35
	if c.Microversion == "" {
		c = withVersion(c, "2.37")
	}
	return servers.Create(ctx, c, servers.CreateOpts{Name: name, FlavorRef: "m1.tiny",
		ImageRef: image, Networks: "none"},
		servers.SchedulerHintOpts{Group: group}).Extract()
}

// settledServer waits until a server has left BUILD and returns it.
func settledServer(ctx SpecContext, c *gophercloud.ServiceClient, id string) *servers.Server {
	GinkgoHelper()
	var s *servers.Server
	Eventually(func(g Gomega) {
		var err error
		s, err = servers.Get(ctx, c, id).Extract()
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(s.Status).To(BeElementOf("ACTIVE", "ERROR"))
	}).Should(Succeed())
	return s
}

var _ = Describe("Server groups", func() {
	for _, way := range []string{"direct", "aggregated"} {
		It(fmt.Sprintf("are made, shown, listed and deleted with Nova's bodies, through the %s way in", way), func(ctx SpecContext) {
			creator, observer := compute(tokens["creator"], way), compute(tokens["observer"], way)

			By("a creator makes one (2.1: a list of one policy); an observer may not")
			_, err := servergroups.Create(ctx, observer, servergroups.CreateOpts{Name: "web-" + way, Policies: []string{"anti-affinity"}}).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusForbidden))
			g1, err := servergroups.Create(ctx, creator, servergroups.CreateOpts{Name: "web-" + way, Policies: []string{"anti-affinity"}}).Extract()
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func(ctx SpecContext) { _ = servergroups.Delete(ctx, compute(tokens["admin"], way), g1.ID).ExtractErr() })
			Expect(g1.Policies).To(Equal([]string{"anti-affinity"}))
			Expect(g1.Members).To(BeEmpty())
			Expect(g1.Metadata).To(BeEmpty())

			By("a second group of the same name and policy is another group")
			g2, err := servergroups.Create(ctx, creator, servergroups.CreateOpts{Name: "web-" + way, Policies: []string{"anti-affinity"}}).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(g2.ID).NotTo(Equal(g1.ID))

			By("2.13 shows the project and the user; 2.64 the policy and rules")
			got, err := servergroups.Get(ctx, withVersion(observer, "2.13"), g1.ID).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(got.ProjectID).To(Equal(tenantName))
			Expect(got.UserID).To(Equal(serviceAccountUser("creator")))
			v264 := withVersion(creator, "2.64")
			g3, err := servergroups.Create(ctx, v264, servergroups.CreateOpts{Name: "db-" + way, Policy: "anti-affinity",
				Rules: &servergroups.Rules{MaxServerPerHost: 3}}).Extract()
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func(ctx SpecContext) { _ = servergroups.Delete(ctx, compute(tokens["admin"], way), g3.ID).ExtractErr() })
			Expect(*g3.Policy).To(Equal("anti-affinity"))
			Expect(g3.Rules.MaxServerPerHost).To(Equal(3))
			code, _, body := raw(ctx, tokens["observer"], way, http.MethodGet, "/os-server-groups/"+g3.ID, nil,
				map[string]string{"X-OpenStack-Nova-API-Version": "2.64"})
			Expect(code).To(Equal(http.StatusOK))
			var shown map[string]map[string]any
			Expect(json.Unmarshal(body, &shown)).To(Succeed())
			Expect(shown["server_group"]).To(HaveKey("rules"))
			Expect(shown["server_group"]).NotTo(HaveKey("policies"))
			Expect(shown["server_group"]).NotTo(HaveKey("metadata"))

			By("Nova's 400s: rules with another policy, an unknown policy, a missing name")
			_, err = servergroups.Create(ctx, v264, servergroups.CreateOpts{Name: "x", Policy: "affinity",
				Rules: &servergroups.Rules{MaxServerPerHost: 2}}).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusBadRequest))
			Expect(bodyOf(err)).To(ContainSubstring("Only anti-affinity policy supports rules."))
			_, err = servergroups.Create(ctx, creator, servergroups.CreateOpts{Name: "x", Policies: []string{"soft-affinity"}}).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusBadRequest)) // soft policies come at 2.15
			Expect(bodyOf(err)).To(ContainSubstring("badRequest"))
			code, _, _ = raw(ctx, tokens["creator"], way, http.MethodPost, "/os-server-groups",
				[]byte(`{"server_group": {"policies": ["affinity"]}}`), nil)
			Expect(code).To(Equal(http.StatusBadRequest))

			By("the list holds them at once, with limit and offset; the operator's all_projects only")
			pages, err := servergroups.List(observer, nil).AllPages(ctx)
			Expect(err).NotTo(HaveOccurred())
			list, err := servergroups.ExtractServerGroups(pages)
			Expect(err).NotTo(HaveOccurred())
			var ids []string
			for _, g := range list {
				ids = append(ids, g.ID)
			}
			Expect(ids).To(ContainElements(g1.ID, g2.ID, g3.ID))
			pages, err = servergroups.List(observer, servergroups.ListOpts{Limit: 1, Offset: 1}).AllPages(ctx)
			Expect(err).NotTo(HaveOccurred())
			one, err := servergroups.ExtractServerGroups(pages)
			Expect(err).NotTo(HaveOccurred())
			Expect(one).To(HaveLen(1))
			Expect(one[0].ID).To(Equal(ids[1]))
			_, err = servergroups.List(observer, servergroups.ListOpts{AllProjects: true}).AllPages(ctx)
			Expect(codeOf(err)).To(Equal(http.StatusForbidden))

			By("another tenant's group and an unknown id are 404s")
			_, err = servergroups.Get(ctx, computeFor(otherTokens["admin"], way, "other"), g1.ID).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusNotFound))
			Expect(codeOf(servergroups.Delete(ctx, computeFor(otherTokens["admin"], way, "other"), g1.ID).ExtractErr())).To(Equal(http.StatusNotFound))
			_, err = servergroups.Get(ctx, observer, "6f4c2f5e-0000-4000-8000-000000000000").Extract()
			Expect(codeOf(err)).To(Equal(http.StatusNotFound))
			Expect(bodyOf(err)).To(ContainSubstring("Instance group 6f4c2f5e-0000-4000-8000-000000000000 could not be found."))

			By("an observer may not delete; the creator may, and the next read is a 404")
			Expect(codeOf(servergroups.Delete(ctx, observer, g2.ID).ExtractErr())).To(Equal(http.StatusForbidden))
			Expect(servergroups.Delete(ctx, creator, g2.ID).ExtractErr()).To(Succeed())
			_, err = servergroups.Get(ctx, observer, g2.ID).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusNotFound))
		})
	}

	It("places members by policy on the stack's two hosts; the third anti-affinity member fails NoValidHost", func(ctx SpecContext) {
		creator := withVersion(compute(tokens["creator"], "direct"), "2.71")
		admin := compute(tokens["admin"], "direct")
		anti, err := servergroups.Create(ctx, withVersion(creator, "2.64"), servergroups.CreateOpts{Name: "anti", Policy: "anti-affinity"}).Extract()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { _ = servergroups.Delete(ctx, admin, anti.ID).ExtractErr() })
		aff, err := servergroups.Create(ctx, creator, servergroups.CreateOpts{Name: "aff", Policy: "affinity"}).Extract()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { _ = servergroups.Delete(ctx, admin, aff.ID).ExtractErr() })

		By("an unknown group is Nova's 400")
		_, err = bootInGroup(ctx, creator, "sg-unknown", "6f4c2f5e-0000-4000-8000-000000000000")
		Expect(codeOf(err)).To(Equal(http.StatusBadRequest))
		Expect(bodyOf(err)).To(ContainSubstring("Instance group 6f4c2f5e-0000-4000-8000-000000000000 could not be found."))

		By("three boots into the anti-affinity group, none waiting for the others: two hosts, one each; the third has none")
		var ids []string
		for i := range 3 {
			s, err := bootInGroup(ctx, creator, fmt.Sprintf("anti-%d", i), anti.ID)
			Expect(err).NotTo(HaveOccurred())
			ids = append(ids, s.ID)
			DeferCleanup(func(ctx SpecContext) { _ = servers.Delete(ctx, admin, s.ID).ExtractErr() })
		}
		got, err := servergroups.Get(ctx, creator, anti.ID).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(got.Members).To(ConsistOf(ids)) // read right after the boots
		hosts := map[string]bool{}
		var failed []*servers.Server
		for _, id := range ids {
			s := settledServer(ctx, creator, id)
			if s.Status == "ERROR" {
				failed = append(failed, s)
				continue
			}
			hosts[s.HostID] = true
		}
		Expect(hosts).To(HaveLen(2))
		Expect(failed).To(HaveLen(1))
		Expect(failed[0].Fault.Message).To(Equal("No valid host was found. There are not enough hosts available."))

		By("2.71 shows the server's group")
		code, _, body := raw(ctx, tokens["creator"], "direct", http.MethodGet, "/servers/"+ids[0], nil,
			map[string]string{"X-OpenStack-Nova-API-Version": "2.71"})
		Expect(code).To(Equal(http.StatusOK))
		var detail struct {
			Server struct {
				ServerGroups []string `json:"server_groups"`
			} `json:"server"`
		}
		Expect(json.Unmarshal(body, &detail)).To(Succeed())
		Expect(detail.Server.ServerGroups).To(Equal([]string{anti.ID}))

		By("affinity: both members on one host")
		affHosts := map[string]bool{}
		for i := range 2 {
			s, err := bootInGroup(ctx, creator, fmt.Sprintf("aff-%d", i), aff.ID)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func(ctx SpecContext) { _ = servers.Delete(ctx, admin, s.ID).ExtractErr() })
			affHosts[waitFor(ctx, creator, s.ID, "ACTIVE").HostID] = true
		}
		Expect(affHosts).To(HaveLen(1))

		By("kubectl: spec.serverGroup does not change")
		cur := &computev1.Server{}
		Expect(stack.Client.Get(ctx, client.ObjectKey{Namespace: tenantName, Name: serverObjectName(ctx, ids[0])}, cur)).To(Succeed())
		patch := client.MergeFrom(cur.DeepCopy())
		cur.Spec.ServerGroup = ""
		err = kubectlAs(tokens["admin"]).Patch(ctx, cur, patch)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("spec.serverGroup is immutable"))

		By("kubectl: a server naming an unknown group is refused in Nova's words; one naming the group joins it")
		mk := func(name, group string) *computev1.Server {
			return &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: tenantName, Name: name},
				Spec: computev1.ServerSpec{FlavorRef: "m1.tiny", ImageRef: "cirros", ServerGroup: group, PowerState: computev1.PowerActive,
					Networks: []computev1.NetworkAttachment{}, SecurityGroups: []string{"default"}}}
		}
		err = kubectlAs(tokens["creator"]).Create(ctx, mk("sg-kubectl-bad", "nope"))
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("Instance group nope could not be found."))
		antiObj := &computev1.ServerGroupList{}
		Expect(kubectlAs(tokens["observer"]).List(ctx, antiObj, client.InNamespace(tenantName))).To(Succeed())
		var antiName string
		for _, g := range antiObj.Items {
			if string(g.UID) == anti.ID {
				antiName = g.Name
				Expect(g.Spec.UserID).To(Equal(serviceAccountUser("creator")))
			}
		}
		Expect(antiName).NotTo(BeEmpty())
		viaKubectl := mk("sg-kubectl", antiName)
		Expect(kubectlAs(tokens["creator"]).Create(ctx, viaKubectl)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) { _ = stack.Client.Delete(ctx, viaKubectl) })
		got, err = servergroups.Get(ctx, creator, anti.ID).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(got.Members).To(ContainElement(string(viaKubectl.UID)))
		Expect(settledServer(ctx, creator, string(viaKubectl.UID)).Status).To(Equal("ERROR")) // both hosts hold a member
	})

	It("are made, listed, shown and deleted with the openstack CLI; the operator lists every tenant's", func(ctx SpecContext) {
		var made map[string]any
		cliJSON(ctx, "creator", &made, "server", "group", "create", "--policy", "anti-affinity", "cli-group")
		id, _ := made["id"].(string)
		Expect(id).NotTo(BeEmpty(), "%v", made)
		var list []map[string]any
		cliJSON(ctx, "observer", &list, "server", "group", "list")
		Expect(list).To(ContainElement(HaveKeyWithValue("ID", id)))
		var shown map[string]any
		cliJSON(ctx, "observer", &shown, "server", "group", "show", id)
		Expect(shown).To(HaveKeyWithValue("name", "cli-group"))

		pages, err := servergroups.List(computeFor(operator(ctx), "direct", "other"), servergroups.ListOpts{AllProjects: true}).AllPages(ctx)
		Expect(err).NotTo(HaveOccurred())
		all, err := servergroups.ExtractServerGroups(pages)
		Expect(err).NotTo(HaveOccurred())
		Expect(all).To(ContainElement(HaveField("ID", id)))

		_, err = openstack(ctx, "observer", "server", "group", "delete", id)
		Expect(err).To(HaveOccurred())
		_, err = openstack(ctx, "creator", "server", "group", "delete", id)
		Expect(err).NotTo(HaveOccurred())
		_, err = servergroups.Get(ctx, compute(tokens["observer"], "direct"), id).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusNotFound))
	})

	It("keeps a tenant to its server_groups and server_group_members quotas under concurrent creates, through REST and kubectl", func(ctx SpecContext) {
		const tenant, groups, members, burst = "sg-quota", 3, 2, 12
		tk, err := stack.Tenant(ctx, tenant)
		Expect(err).NotTo(HaveOccurred())
		_, err = quotasets.Update(ctx, computeFor(operator(ctx), "direct", tenant), tenant, quotasets.UpdateOpts{
			ServerGroups: gophercloud.IntToPointer(groups), ServerGroupMembers: gophercloud.IntToPointer(members)}).Extract()
		Expect(err).NotTo(HaveOccurred())
		c := computeFor(tk["creator"], "direct", tenant)

		// concurrently runs create burst times at once and returns the ids made; every
		// refusal must be Nova's 403 with want.
		concurrently := func(create func(i int) (string, error), want string) []string {
			var wg sync.WaitGroup
			var mu sync.Mutex
			var made []string
			for i := range burst {
				wg.Go(func() {
					defer GinkgoRecover()
					id, err := create(i)
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						made = append(made, id)
						return
					}
					Expect(codeOf(err)).To(Equal(http.StatusForbidden), "%v", err)
					Expect(bodyOf(err)).To(ContainSubstring(want))
				})
			}
			wg.Wait()
			return made
		}

		By(fmt.Sprintf("%d concurrent group creates against a quota of %d: exactly %d made", burst, groups, groups))
		made := concurrently(func(i int) (string, error) {
			g, err := servergroups.Create(ctx, c, servergroups.CreateOpts{Name: fmt.Sprintf("g%d", i), Policies: []string{"affinity"}}).Extract()
			if err != nil {
				return "", err
			}
			return g.ID, nil
		}, "Quota exceeded, too many server groups.")
		Expect(made).To(HaveLen(groups))
		detail, err := quotasets.GetDetail(ctx, c, tenant).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(detail.ServerGroups).To(Equal(quotasets.QuotaDetail{Limit: groups, InUse: groups}))

		By("kubectl gets the same 403; an observer RBAC's")
		obj := &computev1.ServerGroup{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, GenerateName: "two-"},
			Spec: computev1.ServerGroupSpec{Name: "two", Policy: "affinity"}}
		err = kubectlAs(tk["creator"]).Create(ctx, obj)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("Quota exceeded, too many server groups."))
		err = kubectlAs(tk["observer"]).Create(ctx, obj)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).NotTo(ContainSubstring("Quota"))

		By(fmt.Sprintf("%d concurrent boots into one group against a quota of %d members: exactly %d made", burst, members, members))
		image := listImages(ctx, c)["cirros"]
		v237 := withVersion(c, "2.37")
		booted := concurrently(func(i int) (string, error) {
			s, err := servers.Create(ctx, v237, servers.CreateOpts{Name: fmt.Sprintf("m%d", i), FlavorRef: "m1.tiny",
				ImageRef: image, Networks: "none"}, servers.SchedulerHintOpts{Group: made[0]}).Extract()
			if err != nil {
				return "", err
			}
			return s.ID, nil
		}, "Quota exceeded, too many servers in group")
		Expect(booted).To(HaveLen(members))
		for _, id := range booted {
			DeferCleanup(func(ctx SpecContext) {
				_ = servers.Delete(ctx, computeFor(tk["admin"], "direct", tenant), id).ExtractErr()
			})
		}
		g, err := servergroups.Get(ctx, c, made[0]).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(g.Members).To(ConsistOf(booted))
	})
})
