package localcp_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilversion "k8s.io/apimachinery/pkg/util/version"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kova-dev/kova/internal/localcp"
	"github.com/kova-dev/kova/internal/testenv"
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

	It("reports the Kubernetes release it is built from, as clients parse it", func() {
		dc, err := discovery.NewDiscoveryClientForConfig(cp.Config)
		Expect(err).NotTo(HaveOccurred())
		info, err := dc.ServerVersion()
		Expect(err).NotTo(HaveOccurred())
		// kubectl version, Helm's kubeVersion and others parse this; a source build without
		// the release's version flags says v0.0.0-master+$Format:%H$, which they refuse.
		v, err := utilversion.ParseSemantic(info.GitVersion)
		Expect(err).NotTo(HaveOccurred())
		Expect(v.Major()).To(BeEquivalentTo(1))
		Expect(info.Major).To(Equal("1"))
		Expect(info.Minor).To(Equal(strconv.FormatUint(uint64(v.Minor()), 10)))
	})

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

	// newToken creates a service account and returns a token of it.
	newToken := func(ctx context.Context, name string) string {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		Expect(c.Create(ctx, sa)).To(Succeed())
		tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}
		Expect(c.SubResource("token").Create(ctx, sa, tr)).To(Succeed())
		return tr.Status.Token
	}
	// tokenWorks says why kube-apiserver refuses token, if it does.
	tokenWorks := func(ctx context.Context, token string) error {
		review := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}
		if err := c.Create(ctx, review); err != nil {
			return err
		}
		if !review.Status.Authenticated {
			return fmt.Errorf("the token issued before the restart is refused: %q", review.Status.Error)
		}
		return nil
	}

	It("starts etcd, kube-apiserver and kube-controller-manager again after a kill -9, keeping tokens valid", func(ctx SpecContext) {
		token := newToken(ctx, "robot")
		Expect(tokenWorks(ctx, token)).To(Succeed())

		for _, p := range []struct{ name, arg string }{
			{"etcd", "--data-dir=" + filepath.Join(dataDir, "etcd")},
			{"kube-apiserver", "--cert-dir=" + filepath.Join(dataDir, "apiserver")},
			{"kube-controller-manager", "--cert-dir=" + filepath.Join(dataDir, "kube-controller-manager")},
		} {
			By("killing " + p.name)
			pid := testenv.PIDWithArg(p.arg)
			Expect(pid).NotTo(BeZero(), "%s is running", p.name)
			Expect(syscall.Kill(pid, syscall.SIGKILL)).To(Succeed())
			Eventually(func() int { return testenv.PIDWithArg(p.arg) }).WithContext(ctx).WithTimeout(2*time.Minute).
				Should(And(Not(BeZero()), Not(Equal(pid))), "%s is started again", p.name)
			Eventually(func() error {
				return c.Get(ctx, client.ObjectKey{Namespace: ns, Name: "robot"}, &corev1.ServiceAccount{})
			}).WithContext(ctx).WithTimeout(2 * time.Minute).Should(Succeed())
			Eventually(tokenWorks).WithContext(ctx).WithArguments(token).WithTimeout(time.Minute).Should(Succeed())
		}
	}, SpecTimeout(8*time.Minute))

	It("keeps objects, and tokens valid, across a restart on the same data dir", func(ctx SpecContext) {
		token := newToken(ctx, "survivor")
		Expect(cp.Stop()).To(Succeed())
		Expect(cp.Stop()).To(Succeed(), "Stop must be safe to call twice")
		cp = nil

		start(ctx)
		Expect(c.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})).To(Succeed())
		Expect(tokenWorks(ctx, token)).To(Succeed(), "the service-account signing key and issuer are kept")
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
