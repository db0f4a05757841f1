package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Virtual interfaces (Rackspace's os-virtual-interfacesv2) are the entries of a server's
// spec.networks: attached and detached through REST with gophercloud, and with kubectl,
// under the same RBAC.

type vifIP struct {
	Address      string `json:"address"`
	NetworkID    string `json:"network_id"`
	NetworkLabel string `json:"network_label"`
}

type vif struct {
	ID          string  `json:"id"`
	MACAddress  string  `json:"mac_address"`
	IPAddresses []vifIP `json:"ip_addresses"`
}

type vifList struct {
	VirtualInterfaces []vif `json:"virtual_interfaces"`
}

func attachVIF(ctx context.Context, c *gophercloud.ServiceClient, serverID, networkID string) (vif, error) {
	var out vifList
	_, err := c.Post(ctx, c.ServiceURL("servers", serverID, "os-virtual-interfacesv2"),
		map[string]any{"virtual_interface": map[string]any{"network_id": networkID}}, &out,
		&gophercloud.RequestOpts{OkCodes: []int{http.StatusOK}})
	if err != nil {
		return vif{}, err
	}
	if len(out.VirtualInterfaces) != 1 {
		return vif{}, fmt.Errorf("create answered %d interfaces", len(out.VirtualInterfaces))
	}
	return out.VirtualInterfaces[0], nil
}

func detachVIF(ctx context.Context, c *gophercloud.ServiceClient, serverID, id string) error {
	_, err := c.Delete(ctx, c.ServiceURL("servers", serverID, "os-virtual-interfacesv2", id),
		&gophercloud.RequestOpts{OkCodes: []int{http.StatusOK}})
	return err
}

func listVIFs(ctx context.Context, c *gophercloud.ServiceClient, serverID string) []vif {
	GinkgoHelper()
	var out vifList
	_, err := c.Get(ctx, c.ServiceURL("servers", serverID, "os-virtual-interfacesv2"), &out, nil)
	Expect(err).NotTo(HaveOccurred())
	return out.VirtualInterfaces
}

// bootOnPrivate boots an ACTIVE server on the tenant's private network, deleted after the spec.
func bootOnPrivate(ctx context.Context, c *gophercloud.ServiceClient, name string) *servers.Server {
	GinkgoHelper()
	s, err := servers.Create(ctx, c, servers.CreateOpts{Name: name, FlavorRef: "m1.tiny",
		ImageRef: listImages(ctx, c)["cirros"], Networks: []servers.Network{{UUID: networkID}}}, nil).Extract()
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) { _ = servers.Delete(ctx, c, s.ID).ExtractErr() })
	return waitFor(ctx, c, s.ID, "ACTIVE")
}

// makeNetwork makes a tenant network and returns its id.
func makeNetwork(ctx context.Context, name, cidr string) *computev1.Network {
	GinkgoHelper()
	n := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: tenantName, Name: name},
		Spec: computev1.NetworkSpec{Label: name, CIDR: cidr}}
	Expect(stack.Client.Create(ctx, n)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(stack.Client.Delete(ctx, n))).To(Succeed()) })
	return n
}

// allocated is how many addresses of a network are held, as its status says.
func allocated(ctx context.Context, n *computev1.Network) func() int64 {
	return func() int64 {
		cur := &computev1.Network{}
		Expect(stack.Client.Get(ctx, client.ObjectKeyFromObject(n), cur)).To(Succeed())
		return cur.Status.Allocated
	}
}

var _ = Describe("Virtual interfaces", func() {
	for _, way := range []string{"direct", "aggregated"} {
		It(fmt.Sprintf("attaches a network with a new address and MAC and detaches it, through the %s way in", way), func(ctx SpecContext) {
			extra := makeNetwork(ctx, "vif-"+way, map[string]string{"direct": "10.31.0.0/24", "aggregated": "10.32.0.0/24"}[way])
			admin, creator, observer := compute(tokens["admin"], way), compute(tokens["creator"], way), compute(tokens["observer"], way)
			s := bootOnPrivate(ctx, admin, "vif-"+way)
			Expect(listVIFs(ctx, observer, s.ID)).To(HaveLen(1))

			By("an observer may not attach; a creator may")
			_, err := attachVIF(ctx, observer, s.ID, string(extra.UID))
			Expect(codeOf(err)).To(Equal(http.StatusForbidden))
			v, err := attachVIF(ctx, creator, s.ID, string(extra.UID))
			Expect(err).NotTo(HaveOccurred())
			Expect(v.IPAddresses).To(HaveLen(1))
			addr := netip.MustParseAddr(v.IPAddresses[0].Address)
			Expect(netip.MustParsePrefix(extra.Spec.CIDR).Contains(addr)).To(BeTrue(), "%s", addr)
			Expect(v.IPAddresses[0]).To(Equal(vifIP{Address: addr.String(), NetworkID: string(extra.UID), NetworkLabel: extra.Name}))
			Expect(v.MACAddress).To(MatchRegexp(`^fa:16:3e(:[0-9a-f]{2}){3}$`))

			By("the next reads show it: the interface list, addresses and ips")
			Expect(listVIFs(ctx, observer, s.ID)).To(ContainElement(v))
			got, err := servers.Get(ctx, observer, s.ID).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Addresses).To(HaveKey(extra.Name))
			Expect(fmt.Sprint(got.Addresses[extra.Name])).To(ContainSubstring(addr.String()))
			Expect(fmt.Sprint(got.Addresses[extra.Name])).To(ContainSubstring(v.MACAddress))
			code, _, body := raw(ctx, tokens["observer"], way, http.MethodGet, "/servers/"+s.ID+"/ips/"+extra.Name, nil, nil)
			Expect(code).To(Equal(http.StatusOK))
			Expect(string(body)).To(ContainSubstring(addr.String()))
			Eventually(allocated(ctx, extra)).Should(BeEquivalentTo(1))

			By("one interface per network")
			_, err = attachVIF(ctx, creator, s.ID, string(extra.UID))
			Expect(codeOf(err)).To(Equal(http.StatusBadRequest), "%s", bodyOf(err))

			By("a creator may not detach; an admin may, and the address is freed")
			Expect(codeOf(detachVIF(ctx, creator, s.ID, v.ID))).To(Equal(http.StatusForbidden))
			Expect(detachVIF(ctx, admin, s.ID, v.ID)).To(Succeed())
			Expect(listVIFs(ctx, observer, s.ID)).NotTo(ContainElement(v))
			got, err = servers.Get(ctx, observer, s.ID).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Addresses).NotTo(HaveKey(extra.Name))
			Eventually(allocated(ctx, extra)).Should(BeEquivalentTo(0))
			Expect(codeOf(detachVIF(ctx, admin, s.ID, v.ID))).To(Equal(http.StatusNotFound))
		})
	}

	It("answers as Nova when the backend fails, and in a state Nova refuses, leaving nothing behind", func(ctx SpecContext) {
		extra := makeNetwork(ctx, "vif-faults", "10.33.0.0/24")
		admin := compute(tokens["admin"], "direct")
		s := bootOnPrivate(ctx, admin, "vif-faults")
		name := serverObjectName(ctx, s.ID)
		key := client.ObjectKey{Namespace: tenantName, Name: name}

		By("a fault injected in the driver's attach")
		srv := &computev1.Server{}
		Expect(stack.Client.Get(ctx, key, srv)).To(Succeed())
		patch := client.MergeFrom(srv.DeepCopy())
		srv.Annotations[computev1.AnnotationFault] = "attach_interface:injected"
		Expect(stack.Client.Patch(ctx, srv, patch)).To(Succeed())
		_, err := attachVIF(ctx, admin, s.ID, string(extra.UID))
		Expect(codeOf(err)).To(Equal(http.StatusInternalServerError))
		Expect(bodyOf(err)).To(ContainSubstring("Failed to attach network adapter device to " + s.ID))
		Expect(stack.Client.Get(ctx, key, srv)).To(Succeed())
		Expect(srv.Spec.Networks).To(HaveLen(1), "the failed attach is taken back")
		Expect(srv.Status.Status).To(Equal("ACTIVE"))
		Expect(allocated(ctx, extra)()).To(BeEquivalentTo(0))
		Expect(listVIFs(ctx, admin, s.ID)).To(HaveLen(1))

		By("a shelved server refuses an attach with Nova's 409")
		Expect(action(ctx, admin, s.ID, map[string]any{"shelve": nil})).To(Succeed())
		waitFor(ctx, admin, s.ID, "SHELVED_OFFLOADED")
		_, err = attachVIF(ctx, admin, s.ID, string(extra.UID))
		Expect(codeOf(err)).To(Equal(http.StatusConflict))
		Expect(bodyOf(err)).To(ContainSubstring("Cannot 'attach_interface' instance " + s.ID + " while it is in vm_state shelved_offloaded"))
	})

	It("attaches and detaches through kubectl with the same RBAC", func(ctx SpecContext) {
		extra := makeNetwork(ctx, "vif-kubectl", "10.34.0.0/24")
		admin := compute(tokens["admin"], "direct")
		s := bootOnPrivate(ctx, admin, "vif-kubectl")
		key := client.ObjectKey{Namespace: tenantName, Name: serverObjectName(ctx, s.ID)}
		edit := func(role string, networks ...string) error {
			c := kubectlAs(tokens[role])
			srv := &computev1.Server{}
			Expect(c.Get(ctx, key, srv)).To(Succeed())
			patch := client.MergeFrom(srv.DeepCopy())
			srv.Spec.Networks = nil
			for _, n := range networks {
				srv.Spec.Networks = append(srv.Spec.Networks, computev1.NetworkAttachment{Name: n})
			}
			return c.Patch(ctx, srv, patch)
		}

		err := edit("observer", "private", extra.Name)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(edit("creator", "private", extra.Name)).To(Succeed())
		Eventually(func(g Gomega) {
			v := listVIFs(ctx, admin, s.ID)
			g.Expect(v).To(HaveLen(2))
			g.Expect(v[1].IPAddresses).To(HaveLen(1))
		}).Should(Succeed())
		Eventually(allocated(ctx, extra)).Should(BeEquivalentTo(1))

		err = edit("creator", "private")
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("os_compute_api:os-attach-interfaces:delete"))
		Expect(edit("admin", "private")).To(Succeed())
		Eventually(func() []vif { return listVIFs(ctx, admin, s.ID) }).Should(HaveLen(1))
		Eventually(allocated(ctx, extra)).Should(BeEquivalentTo(0))
		got, err := servers.Get(ctx, admin, s.ID).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(got.Addresses).NotTo(HaveKey(extra.Name))
	})

	It("gives 2 x 100 concurrent attaches on one network distinct addresses, and leaks none", func(ctx SpecContext) {
		const n = 100
		burst := makeNetwork(ctx, "vif-burst", "10.35.0.0/24")
		admin := compute(tokens["admin"], "direct")
		By("100 servers with no network")
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("vif-burst-%03d", i)
			Expect(stack.Client.Create(ctx, &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: tenantName, Name: names[i]},
				Spec: computev1.ServerSpec{FlavorRef: "m1.tiny", ImageRef: "cirros", PowerState: computev1.PowerActive,
					Networks: []computev1.NetworkAttachment{}}})).To(Succeed())
		}
		ids := make([]string, n)
		Eventually(func(g Gomega) {
			for i, name := range names {
				srv := &computev1.Server{}
				g.Expect(stack.Client.Get(ctx, client.ObjectKey{Namespace: tenantName, Name: name}, srv)).To(Succeed())
				g.Expect(srv.Status.Status).To(Equal("ACTIVE"), name)
				ids[i] = string(srv.UID)
			}
		}).Should(Succeed())
		DeferCleanup(func(ctx SpecContext) {
			for _, name := range names {
				_ = stack.Client.Delete(ctx, &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: tenantName, Name: name}})
			}
		})

		attachAll := func() []vif {
			GinkgoHelper()
			out := make([]vif, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range ids {
				wg.Go(func() { out[i], errs[i] = attachVIF(ctx, admin, ids[i], string(burst.UID)) })
			}
			wg.Wait()
			seen := map[string]string{}
			for i := range ids {
				Expect(errs[i]).NotTo(HaveOccurred(), "%s: %s", names[i], bodyOf(errs[i]))
				Expect(out[i].IPAddresses).To(HaveLen(1), names[i])
				a := out[i].IPAddresses[0].Address
				Expect(seen).NotTo(HaveKey(a), "%s and %s got %s", seen[a], names[i], a)
				seen[a] = names[i]
			}
			Eventually(allocated(ctx, burst)).Should(BeEquivalentTo(n))
			return out
		}
		By("the first 100 attaches")
		vifs := attachAll()
		By("100 detaches free every address")
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Go(func() { errs[i] = detachVIF(ctx, admin, ids[i], vifs[i].ID) })
		}
		wg.Wait()
		for i := range ids {
			Expect(errs[i]).NotTo(HaveOccurred(), "%s: %s", names[i], bodyOf(errs[i]))
		}
		Eventually(allocated(ctx, burst)).Should(BeEquivalentTo(0))
		By("the second 100 attaches, then the servers are deleted")
		attachAll()
		for _, name := range names {
			Expect(stack.Client.Delete(ctx, &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: tenantName, Name: name}})).To(Succeed())
		}
		Eventually(allocated(ctx, burst)).Should(BeEquivalentTo(0))
	})
})
