// Package faults kill -9s each part of Kova (the manager, nova-api, kube-apiserver, etcd) in
// the middle of a burst of REST creates and actions, as a careful client sends them: every
// create carries an Idempotency-Key and is sent again, with that key, until it is answered.
// Then it checks that what the clients were told is what exists: each create made exactly
// one server and it is ACTIVE, every address is held once, no Secret is left without an
// owner and no server is stuck in a task.
package faults

import (
	"context"
	"os"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/testenv"
)

func TestFaults(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(2 * time.Minute)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	EnforceDefaultTimeoutsWhenUsingContexts()
	RunSpecs(t, "Fault suite")
}

// stepLatency is the simulated driver's time per step: a build takes a few of them, so a
// kill finds servers half-built.
const stepLatency = 200 * time.Millisecond

var (
	stack   *testenv.ProcessStack
	imageID string
	// logDir keeps every process's output; it is left behind, and named, when a spec fails.
	logDir          string
	setUp, anyFails bool
)

var _ = BeforeSuite(func(ctx SpecContext) {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	var err error
	logDir, err = os.MkdirTemp("", "kova-faults-logs-")
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		if anyFails || !setUp {
			GinkgoWriter.Printf("the processes' output is in %s\n", logDir)
			return
		}
		_ = os.RemoveAll(logDir)
	})

	start := time.Now()
	stack, err = testenv.StartProcessStack(ctx, testenv.ProcessStackOptions{
		StepLatency: stepLatency,
		// Room for every server of the suite; the default hosts fit about 250.
		SimHosts: "sim-host-1:vcpus=4096,ram=4194304,disk=65536;sim-host-2:vcpus=4096,ram=4194304,disk=65536",
		LogDir:   logDir,
		Log:      GinkgoLogr,
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(stack.Stop)

	for _, obj := range []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: testenv.PublicNamespace}},
		&computev1.Flavor{ObjectMeta: metav1.ObjectMeta{Name: "m1.tiny"},
			Spec: computev1.FlavorSpec{VCPUs: 1, RAM: 512, Disk: 1, IsPublic: true}},
		&computev1.Image{ObjectMeta: metav1.ObjectMeta{Namespace: testenv.PublicNamespace, Name: "cirros"},
			Spec: computev1.ImageSpec{Visibility: "public", Source: computev1.ImageSource{URL: "example.invalid/cirros"}}},
	} {
		Expect(stack.Client.Create(ctx, obj)).To(Succeed())
	}
	Eventually(func(g Gomega) {
		img := &computev1.Image{}
		g.Expect(stack.Client.Get(ctx, client.ObjectKey{Namespace: testenv.PublicNamespace, Name: "cirros"}, img)).To(Succeed())
		g.Expect(img.Status.Status).To(Equal(computev1.ImageActive))
		imageID = string(img.UID)
	}).WithContext(ctx).Should(Succeed())
	watchCtx, stopWatching := context.WithCancel(context.Background())
	go apiServer.watch(watchCtx)
	DeferCleanup(stopWatching)
	setUp = true
	AddReportEntry("stack started", time.Since(start).Round(time.Second).String())
}, NodeTimeout(5*time.Minute))

var _ = AfterEach(func() {
	if CurrentSpecReport().Failed() {
		anyFails = true
	}
})
