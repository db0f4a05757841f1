package e2e

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/rules"
)

// cloudNetwork is a network as Rackspace Cloud Networks (os-networksv2) shows it.
type cloudNetwork struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	CIDR  string `json:"cidr"`
}

// gophercloud has no os-networksv2 (a Rackspace extension): raw requests on its client.
func createCloudNetwork(ctx context.Context, c *gophercloud.ServiceClient, label, cidr string) (cloudNetwork, error) {
	var body struct {
		Network cloudNetwork `json:"network"`
	}
	_, err := c.Post(ctx, c.ServiceURL("os-networksv2"), map[string]any{"network": map[string]any{"label": label, "cidr": cidr}},
		&body, &gophercloud.RequestOpts{OkCodes: []int{http.StatusOK}})
	return body.Network, err
}

func listCloudNetworks(ctx context.Context, c *gophercloud.ServiceClient) []cloudNetwork {
	GinkgoHelper()
	var body struct {
		Networks []cloudNetwork `json:"networks"`
	}
	_, err := c.Get(ctx, c.ServiceURL("os-networksv2"), &body, nil)
	Expect(err).NotTo(HaveOccurred())
	return body.Networks
}

func showCloudNetwork(ctx context.Context, c *gophercloud.ServiceClient, id string) (cloudNetwork, error) {
	var body struct {
		Network cloudNetwork `json:"network"`
	}
	_, err := c.Get(ctx, c.ServiceURL("os-networksv2", id), &body, nil)
	return body.Network, err
}

func deleteCloudNetwork(ctx context.Context, c *gophercloud.ServiceClient, id string) error {
	_, err := c.Delete(ctx, c.ServiceURL("os-networksv2", id), &gophercloud.RequestOpts{OkCodes: []int{http.StatusAccepted}})
	return err
}

var _ = Describe("Cloud Networks (os-networksv2)", func() {
	It("has Rackspace's shared networks from the start, with their fixed ids, in every tenant", func(ctx SpecContext) {
		for _, tk := range []struct{ token, tenant string }{{tokens["observer"], tenantName}, {otherTokens["observer"], "other"}} {
			Eventually(func() []cloudNetwork { return listCloudNetworks(ctx, computeFor(tk.token, "direct", tk.tenant)) }).Should(ContainElements(
				cloudNetwork{ID: rules.PublicNetworkID, Label: "public", CIDR: "172.16.0.0/16"},
				cloudNetwork{ID: rules.ServiceNetNetworkID, Label: "private", CIDR: "10.176.0.0/16"}))
		}
	})

	for _, way := range []string{"direct", "aggregated"} {
		It(fmt.Sprintf("creates, shows, boots on and deletes a network through the %s way in", way), func(ctx SpecContext) {
			creator, admin, observer := compute(tokens["creator"], way), compute(tokens["admin"], way), compute(tokens["observer"], way)
			label := "backend-" + way
			cidr := map[string]string{"direct": "192.168.60.0/24", "aggregated": "192.168.61.0/24"}[way]

			By("a creator creates it; an observer may not")
			_, err := createCloudNetwork(ctx, observer, "nope", "192.168.62.0/24")
			Expect(codeOf(err)).To(Equal(http.StatusForbidden))
			nw, err := createCloudNetwork(ctx, creator, label, cidr)
			Expect(err).NotTo(HaveOccurred())
			Expect(nw.Label).To(Equal(label))
			Expect(nw.CIDR).To(Equal(cidr))

			By("the next read shows it, and kubectl sees the same object")
			Expect(listCloudNetworks(ctx, observer)).To(ContainElement(nw))
			Expect(showCloudNetwork(ctx, observer, nw.ID)).To(Equal(nw))
			obj := &computev1.Network{}
			Expect(stack.Client.Get(ctx, client.ObjectKey{Namespace: tenantName, Name: nw.ID}, obj)).To(Succeed())
			Expect(obj.Spec.Label).To(Equal(label))
			Expect(obj.Spec.CIDR).To(Equal(cidr))
			_, err = showCloudNetwork(ctx, computeFor(otherTokens["admin"], way, "other"), nw.ID)
			Expect(codeOf(err)).To(Equal(http.StatusNotFound), "another tenant's network")

			By("a server booted on it and on the shared public network has an address on each")
			s, err := servers.Create(ctx, admin, servers.CreateOpts{Name: "on-" + label, FlavorRef: "m1.tiny",
				ImageRef: listImages(ctx, admin)["cirros"],
				Networks: []servers.Network{{UUID: nw.ID}, {UUID: rules.PublicNetworkID}}}, nil).Extract()
			Expect(err).NotTo(HaveOccurred())
			waitFor(ctx, admin, s.ID, "ACTIVE")
			var ips struct {
				Addresses map[string][]struct {
					Addr    string `json:"addr"`
					Version int    `json:"version"`
				} `json:"addresses"`
			}
			_, err = observer.Get(ctx, observer.ServiceURL("servers", s.ID, "ips"), &ips, nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(ips.Addresses).To(HaveKey(label))
			Expect(ips.Addresses).To(HaveKey("public"))
			Expect(ips.Addresses[label]).To(HaveLen(1))
			Expect(ips.Addresses[label][0].Addr).To(HavePrefix(cidr[:len(cidr)-4]))
			Expect(ips.Addresses["public"][0].Addr).To(HavePrefix("172.16."))
			var one map[string][]map[string]any
			_, err = observer.Get(ctx, observer.ServiceURL("servers", s.ID, "ips", label), &one, nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(one).To(HaveKey(label))
			Expect(one[label][0]["addr"]).To(Equal(ips.Addresses[label][0].Addr))

			By("it cannot be deleted while the server holds an address on it, nor by a creator")
			Expect(codeOf(deleteCloudNetwork(ctx, creator, nw.ID))).To(Equal(http.StatusForbidden))
			err = deleteCloudNetwork(ctx, admin, nw.ID)
			Expect(codeOf(err)).To(Equal(http.StatusConflict))
			Expect(bodyOf(err)).To(ContainSubstring(`"message": "Network ` + nw.ID + ` is still in use."`))

			By("once the server is gone it is deleted, and gone at the next read")
			Expect(servers.Delete(ctx, admin, s.ID).ExtractErr()).To(Succeed())
			Eventually(func() int {
				_, err := servers.Get(ctx, admin, s.ID).Extract()
				return codeOf(err)
			}).Should(Equal(http.StatusNotFound))
			Expect(deleteCloudNetwork(ctx, admin, nw.ID)).To(Succeed())
			_, err = showCloudNetwork(ctx, observer, nw.ID)
			Expect(codeOf(err)).To(Equal(http.StatusNotFound))
			Expect(listCloudNetworks(ctx, observer)).NotTo(ContainElement(nw))
		})
	}

	It("refuses a CIDR out of bounds with Nova's 400", func(ctx SpecContext) {
		_, err := createCloudNetwork(ctx, compute(tokens["creator"], "direct"), "big", "10.0.0.0/8")
		Expect(codeOf(err)).To(Equal(http.StatusBadRequest))
		Expect(bodyOf(err)).To(Equal(`{"badRequest": {"code": 400, "message": "Invalid CIDR 10.0.0.0/8: the prefix length must be between /16 and /29."}}`))
	})
})
