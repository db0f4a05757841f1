package controllers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/compute"
)

// Nova's admin forces a host with availability zone "zone:host", "zone:host:node" or
// "zone::node"; the server lands there or nowhere (the suite's driver has sim-host-1 and
// sim-host-2, each node named as its host).
var _ = Describe("A forced host", func() {
	var ns string
	BeforeEach(func() { ns = tenant(uniq("tenant")) })

	zoned := func(zone string, more ...func(*computev1.Server)) func(*computev1.Server) {
		return func(s *computev1.Server) {
			s.Spec.AvailabilityZone = zone
			for _, m := range more {
				m(s)
			}
		}
	}

	It("places the server on exactly that host, in every form", func() {
		for _, tc := range []struct{ zone, host string }{
			{"nova:sim-host-1", "sim-host-1"}, {"nova:sim-host-2", "sim-host-2"},
			{"nova:sim-host-2:sim-host-2", "sim-host-2"}, {"nova::sim-host-1", "sim-host-1"},
			{":sim-host-2", "sim-host-2"},
		} {
			By(tc.zone)
			// Several of each, so a placement that ignores the zone would spread them.
			for range 2 {
				s := settled(newServer(ns, zoned(tc.zone)), "ACTIVE")
				Expect(s.Status.Host).To(Equal(tc.host), "zone %s", tc.zone)
				Expect(s.Status.HostID).To(Equal(compute.HostID(ns, tc.host)))
			}
		}
	})

	It("ends in ERROR with Nova's NoValidHost when the host or node does not exist", func() {
		for _, tc := range []struct{ zone, fault string }{
			{"nova:sim-host-9", "No valid host was found. No such host - host: sim-host-9 node: None "},
			{"nova::sim-node-9", "No valid host was found. No such host - host: None node: sim-node-9 "},
			{"nova:sim-host-1:sim-host-2", "No valid host was found. No such host - host: sim-host-1 node: sim-host-2 "},
		} {
			s := settled(newServer(ns, zoned(tc.zone)), "ERROR")
			Expect(s.Status.Fault).NotTo(BeNil())
			Expect(s.Status.Fault.Code).To(Equal(int32(500)))
			Expect(s.Status.Fault.Message).To(Equal(tc.fault))
			Expect(s.Status.Fault.Message).To(Equal(compute.NoSuchHostMessage(zoneHost(tc.zone))))
			Expect(s.Status.Host).To(BeEmpty())
			Expect(fixedIPsOf(s)).To(BeEmpty(), "a failed build gives its address back")
		}
	})

	It("ends in ERROR with NoValidHost when the host has no room, filters skipped or not", func() {
		s := settled(newServer(ns, zoned("nova:sim-host-1", func(s *computev1.Server) { s.Spec.FlavorRef = "m1.huge" })), "ERROR")
		Expect(s.Status.Fault.Message).To(Equal("No valid host was found. "))
		Expect(s.Status.Host).To(BeEmpty())
		Expect(fixedIPsOf(s)).To(BeEmpty())
	})

	It("refuses a zone Nova cannot parse, to anyone, before asking who may force a host", func() {
		for name, c := range map[string]client.Client{"the cloud operator": k8s, "a project member": creator} {
			err := c.Create(suiteCtx, serverIn(ns, zoned("nova:a:b:c")))
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%s: %v", name, err)
			Expect(err.Error()).To(ContainSubstring(`spec.availabilityZone: Invalid value: "nova:a:b:c": Invalid input received: Unable to parse availability_zone`))
		}
	})
})

// zoneHost is the host and node a zone forces.
func zoneHost(zone string) (host, node string) {
	_, host, node, err := computev1.ParseAvailabilityZone(zone)
	Expect(err).NotTo(HaveOccurred())
	return host, node
}
