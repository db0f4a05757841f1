package localcp_test

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kova-dev/kova/internal/localcp"
)

var _ = Describe("ControlPlane", Ordered, func() {
	const ns = "localcp-test"

	var (
		dataDir string
		cp      *localcp.ControlPlane
		c       client.Client
	)

	start := func(ctx context.Context) {
		var err error
		cp, err = localcp.Start(ctx, localcp.Options{
			BinDir:            binDir(),
			DataDir:           dataDir,
			CRDPaths:          []string{filepath.Join("testdata", "crd")},
			WebhookPaths:      []string{filepath.Join("testdata", "webhook")},
			ControllerManager: true,
			Aggregation:       true,
		})
		Expect(err).NotTo(HaveOccurred(), "control-plane logs are in %s", filepath.Join(dataDir, "logs"))
		c, err = client.New(cp.Config, client.Options{})
		Expect(err).NotTo(HaveOccurred())
	}

	// failed keeps the data dir, and so the control plane's logs, for a look.
	var failed bool
	AfterEach(func() { failed = failed || CurrentSpecReport().Failed() })

	BeforeAll(func(ctx SpecContext) {
		var err error
		dataDir, err = os.MkdirTemp("", "localcp-test-")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			if cp != nil {
				Expect(cp.Stop()).To(Succeed())
			}
			if failed || CurrentSpecReport().Failed() {
				GinkgoWriter.Printf("keeping %s: control-plane logs are in its logs/ folder\n", dataDir)
				return
			}
			Expect(os.RemoveAll(dataDir)).To(Succeed())
		})
		start(ctx)
		Expect(c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
	}, NodeTimeout(3*time.Minute))

	It("garbage-collects the dependents of a deleted owner (kube-controller-manager runs)", func(ctx SpecContext) {
		owner := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "owner"}}
		Expect(c.Create(ctx, owner)).To(Succeed())
		dependent := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{
			Namespace: ns,
			Name:      "dependent",
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID,
			}},
		}}
		Expect(c.Create(ctx, dependent)).To(Succeed())

		Expect(c.Delete(ctx, owner)).To(Succeed())
		Eventually(func() error {
			return c.Get(ctx, client.ObjectKeyFromObject(dependent), &corev1.ConfigMap{})
		}).WithContext(ctx).WithTimeout(time.Minute).Should(Satisfy(apierrors.IsNotFound))
	}, SpecTimeout(90*time.Second))

	It("configures kube-apiserver for API aggregation", func(ctx SpecContext) {
		caFile, allowed := cp.FrontProxy()
		Expect(allowed).To(ConsistOf(localcp.FrontProxyClientName))
		ca, err := os.ReadFile(caFile)
		Expect(err).NotTo(HaveOccurred())

		// kube-apiserver publishes its request-header settings here for
		// aggregated servers to read.
		cm := &corev1.ConfigMap{}
		Eventually(func() error {
			return c.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: "extension-apiserver-authentication"}, cm)
		}).WithContext(ctx).WithTimeout(30 * time.Second).Should(Succeed())
		Expect(cm.Data).To(HaveKeyWithValue("requestheader-client-ca-file", string(ca)))
		Expect(cm.Data).To(HaveKeyWithValue("requestheader-allowed-names", ContainSubstring(localcp.FrontProxyClientName)))
		Expect(cm.Data).To(HaveKeyWithValue("requestheader-username-headers", ContainSubstring("X-Remote-User")))
	}, SpecTimeout(time.Minute))

	It("installs CRDs, and webhooks that point at WebhookOptions", func(ctx SpecContext) {
		w := &unstructured.Unstructured{}
		w.SetAPIVersion("localcp.test.kova.dev/v1")
		w.SetKind("Widget")
		w.SetNamespace(ns)
		w.SetName("w1")
		Expect(c.Create(ctx, w)).To(Succeed())

		host, port, certDir := cp.WebhookOptions()
		Expect(certDir).To(HavePrefix(cp.DataDir()))
		Expect(filepath.Join(certDir, "tls.crt")).To(BeARegularFile())
		Expect(filepath.Join(certDir, "tls.key")).To(BeARegularFile())

		vwc := &admissionv1.ValidatingWebhookConfiguration{}
		Expect(c.Get(ctx, client.ObjectKey{Name: "localcp-test-validating-webhook-configuration"}, vwc)).To(Succeed())
		Expect(vwc.Webhooks).To(HaveLen(1))
		Expect(vwc.Webhooks[0].ClientConfig.URL).NotTo(BeNil())
		u, err := url.Parse(*vwc.Webhooks[0].ClientConfig.URL)
		Expect(err).NotTo(HaveOccurred())
		Expect(u.Host).To(Equal(net.JoinHostPort(host, strconv.Itoa(port))))
	}, SpecTimeout(time.Minute))

	It("writes kubeconfigs for the admin and for other users", func(ctx SpecContext) {
		admin := clientFromKubeconfig(cp.AdminKubeconfig())
		Expect(admin.List(ctx, &corev1.NamespaceList{})).To(Succeed())

		path := filepath.Join(GinkgoT().TempDir(), "alice.kubeconfig")
		Expect(cp.WriteKubeconfig(path, "alice", []string{"kova:members"})).To(Succeed())
		alice := clientFromKubeconfig(path)
		// Authenticated as alice, who RBAC allows nothing.
		err := alice.List(ctx, &corev1.NamespaceList{})
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring(`"alice"`))
	}, SpecTimeout(time.Minute))

	It("refuses a second control plane on the same data dir", func(ctx SpecContext) {
		_, err := localcp.Start(ctx, localcp.Options{BinDir: binDir(), DataDir: dataDir})
		Expect(err).To(MatchError(ContainSubstring("in use")))
		// ...and left the running one alone.
		Expect(c.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})).To(Succeed())
		Expect(clientFromKubeconfig(cp.AdminKubeconfig()).List(ctx, &corev1.NamespaceList{})).To(Succeed())
	}, SpecTimeout(time.Minute))

	It("keeps objects across a restart on the same data dir", func(ctx SpecContext) {
		Expect(cp.Stop()).To(Succeed())
		Expect(cp.Stop()).To(Succeed(), "Stop must be safe to call twice")
		cp = nil

		start(ctx)
		Expect(c.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})).To(Succeed())
		w := &unstructured.Unstructured{}
		w.SetAPIVersion("localcp.test.kova.dev/v1")
		w.SetKind("Widget")
		Expect(c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "w1"}, w)).To(Succeed())

		// Namespace deletion only completes with kube-controller-manager.
		Expect(c.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		Eventually(func() error {
			return c.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})
		}).WithContext(ctx).WithTimeout(90 * time.Second).Should(Satisfy(apierrors.IsNotFound))
	}, SpecTimeout(4*time.Minute))
})

func clientFromKubeconfig(path string) client.Client {
	GinkgoHelper()
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	Expect(err).NotTo(HaveOccurred())
	c, err := client.New(cfg, client.Options{})
	Expect(err).NotTo(HaveOccurred())
	return c
}

var _ = Describe("ControlPlane without a data dir", func() {
	It("uses a temporary directory and removes it on Stop", func(ctx SpecContext) {
		cp, err := localcp.Start(ctx, localcp.Options{BinDir: binDir()})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(cp.Stop)

		dir := cp.DataDir()
		Expect(cp.AdminKubeconfig()).To(BeARegularFile())
		Expect(clientFromKubeconfig(cp.AdminKubeconfig()).List(ctx, &corev1.NamespaceList{})).To(Succeed())
		caFile, names := cp.FrontProxy()
		Expect(caFile).To(BeEmpty(), "aggregation was not asked for")
		Expect(names).To(BeNil())

		Expect(cp.Stop()).To(Succeed())
		Expect(dir).NotTo(BeAnExistingFile())
	}, SpecTimeout(2*time.Minute))
})
