package e2e

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/secgroups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/layer3/floatingips"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/quotas"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	nrules "github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/rules"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/testenv"
)

// The quotas that count objects (floating IPs, security groups, their rules) are the
// tenant's Quota, shown alike by Nova's os-quota-sets and limits (up to 2.35) and by
// Neutron's quotas, and held by the one reservation in the Quota's status whichever way
// the create comes: Nova's proxies, the networking service, kubectl.

var _ = Describe("Quotas that count objects", func() {
	It("hold a tenant's floating IPs, security groups and rules to its Quota through Nova, Neutron and kubectl, and free a refused or released allocation's place at once", func(ctx SpecContext) {
		const tenant = "obj-quota"
		tk, err := stack.Tenant(ctx, tenant)
		Expect(err).NotTo(HaveOccurred())
		v235 := withVersion(computeFor(operator(ctx), "direct", tenant), "2.35")
		_, err = quotasets.Update(ctx, v235, tenant, quotasets.UpdateOpts{FloatingIPs: gophercloud.IntToPointer(2),
			SecurityGroups: gophercloud.IntToPointer(2), SecurityGroupRules: gophercloud.IntToPointer(8)}).Extract()
		Expect(err).NotTo(HaveOccurred())
		creator := withVersion(computeFor(tk["creator"], "direct", tenant), "2.35")
		nc := networking(tk["admin"], "direct") // the direct way: the tenant is the token's

		By("Nova's quota set and limits (2.35) and Neutron's quotas show the numbers enforced")
		qs, err := quotasets.Get(ctx, creator, tenant).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect([]int{qs.FloatingIPs, qs.SecurityGroups, qs.SecurityGroupRules}).To(Equal([]int{2, 2, 8}))
		l, err := limits.Get(ctx, creator, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect([]int{l.Absolute.MaxTotalFloatingIps, l.Absolute.MaxSecurityGroups, l.Absolute.MaxSecurityGroupRules}).To(Equal([]int{2, 2, 8}))
		nq, err := quotas.Get(ctx, nc, tenant).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect([]int{nq.FloatingIP, nq.SecurityGroup, nq.SecurityGroupRule}).To(Equal([]int{2, 2, 8}))

		By("6 concurrent allocations through both ways in against a quota of 2: exactly 2, Nova's 403 to the rest")
		allocate := func(i int, pool string) (int, novaFloatingIP, string) {
			GinkgoHelper()
			return allocateFIPIn(ctx, tk["creator"], []string{"direct", "aggregated"}[i%2], tenant, pool)
		}
		release := func(id string) {
			GinkgoHelper()
			code, _, b := rawFor(ctx, tk["admin"], "direct", tenant, http.MethodDelete, "/os-floating-ips/"+id, nil, nil)
			Expect(code).To(Equal(http.StatusAccepted), "%s", b)
		}
		var mu sync.Mutex
		var got []string
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				defer GinkgoRecover()
				code, fip, body := allocate(i, "")
				mu.Lock()
				defer mu.Unlock()
				if code == http.StatusOK {
					got = append(got, fip.ID)
					return
				}
				Expect(code).To(Equal(http.StatusForbidden), body)
				Expect(body).To(MatchJSON(`{"forbidden": {"code": 403, "message": "IP allocation over quota."}}`))
			})
		}
		wg.Wait()
		Expect(got).To(HaveLen(2))
		code, _, body := allocate(0, "public")
		Expect(code).To(Equal(http.StatusForbidden))
		Expect(body).To(MatchJSON(`{"forbidden": {"code": 403, "message": "IP allocation over quota in pool public."}}`))
		_, err = floatingips.Create(ctx, nc, floatingips.CreateOpts{FloatingNetworkID: "00000000-0000-0000-0000-000000000000"}).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusConflict))
		Expect(bodyOf(err)).To(MatchJSON(`{"NeutronError": {"type": "OverQuota", "message": "Quota exceeded for resources: ['floatingip'].", "detail": ""}}`))
		fip := &computev1.FloatingIP{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, GenerateName: "fip-"}, Spec: computev1.FloatingIPSpec{Pool: "public"}}
		err = kubectlAs(tk["creator"]).Create(ctx, fip)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("Quota exceeded for resources: ['floatingip']: the tenant holds 2 of its 2 floating_ips"))
		Expect(kubectlAs(tk["creator"]).Create(ctx, fip.DeepCopy(), client.DryRunAll)).NotTo(Succeed())

		By("a released address frees its place at once")
		release(got[0])
		code, one, body := allocate(0, "")
		Expect(code).To(Equal(http.StatusOK), body)

		By("an allocation refused after admission (its pool is empty), deleted by the shim, holds no place")
		pool := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: testenv.PublicNamespace, Name: "fip-quota"},
			Spec: computev1.NetworkSpec{Label: "fip-quota", CIDR: "198.51.100.64/29", Shared: true, External: true}}
		Expect(stack.Client.Create(ctx, pool)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(stack.Client.Delete(ctx, pool))).To(Succeed()) })
		for range 5 { // its every address, to another tenant
			code, taken, body := allocateFIP(ctx, tokens["creator"], "direct", "fip-quota")
			Expect(code).To(Equal(http.StatusOK), body)
			DeferCleanup(func(ctx SpecContext) {
				_, _, _ = raw(ctx, tokens["admin"], "direct", http.MethodDelete, "/os-floating-ips/"+taken.ID, nil, nil)
			})
		}
		release(one.ID) // the tenant holds 1 of 2
		for i := range 3 {
			code, _, body = allocate(i, "fip-quota")
			Expect(code).To(Equal(http.StatusNotFound), body)
			Expect(body).To(ContainSubstring("No more floating IPs in pool fip-quota."))
		}
		code, fromPublic, body := allocate(0, "")
		Expect(code).To(Equal(http.StatusOK), "the refused allocations still hold places: %s", body)
		code, _, _ = allocate(1, "")
		Expect(code).To(Equal(http.StatusForbidden))
		release(got[1])
		release(fromPublic.ID)

		By("security groups: the default group and one more; Nova's 403, Neutron's 409, kubectl's 403 past it")
		a, err := secgroups.Create(ctx, creator, secgroups.CreateOpts{Name: "a", Description: "a"}).Extract()
		Expect(err).NotTo(HaveOccurred())
		_, err = secgroups.Create(ctx, creator, secgroups.CreateOpts{Name: "b", Description: "b"}).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusForbidden))
		Expect(bodyOf(err)).To(MatchJSON(`{"forbidden": {"code": 403, "message": "Quota exceeded for resources: ['security_group']."}}`))
		_, err = groups.Create(ctx, nc, groups.CreateOpts{Name: "b"}).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusConflict))
		Expect(bodyOf(err)).To(MatchJSON(`{"NeutronError": {"type": "OverQuota", "message": "Quota exceeded for resources: ['security_group'].", "detail": ""}}`))
		err = kubectlAs(tk["creator"]).Create(ctx, &computev1.SecurityGroup{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: "b"}})
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("Quota exceeded for resources: ['security_group']: the tenant holds 2 of its 2 security_groups"))

		By("rules, per tenant: the default group's 4 and a's 2, then 2 more of 8")
		for port := range 2 {
			_, err = secgroups.CreateRule(ctx, withVersion(computeFor(tk["admin"], "direct", tenant), "2.35"), secgroups.CreateRuleOpts{
				ParentGroupID: a.ID, FromPort: 80 + port, ToPort: 80 + port, IPProtocol: "tcp", CIDR: "10.0.0.0/8"}).Extract()
			Expect(err).NotTo(HaveOccurred())
		}
		_, err = secgroups.CreateRule(ctx, withVersion(computeFor(tk["admin"], "direct", tenant), "2.35"), secgroups.CreateRuleOpts{
			ParentGroupID: a.ID, FromPort: 443, ToPort: 443, IPProtocol: "tcp", CIDR: "10.0.0.0/8"}).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusForbidden))
		Expect(bodyOf(err)).To(MatchJSON(`{"forbidden": {"code": 403, "message": "Quota exceeded for resources: ['security_group_rule']."}}`))
		_, err = nrules.Create(ctx, nc, nrules.CreateOpts{SecGroupID: a.ID, Direction: nrules.DirIngress, EtherType: nrules.EtherType4,
			Protocol: nrules.ProtocolTCP, PortRangeMin: 443, PortRangeMax: 443}).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusConflict))
		Expect(bodyOf(err)).To(MatchJSON(`{"NeutronError": {"type": "OverQuota", "message": "Quota exceeded for resources: ['security_group_rule'].", "detail": ""}}`))
		sg := &computev1.SecurityGroup{}
		Expect(stack.Client.Get(ctx, client.ObjectKey{Namespace: tenant, Name: groupObjectName(ctx, tenant, "a")}, sg)).To(Succeed())
		sg.Spec.Rules = append(sg.Spec.Rules, computev1.SecurityGroupRule{Direction: "ingress", Ethertype: "IPv6"})
		err = kubectlAs(tk["admin"]).Update(ctx, sg)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("Quota exceeded for resources: ['security_group_rule']: the tenant holds 8 of its 8 security_group_rules"))
	})

	It("keeps each user to its key_pairs quota through REST and kubectl, and frees a deleted keypair's place at once", func(ctx SpecContext) {
		const tenant, quota, burst = "kp-quota", 2, 6
		tk, err := stack.Tenant(ctx, tenant)
		Expect(err).NotTo(HaveOccurred())
		_, err = quotasets.Update(ctx, computeFor(operator(ctx), "direct", tenant), tenant, quotasets.UpdateOpts{
			KeyPairs: gophercloud.IntToPointer(quota)}).Extract()
		Expect(err).NotTo(HaveOccurred())

		By(fmt.Sprintf("%d concurrent creates by one user through both ways in against a quota of %d: exactly %d, Nova's 403 to the rest", burst, quota, quota))
		var mu sync.Mutex
		var made []string
		var wg sync.WaitGroup
		for i := range burst {
			wg.Go(func() {
				defer GinkgoRecover()
				c := computeFor(tk["creator"], []string{"direct", "aggregated"}[i%2], tenant)
				kp, err := keypairs.Create(ctx, c, keypairs.CreateOpts{Name: fmt.Sprintf("k%d", i)}).Extract()
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					made = append(made, kp.Name)
					return
				}
				Expect(codeOf(err)).To(Equal(http.StatusForbidden), "%v", err)
				Expect(bodyOf(err)).To(MatchJSON(`{"forbidden": {"code": 403, "message": "Quota exceeded, too many key pairs."}}`))
			})
		}
		wg.Wait()
		Expect(made).To(HaveLen(quota))

		By("kubectl gets the same words; another user of the tenant has places of its own")
		kp := &computev1.Keypair{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, GenerateName: "kp-"},
			Spec: computev1.KeypairSpec{Name: "by-kubectl", PublicKey: fuzzPublicKey, Type: "ssh"}}
		err = kubectlAs(tk["creator"]).Create(ctx, kp)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("Quota exceeded, too many key pairs."))
		_, err = keypairs.Create(ctx, computeFor(tk["admin"], "direct", tenant), keypairs.CreateOpts{Name: "admins"}).Extract()
		Expect(err).NotTo(HaveOccurred())

		By("a keypair deleted (with kubectl, by the cloud operator: a creator may not) frees its place at once")
		var list computev1.KeypairList
		Expect(stack.Client.List(ctx, &list, client.InNamespace(tenant))).To(Succeed())
		deleted := 0
		for i := range list.Items {
			if list.Items[i].NovaName() == made[0] {
				Expect(stack.Client.Delete(ctx, &list.Items[i])).To(Succeed())
				deleted++
			}
		}
		Expect(deleted).To(Equal(1))
		_, err = keypairs.Create(ctx, computeFor(tk["creator"], "direct", tenant), keypairs.CreateOpts{Name: "again"}).Extract()
		Expect(err).NotTo(HaveOccurred())
	})
})

// groupObjectName is the metadata.name of tenant's security group named name.
func groupObjectName(ctx SpecContext, tenant, name string) string {
	GinkgoHelper()
	var list computev1.SecurityGroupList
	Expect(stack.Client.List(ctx, &list, client.InNamespace(tenant))).To(Succeed())
	for _, g := range list.Items {
		if g.DisplayName() == name {
			return g.Name
		}
	}
	Fail(fmt.Sprintf("no group %s in %s", name, tenant))
	return ""
}
