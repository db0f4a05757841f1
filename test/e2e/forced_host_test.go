package e2e

import (
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The cloud operator forces a host through availability_zone, as Nova's admin does: the
// server runs on exactly that host (OS-EXT-SRV-ATTR:host), or ends in ERROR with Nova's
// NoValidHost when the host does not exist. The stack has sim-host-1 and sim-host-2.
var _ = Describe("A forced host", func() {
	for _, way := range []string{"direct", "aggregated"} {
		It(fmt.Sprintf("is where the operator's server runs, through the %s way in", way), func(ctx SpecContext) {
			op := compute(operator(ctx), way)
			imgs := listImages(ctx, op)
			name := "forced-" + way
			DeferCleanup(func(ctx SpecContext) { deleteServers(ctx, serversNamed(ctx, compute(tokens["admin"], "direct"), name)) })
			create := func(suffix, zone string) string {
				s, err := servers.Create(ctx, op, servers.CreateOpts{Name: name + suffix, FlavorRef: "m1.tiny",
					ImageRef: imgs["cirros"], Networks: []servers.Network{{UUID: networkID}}, AvailabilityZone: zone}, nil).Extract()
				Expect(err).NotTo(HaveOccurred(), zone)
				return s.ID
			}
			for _, tc := range []struct{ zone, host string }{
				{"nova:sim-host-2", "sim-host-2"}, {"nova:sim-host-1", "sim-host-1"},
				{"nova:sim-host-2:sim-host-2", "sim-host-2"}, {"nova::sim-host-1", "sim-host-1"},
			} {
				By(tc.zone)
				id := create("-"+tc.host, tc.zone)
				waitFor(ctx, op, id, "ACTIVE")
				code, body := getJSON(ctx, operator(ctx), way, "2.1", "/servers/"+id)
				Expect(code).To(Equal(http.StatusOK))
				srv := body["server"].(map[string]any)
				Expect(srv["OS-EXT-SRV-ATTR:host"]).To(Equal(tc.host), tc.zone)
				Expect(srv["OS-EXT-SRV-ATTR:hypervisor_hostname"]).To(Equal(tc.host), tc.zone)
				Expect(srv["OS-EXT-AZ:availability_zone"]).To(Equal("nova"), tc.zone)
			}

			By("a host that does not exist")
			id := create("-nowhere", "nova:sim-host-9")
			s := waitFor(ctx, op, id, "ERROR")
			Expect(s.Fault.Code).To(Equal(500))
			Expect(s.Fault.Message).To(Equal("No valid host was found. No such host - host: sim-host-9 node: None "))

			By("a project user may not force one")
			_, err := servers.Create(ctx, compute(tokens["creator"], way), servers.CreateOpts{Name: name + "-user", FlavorRef: "m1.tiny",
				ImageRef: imgs["cirros"], Networks: []servers.Network{{UUID: networkID}}, AvailabilityZone: "nova:sim-host-1"}, nil).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusForbidden))
		})
	}
})
