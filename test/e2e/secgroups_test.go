package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/secgroups"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Security groups: Nova's os-security-groups proxy with gophercloud through both ways in,
// a server's groups (spec.securityGroups) through REST and kubectl, under the same RBAC.

// groupNamed is the group of that name in a list.
func groupNamed(list []secgroups.SecurityGroup, name string) *secgroups.SecurityGroup {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

func listGroups(ctx SpecContext, token, way string) []secgroups.SecurityGroup {
	GinkgoHelper()
	pages, err := secgroups.List(compute(token, way)).AllPages(ctx)
	Expect(err).NotTo(HaveOccurred())
	list, err := secgroups.ExtractSecurityGroups(pages)
	Expect(err).NotTo(HaveOccurred())
	return list
}

func serverGroups(ctx SpecContext, token, way, id string) []string {
	GinkgoHelper()
	pages, err := secgroups.ListByServer(compute(token, way), id).AllPages(ctx)
	Expect(err).NotTo(HaveOccurred())
	list, err := secgroups.ExtractSecurityGroups(pages)
	Expect(err).NotTo(HaveOccurred())
	var names []string
	for _, g := range list {
		names = append(names, g.Name)
	}
	return names
}

var _ = Describe("Security groups", func() {
	for _, way := range []string{"direct", "aggregated"} {
		It(fmt.Sprintf("are made, given rules, put on servers and taken off, through the %s way in", way), func(ctx SpecContext) {
			admin, creator, observer := compute(tokens["admin"], way), compute(tokens["creator"], way), compute(tokens["observer"], way)

			By("every tenant has its default group, as Neutron makes it")
			def := groupNamed(listGroups(ctx, tokens["observer"], way), "default")
			Expect(def).NotTo(BeNil())
			Expect(def.TenantID).To(Equal(tenantName))
			Expect(def.Rules).To(HaveLen(2)) // ingress from its own members, IPv4 and IPv6
			Expect(def.Rules[0].Group.Name).To(Equal("default"))

			By("a creator makes a group, an observer may not")
			_, err := secgroups.Create(ctx, observer, secgroups.CreateOpts{Name: "web-" + way, Description: "web"}).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusForbidden))
			web, err := secgroups.Create(ctx, creator, secgroups.CreateOpts{Name: "web-" + way, Description: "web"}).Extract()
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func(ctx SpecContext) { _ = secgroups.Delete(ctx, compute(tokens["admin"], way), web.ID).ExtractErr() })
			Expect(web.Rules).To(BeEmpty()) // Neutron's new group lets all out, and Nova shows ingress only
			db, err := secgroups.Create(ctx, creator, secgroups.CreateOpts{Name: "db-" + way, Description: "db"}).Extract()
			Expect(err).NotTo(HaveOccurred())

			By("an admin adds rules; a creator may not; a rule is there once")
			ssh := secgroups.CreateRuleOpts{ParentGroupID: web.ID, FromPort: 22, ToPort: 22, IPProtocol: "tcp", CIDR: "0.0.0.0/0"}
			_, err = secgroups.CreateRule(ctx, creator, ssh).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusForbidden))
			rule, err := secgroups.CreateRule(ctx, admin, ssh).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(rule.FromPort).To(Equal(22))
			Expect(rule.IPRange.CIDR).To(Equal("0.0.0.0/0"))
			_, err = secgroups.CreateRule(ctx, admin, ssh).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusBadRequest))
			Expect(bodyOf(err)).To(ContainSubstring("This rule already exists in group " + web.ID))
			_, err = secgroups.CreateRule(ctx, admin, secgroups.CreateRuleOpts{ParentGroupID: web.ID, FromPort: 90, ToPort: 80,
				IPProtocol: "tcp", CIDR: "10.0.0.0/8"}).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusBadRequest))
			Expect(bodyOf(err)).To(ContainSubstring("Invalid port range 90:80. Former value cannot be greater than the later"))
			fromDB, err := secgroups.CreateRule(ctx, admin, secgroups.CreateRuleOpts{ParentGroupID: web.ID, FromPort: -1, ToPort: -1,
				IPProtocol: "icmp", FromGroupID: db.ID}).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(fromDB.Group.Name).To(Equal("db-" + way))

			By("the next read shows the rules, and kubectl sees the same group")
			got, err := secgroups.Get(ctx, observer, web.ID).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Rules).To(HaveLen(2))
			var obj computev1.SecurityGroupList
			Expect(kubectlAs(tokens["observer"]).List(ctx, &obj, client.InNamespace(tenantName))).To(Succeed())
			var seen *computev1.SecurityGroup
			for i := range obj.Items {
				if string(obj.Items[i].UID) == web.ID {
					seen = &obj.Items[i]
				}
			}
			Expect(seen).NotTo(BeNil())
			Expect(seen.Spec.Name).To(Equal("web-" + way))
			Expect(seen.Spec.Rules).To(HaveLen(4)) // two egress rules of a new group, and the two ingress ones

			By("another tenant's group is a 404; the proxy is gone from 2.36")
			_, err = secgroups.Get(ctx, computeFor(otherTokens["admin"], way, "other"), web.ID).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusNotFound))
			code, _, _ := raw(ctx, tokens["observer"], way, http.MethodGet, "/os-security-groups",
				nil, map[string]string{"X-OpenStack-Nova-API-Version": "2.36"})
			Expect(code).To(Equal(http.StatusNotFound))

			By("a boot names a group; an unknown one is a 400")
			_, err = servers.Create(ctx, creator, servers.CreateOpts{Name: "sg-bad-" + way, FlavorRef: "m1.tiny",
				ImageRef: listImages(ctx, creator)["cirros"], Networks: []servers.Network{{UUID: networkID}},
				SecurityGroups: []string{"nope"}}, nil).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusBadRequest))
			Expect(bodyOf(err)).To(ContainSubstring("Security group nope not found."))
			s, err := servers.Create(ctx, creator, servers.CreateOpts{Name: "sg-" + way, FlavorRef: "m1.tiny",
				ImageRef: listImages(ctx, creator)["cirros"], Networks: []servers.Network{{UUID: networkID}},
				SecurityGroups: []string{"web-" + way}}, nil).Extract()
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func(ctx SpecContext) { _ = servers.Delete(ctx, compute(tokens["admin"], way), s.ID).ExtractErr() })
			waitFor(ctx, admin, s.ID, "ACTIVE")
			Expect(serverGroups(ctx, tokens["observer"], way, s.ID)).To(Equal([]string{"web-" + way}))
			code, _, body := raw(ctx, tokens["observer"], way, http.MethodGet, "/servers/"+s.ID, nil, nil)
			Expect(code).To(Equal(http.StatusOK))
			var detail struct {
				Server struct {
					SecurityGroups []map[string]string `json:"security_groups"`
				} `json:"server"`
			}
			Expect(json.Unmarshal(body, &detail)).To(Succeed())
			Expect(detail.Server.SecurityGroups).To(Equal([]map[string]string{{"name": "web-" + way}}))

			By("addSecurityGroup and removeSecurityGroup, with Nova's answers")
			Expect(codeOf(secgroups.AddServer(ctx, creator, s.ID, "default").ExtractErr())).To(Equal(http.StatusForbidden))
			Expect(secgroups.AddServer(ctx, admin, s.ID, "default").ExtractErr()).To(Succeed())
			Expect(serverGroups(ctx, tokens["observer"], way, s.ID)).To(ConsistOf("web-"+way, "default"))
			Expect(secgroups.AddServer(ctx, admin, s.ID, "default").ExtractErr()).To(Succeed()) // already there: a no-op, as with Neutron
			err = secgroups.AddServer(ctx, admin, s.ID, "nope").ExtractErr()
			Expect(codeOf(err)).To(Equal(http.StatusNotFound))
			Expect(bodyOf(err)).To(ContainSubstring("Security group nope is not found for project " + tenantName))
			err = secgroups.RemoveServer(ctx, admin, s.ID, "db-"+way).ExtractErr()
			Expect(codeOf(err)).To(Equal(http.StatusNotFound))
			Expect(bodyOf(err)).To(ContainSubstring("Security group db-" + way + " not associated with the instance " + s.ID))
			Expect(secgroups.RemoveServer(ctx, admin, s.ID, "default").ExtractErr()).To(Succeed())
			Expect(serverGroups(ctx, tokens["observer"], way, s.ID)).To(Equal([]string{"web-" + way}))

			By("a group in use is not deleted (Neutron's 409, Nova's 400); one not in use is")
			err = secgroups.Delete(ctx, admin, web.ID).ExtractErr()
			Expect(codeOf(err)).To(Equal(http.StatusBadRequest), "%s", bodyOf(err))
			Expect(bodyOf(err)).To(ContainSubstring("in use"))
			Expect(codeOf(secgroups.Delete(ctx, creator, db.ID).ExtractErr())).To(Equal(http.StatusForbidden))
			Expect(secgroups.DeleteRule(ctx, admin, fromDB.ID).ExtractErr()).To(Succeed())
			Expect(codeOf(secgroups.DeleteRule(ctx, admin, fromDB.ID).ExtractErr())).To(Equal(http.StatusNotFound))
			Expect(secgroups.Delete(ctx, admin, db.ID).ExtractErr()).To(Succeed())
			_, err = secgroups.Get(ctx, observer, db.ID).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusNotFound))
			got, err = secgroups.Get(ctx, observer, web.ID).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Rules).To(HaveLen(1))

			By("kubectl: the same rules and the same RBAC")
			name := serverObjectName(ctx, s.ID)
			for _, tc := range []struct {
				token string
				want  func(error) bool
			}{{tokens["creator"], apierrors.IsForbidden}, {tokens["admin"], apierrors.IsInvalid}} {
				cur := &computev1.Server{}
				Expect(stack.Client.Get(ctx, client.ObjectKey{Namespace: tenantName, Name: name}, cur)).To(Succeed())
				patch := client.MergeFrom(cur.DeepCopy())
				cur.Spec.SecurityGroups = append(cur.Spec.SecurityGroups, "nope")
				err := kubectlAs(tc.token).Patch(ctx, cur, patch)
				Expect(tc.want(err)).To(BeTrue(), "%v", err)
			}
			Expect(apierrors.IsConflict(kubectlAs(tokens["admin"]).Delete(ctx, seen))).To(BeTrue())
		})
	}
})
