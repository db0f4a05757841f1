package controllers_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/controllers"
	"github.com/kova-dev/kova/internal/testenv"
)

// Who may set what through kubectl: the same as through the REST API. Users of these
// specs: carol and bob are tenant creators (the shipped kova-creator), tina the tenant's
// admin (kova-admin), dave a custom role that may update servers but make no REST call,
// alice the suite's tenant user (the author of a keypair); olga the cloud operator
// (kova-admin and kova-cloud-admin with ClusterRoleBindings) and rita a tenant admin who was
// also given kova-cloud-admin with a RoleBinding in her tenant (admins_test.go).

var (
	usersOnce sync.Once
	users     map[string]client.Client
)

func userClient(name string) client.Client {
	usersOnce.Do(func() {
		users = map[string]client.Client{}
		for _, n := range []string{"carol", "bob", "tina", "dave", "olga", "rita"} {
			u, err := env.AddUser(envtest.User{Name: n}, nil)
			Expect(err).NotTo(HaveOccurred())
			users[n], err = client.New(u.Config(), client.Options{Scheme: env.Scheme})
			Expect(err).NotTo(HaveOccurred())
		}
		Expect(k8s.Create(suiteCtx, serverEditorRole)).To(Succeed())
	})
	return users[name]
}

// serverEditorRole may update Server objects and create ServerActions but make none of the
// REST calls an update or an action can mean: what a spec field changes, and what a
// ServerAction asks, must still be refused.
var serverEditorRole = &rbacv1.ClusterRole{
	ObjectMeta: metav1.ObjectMeta{Name: "kova-test-server-editor"},
	Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{computev1.GroupVersion.Group},
		Resources: []string{"servers"},
		Verbs:     []string{"get", "list", "watch", "create", "update", "patch"},
	}, {
		APIGroups: []string{computev1.GroupVersion.Group},
		Resources: []string{"serveractions"},
		Verbs:     []string{"get", "list", "watch", "create"},
	}},
}

// policyTenant is a tenant (alice a tenant user) with carol and bob creators, tina its
// admin and dave a server editor, each bound and seen by RBAC before it returns.
func policyTenant() string {
	GinkgoHelper()
	ns := tenant(uniq("policy"))
	userClient("carol")
	for user, role := range map[string]string{"carol": "kova-creator", "bob": "kova-creator", "tina": "kova-admin", "dave": serverEditorRole.Name} {
		Expect(k8s.Create(suiteCtx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: user},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
		})).To(Succeed())
		Eventually(func() error {
			return users[user].List(suiteCtx, &computev1.ServerList{}, client.InNamespace(ns))
		}).Should(Succeed(), user)
	}
	Eventually(func() error {
		return creator.List(suiteCtx, &computev1.ServerList{}, client.InNamespace(ns))
	}).Should(Succeed())
	return ns
}

func keypairIn(ns, name string, mutate ...func(*computev1.Keypair)) *computev1.Keypair {
	kp := &computev1.Keypair{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: computev1.KeypairSpec{
		Type: "ssh", PublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBHqD1LKkN9d8WRoexvXUZBRn0FKp3WC0ZoFsCFEbvvB demo"}}
	for _, m := range mutate {
		m(kp)
	}
	return kp
}

func serverIn(ns string, mutate ...func(*computev1.Server)) *computev1.Server {
	srv := &computev1.Server{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: uniq("srv")},
		Spec: computev1.ServerSpec{FlavorRef: "m1.tiny", ImageRef: "cirros", PowerState: computev1.PowerActive,
			Networks: []computev1.NetworkAttachment{{Name: "private"}}},
	}
	for _, m := range mutate {
		m(srv)
	}
	return srv
}

var _ = Describe("Who may set what", func() {
	var ns string
	BeforeEach(func() { ns = policyTenant() })

	Context("keypairs", func() {
		It("are their creator's: another user's spec.userID is refused, except from an admin, and never changes", func() {
			err := userClient("carol").Create(suiteCtx, keypairIn(ns, "planted", func(kp *computev1.Keypair) { kp.Spec.UserID = "tina" }))
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(ContainSubstring("a keypair belongs to the user who creates it (carol)"))
			Expect(apierrors.IsNotFound(k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: "planted"}, &computev1.Keypair{}))).To(BeTrue())

			By("her own name, or none, is hers")
			own := keypairIn(ns, "carols", func(kp *computev1.Keypair) { kp.Spec.UserID = "carol" })
			Expect(userClient("carol").Create(suiteCtx, own)).To(Succeed())
			Expect(own.Spec.UserID).To(Equal("carol"))

			By("the cluster's admin may create one for another user")
			forCarol := keypairIn(ns, "for-carol", func(kp *computev1.Keypair) { kp.Spec.UserID = "carol" })
			Expect(k8s.Create(suiteCtx, forCarol)).To(Succeed())

			By("an update may not change the user")
			mine := keypairIn(ns, "alices")
			Expect(creator.Create(suiteCtx, mine)).To(Succeed())
			Expect(mine.Spec.UserID).To(Equal("alice"))
			Eventually(func() bool {
				Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(mine), mine)).To(Succeed())
				mine.Spec.UserID = "tina"
				err = creator.Update(suiteCtx, mine)
				return apierrors.IsConflict(err)
			}).Should(BeFalse())
			Expect(apierrors.IsInvalid(err) || apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(ContainSubstring("spec.userID is immutable"))
		})

		It("are named per user: two users each own a prod, one user cannot have two, and a server boots with its user's", func() {
			alices := keypairIn(ns, "prod")
			Expect(creator.Create(suiteCtx, alices)).To(Succeed())
			Expect(alices.Spec.Name).To(Equal("prod"))

			carols := keypairIn(ns, "carol-prod", func(kp *computev1.Keypair) { kp.Spec.Name = "prod" })
			Expect(userClient("carol").Create(suiteCtx, carols)).To(Succeed())
			Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(carols), carols)).To(Succeed())
			Expect(carols.Spec.Name).To(Equal("prod"))
			Expect(carols.Spec.UserID).To(Equal("carol"))

			err := creator.Create(suiteCtx, keypairIn(ns, "prod-again", func(kp *computev1.Keypair) { kp.Spec.Name = "prod" }))
			Expect(apierrors.IsAlreadyExists(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(ContainSubstring("Key pair 'prod' already exists."))

			By("a server's keyName is its creator's keypair of that name")
			srv := serverIn(ns, func(s *computev1.Server) { s.Spec.KeyName = "prod" })
			Expect(userClient("carol").Create(suiteCtx, srv)).To(Succeed())
			Expect(srv.Annotations).To(HaveKeyWithValue(computev1.AnnotationUserID, "carol"))
			settled(srv, "ACTIVE")

			Expect(creator.Create(suiteCtx, keypairIn(ns, "alice-only"))).To(Succeed())
			err = userClient("carol").Create(suiteCtx, serverIn(ns, func(s *computev1.Server) { s.Spec.KeyName = "alice-only" }))
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(ContainSubstring("spec.keyName"))
			Expect(err.Error()).To(ContainSubstring("Invalid key_name provided."))
		})

		It("hand a generated private key to its user alone", func() {
			kp := &computev1.Keypair{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gen"}, Spec: computev1.KeypairSpec{Type: "ssh"}}
			Expect(creator.Create(suiteCtx, kp)).To(Succeed())
			Eventually(func() string {
				Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(kp), kp)).To(Succeed())
				return kp.Status.PrivateKeySecret
			}).ShouldNot(BeEmpty())
			key := client.ObjectKey{Namespace: ns, Name: kp.Status.PrivateKeySecret}

			Eventually(func() error { return creator.Get(suiteCtx, key, &corev1.Secret{}) }).Should(Succeed())
			secret := &corev1.Secret{}
			Expect(creator.Get(suiteCtx, key, secret)).To(Succeed())
			Expect(string(secret.Data[corev1.SSHAuthPrivateKey])).To(HavePrefix("-----BEGIN RSA PRIVATE KEY-----"))
			for _, other := range []string{"bob", "carol", "tina"} {
				err := userClient(other).Get(suiteCtx, key, &corev1.Secret{})
				Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%s: %v", other, err)
			}

			By("the grant goes with the keypair")
			role, binding := &rbacv1.Role{}, &rbacv1.RoleBinding{}
			Expect(k8s.Get(suiteCtx, key, role)).To(Succeed())
			Expect(k8s.Get(suiteCtx, key, binding)).To(Succeed())
			Expect(metav1.IsControlledBy(role, kp)).To(BeTrue())
			Expect(metav1.IsControlledBy(binding, kp)).To(BeTrue())
			Expect(metav1.IsControlledBy(secret, kp)).To(BeTrue())

			By("read once, she deletes it")
			Expect(creator.Delete(suiteCtx, secret)).To(Succeed())
		})

		It("may be handed over by the manager with its own RBAC (no escalation)", func() {
			doc, err := os.ReadFile(filepath.Join(testenv.Root(), "config", "rbac", "role.yaml"))
			Expect(err).NotTo(HaveOccurred())
			role := &rbacv1.ClusterRole{}
			Expect(yaml.Unmarshal(doc, role)).To(Succeed())
			role.Name = uniq("kova-manager-test")
			Expect(k8s.Create(suiteCtx, role)).To(Succeed())
			name := uniq("manager")
			Expect(k8s.Create(suiteCtx, &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: name},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
				Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}},
			})).To(Succeed())
			u, err := env.AddUser(envtest.User{Name: name}, nil)
			Expect(err).NotTo(HaveOccurred())
			manager, err := client.New(u.Config(), client.Options{Scheme: env.Scheme})
			Expect(err).NotTo(HaveOccurred())

			kp := keypairIn(ns, "handed", func(kp *computev1.Keypair) { kp.Spec.UserID = "alice" })
			grant, bind := controllers.PrivateKeyAccess(kp, "handed-private-key")
			Eventually(func() error { return manager.Create(suiteCtx, grant) }).Should(Succeed())
			Expect(manager.Create(suiteCtx, bind)).To(Succeed())
		})
	})

	Context("servers", func() {
		refused := func(err error, field, rule string) {
			GinkgoHelper()
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(ContainSubstring(field + ": Policy doesn't allow " + rule + " to be performed."))
		}

		It("refuse at create what a creator may not ask for through REST", func() {
			carol := userClient("carol")
			for _, c := range []struct {
				change      func(*computev1.Server)
				field, rule string
			}{
				{func(s *computev1.Server) { s.Spec.Locked = true }, "spec.locked", "os_compute_api:os-lock-server:lock"},
				{func(s *computev1.Server) { s.Spec.Rescue = true }, "spec.rescue", "os_compute_api:os-rescue"},
				{func(s *computev1.Server) { s.Spec.PowerState = computev1.PowerPaused }, "spec.powerState", "os_compute_api:os-pause-server:pause"},
				{func(s *computev1.Server) { s.Spec.PowerState = computev1.PowerStopped }, "spec.powerState", "os_compute_api:servers:stop"},
				{func(s *computev1.Server) { s.Spec.PowerState = computev1.PowerSuspended }, "spec.powerState", "os_compute_api:os-suspend-server:suspend"},
				{func(s *computev1.Server) { s.Spec.PowerState = computev1.PowerShelved }, "spec.powerState", "os_compute_api:os-shelve:shelve"},
				{func(s *computev1.Server) { s.Spec.AvailabilityZone = "nova:sim-host-1" }, "spec.availabilityZone", "os_compute_api:servers:create:forced_host"},
				{func(s *computev1.Server) { s.Spec.AvailabilityZone = "nova:sim-host-1:node" }, "spec.availabilityZone", "os_compute_api:servers:create:forced_host"},
			} {
				srv := serverIn(ns, c.change)
				refused(carol.Create(suiteCtx, srv), c.field, c.rule)
				Expect(apierrors.IsNotFound(k8s.Get(suiteCtx, client.ObjectKeyFromObject(srv), &computev1.Server{}))).To(BeTrue())
			}

			By("an admin may")
			srv := serverIn(ns, func(s *computev1.Server) { s.Spec.Locked = true; s.Spec.PowerState = computev1.PowerStopped })
			Expect(userClient("tina").Create(suiteCtx, srv)).To(Succeed())
			settled(srv, "SHUTOFF")
			Expect(get(srv).Status.Locked).To(BeTrue())
		})

		It("record their creator themselves: a user-set annotation naming someone is overwritten or refused", func() {
			carol := userClient("carol")
			srv := serverIn(ns, func(s *computev1.Server) {
				s.Annotations = map[string]string{computev1.AnnotationUserID: "tina"}
			})
			Expect(carol.Create(suiteCtx, srv)).To(Succeed())
			Expect(get(srv).Annotations).To(HaveKeyWithValue(computev1.AnnotationUserID, "carol"))

			By("a ServerAction records who asked, whatever it says")
			sa := &computev1.ServerAction{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: uniq("reboot"),
				Annotations: map[string]string{computev1.AnnotationUserID: "tina"}},
				Spec: computev1.ServerActionSpec{ServerName: srv.Name, Action: computev1.ActionReboot}}
			Expect(creator.Create(suiteCtx, sa)).To(Succeed())
			Expect(sa.Annotations).To(HaveKeyWithValue(computev1.AnnotationUserID, "alice"))

			By("nor may an update change the creator")
			err := updateMeta(userClient("dave"), srv, func(s *computev1.Server) { s.Annotations[computev1.AnnotationUserID] = "dave" })
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(ContainSubstring("set by Kova only"))
			Expect(get(srv).Annotations).To(HaveKeyWithValue(computev1.AnnotationUserID, "carol"))
		})

		It("take the simulated driver's faults from the cloud operator only", func() {
			operatorIn(ns)
			fault := func(s *computev1.Server) {
				s.Annotations = map[string]string{computev1.AnnotationFault: "spawn:injected"}
			}
			srv := serverIn(ns, fault)
			err := userClient("tina").Create(suiteCtx, srv)
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
			Expect(err.Error()).To(ContainSubstring("cloud operator only"))

			srv = serverIn(ns)
			Expect(userClient("tina").Create(suiteCtx, srv)).To(Succeed())
			settled(srv, "ACTIVE")
			err = updateMeta(userClient("tina"), srv, func(s *computev1.Server) {
				s.Annotations[computev1.AnnotationFault] = "power_off:injected"
			})
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
			Expect(get(srv).Annotations).NotTo(HaveKey(computev1.AnnotationFault))

			By("the operator may, and a tenant's other edits of the server pass while it is there")
			Expect(updateMeta(userClient("olga"), srv, func(s *computev1.Server) {
				s.Annotations[computev1.AnnotationFault] = "power_off:injected"
			})).To(Succeed())
			Expect(updateMeta(userClient("tina"), srv, func(s *computev1.Server) { s.Annotations["note"] = "x" })).To(Succeed())
			Expect(get(srv).Annotations).To(HaveKeyWithValue(computev1.AnnotationFault, "power_off:injected"))
		})

		It("refuse at update a change whose REST call the user may not make", func() {
			srv := serverIn(ns)
			Expect(k8s.Create(suiteCtx, srv)).To(Succeed())
			dave := userClient("dave")
			refused(updateSpec(dave, srv, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerStopped }),
				"spec.powerState", "os_compute_api:servers:stop")
			refused(updateSpec(dave, srv, func(s *computev1.ServerSpec) { s.Locked = true }),
				"spec.locked", "os_compute_api:os-lock-server:lock")
			refused(updateSpec(dave, srv, func(s *computev1.ServerSpec) { s.Metadata = map[string]string{"k": "v"} }),
				"spec.metadata", "os_compute_api:server-metadata:update_all")
			settled(srv, "ACTIVE")
			refused(updateSpec(dave, srv, func(s *computev1.ServerSpec) { s.FlavorRef = "m1.small" }),
				"spec.flavorRef", "os_compute_api:servers:resize")
			cur := get(srv)
			Expect(cur.Spec.PowerState).To(Equal(computev1.PowerActive))
			Expect(cur.Spec.Locked).To(BeFalse())

			By("alice, whose role allows the calls, may")
			Expect(updateSpec(creator, srv, func(s *computev1.ServerSpec) { s.PowerState = computev1.PowerStopped })).To(Succeed())
			settled(srv, "SHUTOFF")
		})

		It("refuse a ServerAction whose REST call the user may not make", func() {
			srv := serverIn(ns)
			Expect(k8s.Create(suiteCtx, srv)).To(Succeed())
			settled(srv, "ACTIVE")
			action := func(a computev1.ActionType) *computev1.ServerAction {
				return &computev1.ServerAction{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: uniq(strings.ToLower(string(a)))},
					Spec: computev1.ServerActionSpec{ServerName: srv.Name, Action: a}}
			}
			dave := userClient("dave")
			for a, rule := range map[computev1.ActionType]string{
				computev1.ActionStop:   "os_compute_api:servers:stop",
				computev1.ActionReboot: "os_compute_api:servers:reboot",
				computev1.ActionLock:   "os_compute_api:os-lock-server:lock",
				computev1.ActionShelve: "os_compute_api:os-shelve:shelve",
			} {
				refused(dave.Create(suiteCtx, action(a)), "spec.action", rule)
			}
			list := &computev1.ServerActionList{}
			Expect(k8s.List(suiteCtx, list, client.InNamespace(ns))).To(Succeed())
			for _, sa := range list.Items {
				Expect(sa.Spec.ServerName).NotTo(Equal(srv.Name), "a refused action was made: %s", sa.Name)
			}

			By("tina, the tenant's kova-admin, may")
			stop := action(computev1.ActionStop)
			Expect(userClient("tina").Create(suiteCtx, stop)).To(Succeed())
			settled(srv, "SHUTOFF")
		})
	})
})

// updateMeta changes a server's metadata as `kubectl annotate --overwrite` would.
func updateMeta(c client.Client, srv *computev1.Server, change func(*computev1.Server)) error {
	// The controller may write the server between the read and the update: a conflict
	// says nothing about admission, so read again and retry.
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cur := get(srv)
		if cur.Annotations == nil {
			cur.Annotations = map[string]string{}
		}
		change(cur)
		return c.Update(suiteCtx, cur)
	})
}
