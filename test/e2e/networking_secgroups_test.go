package e2e

import (
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The networking service's security groups, rules and floating IPs with gophercloud's
// networking clients, through both ways in: Neutron's bodies and errors over the same
// objects as Nova's proxies.

var _ = Describe("The networking service's security groups and floating IPs", func() {
	for _, way := range []string{"direct", "aggregated"} {
		It(fmt.Sprintf("makes, shows and deletes them as Neutron does, through the %s way in", way), func(ctx SpecContext) {
			admin, creator, observer := networking(tokens["admin"], way), networking(tokens["creator"], way), networking(tokens["observer"], way)

			By("groups and rules")
			_, err := groups.Create(ctx, observer, groups.CreateOpts{Name: "nw-" + way}).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusForbidden))
			g, err := groups.Create(ctx, creator, groups.CreateOpts{Name: "nw-" + way, Description: "from neutron"}).Extract()
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func(ctx SpecContext) { _ = groups.Delete(ctx, networking(tokens["admin"], way), g.ID).ExtractErr() })
			Expect(g.Rules).To(HaveLen(2)) // egress, IPv4 and IPv6
			Expect(g.ProjectID).To(Equal(tenantName))
			r, err := rules.Create(ctx, admin, rules.CreateOpts{SecGroupID: g.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4,
				Protocol: rules.ProtocolTCP, PortRangeMin: 443, PortRangeMax: 443, RemoteIPPrefix: "10.0.0.0/8"}).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(r.PortRangeMin).To(Equal(443))
			_, err = rules.Create(ctx, admin, rules.CreateOpts{SecGroupID: g.ID, Direction: rules.DirIngress, EtherType: rules.EtherType4,
				Protocol: rules.ProtocolTCP, PortRangeMin: 443, PortRangeMax: 443, RemoteIPPrefix: "10.0.0.0/8"}).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusConflict))
			Expect(bodyOf(err)).To(ContainSubstring("SecurityGroupRuleExists"))
			_, err = rules.Create(ctx, admin, rules.CreateOpts{SecGroupID: g.ID, Direction: rules.DirIngress, EtherType: rules.EtherType6,
				Protocol: rules.ProtocolTCP, RemoteIPPrefix: "10.0.0.0/8"}).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusBadRequest))
			Expect(bodyOf(err)).To(ContainSubstring("Conflicting value ethertype IPv6 for CIDR 10.0.0.0/8"))
			got, err := groups.Get(ctx, observer, g.ID).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Rules).To(HaveLen(3))
			// The same group through Nova's proxy: its one ingress rule.
			nova := listGroups(ctx, tokens["observer"], way)
			Expect(groupNamed(nova, "nw-"+way)).To(HaveField("Rules", HaveLen(1)))
			Expect(rules.Delete(ctx, creator, r.ID).ExtractErr()).To(MatchError(ContainSubstring("403")))
			Expect(rules.Delete(ctx, admin, r.ID).ExtractErr()).To(Succeed())
			err = rules.Delete(ctx, admin, r.ID).ExtractErr()
			Expect(codeOf(err)).To(Equal(http.StatusNotFound))
			Expect(bodyOf(err)).To(ContainSubstring("SecurityGroupRuleNotFound"))
			_, err = groups.Get(ctx, networking(otherTokens["admin"], "direct"), g.ID).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusNotFound))
			Expect(bodyOf(err)).To(ContainSubstring("Security group " + g.ID + " does not exist"))

			By("floating IPs: create on the public network, associate with a port, disassociate, delete")
			s := bootOnPrivate(ctx, compute(tokens["admin"], way), "nw-fip-"+way)
			pages, err := ports.List(observer, ports.ListOpts{DeviceID: s.ID}).AllPages(ctx)
			Expect(err).NotTo(HaveOccurred())
			ps, err := ports.ExtractPorts(pages)
			Expect(err).NotTo(HaveOccurred())
			Expect(ps).To(HaveLen(1))
			_, err = floatingips.Create(ctx, creator, floatingips.CreateOpts{FloatingNetworkID: networkID}).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusBadRequest)) // a tenant network is no pool
			fip, err := floatingips.Create(ctx, creator, floatingips.CreateOpts{FloatingNetworkID: "00000000-0000-0000-0000-000000000000"}).Extract()
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func(ctx SpecContext) {
				_ = floatingips.Delete(ctx, networking(tokens["admin"], way), fip.ID).ExtractErr()
			})
			Expect(fip.PortID).To(BeEmpty())
			Expect(fip.Status).To(Equal("DOWN"))
			portID := ps[0].ID
			_, err = floatingips.Update(ctx, creator, fip.ID, floatingips.UpdateOpts{PortID: &portID}).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusForbidden))
			fip, err = floatingips.Update(ctx, admin, fip.ID, floatingips.UpdateOpts{PortID: &portID}).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(fip.PortID).To(Equal(portID))
			Expect(fip.FixedIP).To(Equal(ps[0].FixedIPs[0].IPAddress))
			Expect(floatingAddresses(ctx, tokens["observer"], way, s.ID)).To(Equal([]string{fip.FloatingIP}))
			none := ""
			fip, err = floatingips.Update(ctx, admin, fip.ID, floatingips.UpdateOpts{PortID: &none}).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(fip.PortID).To(BeEmpty())
			Expect(floatingAddresses(ctx, tokens["observer"], way, s.ID)).To(BeEmpty())
			Expect(floatingips.Delete(ctx, admin, fip.ID).ExtractErr()).To(Succeed())
			_, err = floatingips.Get(ctx, observer, fip.ID).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusNotFound))

			By("deleting a group: Neutron's 204")
			Expect(groups.Delete(ctx, admin, g.ID).ExtractErr()).To(Succeed())
		})
	}
})
