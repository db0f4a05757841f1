package controllers_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// A rebuild may give a server another keypair (Nova's key_name, 2.54) and other user data
// (user_data, 2.57): the ServerAction says so, the webhook checks it as the REST API does,
// and the controller records in status what the server was rebuilt with; spec stays the
// user's.
var _ = Describe("A rebuild with a new keypair and user data", func() {
	var ns string
	BeforeEach(func() { ns = policyTenant() })

	rebuild := func(c client.Client, srv *computev1.Server, p *computev1.RebuildParams) (*computev1.ServerAction, error) {
		sa := &computev1.ServerAction{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: uniq("rebuild")},
			Spec: computev1.ServerActionSpec{ServerName: srv.Name, Action: computev1.ActionRebuild, Rebuild: p}}
		return sa, c.Create(suiteCtx, sa)
	}

	It("records the requester's keypair and the user data in status, and null removes them", func() {
		tina := userClient("tina")
		Expect(tina.Create(suiteCtx, keypairIn(ns, "tboot"))).To(Succeed())
		Expect(tina.Create(suiteCtx, keypairIn(ns, "tina-new", func(kp *computev1.Keypair) { kp.Spec.Name = "tnew" }))).To(Succeed())
		srv := serverIn(ns, func(s *computev1.Server) { s.Spec.KeyName, s.Spec.UserData = "tboot", "aGVsbG8=" })
		Expect(tina.Create(suiteCtx, srv)).To(Succeed())
		settled(srv, "ACTIVE")
		Expect(get(srv).Status.KeyName).To(BeNil())
		Expect(get(srv).Status.UserData).To(BeNil())

		By("a rebuild names her keypair by its Nova name, and new user data")
		sa, err := rebuild(tina, srv, &computev1.RebuildParams{KeyName: ptr.To("tnew"), UserData: ptr.To("d29ybGQ=")})
		Expect(err).NotTo(HaveOccurred())
		Expect(ended(sa).Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		s := settled(srv, "ACTIVE")
		Expect(s.Status.KeyName).To(HaveValue(Equal("tnew")))
		Expect(s.Status.UserData).To(HaveValue(Equal("d29ybGQ=")))
		Expect(s.Spec.KeyName).To(Equal("tboot"))
		Expect(s.Spec.UserData).To(Equal("aGVsbG8="))

		By("a rebuild that names neither keeps them")
		sa, err = rebuild(tina, srv, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(ended(sa).Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		s = settled(srv, "ACTIVE")
		Expect(s.Status.KeyName).To(HaveValue(Equal("tnew")))
		Expect(s.Status.UserData).To(HaveValue(Equal("d29ybGQ=")))

		By(`"" removes both`)
		sa, err = rebuild(tina, srv, &computev1.RebuildParams{KeyName: ptr.To(""), UserData: ptr.To("")})
		Expect(err).NotTo(HaveOccurred())
		Expect(ended(sa).Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		s = settled(srv, "ACTIVE")
		Expect(s.Status.KeyName).To(HaveValue(BeEmpty()))
		Expect(s.Status.UserData).To(HaveValue(BeEmpty()))
	})

	It("refuses another user's keypair, user data that is not base64 or too long, and roles that may not rebuild", func() {
		tina := userClient("tina")
		Expect(userClient("carol").Create(suiteCtx, keypairIn(ns, "carols"))).To(Succeed())
		srv := serverIn(ns)
		Expect(tina.Create(suiteCtx, srv)).To(Succeed())
		settled(srv, "ACTIVE")

		_, err := rebuild(tina, srv, &computev1.RebuildParams{KeyName: ptr.To("carols")})
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("spec.rebuild.keyName"))
		Expect(err.Error()).To(ContainSubstring("Invalid key_name provided."))

		_, err = rebuild(tina, srv, &computev1.RebuildParams{UserData: ptr.To("!!notb64")})
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("spec.rebuild.userData"))
		Expect(err.Error()).To(ContainSubstring("User data needs to be valid base 64."))

		_, err = rebuild(tina, srv, &computev1.RebuildParams{UserData: ptr.To(strings.Repeat("A", 65536))})
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("spec.rebuild.userData"))

		By("a creator, and an editor of servers who may make no REST call, may not rebuild (the matrix: admin only)")
		for _, user := range []string{"carol", "dave"} {
			_, err = rebuild(userClient(user), srv, &computev1.RebuildParams{KeyName: ptr.To("carols")})
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%s: %v", user, err)
		}
		var list computev1.ServerActionList
		Expect(k8s.List(suiteCtx, &list, client.InNamespace(ns))).To(Succeed())
		for _, sa := range list.Items {
			Expect(sa.Spec.Action).NotTo(Equal(computev1.ActionRebuild), "a refused rebuild was stored")
		}
		Expect(get(srv).Status.KeyName).To(BeNil())
	})

	It("fails the action with Nova's message when the keypair is gone by the time it starts", func() {
		tina := userClient("tina")
		kp := keypairIn(ns, "short-lived")
		Expect(tina.Create(suiteCtx, kp)).To(Succeed())
		srv := serverIn(ns)
		Expect(tina.Create(suiteCtx, srv)).To(Succeed())
		settled(srv, "ACTIVE")

		By("a rebuild runs, a second one that names the keypair waits behind it, and the keypair is deleted meanwhile")
		first, err := rebuild(tina, srv, nil)
		Expect(err).NotTo(HaveOccurred())
		second, err := rebuild(tina, srv, &computev1.RebuildParams{KeyName: ptr.To("short-lived")})
		Expect(err).NotTo(HaveOccurred())
		Expect(k8s.Delete(suiteCtx, kp)).To(Succeed())
		Expect(ended(first).Status.Phase).To(Equal(computev1.ActionSucceeded), first.Status.Message)
		Expect(ended(second).Status.Phase).To(Equal(computev1.ActionFailed))
		Expect(second.Status.Message).To(Equal("Invalid key_name provided."))
		s := settled(srv, "ACTIVE")
		Expect(s.Status.KeyName).To(BeNil())
	})
})
