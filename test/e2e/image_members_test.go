package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/members"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/testenv"
)

// imageListed says whether a Glance list (GET /v2/images?query) as token shows the image id.
func imageListed(ctx context.Context, token, query, id string) bool {
	GinkgoHelper()
	var body struct {
		Images []struct{ ID string } `json:"images"`
	}
	code, b := imageRaw(ctx, token, http.MethodGet, "/v2/images?"+query, nil, nil)
	Expect(code).To(Equal(http.StatusOK), string(b))
	Expect(json.Unmarshal(b, &body)).To(Succeed())
	for _, it := range body.Images {
		if it.ID == id {
			return true
		}
	}
	return false
}

// activeSharedImage makes an uploaded (active) image in demo, shared (Glance's default).
func activeSharedImage(ctx SpecContext, name string) *images.Image {
	GinkgoHelper()
	admin := imageClient(tokens["admin"])
	img, err := images.Create(ctx, admin, images.CreateOpts{Name: name, DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	Expect(err).NotTo(HaveOccurred())
	Expect(img.Visibility).To(Equal(images.ImageVisibilityShared))
	DeferCleanup(func(ctx SpecContext) { _ = images.Delete(ctx, admin, img.ID).ExtractErr() })
	Expect(imagedata.Upload(ctx, admin, img.ID, bytes.NewReader([]byte("shared bits\n"))).ExtractErr()).To(Succeed())
	return img
}

var _ = Describe("Image members (Glance v2 /images/{id}/members)", func() {
	It("shares an image with another tenant, which accepts it and boots from it, with gophercloud and kubectl", func(ctx SpecContext) {
		stranger, err := stack.Tenant(ctx, "image-stranger")
		Expect(err).NotTo(HaveOccurred())
		img := activeSharedImage(ctx, "members-gc")
		owner, creator := imageClient(tokens["admin"]), imageClient(tokens["creator"])
		member, memberObserver := imageClient(otherTokens["admin"]), imageClient(otherTokens["observer"])

		By("only the owner's kova-admin adds a member: pending")
		_, err = members.Create(ctx, creator, img.ID, "other").Extract()
		Expect(codeOf(err)).To(Equal(http.StatusForbidden))
		m, err := members.Create(ctx, owner, img.ID, "other").Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Status).To(Equal("pending"))
		Expect(m.MemberID).To(Equal("other"))
		_, err = members.Create(ctx, owner, img.ID, "other").Extract()
		Expect(codeOf(err)).To(Equal(http.StatusConflict))
		Expect(imageObject(ctx, img.ID).Spec.Members).To(ConsistOf(HaveField("Project", "other")))

		By("a tenant that is no member sees nothing of it: 404")
		_, err = images.Get(ctx, imageClient(stranger["admin"]), img.ID).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusNotFound))
		_, err = members.Update(ctx, imageClient(stranger["admin"]), img.ID, "image-stranger", members.UpdateOpts{Status: "accepted"}).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusNotFound))
		Expect(imageListed(ctx, stranger["admin"], "visibility=shared&member_status=all", img.ID)).To(BeFalse())

		By("the member sees it at once, lists it only once accepted, and cannot boot from it before")
		got, err := images.Get(ctx, memberObserver, img.ID).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(got.Owner).To(Equal(tenantName))
		Expect(imageListed(ctx, otherTokens["observer"], "", img.ID)).To(BeFalse())
		Expect(imageListed(ctx, otherTokens["observer"], "member_status=pending", img.ID)).To(BeTrue())
		otherCompute := computeFor(otherTokens["creator"], "direct", "other")
		otherCompute.Microversion = "2.37"
		_, err = servers.Create(ctx, otherCompute, servers.CreateOpts{Name: "shared-boot", FlavorRef: "m1.tiny", ImageRef: img.ID, Networks: "none"}, nil).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusBadRequest), bodyOf(err))
		Expect(bodyOf(err)).To(ContainSubstring("has not accepted it"))

		By("the owner may not answer for the member, nor the member add members; the member's observer may not answer")
		_, err = members.Update(ctx, owner, img.ID, "other", members.UpdateOpts{Status: "accepted"}).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusForbidden))
		_, err = members.Create(ctx, member, img.ID, "image-stranger").Extract()
		Expect(codeOf(err)).To(Equal(http.StatusForbidden))
		_, err = members.Update(ctx, memberObserver, img.ID, "other", members.UpdateOpts{Status: "accepted"}).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusForbidden))

		By("the member accepts: its answer is an ImageMember in its own namespace, and the image is listed")
		m, err = members.Update(ctx, member, img.ID, "other", members.UpdateOpts{Status: "accepted"}).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Status).To(Equal("accepted"))
		answer := &computev1.ImageMember{}
		Expect(stack.Client.Get(ctx, client.ObjectKey{Namespace: "other", Name: img.ID}, answer)).To(Succeed())
		Expect(answer.Spec).To(Equal(computev1.ImageMemberSpec{ImageNamespace: tenantName, Status: computev1.ImageMemberAccepted}))
		Expect(imageListed(ctx, otherTokens["observer"], "", img.ID)).To(BeTrue())
		Expect(listImages(ctx, computeFor(otherTokens["observer"], "direct", "other"))).To(HaveKeyWithValue("members-gc", img.ID))
		Expect(listImages(ctx, computeFor(otherTokens["observer"], "aggregated", "other"))).To(HaveKeyWithValue("members-gc", img.ID))
		all, err := members.List(owner, img.ID).AllPages(ctx)
		Expect(err).NotTo(HaveOccurred())
		list, err := members.ExtractMembers(all)
		Expect(err).NotTo(HaveOccurred())
		Expect(list).To(ConsistOf(HaveField("Status", "accepted")))

		By("the member boots from it: the server runs the shared image")
		srv, err := servers.Create(ctx, otherCompute, servers.CreateOpts{Name: "shared-boot", FlavorRef: "m1.tiny", ImageRef: img.ID, Networks: "none"}, nil).Extract()
		Expect(err).NotTo(HaveOccurred(), bodyOf(err))
		DeferCleanup(func(ctx SpecContext) { _ = servers.Delete(ctx, otherCompute, srv.ID).ExtractErr() })
		running := waitFor(ctx, otherCompute, srv.ID, "ACTIVE")
		Expect(running.Image).To(HaveKeyWithValue("id", img.ID))

		By("kubectl: the member cannot write the owner's Image, nor answer for an image not shared with it")
		theirs := imageObject(ctx, img.ID)
		patched := theirs.DeepCopy()
		patched.Spec.Members = append(patched.Spec.Members, computev1.ImageMembership{Project: "image-stranger"})
		err = kubectlAs(otherTokens["admin"]).Patch(ctx, patched, client.MergeFrom(theirs))
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		err = kubectlAs(otherTokens["admin"]).Create(ctx, &computev1.ImageMember{
			ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: imageUIDOf(ctx, "cirros")},
			Spec:       computev1.ImageMemberSpec{ImageNamespace: testenv.PublicNamespace, Status: computev1.ImageMemberAccepted}})
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("must make it shared and add other as a member first"))

		By("kubectl: the owner adds the stranger as a member, who answers with kubectl and sees it over REST")
		Expect(kubectlAs(tokens["admin"]).Patch(ctx, patched, client.MergeFrom(theirs))).To(Succeed())
		Expect(kubectlAs(stranger["admin"]).Create(ctx, &computev1.ImageMember{
			ObjectMeta: metav1.ObjectMeta{Namespace: "image-stranger", Name: img.ID},
			Spec:       computev1.ImageMemberSpec{ImageNamespace: tenantName, Status: computev1.ImageMemberRejected}})).To(Succeed())
		m, err = members.Get(ctx, imageClient(stranger["observer"]), img.ID, "image-stranger").Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(m.Status).To(Equal("rejected"))
		Expect(imageListed(ctx, stranger["observer"], "", img.ID)).To(BeFalse())

		By("kubectl boots from a shared image as namespace/name, once accepted only")
		ref := tenantName + "/" + theirs.Name
		bootFrom := func(ns string) *computev1.Server {
			return &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "shared-kubectl"},
				Spec: computev1.ServerSpec{FlavorRef: "m1.tiny", ImageRef: ref, PowerState: computev1.PowerActive}}
		}
		err = kubectlAs(stranger["admin"]).Create(ctx, bootFrom("image-stranger"))
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("has not accepted it"))
		Expect(kubectlAs(otherTokens["admin"]).Create(ctx, bootFrom("other"), client.DryRunAll)).To(Succeed())

		By("the owner removes a member: the image is gone for it, and so is its answer")
		Expect(members.Delete(ctx, owner, img.ID, "image-stranger").ExtractErr()).To(Succeed())
		_, err = images.Get(ctx, imageClient(stranger["observer"]), img.ID).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusNotFound))
		Eventually(func() bool {
			err := stack.Client.Get(ctx, client.ObjectKey{Namespace: "image-stranger", Name: img.ID}, &computev1.ImageMember{})
			return apierrors.IsNotFound(err)
		}).Should(BeTrue())
	})
})

// imageUIDOf is the id of the public image name.
func imageUIDOf(ctx SpecContext, name string) string {
	GinkgoHelper()
	img := &computev1.Image{}
	Expect(stack.Client.Get(ctx, client.ObjectKey{Namespace: testenv.PublicNamespace, Name: name}, img)).To(Succeed())
	return string(img.UID)
}
