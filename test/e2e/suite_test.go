// Package e2e drives Kova end to end with real OpenStack clients (gophercloud and the
// openstack CLI) through both ways in: directly, with X-Auth-Token, and through
// kube-apiserver's aggregation layer.
package e2e

import (
	"crypto/tls"
	"net/http"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/novaserver"
	"github.com/kova-dev/kova/internal/testenv"
)

const tenantName = "demo"

var (
	stack       *testenv.Stack
	tokens      map[string]string // role -> service-account token in tenant demo
	otherTokens map[string]string // the same in tenant other
	networkID   string
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(2 * time.Minute)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	RunSpecs(t, "End-to-end suite")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	logf.SetLogger(zap.New(zap.WriteTo(GinkgoWriter), zap.UseDevMode(true)))
	var err error
	stack, err = testenv.StartStack(ctx, 50*time.Millisecond, novaserver.NovaAPI())
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(stack.Stop)

	k8s := stack.Client
	for _, obj := range testenv.Fixtures(tenantName, &computev1.Flavor{ObjectMeta: metav1.ObjectMeta{Name: "m1.small"},
		Spec: computev1.FlavorSpec{VCPUs: 1, RAM: 2048, Disk: 20, IsPublic: true}}, "10.20.0.0/22") {
		Expect(k8s.Create(ctx, obj)).To(Succeed())
	}
	for _, f := range []computev1.Flavor{
		{ObjectMeta: metav1.ObjectMeta{Name: "m1.tiny"}, Spec: computev1.FlavorSpec{VCPUs: 1, RAM: 512, Disk: 1, IsPublic: true}},
		{ObjectMeta: metav1.ObjectMeta{Name: "m1.medium"}, Spec: computev1.FlavorSpec{VCPUs: 2, RAM: 4096, Disk: 40, IsPublic: true}},
	} {
		Expect(k8s.Create(ctx, &f)).To(Succeed())
	}
	Eventually(func() computev1.ImagePhase {
		img := &computev1.Image{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: testenv.PublicNamespace, Name: "cirros"}, img)).To(Succeed())
		return img.Status.Status
	}).Should(Equal(computev1.ImageActive))
	net := &computev1.Network{}
	Expect(k8s.Get(ctx, client.ObjectKey{Namespace: tenantName, Name: "private"}, net)).To(Succeed())
	networkID = string(net.UID)

	// The tenants already exist as namespaces (the fixtures made demo): add the users.
	tokens, err = stack.Tenant(ctx, tenantName)
	Expect(err).NotTo(HaveOccurred())
	otherTokens, err = stack.Tenant(ctx, "other")
	Expect(err).NotTo(HaveOccurred())
}, NodeTimeout(5*time.Minute))

// compute is a gophercloud compute client for a token, through one way in.
func compute(token, way string) *gophercloud.ServiceClient {
	return computeFor(token, way, tenantName)
}

func computeFor(token, way, tenant string) *gophercloud.ServiceClient {
	pc := &gophercloud.ProviderClient{}
	var rt http.RoundTripper
	endpoint := stack.DirectURL + "/v2.1/" + tenant + "/"
	rt = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: stack.DirectCAs, MinVersion: tls.VersionTLS12}}
	if way == "aggregated" {
		endpoint = stack.AggregatedURL + "/" + tenant + "/"
		rt = testenv.AuthTokenAsBearer{Next: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: stack.APIServerCAs, MinVersion: tls.VersionTLS12}}}
	}
	pc.HTTPClient = http.Client{Transport: rt, Timeout: time.Minute}
	pc.SetToken(token)
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: endpoint, Type: "compute"}
}
