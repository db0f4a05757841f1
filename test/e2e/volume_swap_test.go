package e2e

import (
	"net/http"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/volumeattach"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Swap volume (PUT os-volume_attachments/{volume_id} below 2.85): the cloud operator's
// alone, through REST and kubectl; the controller detaches the old claim and attaches the
// new one on the same device.
var _ = Describe("Swap volume", func() {
	It("swaps an attached claim for another on its device for the cloud operator only, through REST and kubectl", func(ctx SpecContext) {
		first, second, third := makeClaim(ctx, "swap-first"), makeClaim(ctx, "swap-second"), makeClaim(ctx, "swap-third")
		admin := compute(tokens["admin"], "direct")
		s := bootOnPrivate(ctx, admin, "swap")
		_, err := volumeattach.Create(ctx, admin, s.ID, volumeattach.CreateOpts{VolumeID: string(first.UID)}).Extract()
		Expect(err).NotTo(HaveOccurred())
		swap := func(token, way, oldID, newID string) (int, string) {
			GinkgoHelper()
			code, _, body := raw(ctx, token, way, http.MethodPut, "/servers/"+s.ID+"/os-volume_attachments/"+oldID,
				[]byte(`{"volumeAttachment": {"volumeId": "`+newID+`"}}`), map[string]string{"X-OpenStack-Nova-API-Version": "2.79"})
			return code, string(body)
		}
		attachedAs := func(claim, device string) {
			GinkgoHelper()
			Eventually(func(g Gomega) {
				srv := &computev1.Server{}
				g.Expect(stack.Client.Get(ctx, client.ObjectKey{Namespace: tenantName, Name: serverObjectName(ctx, s.ID)}, srv)).To(Succeed())
				g.Expect(srv.Status.VolumeAttachments).To(ConsistOf(And(HaveField("ClaimName", claim), HaveField("Device", device))))
			}).Should(Succeed())
		}
		attachedAs(first.Name, "/dev/vdb")

		By("a tenant's kova-admin is refused with Nova's policy 403, both ways in")
		for _, way := range []string{"direct", "aggregated"} {
			code, body := swap(tokens["admin"], way, string(first.UID), string(second.UID))
			Expect(code).To(Equal(http.StatusForbidden), body)
			Expect(body).To(MatchJSON(`{"forbidden": {"code": 403, "message": "Policy doesn't allow os_compute_api:os-volumes-attachments:swap to be performed."}}`))
		}

		By("the operator swaps: 202, the new claim on /dev/vdb, the old one let go")
		code, body := swap(operator(ctx), "direct", string(first.UID), "00000000-0000-4000-8000-0000000000aa")
		Expect(code).To(Equal(http.StatusBadRequest), body)
		Expect(body).To(ContainSubstring("Volume 00000000-0000-4000-8000-0000000000aa could not be found."))
		code, body = swap(operator(ctx), "aggregated", string(first.UID), string(second.UID))
		Expect(code).To(Equal(http.StatusAccepted), body)
		got, err := volumeattach.Get(ctx, admin, s.ID, string(second.UID)).Extract()
		Expect(err).NotTo(HaveOccurred(), "the swap shows at once")
		Expect(got.Device).To(Equal("/dev/vdb"))
		attachedAs(second.Name, "/dev/vdb")
		Eventually(claimHeld(ctx, first)).Should(BeFalse())
		Expect(claimHeld(ctx, second)()).To(BeTrue())

		By("kubectl: the same edit (a claim replaced on its device) is the operator's too")
		key := client.ObjectKey{Namespace: tenantName, Name: serverObjectName(ctx, s.ID)}
		edit := func(token string, volumes ...computev1.VolumeAttachment) error {
			c := kubectlAs(token)
			srv := &computev1.Server{}
			Expect(c.Get(ctx, key, srv)).To(Succeed())
			patch := client.MergeFrom(srv.DeepCopy())
			srv.Spec.Volumes = volumes
			return c.Patch(ctx, srv, patch)
		}
		err = edit(tokens["admin"], computev1.VolumeAttachment{ClaimName: third.Name, Device: "/dev/vdb"})
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("os_compute_api:os-volumes-attachments:swap"))
		Expect(edit(operator(ctx), computev1.VolumeAttachment{ClaimName: third.Name, Device: "/dev/vdb"})).To(Succeed())
		attachedAs(third.Name, "/dev/vdb")
		Eventually(claimHeld(ctx, second)).Should(BeFalse())

		By("kubectl: delete_on_termination is Nova's attachment update, a creator's as well, not an observer's")
		Expect(edit(tokens["creator"], computev1.VolumeAttachment{ClaimName: third.Name, Device: "/dev/vdb", DeleteOnTermination: true})).To(Succeed())
		err = edit(tokens["observer"], computev1.VolumeAttachment{ClaimName: third.Name, Device: "/dev/vdb"})
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
	})
})
