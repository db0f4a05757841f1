package controllers_test

import (
	"context"
	"errors"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/compute"
	"github.com/kova-dev/kova/internal/lifecycle"
)

// outage makes the backend fail for chosen instances, as an unreachable hypervisor would:
// the controller reaches the simulated driver through it.
var outage = &outages{down: map[string]bool{}, calls: map[string]int{}}

type outages struct {
	mu    sync.Mutex
	down  map[string]bool
	calls map[string]int // failed calls per instance
}

var errHypervisorDown = errors.New("simulated: the hypervisor does not answer")

func (o *outages) set(id string, down bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.down[id] = down
}

func (o *outages) failed(id string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.calls[id]
}

func (o *outages) fail(id string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.down[id] {
		o.calls[id]++
	}
	return o.down[id]
}

// flakyDriver is the simulated driver behind outage; it passes its events on.
type flakyDriver struct{ compute.Driver }

func wrapDriver(d compute.Driver) compute.Driver { return flakyDriver{d} }

func (d flakyDriver) Get(ctx context.Context, id string) (compute.Instance, error) {
	if outage.fail(id) {
		return compute.Instance{}, errHypervisorDown
	}
	return d.Driver.Get(ctx, id)
}

func (d flakyDriver) Destroy(ctx context.Context, id string) error {
	if outage.fail(id) {
		return errHypervisorDown
	}
	return d.Driver.Destroy(ctx, id)
}

func (d flakyDriver) Notify(fn func(string)) { d.Driver.(compute.Notifier).Notify(fn) }

func drift(srv *computev1.Server) *metav1.Condition {
	return meta.FindStatusCondition(get(srv).Status.Conditions, computev1.ConditionChangedBehindKova)
}

var _ = Describe("Observed status", func() {
	var ns string
	BeforeEach(func() { ns = tenant(uniq("tenant")) })

	It("stops an ACTIVE server whose instance was powered off behind Kova's back, and keeps it SHUTOFF until the spec changes", func() {
		srv := newServer(ns)
		settled(srv, "ACTIVE")
		Expect(mgr.Driver.PowerOffBehindKova(suiteCtx, string(srv.UID))).To(Succeed())

		s := settled(srv, "SHUTOFF")
		Expect(s.Status.PowerState).To(Equal(int32(4)))
		Expect(s.Status.Power).To(Equal("Shutdown"))
		Expect(s.Status.TaskState).To(BeEmpty())
		expectSeen(srv, "ACTIVE/none", "ACTIVE/powering-off", "SHUTOFF/none")
		c := drift(srv)
		Expect(c).NotTo(BeNil())
		Expect(c.Reason).To(Equal(computev1.ReasonPowerSynced))
		Expect(c.Message).To(Equal("Instance shutdown by itself. Calling the stop API."))
		ready := meta.FindStatusCondition(s.Status.Conditions, computev1.ConditionReady)
		Expect(ready.Status).To(Equal(metav1.ConditionFalse))
		Expect(ready.Message).To(ContainSubstring("shutdown by itself"))
		Expect(s.Spec.PowerState).To(Equal(computev1.PowerActive), "Kova does not write the spec")
		Consistently(func() string { return get(srv).Status.Status }, "1s").Should(Equal("SHUTOFF"),
			"the spec that was carried out before the drift does not start the server again")

		By("a new spec is carried out in full")
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerStopped })).To(Succeed())
		Eventually(func() *metav1.Condition { return drift(srv) }).Should(BeNil())
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerActive })).To(Succeed())
		Expect(settled(srv, "ACTIVE").Status.PowerState).To(Equal(int32(1)))
		inst, err := mgr.Driver.Get(suiteCtx, string(srv.UID))
		Expect(err).NotTo(HaveOccurred())
		Expect(inst.Power).To(Equal(lifecycle.PowerRunning))
	})

	It("stops a STOPPED server found running again, as Nova does", func() {
		srv := newServer(ns, func(s *computev1.Server) { s.Spec.PowerState = computev1.PowerStopped })
		settled(srv, "SHUTOFF")
		Expect(mgr.Driver.ChangeBehindKova(suiteCtx, string(srv.UID), compute.OutOfBand{Power: lifecycle.PowerRunning})).To(Succeed())
		expectSeen(srv, "SHUTOFF/none", "SHUTOFF/powering-off", "SHUTOFF/none")
		Expect(settled(srv, "SHUTOFF").Status.PowerState).To(Equal(int32(4)))
		Eventually(func() lifecycle.PowerState {
			inst, err := mgr.Driver.Get(suiteCtx, string(srv.UID))
			Expect(err).NotTo(HaveOccurred())
			return inst.Power
		}).Should(Equal(lifecycle.PowerShutdown))
		Expect(drift(srv).Message).To(Equal("Instance is not stopped. Calling the stop API."))
	})

	It("records the power state the driver reports when Nova would ignore the discrepancy", func() {
		srv := newServer(ns)
		settled(srv, "ACTIVE")
		Expect(mgr.Driver.ChangeBehindKova(suiteCtx, string(srv.UID), compute.OutOfBand{Power: lifecycle.PowerPaused})).To(Succeed())
		Eventually(func() int32 { return get(srv).Status.PowerState }).Should(Equal(int32(3)))
		s := get(srv)
		Expect(s.Status.Status).To(Equal("ACTIVE"), "a guest paused from outside is left alone (Nova's bug 1097806)")
		Expect(s.Status.Power).To(Equal("Paused"))
	})

	It("puts a server whose instance vanished in ERROR with Nova's fault", func() {
		srv := newServer(ns)
		settled(srv, "ACTIVE")
		Expect(mgr.Driver.VanishBehindKova(suiteCtx, string(srv.UID))).To(Succeed())
		s := settled(srv, "ERROR")
		Expect(s.Status.Fault).NotTo(BeNil())
		Expect(s.Status.Fault.Code).To(Equal(int32(404)))
		Expect(s.Status.Fault.Message).To(Equal("Instance " + string(s.UID) + " could not be found."))
		Expect(s.Status.PowerState).To(Equal(int32(0)))
		Expect(drift(srv).Reason).To(Equal(computev1.ReasonInstanceNotFound))

		By("deleting it still lets it go")
		Expect(k8s.Delete(suiteCtx, s)).To(Succeed())
		Eventually(func() error { return k8s.Get(suiteCtx, client.ObjectKeyFromObject(s), &computev1.Server{}) }).
			Should(Satisfy(apierrors.IsNotFound))
	})

	It("finds a change no event told of at the next periodic sync", func() {
		srv := newServer(ns)
		settled(srv, "ACTIVE")
		Expect(mgr.Driver.ChangeBehindKova(suiteCtx, string(srv.UID),
			compute.OutOfBand{Power: lifecycle.PowerCrashed, Silent: true})).To(Succeed())
		s := settled(srv, "SHUTOFF")
		Expect(s.Status.PowerState).To(Equal(int32(4)))
		Expect(drift(srv).Reason).To(Equal(computev1.ReasonPowerSynced))
	})

	It("does not stamp observedGeneration when the reconcile of that generation fails", func() {
		srv := newServer(ns)
		before := settled(srv, "ACTIVE")
		uid := string(srv.UID)
		outage.set(uid, true)
		DeferCleanup(outage.set, uid, false)
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerStopped })).To(Succeed())
		Eventually(func() int { return outage.failed(uid) }).Should(BeNumerically(">=", 2))
		s := get(srv)
		Expect(s.Generation).To(BeNumerically(">", before.Generation))
		Expect(s.Status.ObservedGeneration).To(Equal(before.Generation))
		Expect(s.Status.Status).To(Equal("ACTIVE"))
		for _, c := range s.Status.Conditions {
			Expect(c.ObservedGeneration).To(BeNumerically("<=", before.Generation), c.Type)
		}

		outage.set(uid, false)
		Expect(settled(srv, "SHUTOFF").Status.ObservedGeneration).To(Equal(s.Generation))
	})

	It("shows Deleting (Ready false) while the server is torn down", func() {
		srv := newServer(ns)
		settled(srv, "ACTIVE")
		uid := string(srv.UID)
		outage.set(uid, true)
		DeferCleanup(outage.set, uid, false)
		Expect(k8s.Delete(suiteCtx, get(srv))).To(Succeed())
		Eventually(func(g Gomega) {
			s := get(srv)
			g.Expect(s.Status.TaskState).To(Equal("deleting"))
			ready := meta.FindStatusCondition(s.Status.Conditions, computev1.ConditionReady)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(metav1.ConditionFalse))
			g.Expect(ready.Reason).To(Equal(computev1.ReasonDeleting))
			g.Expect(meta.FindStatusCondition(s.Status.Conditions, computev1.ConditionProgressing).Reason).To(Equal(computev1.ReasonDeleting))
		}).Should(Succeed())
		// The status is written before the driver is asked, so the failed destroy may come
		// just after it shows.
		Eventually(func() int { return outage.failed(uid) }).Should(BeNumerically(">", 0), "the teardown waits for the driver")
		Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(srv), &computev1.Server{})).To(Succeed(), "the server stays while its instance cannot be destroyed")

		outage.set(uid, false)
		Eventually(func() error { return k8s.Get(suiteCtx, client.ObjectKeyFromObject(srv), &computev1.Server{}) }).
			Should(Satisfy(apierrors.IsNotFound))
	})
})
