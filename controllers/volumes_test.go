package controllers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// newClaim makes a PersistentVolumeClaim, the volume.
func newClaim(ns, name string) *corev1.PersistentVolumeClaim {
	GinkgoHelper()
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	Expect(k8s.Create(suiteCtx, pvc)).To(Succeed())
	return pvc
}

var _ = Describe("Volumes in spec", func() {
	var ns string
	BeforeEach(func() { ns = tenant(uniq("tenant")) })

	It("attaches a claim with Nova's device name, keeps it from a second server and from deletion, and detaches it", func() {
		pvc := newClaim(ns, "data")
		a, b := newServer(ns), newServer(ns)
		settled(a, "ACTIVE")
		settled(b, "ACTIVE")

		Expect(updateSpec(k8s, a, func(s *computev1.ServerSpec) {
			s.Volumes = []computev1.VolumeAttachment{{ClaimName: "data"}}
		})).To(Succeed())
		Eventually(func() []computev1.ServerVolumeAttachment { return get(a).Status.VolumeAttachments }).Should(Equal(
			[]computev1.ServerVolumeAttachment{{ID: string(pvc.UID), ServerID: string(a.UID), VolumeID: string(pvc.UID), ClaimName: "data", Device: "/dev/vdb"}}))
		cur := &corev1.PersistentVolumeClaim{}
		Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(pvc), cur)).To(Succeed())
		Expect(cur.Annotations).To(HaveKeyWithValue(computev1.AnnotationAttachedTo, string(a.UID)))
		Expect(controllerutil.ContainsFinalizer(cur, computev1.VolumeFinalizer)).To(BeTrue())

		By("a second server may not take it")
		Expect(updateSpec(k8s, b, func(s *computev1.ServerSpec) {
			s.Volumes = []computev1.VolumeAttachment{{ClaimName: "data"}}
		})).To(Succeed())
		Eventually(func(g Gomega) {
			cur := get(b)
			g.Expect(cur.Status.DeviceFailure).NotTo(BeNil())
			g.Expect(cur.Status.DeviceFailure.Message).To(Equal("Invalid volume: volume " + string(pvc.UID) +
				" is already attached to instances: " + string(a.UID)))
		}).Should(Succeed())
		Expect(get(b).Status.VolumeAttachments).To(BeEmpty())

		By("a delete of the claim waits for the detach")
		Expect(k8s.Delete(suiteCtx, pvc)).To(Succeed())
		Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(pvc), cur)).To(Succeed())
		Expect(cur.DeletionTimestamp).NotTo(BeNil())
		Expect(cur.Finalizers).To(ContainElement(computev1.VolumeFinalizer))
		Expect(updateSpec(k8s, a, func(s *computev1.ServerSpec) { s.Volumes = nil })).To(Succeed())
		// Once detached, Kova lets go of the claim (kube-controller-manager, which envtest
		// does not run, removes Kubernetes' own pvc-protection, and the claim is gone).
		Eventually(func(g Gomega) {
			err := k8s.Get(suiteCtx, client.ObjectKeyFromObject(pvc), cur)
			if apierrors.IsNotFound(err) {
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cur.Finalizers).NotTo(ContainElement(computev1.VolumeFinalizer))
		}).Should(Succeed())
		Expect(get(a).Status.VolumeAttachments).To(BeEmpty())
	})

	It("refuses a claim that is not there, and deletes a claim with its server on delete_on_termination", func() {
		srv := newServer(ns)
		settled(srv, "ACTIVE")
		err := updateSpec(k8s, srv, func(s *computev1.ServerSpec) {
			s.Volumes = []computev1.VolumeAttachment{{ClaimName: "nope"}}
		})
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("Volume nope could not be found."))

		keep, gone := newClaim(ns, "keep"), newClaim(ns, "scratch")
		Expect(updateSpec(k8s, srv, func(s *computev1.ServerSpec) {
			s.Volumes = []computev1.VolumeAttachment{{ClaimName: "keep", Device: "/dev/vdc"}, {ClaimName: "scratch", DeleteOnTermination: true}}
		})).To(Succeed())
		Eventually(func() []string {
			var out []string
			for _, a := range get(srv).Status.VolumeAttachments {
				out = append(out, a.ClaimName+"="+a.Device)
			}
			return out
		}).Should(ConsistOf("keep=/dev/vdc", "scratch=/dev/vdb"))
		Expect(k8s.Delete(suiteCtx, srv)).To(Succeed())
		Eventually(func(g Gomega) {
			cur := &corev1.PersistentVolumeClaim{}
			err := k8s.Get(suiteCtx, client.ObjectKeyFromObject(gone), cur)
			if apierrors.IsNotFound(err) {
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cur.DeletionTimestamp).NotTo(BeNil(), "delete_on_termination deletes the claim")
			g.Expect(cur.Finalizers).NotTo(ContainElement(computev1.VolumeFinalizer))
		}).Should(Succeed())
		cur := &corev1.PersistentVolumeClaim{}
		Eventually(func(g Gomega) {
			g.Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(keep), cur)).To(Succeed())
			g.Expect(cur.Finalizers).NotTo(ContainElement(computev1.VolumeFinalizer))
			g.Expect(cur.Annotations).NotTo(HaveKey(computev1.AnnotationAttachedTo))
		}).Should(Succeed())
	})
})
