package controllers_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/controllers"
	"github.com/kova-dev/kova/internal/testenv"
)

// queuedImage makes a tenant image that stays queued until the test moves it: a snapshot's,
// which only the server controller's createImage moves, and no createImage runs for it.
func queuedImage(ns string) *computev1.Image {
	img := &computev1.Image{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: uniq("snap")},
		Spec: computev1.ImageSpec{Name: "snapshot being saved", DiskFormat: "qcow2", ContainerFormat: "bare", Visibility: "private",
			Source: computev1.ImageSource{ServerSnapshot: &computev1.ServerSnapshotSource{ServerName: "elsewhere", ServerUID: "0"}}},
	}
	Expect(k8s.Create(suiteCtx, img)).To(Succeed())
	setImagePhase(img, computev1.ImageQueued)
	return img
}

// setImagePhase moves an image as the image service would.
func setImagePhase(img *computev1.Image, phase computev1.ImagePhase) {
	GinkgoHelper()
	Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(img), img)).To(Succeed())
	patch := client.MergeFrom(img.DeepCopy())
	img.Status.Status = phase
	Expect(k8s.Status().Patch(suiteCtx, img, patch)).To(Succeed())
}

// waitingForImage waits until the server shows BUILD/scheduling, as Nova shows a server
// not scheduled yet, and says what it waits for.
func waitingForImage(srv *computev1.Server, img *computev1.Image) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		cur := get(srv)
		g.Expect(cur.Status.Status).To(Equal("BUILD"))
		g.Expect(cur.Status.TaskState).To(Equal("scheduling"))
		g.Expect(cur.Status.Blocked).NotTo(BeNil())
		g.Expect(cur.Status.Blocked.Message).To(ContainSubstring("Waiting for image " + img.Name))
	}).Should(Succeed())
}

var _ = Describe("A server whose image is not active yet", func() {
	var ns string
	BeforeEach(func() { ns = tenant(uniq("imgwait")) })

	It("waits in BUILD/scheduling and builds once the image is active", func() {
		img := queuedImage(ns)
		srv := newServer(ns, func(s *computev1.Server) { s.Spec.ImageRef = img.Name })
		waitingForImage(srv, img)
		Expect(fixedIPsOf(srv)).To(BeEmpty(), "nothing is allocated before the build starts")

		setImagePhase(img, computev1.ImageSaving)
		waitingForImage(srv, img)
		setImagePhase(img, computev1.ImageActive)
		s := settled(srv, "ACTIVE")
		Expect(s.Status.Blocked).To(BeNil())
		Expect(s.Status.Fault).To(BeNil())
		Expect(s.Status.Image).To(Equal(img.Name))
		expectSeen(srv, "BUILD/scheduling", "BUILD/networking", "BUILD/spawning", "ACTIVE/none")
	})

	It("ends in ERROR with Nova's fault when the image fails", func() {
		img := queuedImage(ns)
		srv := newServer(ns, func(s *computev1.Server) { s.Spec.ImageRef = img.Name })
		waitingForImage(srv, img)

		setImagePhase(img, computev1.ImageKilled)
		s := settled(srv, "ERROR")
		Expect(s.Status.Fault).NotTo(BeNil())
		Expect(s.Status.Fault.Code).To(BeEquivalentTo(500))
		Expect(s.Status.Fault.Message).To(Equal(fmt.Sprintf("Build of instance %s aborted: Image %s is not active.", s.UID, img.UID)))
		if s.Status.Blocked != nil {
			Expect(s.Status.Blocked.Message).NotTo(ContainSubstring("Waiting for image"))
		}
		Expect(fixedIPsOf(srv)).To(BeEmpty())
	})

	It("is not stranded by a manager restart while it waits", func() {
		img := queuedImage(ns)
		srv := newServer(ns, func(s *computev1.Server) { s.Spec.ImageRef = img.Name })
		waitingForImage(srv, img)

		whileManagerDown(func() { setImagePhase(img, computev1.ImageActive) })
		settled(srv, "ACTIVE")
	})
})

var _ = Describe("changePassword", func() {
	var ns string
	var srv *computev1.Server
	BeforeEach(func() {
		ns = tenant(uniq("passwd"))
		srv = newServer(ns)
		settled(srv, "ACTIVE")
	})

	// passwordSecret is a Secret owned by the action from its first write, as the REST shim
	// makes it.
	passwordSecret := func(sa *computev1.ServerAction) *corev1.Secret {
		return &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: sa.Namespace, Name: sa.Spec.ChangePassword.SecretName,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: computev1.GroupVersion.String(), Kind: "ServerAction", Name: sa.Name, UID: sa.UID}}},
			StringData: map[string]string{"password": "n3w-pass"},
		}
	}
	newAction := func(secretName string) *computev1.ServerAction {
		sa := &computev1.ServerAction{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: uniq("changepassword")},
			Spec: computev1.ServerActionSpec{ServerName: srv.Name, Action: computev1.ActionChangePassword,
				ChangePassword: &computev1.ChangePasswordParams{SecretName: secretName}}}
		Expect(k8s.Create(suiteCtx, sa)).To(Succeed())
		return sa
	}
	gone := func(secret *corev1.Secret) func() bool {
		return func() bool {
			return apierrors.IsNotFound(k8s.Get(suiteCtx, client.ObjectKeyFromObject(secret), &corev1.Secret{}))
		}
	}

	It("sets a password whose Secret comes after the action, owned by it, and deletes the Secret", func() {
		sa := newAction(uniq("pw"))
		secret := passwordSecret(sa)
		Expect(k8s.Create(suiteCtx, secret)).To(Succeed())
		Expect(ended(sa).Status.Phase).To(Equal(computev1.ActionSucceeded), sa.Status.Message)
		Eventually(gone(secret)).Should(BeTrue())
		expectSeen(srv, "PASSWORD/updating_password", "ACTIVE/none")
	})

	It("fails an action whose Secret never comes, and the server carries on", func() {
		sa := newAction(uniq("never"))
		Eventually(func() string {
			b := get(srv).Status.Blocked
			if b == nil {
				return ""
			}
			return b.Message
		}).Should(ContainSubstring("Waiting for Secret " + sa.Spec.ChangePassword.SecretName))
		Eventually(func() computev1.ActionPhase {
			Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(sa), sa)).To(Succeed())
			return sa.Status.Phase
		}, controllers.PasswordSecretWait*4).Should(Equal(computev1.ActionFailed))
		Expect(sa.Status.Message).To(Equal(fmt.Sprintf(
			"Secret %s with the new password under key password did not appear within %s of the changePassword; create the Secret first, or together with the ServerAction.",
			sa.Spec.ChangePassword.SecretName, controllers.PasswordSecretWait)))
		Expect(sa.Status.CompletionTime.Sub(sa.CreationTimestamp.Time)).To(BeNumerically(">=", controllers.PasswordSecretWait))

		act(k8s, srv, computev1.ServerActionSpec{Action: computev1.ActionReboot})
		Expect(settled(srv, "ACTIVE").Status.Blocked).To(BeNil())
	})

	It("deletes the Secret the action owns when the password could not be set", func() {
		failing := newServer(ns, func(s *computev1.Server) {
			s.Annotations = map[string]string{computev1.AnnotationFault: "set_password:guest agent did not answer"}
		})
		settled(failing, "ACTIVE")
		srv = failing
		sa := newAction(uniq("failed"))
		secret := passwordSecret(sa)
		Expect(k8s.Create(suiteCtx, secret)).To(Succeed())
		Expect(ended(sa).Status.Phase).To(Equal(computev1.ActionFailed))
		Expect(sa.Status.Message).To(Equal("guest agent did not answer"))
		Eventually(gone(secret)).Should(BeTrue())
	})
})

var _ = Describe("make run's samples", func() {
	It("boot the demo server to ACTIVE when applied all at once", func() {
		// As `kubectl apply -f config/samples/` and localcp do: every object in file order,
		// the server a moment after the image it boots from, before the image is active.
		files, err := filepath.Glob(filepath.Join(testenv.Root(), "config", "samples", "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		sort.Strings(files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			Expect(err).NotTo(HaveOccurred())
			for _, doc := range bytesSplit(data, "\n---") {
				obj := &unstructured.Unstructured{}
				Expect(yaml.Unmarshal(doc, &obj.Object)).To(Succeed())
				if len(obj.Object) == 0 {
					continue
				}
				if obj.GetNamespace() == "" && obj.GetKind() != "Namespace" && obj.GetKind() != "Flavor" {
					obj.SetNamespace("default")
				}
				// The suite made the public namespace and flavors of these names already.
				if err := k8s.Create(suiteCtx, obj); !apierrors.IsAlreadyExists(err) {
					Expect(err).NotTo(HaveOccurred(), "%s %s", obj.GetKind(), obj.GetName())
				}
			}
		}
		settled(&computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "demo"}}, "ACTIVE")
	})
})
