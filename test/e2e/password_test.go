package e2e

import (
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// The password of a changePassword travels in a Secret that nothing may leave behind.
var _ = Describe("changePassword's Secret", func() {
	secretGone := func(ctx SpecContext, key client.ObjectKey) func() bool {
		return func() bool {
			return apierrors.IsNotFound(stack.Client.Get(ctx, key, &corev1.Secret{}))
		}
	}

	It("is gone once the password is set through REST", func(ctx SpecContext) {
		c := compute(tokens["admin"], "direct")
		imgs := listImages(ctx, c)
		created, err := servers.Create(ctx, c, servers.CreateOpts{
			Name: "pw-direct", FlavorRef: "m1.small", ImageRef: imgs["cirros"],
			Networks: []servers.Network{{UUID: networkID}},
		}, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		waitFor(ctx, c, created.ID, "ACTIVE")

		Expect(servers.ChangeAdminPassword(ctx, c, created.ID, "n3w-Secret").ExtractErr()).To(Succeed())
		var sa computev1.ServerAction
		Eventually(func(g Gomega) {
			var list computev1.ServerActionList
			g.Expect(stack.Client.List(ctx, &list, client.InNamespace(tenantName))).To(Succeed())
			found := false
			for _, a := range list.Items {
				if a.Spec.Action == computev1.ActionChangePassword && a.Status.ServerUID == created.ID {
					sa, found = a, true
				}
			}
			g.Expect(found).To(BeTrue())
			g.Expect(sa.Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		}).Should(Succeed())
		Eventually(secretGone(ctx, client.ObjectKey{Namespace: tenantName, Name: sa.Spec.ChangePassword.SecretName})).Should(BeTrue())
		Expect(servers.Delete(ctx, c, created.ID).ExtractErr()).To(Succeed())
	})
})
