package controllers_test

import (
	"fmt"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/ipam"
)

var _ = Describe("Network", func() {
	It("refuses through kubectl a CIDR the REST API refuses, with the same words", func() {
		ns := tenant(uniq("tenant"))
		for cidr, msg := range map[string]string{
			"10.0.0.0/8":  "Invalid CIDR 10.0.0.0/8: the prefix length must be between /16 and /29.",
			"10.1.0.5/24": "Invalid CIDR 10.1.0.5/24: the address is not the network's own; use 10.1.0.0/24.",
		} {
			err := k8s.Create(suiteCtx, &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: uniq("net")},
				Spec: computev1.NetworkSpec{CIDR: cidr}})
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%s: %v", cidr, err)
			Expect(err.Error()).To(ContainSubstring(msg))
		}
	})

	It("gives 100 servers booted at once on a /25 100 distinct addresses, refuses its delete while they hold them, and leaks none", func() {
		ns := tenant(uniq("tenant"))
		net := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "burst"},
			Spec: computev1.NetworkSpec{CIDR: "10.99.0.0/25"}} // 125 usable: 128 - network - broadcast - gateway
		Expect(k8s.Create(suiteCtx, net)).To(Succeed())
		const n = 100
		servers := make([]*computev1.Server, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				defer GinkgoRecover()
				servers[i] = newServer(ns, func(s *computev1.Server) {
					s.Name = fmt.Sprintf("burst-%03d", i)
					s.Spec.FlavorRef = "m1.tiny"
					s.Spec.Networks = []computev1.NetworkAttachment{{Name: "burst"}}
				})
			})
		}
		wg.Wait()

		By("every server ACTIVE with its own address of the /25, never the gateway")
		seen := map[string]string{}
		for _, srv := range servers {
			s := settled(srv, "ACTIVE")
			Expect(s.Status.Addresses).To(HaveLen(1))
			a := s.Status.Addresses[0]
			Expect(a.NetworkName).To(Equal("burst"))
			Expect(a.Address).To(HavePrefix("10.99.0."))
			Expect(a.Address).NotTo(Equal("10.99.0.1"))
			Expect(seen).NotTo(HaveKey(a.Address), "address %s given to %s and %s", a.Address, seen[a.Address], s.Name)
			seen[a.Address] = s.Name
		}
		Expect(seen).To(HaveLen(n))
		Eventually(func() int64 {
			Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(net), net)).To(Succeed())
			return net.Status.Allocated
		}).Should(Equal(int64(n)))

		By("the network in use cannot be deleted")
		err := k8s.Delete(suiteCtx, net)
		Expect(apierrors.IsConflict(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("Network " + string(net.UID) + " is still in use (servers burst-"))
		Expect(err.Error()).To(ContainSubstring("and 95 more)."))

		By("deleting the servers gives every address back")
		uids := make([]string, 0, n)
		for _, srv := range servers {
			uids = append(uids, string(get(srv).UID))
			Expect(k8s.Delete(suiteCtx, srv)).To(Succeed())
		}
		for _, srv := range servers {
			Eventually(func() bool {
				return apierrors.IsNotFound(k8s.Get(suiteCtx, client.ObjectKeyFromObject(srv), &computev1.Server{}))
			}).Should(BeTrue())
		}
		for _, uid := range uids {
			held, err := mgr.Addresses.Held(suiteCtx, uid)
			Expect(err).NotTo(HaveOccurred())
			Expect(held).To(BeEmpty())
		}
		Expect(mgr.Addresses.Allocated(suiteCtx, ipam.RefOf(net))).To(BeZero())
		Eventually(func() int64 {
			Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(net), net)).To(Succeed())
			return net.Status.Allocated
		}).Should(BeZero())

		By("then it can be deleted, and a network of the same name starts empty")
		Expect(k8s.Delete(suiteCtx, net)).To(Succeed())
		again := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "burst"},
			Spec: computev1.NetworkSpec{CIDR: "10.99.0.0/25"}}
		Eventually(func() error { return k8s.Create(suiteCtx, again) }).Should(Succeed())
		s := settled(newServer(ns, func(s *computev1.Server) {
			s.Spec.FlavorRef = "m1.tiny"
			s.Spec.Networks = []computev1.NetworkAttachment{{Name: "burst"}}
		}), "ACTIVE")
		Expect(s.Status.Addresses[0].Address).To(HavePrefix("10.99.0."))
	})
})
