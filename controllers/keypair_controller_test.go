package controllers_test

import (
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/keys"
)

var _ = Describe("Keypair", func() {
	var ns string
	BeforeEach(func() { ns = tenant(uniq("tenant")) })

	It("generates a key and hands the private half back once, in a Secret, never in the Keypair", func() {
		kp := &computev1.Keypair{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "gen"}, Spec: computev1.KeypairSpec{Type: "ssh"}}
		Expect(creator.Create(suiteCtx, kp)).To(Succeed())
		Eventually(func() string {
			Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(kp), kp)).To(Succeed())
			return kp.Status.Fingerprint
		}).ShouldNot(BeEmpty())
		Expect(kp.Spec.UserID).To(Equal("alice"))
		Expect(kp.Status.PublicKey).To(HavePrefix("ssh-rsa "))

		secret := &corev1.Secret{}
		Expect(k8s.Get(suiteCtx, client.ObjectKey{Namespace: ns, Name: kp.Status.PrivateKeySecret}, secret)).To(Succeed())
		priv := secret.Data[corev1.SSHAuthPrivateKey]
		Expect(string(priv)).To(HavePrefix("-----BEGIN RSA PRIVATE KEY-----"))
		back, err := keys.FromPrivate(priv, "")
		Expect(err).NotTo(HaveOccurred())
		Expect(back.Fingerprint).To(Equal(kp.Status.Fingerprint))

		raw, err := json.Marshal(kp)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(raw)).NotTo(ContainSubstring("PRIVATE KEY"))

		By("deleting the handed-back Secret does not bring the key back")
		Expect(k8s.Delete(suiteCtx, secret)).To(Succeed())
		Consistently(func() error {
			return k8s.Get(suiteCtx, client.ObjectKeyFromObject(secret), &corev1.Secret{})
		}, "1s").ShouldNot(Succeed())
	})

	It("fingerprints an imported key as ssh-keygen -E md5 does", func() {
		kp := &computev1.Keypair{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "imported"}, Spec: computev1.KeypairSpec{
			Type: "ssh", PublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBHqD1LKkN9d8WRoexvXUZBRn0FKp3WC0ZoFsCFEbvvB demo"}}
		Expect(k8s.Create(suiteCtx, kp)).To(Succeed())
		Eventually(func() string {
			Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(kp), kp)).To(Succeed())
			return kp.Status.Fingerprint
		}).Should(Equal("e0:0a:40:59:33:85:bc:b6:80:2e:68:dc:b5:77:2a:77"))
		Expect(kp.Status.PrivateKeySecret).To(BeEmpty())
	})

	It("refuses a key that does not parse, with Nova's message", func() {
		kp := &computev1.Keypair{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bad"}, Spec: computev1.KeypairSpec{
			Type: "ssh", PublicKey: "ssh-rsa not-a-key"}}
		err := k8s.Create(suiteCtx, kp)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("spec.publicKey"))
		Expect(err.Error()).To(ContainSubstring("Keypair data is invalid: failed to generate fingerprint"))
	})

	It("keeps spec.publicKey immutable", func() {
		kp := &computev1.Keypair{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fixed"}, Spec: computev1.KeypairSpec{
			Type: "ssh", PublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBHqD1LKkN9d8WRoexvXUZBRn0FKp3WC0ZoFsCFEbvvB demo"}}
		Expect(k8s.Create(suiteCtx, kp)).To(Succeed())
		var err error
		Eventually(func() bool {
			Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(kp), kp)).To(Succeed())
			kp.Spec.PublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBHqD1LKkN9d8WRoexvXUZBRn0FKp3WC0ZoFsCFEbvvB other"
			err = k8s.Update(suiteCtx, kp)
			return apierrors.IsConflict(err)
		}).Should(BeFalse())
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("spec.publicKey is immutable"))
	})
})

var _ = Describe("Image", func() {
	It("makes an image from a URL active, and refuses a change of its source", func() {
		ns := tenant(uniq("tenant"))
		img := &computev1.Image{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fedora"},
			Spec: computev1.ImageSpec{Source: computev1.ImageSource{URL: "example.invalid/fedora"}}}
		Expect(k8s.Create(suiteCtx, img)).To(Succeed())
		Eventually(func() computev1.ImagePhase {
			Expect(k8s.Get(suiteCtx, client.ObjectKeyFromObject(img), img)).To(Succeed())
			return img.Status.Status
		}).Should(Equal(computev1.ImageActive))
		Expect(img.Spec.Visibility).To(Equal("private"))
		Expect(img.Spec.DiskFormat).To(Equal("qcow2"))
		img.Spec.Source.URL = "example.invalid/other"
		err := k8s.Update(suiteCtx, img)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("spec.source is immutable"))

		By("an image needs exactly one source")
		bad := &computev1.Image{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nosource"}}
		err = k8s.Create(suiteCtx, bad)
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("set exactly one of url, serverSnapshot or upload"))
	})
})
