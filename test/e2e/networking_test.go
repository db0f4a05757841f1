package e2e

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kova-dev/kova/internal/rules"
	"github.com/kova-dev/kova/internal/testenv"
)

// networking is a gophercloud networking client for a token through one way in: the
// networking service's /networking/v2.0 on the direct endpoint, or its collections under
// the tenant through kube-apiserver.
func networking(token, way string) *gophercloud.ServiceClient {
	pc := &gophercloud.ProviderClient{}
	endpoint := stack.DirectURL + "/networking/v2.0/"
	var rt http.RoundTripper = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: stack.DirectCAs, MinVersion: tls.VersionTLS12}}
	if way == "aggregated" {
		endpoint = stack.AggregatedURL + "/" + tenantName + "/"
		rt = testenv.AuthTokenAsBearer{Next: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: stack.APIServerCAs, MinVersion: tls.VersionTLS12}}}
	}
	pc.HTTPClient = http.Client{Transport: rt, Timeout: time.Minute}
	pc.SetToken(token)
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: endpoint, ResourceBase: endpoint, Type: "network"}
}

var _ = Describe("The networking service", func() {
	It("resolves names for the openstack CLI: network list and show, server create --network NAME, port list --server", func(ctx SpecContext) {
		label := fmt.Sprintf("cli-net-%d", GinkgoRandomSeed()%100000)
		nw, err := createCloudNetwork(ctx, compute(tokens["creator"], "direct"), label, "192.168.70.0/24")
		Expect(err).NotTo(HaveOccurred())

		By("network list shows the tenant's networks and the shared ones")
		// (The manager makes the shared ones once the suite has made the public namespace.)
		Eventually(func() []map[string]any {
			var list []map[string]any
			cliJSON(ctx, "observer", &list, "network", "list")
			return list
		}).Should(ContainElements(
			And(HaveKeyWithValue("ID", nw.ID), HaveKeyWithValue("Name", label)),
			And(HaveKeyWithValue("ID", rules.PublicNetworkID), HaveKeyWithValue("Name", "public")),
			And(HaveKeyWithValue("ID", rules.ServiceNetNetworkID), HaveKeyWithValue("Name", "private"))))

		By("network show finds it by name")
		var shown map[string]any
		cliJSON(ctx, "observer", &shown, "network", "show", label)
		Expect(shown).To(HaveKeyWithValue("id", nw.ID))
		Expect(shown).To(HaveKeyWithValue("shared", false))
		Expect(shown).To(HaveKeyWithValue("status", "ACTIVE"))
		Expect(shown["subnets"]).To(HaveLen(1))
		By("and says a name two networks share is ambiguous (the tenant's private and ServiceNet)")
		_, err = openstack(ctx, "observer", "network", "show", "private")
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("More than one Network exists with the name 'private'"))

		By("server create --network NAME boots on it")
		var created map[string]any
		cliJSON(ctx, "admin", &created, "server", "create", "--flavor", "m1.tiny", "--image", listImages(ctx, compute(tokens["admin"], "direct"))["cirros"],
			"--network", label, "--wait", "on-"+label)
		Expect(created).To(HaveKeyWithValue("status", "ACTIVE"))
		Expect(created["addresses"]).To(HaveKeyWithValue(label, ConsistOf(HavePrefix("192.168.70."))))
		id := created["id"].(string)
		addr := created["addresses"].(map[string]any)[label].([]any)[0].(string)

		By("port list --server shows its one port, with its address")
		var portList []map[string]any
		cliJSON(ctx, "observer", &portList, "port", "list", "--server", "on-"+label, "--long")
		Expect(portList).To(HaveLen(1))
		Expect(portList[0]["Fixed IP Addresses"]).To(ContainElement(HaveKeyWithValue("ip_address", addr)))
		Expect(portList[0]).To(HaveKeyWithValue("Status", "ACTIVE"))
		Expect(portList[0]["MAC Address"]).To(HavePrefix("fa:16:3e:"))

		for _, way := range []string{"direct", "aggregated"} {
			By("gophercloud's networking client sees the same through the " + way + " way in")
			c := networking(tokens["observer"], way)
			pages, err := networks.List(c, networks.ListOpts{Name: label}).AllPages(ctx)
			Expect(err).NotTo(HaveOccurred())
			nets, err := networks.ExtractNetworks(pages)
			Expect(err).NotTo(HaveOccurred())
			Expect(nets).To(HaveLen(1))
			Expect(nets[0].ID).To(Equal(nw.ID))
			sn, err := subnets.Get(ctx, c, nets[0].Subnets[0]).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(sn.CIDR).To(Equal("192.168.70.0/24"))
			Expect(sn.GatewayIP).To(Equal("192.168.70.1"))
			pages, err = ports.List(c, ports.ListOpts{DeviceID: id}).AllPages(ctx)
			Expect(err).NotTo(HaveOccurred())
			ps, err := ports.ExtractPorts(pages)
			Expect(err).NotTo(HaveOccurred())
			Expect(ps).To(HaveLen(1))
			Expect(ps[0].NetworkID).To(Equal(nw.ID))
			Expect(ps[0].FixedIPs).To(ConsistOf(ports.IP{SubnetID: sn.ID, IPAddress: addr}))
			_, err = networks.Get(ctx, c, "00000000-0000-4000-8000-00000000dead").Extract()
			Expect(codeOf(err)).To(Equal(http.StatusNotFound))
			Expect(bodyOf(err)).To(MatchJSON(`{"NeutronError": {"type": "NetworkNotFound", "message": "Network 00000000-0000-4000-8000-00000000dead could not be found.", "detail": ""}}`))
		}

		By("another tenant sees neither the network nor the port")
		other := networking(otherTokens["admin"], "direct")
		_, err = networks.Get(ctx, other, nw.ID).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusNotFound))

		admin := compute(tokens["admin"], "direct")
		Expect(servers.Delete(ctx, admin, id).ExtractErr()).To(Succeed())
		Eventually(func() int { _, err := servers.Get(ctx, admin, id).Extract(); return codeOf(err) }).Should(Equal(http.StatusNotFound))
		By("the port is gone with the server")
		pages, err := ports.List(networking(tokens["observer"], "direct"), ports.ListOpts{DeviceID: id}).AllPages(ctx)
		Expect(err).NotTo(HaveOccurred())
		ps, err := ports.ExtractPorts(pages)
		Expect(err).NotTo(HaveOccurred())
		Expect(ps).To(BeEmpty())
		Expect(deleteCloudNetwork(ctx, admin, nw.ID)).To(Succeed())
	}, SpecTimeout(5*time.Minute))

	It("answers without credentials with the networking service's body, and a write with 403", func(ctx SpecContext) {
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: stack.DirectCAs, MinVersion: tls.VersionTLS12}}}
		resp, err := hc.Get(stack.DirectURL + "/networking/v2.0/networks")
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized))
		_ = resp.Body.Close()
		resp, err = hc.Get(stack.DirectURL + "/networking")
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.StatusCode).To(Equal(http.StatusOK))
		_ = resp.Body.Close()
		_, err = networks.Create(ctx, networking(tokens["admin"], "direct"), networks.CreateOpts{Name: "x"}).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusForbidden))
		Expect(bodyOf(err)).To(ContainSubstring(`"NeutronError"`))
	})
})
