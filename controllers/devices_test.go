package controllers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/lifecycle"
)

var _ = Describe("Networks edited in spec", func() {
	var ns string
	BeforeEach(func() { ns = tenant(uniq("tenant")) })

	addresses := func(srv *computev1.Server) func() []string {
		return func() []string {
			var out []string
			for _, a := range get(srv).Status.Addresses {
				out = append(out, a.NetworkName)
			}
			return out
		}
	}

	It("attaches an added network, detaches a removed one, and records a failed attach without ERROR", func() {
		Expect(k8s.Create(suiteCtx, &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "extra"},
			Spec: computev1.NetworkSpec{CIDR: "10.9.0.0/29"}})).To(Succeed())
		srv := newServer(ns)
		settled(srv, "ACTIVE")

		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) {
			s.Networks = append(s.Networks, computev1.NetworkAttachment{Name: "extra", FixedIP: "10.9.0.5"})
		})).To(Succeed())
		Eventually(addresses(srv)).Should(Equal([]string{"private", "extra"}))
		cur := settled(srv, "ACTIVE")
		Expect(cur.Status.Addresses[1].Address).To(Equal("10.9.0.5"))
		Expect(cur.Status.Networks).To(ContainSubstring("10.9.0.5"))

		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.Networks = s.Networks[:1] })).To(Succeed())
		Eventually(addresses(srv)).Should(Equal([]string{"private"}))

		By("a fault in the driver's attach leaves the server ACTIVE, without the network, and says why")
		cur = get(srv)
		patch := client.MergeFrom(cur.DeepCopy())
		if cur.Annotations == nil {
			cur.Annotations = map[string]string{}
		}
		cur.Annotations[computev1.AnnotationFault] = "attach_interface:no link"
		Expect(k8s.Patch(suiteCtx, cur, patch)).To(Succeed())
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) {
			s.Networks = append(s.Networks, computev1.NetworkAttachment{Name: "extra"})
		})).To(Succeed())
		Eventually(func(g Gomega) {
			cur := get(srv)
			g.Expect(cur.Status.DeviceFailure).NotTo(BeNil())
			g.Expect(cur.Status.DeviceFailure.Message).To(Equal("no link"))
			g.Expect(cur.Status.DeviceFailure.Generation).To(Equal(cur.Generation))
			g.Expect(cur.Status.VMState).To(Equal(string(lifecycle.VMActive)))
			g.Expect(cur.Status.Operation).To(BeNil())
		}).Should(Succeed())
		Expect(addresses(srv)()).To(Equal([]string{"private"}))
		Expect(get(srv).Status.Fault).To(BeNil())
		net := &computev1.Network{}
		Eventually(func() int64 {
			Expect(k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: "extra"}, net)).To(Succeed())
			return net.Status.Allocated
		}).Should(BeZero(), "the failed attach gave its address back")
	})

	It("waits while the lifecycle refuses an attach, then attaches", func() {
		Expect(k8s.Create(suiteCtx, &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "extra"},
			Spec: computev1.NetworkSpec{CIDR: "10.9.0.0/29"}})).To(Succeed())
		srv := newServer(ns)
		settled(srv, "ACTIVE")
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerSuspended })).To(Succeed())
		settled(srv, "SUSPENDED")
		err := updateSpec(k8s, srv, func(s *computev1.ServerSpec) {
			s.Networks = append(s.Networks, computev1.NetworkAttachment{Name: "extra"})
		})
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("Cannot 'attach_interface' instance " + string(get(srv).UID) + " while it is in vm_state suspended"))
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) {
			s.PowerState = computev1.PowerActive
		})).To(Succeed())
		settled(srv, "ACTIVE")
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) {
			s.Networks = append(s.Networks, computev1.NetworkAttachment{Name: "extra"})
		})).To(Succeed())
		Eventually(addresses(srv)).Should(Equal([]string{"private", "extra"}))
	})
})
