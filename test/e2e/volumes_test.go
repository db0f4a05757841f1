package e2e

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Volumes are PersistentVolumeClaims of the tenant, attached through os-volume_attachments
// with gophercloud (the openstack CLI's `server add volume` looks the volume up in Cinder's
// API first, which Kova does not serve) and through kubectl, under the same RBAC.

// makeClaim makes a claim in the demo tenant, deleted after the spec.
func makeClaim(ctx context.Context, name string) *corev1.PersistentVolumeClaim {
	GinkgoHelper()
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: tenantName, Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	Expect(stack.Client.Create(ctx, pvc)).To(Succeed())
	DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(stack.Client.Delete(ctx, pvc))).To(Succeed()) })
	return pvc
}

// claimHeld says whether Kova holds the claim for a server.
func claimHeld(ctx context.Context, pvc *corev1.PersistentVolumeClaim) func() bool {
	return func() bool {
		cur := &corev1.PersistentVolumeClaim{}
		Expect(stack.Client.Get(ctx, client.ObjectKeyFromObject(pvc), cur)).To(Succeed())
		for _, f := range cur.Finalizers {
			if f == computev1.VolumeFinalizer {
				return true
			}
		}
		return false
	}
}

var _ = Describe("Volume attachments", func() {
	for _, way := range []string{"direct", "aggregated"} {
		It(fmt.Sprintf("attaches, lists, shows and detaches a claim, through the %s way in", way), func(ctx SpecContext) {
			data, logs := makeClaim(ctx, "data-"+way), makeClaim(ctx, "logs-"+way)
			admin, creator, observer := compute(tokens["admin"], way), compute(tokens["creator"], way), compute(tokens["observer"], way)
			s := bootOnPrivate(ctx, admin, "vol-"+way)

			By("an observer may not attach; a creator may, and gets Nova's next device")
			_, err := volumeattach.Create(ctx, observer, s.ID, volumeattach.CreateOpts{VolumeID: string(data.UID)}).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusForbidden))
			att, err := volumeattach.Create(ctx, creator, s.ID, volumeattach.CreateOpts{VolumeID: string(data.UID)}).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(*att).To(Equal(volumeattach.VolumeAttachment{ID: string(data.UID), Device: "/dev/vdb", ServerID: s.ID, VolumeID: string(data.UID)}))
			Expect(claimHeld(ctx, data)()).To(BeTrue())
			att2, err := volumeattach.Create(ctx, creator, s.ID, volumeattach.CreateOpts{VolumeID: string(logs.UID), Device: "/dev/vdb"}).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusConflict), "%v", att2)
			Expect(bodyOf(err)).To(ContainSubstring("The supplied device path (/dev/vdb) is in use."))
			att2, err = volumeattach.Create(ctx, creator, s.ID, volumeattach.CreateOpts{VolumeID: string(logs.UID)}).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(att2.Device).To(Equal("/dev/vdc"))

			By("reads show them at once")
			pages, err := volumeattach.List(observer, s.ID).AllPages(ctx)
			Expect(err).NotTo(HaveOccurred())
			all, err := volumeattach.ExtractVolumeAttachments(pages)
			Expect(err).NotTo(HaveOccurred())
			Expect(all).To(ConsistOf(*att, *att2))
			got, err := volumeattach.Get(ctx, observer, s.ID, string(data.UID)).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(*got).To(Equal(*att))

			By("a creator may not detach; an admin may, and the claim is let go")
			Expect(codeOf(volumeattach.Delete(ctx, creator, s.ID, string(data.UID)).ExtractErr())).To(Equal(http.StatusForbidden))
			Expect(volumeattach.Delete(ctx, admin, s.ID, string(data.UID)).ExtractErr()).To(Succeed())
			_, err = volumeattach.Get(ctx, observer, s.ID, string(data.UID)).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusNotFound))
			Expect(bodyOf(err)).To(ContainSubstring("Instance " + s.ID + " is not attached to volume " + string(data.UID)))
			Eventually(claimHeld(ctx, data)).Should(BeFalse())
		})
	}

	It("refuses an unknown volume, one attached elsewhere, and a state Nova refuses", func(ctx SpecContext) {
		data := makeClaim(ctx, "vol-refusals")
		admin := compute(tokens["admin"], "direct")
		a, b := bootOnPrivate(ctx, admin, "vol-refusals-a"), bootOnPrivate(ctx, admin, "vol-refusals-b")
		_, err := volumeattach.Create(ctx, admin, a.ID, volumeattach.CreateOpts{VolumeID: "00000000-0000-4000-8000-0000000000aa"}).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusNotFound))
		Expect(bodyOf(err)).To(ContainSubstring("Volume 00000000-0000-4000-8000-0000000000aa could not be found."))
		_, err = volumeattach.Create(ctx, admin, a.ID, volumeattach.CreateOpts{VolumeID: string(data.UID)}).Extract()
		Expect(err).NotTo(HaveOccurred())
		_, err = volumeattach.Create(ctx, admin, b.ID, volumeattach.CreateOpts{VolumeID: string(data.UID)}).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusBadRequest))
		Expect(bodyOf(err)).To(ContainSubstring("Invalid volume: volume " + string(data.UID) + " is already attached to instances: " + a.ID))

		Expect(action(ctx, admin, a.ID, map[string]any{"suspend": nil})).To(Succeed())
		waitFor(ctx, admin, a.ID, "SUSPENDED")
		err = volumeattach.Delete(ctx, admin, a.ID, string(data.UID)).ExtractErr()
		Expect(codeOf(err)).To(Equal(http.StatusConflict))
		Expect(bodyOf(err)).To(ContainSubstring("Cannot 'detach_volume' instance " + a.ID + " while it is in vm_state suspended"))
	})

	It("attaches through kubectl with the same RBAC, and keeps a claim in use from being deleted", func(ctx SpecContext) {
		data := makeClaim(ctx, "vol-kubectl")
		admin := compute(tokens["admin"], "direct")
		s := bootOnPrivate(ctx, admin, "vol-kubectl")
		key := client.ObjectKey{Namespace: tenantName, Name: serverObjectName(ctx, s.ID)}
		edit := func(role string, volumes ...computev1.VolumeAttachment) error {
			c := kubectlAs(tokens[role])
			srv := &computev1.Server{}
			Expect(c.Get(ctx, key, srv)).To(Succeed())
			patch := client.MergeFrom(srv.DeepCopy())
			srv.Spec.Volumes = volumes
			return c.Patch(ctx, srv, patch)
		}
		Expect(apierrors.IsForbidden(edit("observer", computev1.VolumeAttachment{ClaimName: data.Name}))).To(BeTrue())
		Expect(edit("creator", computev1.VolumeAttachment{ClaimName: data.Name})).To(Succeed())
		Eventually(func(g Gomega) {
			got, err := volumeattach.Get(ctx, admin, s.ID, string(data.UID)).Extract()
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got.Device).To(Equal("/dev/vdb"))
		}).Should(Succeed())
		Eventually(claimHeld(ctx, data)).Should(BeTrue())

		err := edit("creator")
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("os_compute_api:os-volumes-attachments:delete"))

		By("a delete of the claim in use waits for the detach")
		Expect(stack.Client.Delete(ctx, data)).To(Succeed())
		cur := &corev1.PersistentVolumeClaim{}
		Expect(stack.Client.Get(ctx, client.ObjectKeyFromObject(data), cur)).To(Succeed())
		Expect(cur.DeletionTimestamp).NotTo(BeNil())
		Expect(edit("admin")).To(Succeed())
		Eventually(func(g Gomega) {
			err := stack.Client.Get(ctx, client.ObjectKeyFromObject(data), cur)
			if apierrors.IsNotFound(err) {
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(cur.Finalizers).NotTo(ContainElement(computev1.VolumeFinalizer))
		}).Should(Succeed())
	})
})
