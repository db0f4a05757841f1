package controllers_test

import (
	"fmt"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

// Nova's two kinds of admin through kubectl: a tenant's kova-admin (tina) is Nova's project
// member with every right of the matrix, and only the cloud operator (olga, with
// ClusterRoleBindings) overrides locks, forces a host and acts for other users. A
// RoleBinding of kova-cloud-admin in a tenant (rita) confers nothing.

var operatorOnce sync.Once

// operatorIn makes olga the cloud operator (once) and rita a tenant admin of ns who also has
// kova-cloud-admin bound in ns only, and waits until RBAC sees both.
func operatorIn(ns string) {
	GinkgoHelper()
	userClient("olga")
	operatorOnce.Do(func() {
		for _, role := range []string{"kova-admin", "kova-cloud-admin"} {
			Expect(k8s.Create(suiteCtx, &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "olga-" + role},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "olga"}},
			})).To(Succeed())
		}
	})
	for _, role := range []string{"kova-admin", "kova-cloud-admin"} {
		Expect(k8s.Create(suiteCtx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "rita-" + role},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "rita"}},
		})).To(Succeed())
	}
	for _, u := range []string{"olga", "rita"} {
		Eventually(func() error {
			return users[u].List(suiteCtx, &computev1.ServerActionList{}, client.InNamespace(ns))
		}).Should(Succeed(), u)
	}
}

var _ = Describe("Nova's two kinds of admin", func() {
	var ns string
	BeforeEach(func() {
		ns = policyTenant()
		operatorIn(ns)
	})

	It("lets only the cloud operator act on a locked server", func() {
		tina, rita, olga := userClient("tina"), userClient("rita"), userClient("olga")
		srv := serverIn(ns, func(s *computev1.Server) { s.Spec.Locked = true })
		Expect(tina.Create(suiteCtx, srv)).To(Succeed(), "a tenant admin may lock")
		s := settled(srv, "ACTIVE")
		Expect(s.Status.Locked).To(BeTrue())
		locked := fmt.Sprintf("Instance %s is locked", s.UID)

		for name, c := range map[string]client.Client{"tina": tina, "rita": rita} {
			By(name + ", a tenant admin, is refused as Nova refuses a project member")
			err := updateSpec(c, srv, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerStopped })
			Expect(apierrors.IsConflict(err)).To(BeTrue(), "%s: %v", name, err)
			Expect(err.Error()).To(ContainSubstring(locked))
			sa := act(c, srv, computev1.ServerActionSpec{Action: computev1.ActionReboot})
			Expect(sa.Spec.OverrideLock).To(BeFalse(), name)
			Expect(sa.Status.Phase).To(Equal(computev1.ActionFailed), name)
			Expect(sa.Status.Message).To(Equal(locked))
			err = c.Delete(suiteCtx, get(srv))
			Expect(apierrors.IsConflict(err)).To(BeTrue(), "%s: %v", name, err)
			Expect(err.Error()).To(ContainSubstring(locked))
		}

		By("the cloud operator overrides the lock")
		sa := act(olga, srv, computev1.ServerActionSpec{Action: computev1.ActionReboot})
		Expect(sa.Spec.OverrideLock).To(BeTrue())
		Expect(sa.Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		Expect(updateSpec(olga, srv, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerStopped })).To(Succeed())
		settled(srv, "SHUTOFF")
		Expect(olga.Delete(suiteCtx, get(srv))).To(Succeed())
	})

	It("lets only the cloud operator force a host or make another user's keypair", func() {
		forced := func(s *computev1.Server) { s.Spec.AvailabilityZone = "nova:sim-host-1" }
		for _, name := range []string{"tina", "rita"} {
			c := userClient(name)
			err := c.Create(suiteCtx, serverIn(ns, forced))
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%s: %v", name, err)
			Expect(err.Error()).To(ContainSubstring("spec.availabilityZone: Policy doesn't allow os_compute_api:servers:create:forced_host to be performed."))
			err = c.Create(suiteCtx, keypairIn(ns, name+"-for-carol", func(kp *computev1.Keypair) { kp.Spec.UserID = "carol" }))
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%s: %v", name, err)
			Expect(err.Error()).To(ContainSubstring("only Nova's admin may create one for another user"))
		}

		By("the cloud operator may do both")
		olga := userClient("olga")
		srv := serverIn(ns, forced)
		Expect(olga.Create(suiteCtx, srv)).To(Succeed())
		placed := settled(srv, "ACTIVE")
		Expect(placed.Spec.AvailabilityZone).To(Equal("nova:sim-host-1"))
		Expect(placed.Status.Host).To(Equal("sim-host-1"), "the forced host is honoured")
		kp := keypairIn(ns, "olga-for-carol", func(kp *computev1.Keypair) { kp.Spec.UserID = "carol" })
		Expect(olga.Create(suiteCtx, kp)).To(Succeed())
		Expect(kp.Spec.UserID).To(Equal("carol"))
	})
})
