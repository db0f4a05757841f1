package controllers_test

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/compute"
	"github.com/kova-dev/kova/internal/rules"
)

// fixedIPsOf lists the addresses a server holds, as the manager's allocator has them.
func fixedIPsOf(srv *computev1.Server) []string {
	held, err := mgr.Addresses.Held(suiteCtx, string(srv.UID))
	Expect(err).NotTo(HaveOccurred())
	return held
}

func driverHas(uid string) bool {
	ids, err := mgr.Driver.List(suiteCtx)
	Expect(err).NotTo(HaveOccurred())
	for _, id := range ids {
		if id == uid {
			return true
		}
	}
	return false
}

// expectSeen asserts the server went through want, in order (other states may interleave).
func expectSeen(srv *computev1.Server, want ...string) {
	GinkgoHelper()
	expectSeenSince(srv, 0, want...)
}

// expectSeenSince is expectSeen for the states seen after the server's first `since`.
func expectSeenSince(srv *computev1.Server, since int, want ...string) {
	GinkgoHelper()
	Eventually(func() []string {
		seen := history.of(string(srv.UID))[since:]
		idx := 0
		for _, s := range seen {
			if idx < len(want) && s == want[idx] {
				idx++
			}
		}
		if idx == len(want) {
			return nil
		}
		return seen
	}).Should(BeNil(), "want %v in order", want)
}

var _ = Describe("Server", func() {
	var ns string
	BeforeEach(func() { ns = tenant(uniq("tenant")) })

	It("boots through BUILD to ACTIVE with progress, a host and an address", func() {
		srv := newServer(ns, func(s *computev1.Server) { s.Spec.Metadata = map[string]string{"role": "web"} })
		s := settled(srv, "ACTIVE")
		Expect(s.Status.VMState).To(Equal("active"))
		Expect(s.Status.PowerState).To(Equal(int32(1)))
		Expect(s.Status.Power).To(Equal("Running"))
		Expect(s.Status.Progress).To(Equal(int32(100)))
		Expect(s.Status.Host).To(HavePrefix("sim-host-"))
		Expect(s.Status.HostID).To(HaveLen(56))
		Expect(s.Status.Flavor).To(Equal("m1.small"))
		Expect(s.Status.Image).To(Equal("cirros"))
		Expect(s.Status.LaunchedAt).NotTo(BeNil())
		Expect(s.Status.Addresses).To(HaveLen(1))
		Expect(s.Status.Addresses[0].Network).To(Equal("private"))
		Expect(s.Status.Addresses[0].Address).To(HavePrefix("10.0.0."))
		Expect(s.Status.Addresses[0].MACAddress).To(HavePrefix("fa:16:3e:"))
		Expect(s.Status.Networks).To(Equal("private=" + s.Status.Addresses[0].Address))
		Expect(meta.IsStatusConditionTrue(s.Status.Conditions, computev1.ConditionReady)).To(BeTrue())
		Expect(meta.IsStatusConditionFalse(s.Status.Conditions, computev1.ConditionProgressing)).To(BeTrue())
		for _, c := range s.Status.Conditions {
			Expect(c.ObservedGeneration).To(Equal(s.Generation))
		}
		Expect(fixedIPsOf(s)).To(ConsistOf(s.Namespace + "/private=" + s.Status.Addresses[0].Address))
		Expect(s.Status.Addresses[0].NetworkNamespace).To(Equal(s.Namespace), "the status names the Network it holds the address of")
		Expect(s.Status.Addresses[0].NetworkName).To(Equal("private"))
		Expect(s.Finalizers).To(ContainElement(computev1.Finalizer))
		expectSeen(s, "BUILD/networking", "BUILD/spawning", "ACTIVE/none")
		// The controller, the status's only writer, owns it whole: one short managed-fields
		// entry, not one naming every field, in the object every write, watch and LIST carries.
		var statusOwners []string
		for _, mf := range s.ManagedFields {
			if mf.Subresource == "status" && mf.FieldsV1 != nil {
				statusOwners = append(statusOwners, mf.Manager+" "+mf.FieldsV1.GetRawString())
			}
		}
		Expect(statusOwners).To(ConsistOf(HaveSuffix(` {"f:status":{}}`)))
	})

	It("walks every allowed transition as Nova shows it", func() {
		srv := newServer(ns)
		settled(srv, "ACTIVE")
		uid := string(get(srv).UID)

		power := func(p computev1.PowerState) {
			Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.PowerState = p })).To(Succeed())
		}
		By("stop and start")
		power(computev1.PowerStopped)
		Expect(settled(srv, "SHUTOFF").Status.Power).To(Equal("Shutdown"))
		power(computev1.PowerActive)
		settled(srv, "ACTIVE")
		expectSeen(srv, "ACTIVE/powering-off", "SHUTOFF/none", "SHUTOFF/powering-on", "ACTIVE/none")

		By("pause and unpause")
		power(computev1.PowerPaused)
		Expect(settled(srv, "PAUSED").Status.Power).To(Equal("Paused"))
		power(computev1.PowerActive)
		settled(srv, "ACTIVE")
		expectSeen(srv, "ACTIVE/pausing", "PAUSED/none", "PAUSED/unpausing")

		By("suspend and resume")
		power(computev1.PowerSuspended)
		settled(srv, "SUSPENDED")
		power(computev1.PowerActive)
		settled(srv, "ACTIVE")
		expectSeen(srv, "ACTIVE/suspending", "SUSPENDED/none", "SUSPENDED/resuming")

		By("soft and hard reboot")
		sa := act(k8s, srv, computev1.ServerActionSpec{Action: computev1.ActionReboot})
		Expect(sa.Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		Expect(sa.Spec.RequestedBy).NotTo(BeEmpty())
		Expect(sa.Spec.RequestID).To(HavePrefix("req-"))
		// Owned by nothing: a server's history outlives it; its uid names the server.
		Expect(sa.OwnerReferences).To(BeEmpty())
		Expect(sa.Labels).To(HaveKeyWithValue(computev1.LabelServerUID, uid))
		sa = act(k8s, srv, computev1.ServerActionSpec{Action: computev1.ActionReboot, Reboot: &computev1.RebootParams{Type: "HARD"}})
		Expect(sa.Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		settled(srv, "ACTIVE")
		expectSeen(srv, "REBOOT/rebooting", "REBOOT/reboot_started", "ACTIVE/none", "HARD_REBOOT/rebooting_hard")

		By("rescue and unrescue")
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.Rescue = true })).To(Succeed())
		settled(srv, "RESCUE")
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.Rescue = false })).To(Succeed())
		settled(srv, "ACTIVE")
		expectSeen(srv, "ACTIVE/rescuing", "RESCUE/none", "RESCUE/unrescuing")

		By("resize, then confirm")
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.FlavorRef = "m1.medium" })).To(Succeed())
		s := settled(srv, "VERIFY_RESIZE")
		Expect(s.Status.Flavor).To(Equal("m1.medium"))
		Expect(s.Status.OldFlavor).To(Equal("m1.small"))
		sa = act(k8s, srv, computev1.ServerActionSpec{Action: computev1.ActionConfirmResize})
		Expect(sa.Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		s = settled(srv, "ACTIVE")
		Expect(s.Status.Flavor).To(Equal("m1.medium"))
		Expect(s.Status.OldFlavor).To(BeEmpty())
		expectSeen(srv, "RESIZE/resize_prep", "RESIZE/resize_finish", "VERIFY_RESIZE/none")
		By("the spec-driven resize is recorded as a ServerAction, done, that the controller never took up as a request")
		Eventually(func(g Gomega) {
			var records computev1.ServerActionList
			g.Expect(k8s.List(suiteCtx, &records, client.InNamespace(ns),
				client.MatchingLabels{computev1.LabelServer: srv.Name, computev1.LabelFromSpec: "true"})).To(Succeed())
			var resizes []computev1.ServerAction
			for _, r := range records.Items {
				if r.Spec.Action == computev1.ActionResize {
					resizes = append(resizes, r)
				}
			}
			g.Expect(resizes).To(HaveLen(1))
			g.Expect(resizes[0].Spec.Resize.FlavorRef).To(Equal("m1.medium"))
			g.Expect(resizes[0].Status.Phase).To(Equal(computev1.ActionSucceeded))
		}).Should(Succeed())

		By("resize, then revert: the server goes back, the spec stays the user's, and nothing resizes it again")
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.FlavorRef = "m1.tiny" })).To(Succeed())
		settled(srv, "VERIFY_RESIZE")
		sa = act(k8s, srv, computev1.ServerActionSpec{Action: computev1.ActionRevertResize})
		Expect(sa.Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		s = settled(srv, "ACTIVE")
		Expect(s.Status.Flavor).To(Equal("m1.medium"))
		Expect(s.Spec.FlavorRef).To(Equal("m1.tiny"))
		Expect(s.Status.Applied.FlavorRef).To(Equal("m1.tiny"))
		expectSeen(srv, "VERIFY_RESIZE/none", "REVERT_RESIZE/resize_reverting")
		Consistently(func() string { return get(srv).Status.Status + "/" + get(srv).Status.Flavor }, "1s", "100ms").
			Should(Equal("ACTIVE/m1.medium"))

		By("rebuild from another image, then from the same one")
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.ImageRef = "ubuntu" })).To(Succeed())
		Expect(settled(srv, "ACTIVE").Status.Image).To(Equal("ubuntu"))
		sa = act(k8s, srv, computev1.ServerActionSpec{Action: computev1.ActionRebuild})
		Expect(sa.Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		expectSeen(srv, "REBUILD/rebuilding", "REBUILD/rebuild_spawning")

		By("createImage: the server keeps ACTIVE while a new image goes queued -> saving -> active")
		sa = act(k8s, srv, computev1.ServerActionSpec{Action: computev1.ActionCreateImage,
			CreateImage: &computev1.CreateImageParams{ImageName: "my snapshot", Metadata: map[string]string{"purpose": "test"}}})
		Expect(sa.Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		img := &computev1.Image{}
		Expect(k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: sa.Status.ImageName}, img)).To(Succeed())
		Expect(img.Spec.Name).To(Equal("my snapshot"))
		Expect(img.Status.Status).To(Equal(computev1.ImageActive))
		Expect(img.Spec.Metadata).To(HaveKeyWithValue("instance_uuid", uid))
		Expect(img.Spec.Metadata).To(HaveKeyWithValue("purpose", "test"))
		expectSeen(srv, "ACTIVE/image_snapshot_pending", "ACTIVE/image_uploading", "ACTIVE/none")

		By("changePassword: the password comes in a Secret that is deleted once set")
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "newpass"},
			StringData: map[string]string{"password": "s3cret!"}}
		Expect(k8s.Create(suiteCtx, secret)).To(Succeed())
		sa = act(k8s, srv, computev1.ServerActionSpec{Action: computev1.ActionChangePassword,
			ChangePassword: &computev1.ChangePasswordParams{SecretName: "newpass"}})
		Expect(sa.Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(suiteCtx, client.ObjectKeyFromObject(secret), &corev1.Secret{}))
		}).Should(BeTrue())
		expectSeen(srv, "PASSWORD/updating_password")

		By("shelve offloads at once; unshelve places it again")
		power(computev1.PowerShelved)
		s = settled(srv, "SHELVED_OFFLOADED")
		Expect(s.Status.Host).To(BeEmpty())
		Expect(s.Status.HostID).To(BeEmpty())
		power(computev1.PowerActive)
		Expect(settled(srv, "ACTIVE").Status.Host).NotTo(BeEmpty())
		expectSeen(srv, "ACTIVE/shelving", "SHELVED/shelving_offloading", "SHELVED_OFFLOADED/none", "SHELVED_OFFLOADED/unshelving")

		By("a stopped server resizes, and stays off when confirmed")
		power(computev1.PowerStopped)
		settled(srv, "SHUTOFF")
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.FlavorRef = "m1.small" })).To(Succeed())
		Expect(settled(srv, "VERIFY_RESIZE").Status.Power).To(Equal("Shutdown"))
		sa = act(k8s, srv, computev1.ServerActionSpec{Action: computev1.ActionConfirmResize})
		Expect(sa.Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		settled(srv, "SHUTOFF")

		By("a stopped server's rebuild powers the rebuilt guest off again, shown ACTIVE/powering-off as Nova shows it")
		since := len(history.of(uid))
		sa = act(k8s, srv, computev1.ServerActionSpec{Action: computev1.ActionRebuild})
		Expect(sa.Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		expectSeenSince(srv, since, "REBUILD/rebuilding", "REBUILD/rebuild_spawning", "ACTIVE/powering-off", "SHUTOFF/none")
		s = settled(srv, "SHUTOFF")
		Expect(s.Status.VMState).To(Equal("stopped"))
		Expect(s.Status.Power).To(Equal("Shutdown"))

		By("delete releases the instance and the address")
		ips := fixedIPsOf(srv)
		Expect(ips).To(HaveLen(1))
		Expect(k8s.Delete(suiteCtx, get(srv))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(suiteCtx, client.ObjectKeyFromObject(srv), &computev1.Server{}))
		}).Should(BeTrue())
		Expect(fixedIPsOf(srv)).To(BeEmpty())
		Expect(driverHas(uid)).To(BeFalse())
	})

	It("keeps a shelved server's snapshot while it is shelved, and rotates backups once the new one is active", func() {
		srv := newServer(ns)
		s := settled(srv, "ACTIVE")
		shelved := client.ObjectKey{Namespace: ns, Name: rules.ShelvedImageName(s)}
		shelve := func() {
			Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerShelved })).To(Succeed())
			settled(srv, "SHELVED_OFFLOADED")
			img := &computev1.Image{}
			Expect(k8s.Get(suiteCtx, shelved, img)).To(Succeed())
			Expect(img.Spec.Name).To(Equal(s.DisplayName() + "-shelved"))
			Expect(img.Status.Status).To(Equal(computev1.ImageActive))
			Expect(img.Spec.Metadata).To(HaveKeyWithValue("instance_uuid", string(s.UID)))
		}
		gone := func() bool { return apierrors.IsNotFound(k8s.Get(suiteCtx, shelved, &computev1.Image{})) }
		shelve()
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerActive })).To(Succeed())
		settled(srv, "ACTIVE")
		Eventually(gone).Should(BeTrue(), "unshelve deletes the snapshot")

		By("backups of a type beyond the rotation go once the newest is active")
		backup := func(name, kind string) string {
			sa := act(k8s, srv, computev1.ServerActionSpec{Action: computev1.ActionCreateImage,
				CreateImage: &computev1.CreateImageParams{ImageName: name, Backup: &computev1.BackupParams{Type: kind, Rotation: 2}}})
			Expect(sa.Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
			settled(srv, "ACTIVE")
			return sa.Status.ImageName
		}
		b1, weekly, b2, b3 := backup("b1", "daily"), backup("w1", "weekly"), backup("b2", "daily"), backup("b3", "daily")
		exists := func(name string) bool {
			return k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: name}, &computev1.Image{}) == nil
		}
		Eventually(func() bool { return exists(b1) }).Should(BeFalse(), "the oldest daily backup is rotated away")
		Expect([]bool{exists(weekly), exists(b2), exists(b3)}).To(Equal([]bool{true, true, true}))

		By("deleting a shelved server deletes its snapshot")
		shelve()
		Expect(k8s.Delete(suiteCtx, get(srv))).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(suiteCtx, client.ObjectKeyFromObject(srv), &computev1.Server{}))
		}).Should(BeTrue())
		Expect(gone()).To(BeTrue())
	})

	It("locks: a non-admin's actions are refused with Nova's message, an admin's are not", func() {
		srv := newServer(ns)
		s := settled(srv, "ACTIVE")
		Expect(updateSpec(creator, srv, func(s *computev1.ServerSpec) { s.Locked = true; s.LockedReason = "maintenance" })).To(Succeed())
		Eventually(func() bool { return get(srv).Status.Locked }).Should(BeTrue())

		err := updateSpec(creator, srv, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerStopped })
		Expect(apierrors.IsConflict(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring(fmt.Sprintf("Instance %s is locked", s.UID)))
		sa := act(creator, srv, computev1.ServerActionSpec{Action: computev1.ActionReboot})
		Expect(sa.Status.Phase).To(Equal(computev1.ActionFailed))
		Expect(sa.Status.Message).To(Equal(fmt.Sprintf("Instance %s is locked", s.UID)))
		Expect(sa.Spec.RequestedBy).To(Equal("alice"))

		By("metadata changes are not actions")
		Expect(updateSpec(creator, srv, func(s *computev1.ServerSpec) { s.Metadata = map[string]string{"k": "v"} })).To(Succeed())

		By("an admin acts on a locked server")
		sa = act(k8s, srv, computev1.ServerActionSpec{Action: computev1.ActionReboot})
		Expect(sa.Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerStopped })).To(Succeed())
		settled(srv, "SHUTOFF")
		Expect(updateSpec(creator, srv, func(s *computev1.ServerSpec) { s.Locked = false })).To(Succeed())
		Eventually(func() bool { return get(srv).Status.Locked }).Should(BeFalse())
		Expect(updateSpec(creator, srv, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerActive })).To(Succeed())
		settled(srv, "ACTIVE")
	})

	It("fails a ServerAction the lifecycle refuses, with Nova's message", func() {
		srv := newServer(ns)
		s := settled(srv, "ACTIVE")
		sa := act(k8s, srv, computev1.ServerActionSpec{Action: computev1.ActionConfirmResize})
		Expect(sa.Status.Phase).To(Equal(computev1.ActionFailed))
		Expect(sa.Status.Message).To(Equal(fmt.Sprintf("Cannot 'confirmResize' instance %s while it is in vm_state active", s.UID)))
		sa = act(k8s, srv, computev1.ServerActionSpec{Action: computev1.ActionShelveOffload})
		Expect(sa.Status.Message).To(Equal(fmt.Sprintf("Cannot 'shelveOffload' instance %s while it is in vm_state active", s.UID)))
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerStopped })).To(Succeed())
		settled(srv, "SHUTOFF")
		sa = act(k8s, srv, computev1.ServerActionSpec{Action: computev1.ActionReboot})
		Expect(sa.Status.Message).To(Equal(fmt.Sprintf("Cannot 'reboot' instance %s while it is in vm_state stopped", s.UID)))
		sa = act(k8s, srv, computev1.ServerActionSpec{Action: computev1.ActionChangePassword,
			ChangePassword: &computev1.ChangePasswordParams{SecretName: "none"}})
		Expect(sa.Status.Message).To(Equal(fmt.Sprintf("Cannot 'changePassword' instance %s while it is in vm_state stopped", s.UID)))

		By("an action for a server that does not exist")
		sa = act(k8s, &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ghost"}},
			computev1.ServerActionSpec{Action: computev1.ActionReboot})
		Expect(sa.Status.Phase).To(Equal(computev1.ActionFailed))
		Expect(sa.Status.Message).To(Equal("Instance ghost could not be found."))
	})

	It("ends in ERROR with the fault when a step fails, and gives back the address", func() {
		srv := newServer(ns, func(s *computev1.Server) {
			s.Annotations = map[string]string{computev1.AnnotationFault: "spawn:Build of instance aborted: disk full"}
		})
		s := settled(srv, "ERROR")
		Expect(s.Status.Fault).NotTo(BeNil())
		Expect(s.Status.Fault.Code).To(Equal(int32(500)))
		Expect(s.Status.Fault.Message).To(Equal("Build of instance aborted: disk full"))
		Expect(s.Status.Addresses).To(BeEmpty())
		Expect(fixedIPsOf(s)).To(BeEmpty())
		Expect(meta.FindStatusCondition(s.Status.Conditions, computev1.ConditionReady).Reason).To(Equal(computev1.ReasonFailed))

		By("a fault in a later task")
		srv = newServer(ns, func(s *computev1.Server) { s.Annotations = map[string]string{computev1.AnnotationFault: "pause"} })
		settled(srv, "ACTIVE")
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerPaused })).To(Succeed())
		s = settled(srv, "ERROR")
		Expect(s.Status.Fault.Message).To(Equal("Simulated failure in pause"))
		Expect(fixedIPsOf(s)).To(HaveLen(1), "a server in ERROR keeps its port until deleted")
		By("a hard reboot recovers it")
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerActive })).To(Succeed())
		sa := act(k8s, srv, computev1.ServerActionSpec{Action: computev1.ActionReboot, Reboot: &computev1.RebootParams{Type: "HARD"}})
		Expect(sa.Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		Expect(settled(srv, "ACTIVE").Status.Fault).To(BeNil())
	})

	It("ends in ERROR with No valid host when the flavor fits on no host", func() {
		srv := newServer(ns, func(s *computev1.Server) { s.Spec.FlavorRef = "m1.huge" })
		s := settled(srv, "ERROR")
		Expect(s.Status.Fault.Message).To(Equal(compute.NoValidHostMessage))
		Expect(s.Status.Fault.Message).To(Equal("No valid host was found. There are not enough hosts available."))
		Expect(fixedIPsOf(s)).To(BeEmpty())
		Expect(s.Status.Host).To(BeEmpty())
	})

	It("frees every address and backend record when deleted during BUILD", func() {
		srv := newServer(ns, func(s *computev1.Server) {
			s.Spec.Networks = []computev1.NetworkAttachment{{Name: "private"}, {Name: "public"}}
		})
		Eventually(func() string { return get(srv).Status.Status }).Should(Equal("BUILD"))
		s := get(srv)
		Eventually(func() []string { return fixedIPsOf(s) }).Should(HaveLen(2))
		Expect(k8s.Delete(suiteCtx, s)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(suiteCtx, client.ObjectKeyFromObject(srv), &computev1.Server{}))
		}).Should(BeTrue())
		Expect(fixedIPsOf(s)).To(BeEmpty())
		Expect(driverHas(string(s.UID))).To(BeFalse())
	})

	It("never gives two servers one address", func() {
		small := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "tiny-net"},
			Spec: computev1.NetworkSpec{CIDR: "192.168.50.0/28"}} // 13 usable: 16 - network - broadcast - gateway
		Expect(k8s.Create(suiteCtx, small)).To(Succeed())
		var servers []*computev1.Server
		for range 15 {
			servers = append(servers, newServer(ns, func(s *computev1.Server) {
				s.Spec.FlavorRef = "m1.tiny"
				s.Spec.Networks = []computev1.NetworkAttachment{{Name: "tiny-net"}}
			}))
		}
		seen := map[string]string{}
		var errored int
		for _, srv := range servers {
			Eventually(func() string { return get(srv).Status.Status }).Should(Or(Equal("ACTIVE"), Equal("ERROR")))
			s := settled(srv, get(srv).Status.Status)
			if s.Status.Status == "ERROR" {
				errored++
				Expect(s.Status.Fault.Message).To(Equal("No more IP addresses available on network tiny-net."))
				continue
			}
			addr := s.Status.Addresses[0].Address
			Expect(seen).NotTo(HaveKey(addr), "address %s given to %s and %s", addr, seen[addr], s.Name)
			seen[addr] = s.Name
			Expect(addr).NotTo(Equal("192.168.50.1"), "the gateway is never given out")
		}
		Expect(seen).To(HaveLen(13))
		Expect(errored).To(Equal(2))
		Eventually(func() int64 {
			Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(small), small)).To(Succeed())
			return small.Status.Allocated
		}).Should(Equal(int64(13)))
		Expect(small.Status.Capacity).To(Equal(int64(13)))
	})

	It("serves shared networks and public images to every tenant, but not another tenant's", func() {
		other := tenant(uniq("tenant"))
		img := &computev1.Image{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "private-img"},
			Spec: computev1.ImageSpec{Source: computev1.ImageSource{URL: "example.invalid/x"}}}
		Expect(k8s.Create(suiteCtx, img)).To(Succeed())
		srv := &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "borrower"},
			Spec: computev1.ServerSpec{FlavorRef: "m1.tiny", ImageRef: "private-img", PowerState: computev1.PowerActive}}
		err := k8s.Create(suiteCtx, srv)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("Image private-img could not be found."))
		s := newServer(ns, func(s *computev1.Server) { s.Spec.Networks = []computev1.NetworkAttachment{{Name: "public"}} })
		Expect(settled(s, "ACTIVE").Status.Addresses[0].Address).To(HavePrefix("172.24.4."))
	})
})

var _ = Describe("Bad input", func() {
	var ns string
	BeforeEach(func() { ns = tenant(uniq("tenant")) })

	create := func(mutate func(*computev1.Server)) error {
		srv := &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: uniq("bad")},
			Spec: computev1.ServerSpec{FlavorRef: "m1.small", ImageRef: "cirros", PowerState: computev1.PowerActive,
				Networks: []computev1.NetworkAttachment{{Name: "private"}}}}
		mutate(srv)
		return k8s.Create(suiteCtx, srv)
	}

	DescribeTable("is refused by the API server with a message that names the field",
		func(mutate func(*computev1.Server), field, message string) {
			err := create(mutate)
			Expect(err).To(HaveOccurred())
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(ContainSubstring(field))
			Expect(err.Error()).To(ContainSubstring(message))
		},
		Entry("unknown flavor", func(s *computev1.Server) { s.Spec.FlavorRef = "nope" }, "spec.flavorRef", "Flavor nope could not be found."),
		Entry("unknown image", func(s *computev1.Server) { s.Spec.ImageRef = "nope" }, "spec.imageRef", "Image nope could not be found."),
		Entry("unknown keypair", func(s *computev1.Server) { s.Spec.KeyName = "nope" }, "spec.keyName", "Invalid key_name provided."),
		Entry("unknown network", func(s *computev1.Server) { s.Spec.Networks = []computev1.NetworkAttachment{{Name: "nope"}} }, "spec.networks[0].name", "Network nope could not be found."),
		Entry("invalid name", func(s *computev1.Server) { s.Name = "Not_A_Name" }, "metadata.name", "RFC 1123"),
		Entry("name with outer spaces", func(s *computev1.Server) { s.Spec.Name = " web " }, "spec.name", "must not begin or end with white space"),
		Entry("unknown power state", func(s *computev1.Server) { s.Spec.PowerState = "Hibernating" }, "spec.powerState", "Unsupported value"),
		Entry("fixed IP that is not an IP", func(s *computev1.Server) {
			s.Spec.Networks = []computev1.NetworkAttachment{{Name: "private", FixedIP: "10.0.0.300"}}
		}, "spec.networks[0].fixedIP", "must be an IP address"),
		Entry("too much metadata", func(s *computev1.Server) {
			s.Spec.Metadata = map[string]string{}
			for i := range 129 {
				s.Spec.Metadata[fmt.Sprintf("k%d", i)] = "v"
			}
		}, "spec.metadata", "must have at most 128 items"),
	)

	It("refuses a change of immutable fields", func() {
		srv := newServer(ns)
		settled(srv, "ACTIVE")
		err := updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.AvailabilityZone = "elsewhere" })
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("spec.availabilityZone is immutable"))
		// An attached network stays as it was attached: detach and attach again for another address.
		err = updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.Networks[0].FixedIP = "10.0.0.200" })
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("the address of an attached network does not change"))
	})

	It("refuses a flavor that is too small for the image", func() {
		img := &computev1.Image{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "big"},
			Spec: computev1.ImageSpec{Source: computev1.ImageSource{URL: "example.invalid/big"}, MinDisk: 50, MinRAM: 1024}}
		Expect(k8s.Create(suiteCtx, img)).To(Succeed())
		err := create(func(s *computev1.Server) { s.Spec.ImageRef = "big"; s.Spec.FlavorRef = "m1.tiny" })
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("Flavor's memory is too small for requested image."))
	})
})

// refusals: for a server settled in each state, every spec change either passes admission
// or is refused with exactly Nova's 409 message. The expectations are written out by hand
// from Nova's compute API guards, not derived from Kova's table.
var _ = Describe("Spec changes the lifecycle refuses", Ordered, func() {
	type change struct {
		name  string
		apply func(*computev1.ServerSpec)
	}
	changes := []change{
		{"Active", func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerActive }},
		{"Stopped", func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerStopped }},
		{"Paused", func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerPaused }},
		{"Suspended", func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerSuspended }},
		{"Shelved", func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerShelved }},
		{"rescue", func(s *computev1.ServerSpec) { s.Rescue = !s.Rescue }},
		{"flavor", func(s *computev1.ServerSpec) {
			s.FlavorRef = map[bool]string{true: "m1.tiny", false: "m1.medium"}[s.FlavorRef == "m1.medium"]
		}},
		{"image", func(s *computev1.ServerSpec) { s.ImageRef = "ubuntu" }},
	}
	// want[state][change] is "" when allowed, else the action and vm_state Nova names.
	want := map[string]map[string]string{
		"ACTIVE":            {},
		"SHUTOFF":           {"Paused": "pause stopped", "Suspended": "suspend stopped"},
		"PAUSED":            {"Stopped": "stop paused", "Suspended": "suspend paused", "rescue": "rescue paused", "flavor": "resize paused", "image": "rebuild paused"},
		"SUSPENDED":         {"Stopped": "stop suspended", "Paused": "pause suspended", "rescue": "rescue suspended", "flavor": "resize suspended", "image": "rebuild suspended"},
		"RESCUE":            {"Stopped": "stop rescued", "Paused": "pause rescued", "Suspended": "suspend rescued", "Shelved": "shelve rescued", "flavor": "resize rescued", "image": "rebuild rescued"},
		"SHELVED_OFFLOADED": {"rescue": "rescue shelved_offloaded", "flavor": "resize shelved_offloaded", "image": "rebuild shelved_offloaded"},
		"VERIFY_RESIZE":     {"Stopped": "stop resized", "Paused": "pause resized", "Suspended": "suspend resized", "Shelved": "shelve resized", "rescue": "rescue resized", "flavor": "resize resized", "image": "rebuild resized"},
	}
	reach := map[string]func(*computev1.Server){
		"ACTIVE":            func(*computev1.Server) {},
		"SHUTOFF":           func(s *computev1.Server) { s.Spec.PowerState = computev1.PowerStopped },
		"PAUSED":            func(s *computev1.Server) { s.Spec.PowerState = computev1.PowerPaused },
		"SUSPENDED":         func(s *computev1.Server) { s.Spec.PowerState = computev1.PowerSuspended },
		"RESCUE":            func(s *computev1.Server) { s.Spec.Rescue = true },
		"SHELVED_OFFLOADED": func(s *computev1.Server) { s.Spec.PowerState = computev1.PowerShelved },
	}
	var ns string
	servers := map[string]*computev1.Server{}
	BeforeAll(func() {
		ns = tenant(uniq("tenant"))
		for state, mutate := range reach {
			srv := newServer(ns)
			settled(srv, "ACTIVE")
			Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { c := get(srv); mutate(c); *s = c.Spec })).To(Succeed())
			servers[state] = srv
		}
		srv := newServer(ns)
		settled(srv, "ACTIVE")
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) { s.FlavorRef = "m1.medium" })).To(Succeed())
		servers["VERIFY_RESIZE"] = srv
		for state, srv := range servers {
			settled(srv, state)
		}
	})

	for _, state := range []string{"ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED", "RESCUE", "SHELVED_OFFLOADED", "VERIFY_RESIZE"} {
		It("from "+state, func() {
			srv := get(servers[state])
			for _, ch := range changes {
				before := get(srv).Spec
				probe := before
				ch.apply(&probe)
				if equalSpecs(before, probe) {
					continue
				}
				err := dryRunSpec(srv, ch.apply)
				expected := want[state][ch.name]
				if expected == "" {
					Expect(err).NotTo(HaveOccurred(), "%s from %s", ch.name, state)
					continue
				}
				action, vm, _ := strings.Cut(expected, " ")
				Expect(apierrors.IsConflict(err)).To(BeTrue(), "%s from %s: %v", ch.name, state, err)
				Expect(err.Error()).To(HaveSuffix(fmt.Sprintf("Cannot '%s' instance %s while it is in vm_state %s", action, srv.UID, vm)))
			}
			Expect(get(srv).Status.Status).To(Equal(state), "dry runs change nothing")
		})
	}

	It("from ERROR after a failed build (never launched)", func() {
		srv := newServer(ns, func(s *computev1.Server) { s.Annotations = map[string]string{computev1.AnnotationFault: "spawn"} })
		settled(srv, "ERROR")
		for name, change := range map[string]func(*computev1.ServerSpec){
			"rescue":  func(s *computev1.ServerSpec) { s.Rescue = true },
			"rebuild": func(s *computev1.ServerSpec) { s.ImageRef = "ubuntu" },
			"stop":    func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerStopped },
		} {
			err := dryRunSpec(srv, change)
			Expect(apierrors.IsConflict(err)).To(BeTrue(), "%s: %v", name, err)
			Expect(err.Error()).To(HaveSuffix(fmt.Sprintf("Instance %s is in an invalid state for '%s'", srv.UID, name)))
		}
	})
})

// dryRunSpec sends a spec change as a dry run, as admission sees it, again on a fresh copy
// if the server's status moved on in between (a version conflict, not a refusal).
func dryRunSpec(srv *computev1.Server, change func(*computev1.ServerSpec)) error {
	var err error
	for range 20 {
		cur := get(srv)
		change(&cur.Spec)
		err = k8s.Update(suiteCtx, cur, client.DryRunAll)
		if err == nil || !strings.Contains(err.Error(), "the object has been modified") {
			return err
		}
	}
	return err
}

func equalSpecs(a, b computev1.ServerSpec) bool {
	return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b)
}
