package certrotation_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/kova-dev/kova/internal/certrotation"
	"github.com/kova-dev/kova/internal/localcp"
	"github.com/kova-dev/kova/internal/manifests"
	"github.com/kova-dev/kova/internal/testenv"
)

// The rotator, run as config/default's manager ServiceAccount on a local control plane with
// config/default's Secret, webhook configurations and APIService, fills the Secret, injects
// its CA into all three, starts the webhooks only then, and does it all again with a new CA
// when the Secret is emptied.
func TestRotatorInjectsTheCAEverywhere(t *testing.T) {
	g := NewWithT(t)
	g.SetDefaultEventuallyTimeout(90 * time.Second)
	g.SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	logf.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.UseDevMode(true)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	cp, err := localcp.Start(ctx, localcp.Options{BinDir: testenv.BinDir()})
	g.Expect(err).NotTo(HaveOccurred())
	defer func() { _ = cp.Stop() }()
	admin, err := client.New(cp.Config, client.Options{Scheme: testenv.Scheme()})
	g.Expect(err).NotTo(HaveOccurred())
	managerCfg, _, err := testenv.InstallIdentities(ctx, admin, cp.Config)
	g.Expect(err).NotTo(HaveOccurred())
	objs, err := manifests.Build(filepath.Join(testenv.Root(), "config", "default"))
	g.Expect(err).NotTo(HaveOccurred())
	targets := manifests.Select(objs, "Secret", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "APIService")
	g.Expect(targets).To(HaveLen(4))
	for _, o := range targets {
		g.Expect(admin.Create(ctx, o.DeepCopy())).To(Succeed(), "%s %s", o.GetKind(), o.GetName())
	}

	certDir := t.TempDir()
	port, err := localcp.FreePort()
	g.Expect(err).NotTo(HaveOccurred())
	mgr, err := ctrl.NewManager(managerCfg, ctrl.Options{
		Scheme:                 testenv.Scheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		WebhookServer:          webhook.NewServer(webhook.Options{Host: "127.0.0.1", Port: port, CertDir: certDir}),
	})
	g.Expect(err).NotTo(HaveOccurred())
	opts := certrotation.Defaults()
	opts.Enabled = true
	setUp := make(chan struct{})
	ready, err := certrotation.StartWebhooks(mgr, opts, certDir, func() error {
		mgr.GetWebhookServer().Register("/ping", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
		close(setUp)
		return nil
	})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(ready(nil)).To(HaveOccurred(), "ready before any certificate")
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() {
		cancel()
		g.Expect(<-done).To(Succeed(), "the manager stops cleanly")
	}()

	// ca is the CA the rotator keeps in the Secret, once its serving certificate verifies
	// against it for every name; the kubelet's part, mounting the Secret, is played here.
	ca := func(g Gomega) []byte {
		s := &corev1.Secret{}
		g.Expect(admin.Get(ctx, opts.Secret, s)).To(Succeed())
		g.Expect(s.Data).To(HaveKey("ca.crt"))
		g.Expect(s.Data).To(HaveKey("tls.crt"))
		g.Expect(s.Data).To(HaveKey("tls.key"))
		pool := x509.NewCertPool()
		g.Expect(pool.AppendCertsFromPEM(s.Data["ca.crt"])).To(BeTrue())
		block, _ := pem.Decode(s.Data["tls.crt"])
		g.Expect(block).NotTo(BeNil())
		cert, err := x509.ParseCertificate(block.Bytes)
		g.Expect(err).NotTo(HaveOccurred())
		for _, name := range opts.DNSNames {
			_, err := cert.Verify(x509.VerifyOptions{DNSName: name, Roots: pool})
			g.Expect(err).NotTo(HaveOccurred(), name)
		}
		for _, f := range []string{"tls.crt", "tls.key"} {
			g.Expect(os.WriteFile(filepath.Join(certDir, f), s.Data[f], 0o600)).To(Succeed())
		}
		return s.Data["ca.crt"]
	}
	// injected says whether every webhook and the APIService carry want as caBundle.
	injected := func(g Gomega, want []byte) {
		for _, kind := range []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"} {
			o := manifests.Select(targets, kind)[0]
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(o.GroupVersionKind())
			g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(o), u)).To(Succeed())
			hooks, _, _ := unstructured.NestedSlice(u.Object, "webhooks")
			g.Expect(hooks).NotTo(BeEmpty())
			for _, h := range hooks {
				b64, _, _ := unstructured.NestedString(h.(map[string]any), "clientConfig", "caBundle")
				got, err := base64.StdEncoding.DecodeString(b64)
				g.Expect(err).NotTo(HaveOccurred())
				g.Expect(bytes.TrimSpace(got)).To(Equal(bytes.TrimSpace(want)), "%s %s", kind, u.GetName())
			}
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(manifests.Select(targets, "APIService")[0].GroupVersionKind())
		g.Expect(admin.Get(ctx, client.ObjectKey{Name: opts.APIService}, u)).To(Succeed())
		b64, _, _ := unstructured.NestedString(u.Object, "spec", "caBundle")
		got, err := base64.StdEncoding.DecodeString(b64)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(bytes.TrimSpace(got)).To(Equal(bytes.TrimSpace(want)), "APIService")
	}

	var first []byte
	g.Eventually(func(g Gomega) { first = ca(g) }).Should(Succeed())
	g.Eventually(func(g Gomega) { injected(g, first) }).Should(Succeed())
	g.Eventually(setUp).Should(BeClosed(), "the webhooks start once the certificate is mounted and injected")
	g.Eventually(func() error { return ready(nil) }).Should(Succeed())

	// Emptied (as by an operator who wants a new CA), the Secret is filled again with a new
	// CA, which replaces the old one everywhere.
	s := &corev1.Secret{}
	g.Expect(admin.Get(ctx, opts.Secret, s)).To(Succeed())
	s.Data = nil
	g.Expect(admin.Update(ctx, s)).To(Succeed())
	var second []byte
	g.Eventually(func(g Gomega) {
		second = ca(g)
		g.Expect(second).NotTo(Equal(first))
	}).Should(Succeed())
	g.Eventually(func(g Gomega) { injected(g, second) }).Should(Succeed())
}
