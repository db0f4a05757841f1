package e2e

import (
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/refs"
	"github.com/kova-dev/kova/internal/testenv"
)

// kubectlAs is a Kubernetes client with a tenant user's token, as kubectl would be; it
// hands the API server's warnings to warned, if given, as kubectl prints them.
func kubectlAs(token string, warned ...rest.WarningHandlerWithContext) client.Client {
	GinkgoHelper()
	cfg := &rest.Config{Host: stack.CP.Config.Host, BearerToken: token,
		TLSClientConfig: rest.TLSClientConfig{CAData: stack.CP.Config.CAData}}
	for _, w := range warned {
		cfg.WarningHandlerWithContext = w
	}
	c, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
	Expect(err).NotTo(HaveOccurred())
	return c
}

func serviceAccountUser(role string) string {
	return "system:serviceaccount:" + tenantName + ":" + role
}

var _ = Describe("Keypairs belong to a user", func() {
	for _, way := range []string{"direct", "aggregated"} {
		It(fmt.Sprintf("two users of one tenant each own a keypair of one name, through the %s way in", way), func(ctx SpecContext) {
			name := "prod-" + way
			creator, admin := compute(tokens["creator"], way), compute(tokens["admin"], way)
			mine, err := keypairs.Create(ctx, creator, keypairs.CreateOpts{Name: name}).Extract()
			Expect(err).NotTo(HaveOccurred())
			theirs, err := keypairs.Create(ctx, admin, keypairs.CreateOpts{Name: name}).Extract()
			Expect(err).NotTo(HaveOccurred(), "the admin's %s after the creator's", name)
			Expect(theirs.Fingerprint).NotTo(Equal(mine.Fingerprint))

			got, err := keypairs.Get(ctx, creator, name, nil).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Fingerprint).To(Equal(mine.Fingerprint))
			got, err = keypairs.Get(ctx, admin, name, nil).Extract()
			Expect(err).NotTo(HaveOccurred())
			Expect(got.Fingerprint).To(Equal(theirs.Fingerprint))

			By("a server boots with its own user's keypair")
			s, err := servers.Create(ctx, creator, keypairs.CreateOptsExt{CreateOptsBuilder: servers.CreateOpts{
				Name: "keyed-" + way, FlavorRef: "m1.tiny", ImageRef: listImages(ctx, creator)["cirros"],
				Networks: []servers.Network{{UUID: networkID}}}, KeyName: name}, nil).Extract()
			Expect(err).NotTo(HaveOccurred())
			var list computev1.ServerList
			Expect(stack.Client.List(ctx, &list, client.InNamespace(tenantName))).To(Succeed())
			var srv *computev1.Server
			for i := range list.Items {
				if string(list.Items[i].UID) == s.ID {
					srv = &list.Items[i]
				}
			}
			Expect(srv).NotTo(BeNil())
			kp, err := refs.ServerKeypair(ctx, stack.Client, srv)
			Expect(err).NotTo(HaveOccurred())
			Expect(kp.Spec.UserID).To(Equal(serviceAccountUser("creator")))

			By("the admin deletes their own; the creator's stays")
			Expect(keypairs.Delete(ctx, admin, name, nil).ExtractErr()).To(Succeed())
			_, err = keypairs.Get(ctx, admin, name, nil).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusNotFound))
			_, err = keypairs.Get(ctx, creator, name, nil).Extract()
			Expect(err).NotTo(HaveOccurred())
		})
	}

	It("refuses, through kubectl, a creator's keypair in the admin's name", func(ctx SpecContext) {
		kp := &computev1.Keypair{ObjectMeta: metav1.ObjectMeta{Namespace: tenantName, Name: "planted"},
			Spec: computev1.KeypairSpec{Type: "ssh", UserID: serviceAccountUser("admin"),
				PublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBHqD1LKkN9d8WRoexvXUZBRn0FKp3WC0ZoFsCFEbvvB demo"}}
		err := kubectlAs(tokens["creator"]).Create(ctx, kp)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("a keypair belongs to the user who creates it"))
	})

	It("hands a key generated through kubectl to the creator who asked, and not to the tenant's admin", func(ctx SpecContext) {
		kp := &computev1.Keypair{ObjectMeta: metav1.ObjectMeta{Namespace: tenantName, Name: "kubectl-gen"},
			Spec: computev1.KeypairSpec{Type: "ssh"}}
		Expect(kubectlAs(tokens["creator"]).Create(ctx, kp)).To(Succeed())
		Eventually(func() string {
			Expect(stack.Client.Get(ctx, client.ObjectKeyFromObject(kp), kp)).To(Succeed())
			return kp.Status.PrivateKeySecret
		}).ShouldNot(BeEmpty())
		key := client.ObjectKey{Namespace: tenantName, Name: kp.Status.PrivateKeySecret}
		Eventually(func() error { return kubectlAs(tokens["creator"]).Get(ctx, key, &corev1.Secret{}) }).Should(Succeed())
		for _, role := range []string{"admin", "observer"} {
			err := kubectlAs(tokens[role]).Get(ctx, key, &corev1.Secret{})
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%s: %v", role, err)
		}
	})

	It("refuses, through kubectl, a creator's server that is locked from the start", func(ctx SpecContext) {
		srv := &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: tenantName, Name: "born-locked"},
			Spec: computev1.ServerSpec{FlavorRef: "m1.tiny", ImageRef: "cirros", PowerState: computev1.PowerActive, Locked: true,
				Networks: []computev1.NetworkAttachment{{Name: "private"}}}}
		err := kubectlAs(tokens["creator"]).Create(ctx, srv)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("spec.locked: Policy doesn't allow os_compute_api:os-lock-server:lock to be performed."))
	})
})
