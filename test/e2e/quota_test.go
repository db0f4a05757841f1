package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/limits"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/quotasets"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/testenv"
)

// Quotas (issue 12, item 8): a boot past a tenant's quota is Nova's 403 through REST and a
// denial through kubectl, decided without a race, since admission reserves each server's
// usage in the tenant's Quota before the server is stored.
var _ = Describe("Quotas", func() {
	const burst, instances = 100, 10
	refusal := fmt.Sprintf("Quota exceeded for instances: Requested 1, but already used %d of %d instances", instances, instances)

	// setQuota sets a tenant's quotas as the cloud operator, through os-quota-sets.
	setQuota := func(ctx SpecContext, tenant string, opts quotasets.UpdateOpts) quotasets.QuotaSet {
		GinkgoHelper()
		qs, err := quotasets.Update(ctx, computeFor(operator(ctx), "direct", tenant), tenant, opts).Extract()
		Expect(err).NotTo(HaveOccurred())
		return *qs
	}
	// settled waits until the tenant's Quota counts exactly what its servers hold, with no
	// reservation left, and returns the servers.
	settled := func(ctx SpecContext, tenant string, want computev1.QuotaUsage) []computev1.Server {
		GinkgoHelper()
		var list computev1.ServerList
		Eventually(func(g Gomega) {
			q := &computev1.Quota{}
			g.Expect(stack.Client.Get(ctx, client.ObjectKey{Namespace: tenant, Name: computev1.QuotaName}, q)).To(Succeed())
			g.Expect(q.Status.Reservations).To(BeEmpty())
			g.Expect(q.Status.Used).To(Equal(want))
			g.Expect(stack.Client.List(ctx, &list, client.InNamespace(tenant))).To(Succeed())
			g.Expect(list.Items).To(HaveLen(int(want.Instances)))
		}).Should(Succeed())
		return list.Items
	}
	deleteAll := func(ctx SpecContext, tenant string) {
		GinkgoHelper()
		Expect(stack.Client.DeleteAllOf(ctx, &computev1.Server{}, client.InNamespace(tenant))).To(Succeed())
		settled(ctx, tenant, computev1.QuotaUsage{})
	}

	It(fmt.Sprintf("leaves exactly %d of %d concurrent REST boots, the others refused with Nova's 403", instances, burst), func(ctx SpecContext) {
		const tenant = "quota-rest"
		tk, err := stack.Tenant(ctx, tenant)
		Expect(err).NotTo(HaveOccurred())
		qs := setQuota(ctx, tenant, quotasets.UpdateOpts{Instances: gophercloud.IntToPointer(instances)})
		Expect(qs.Instances).To(Equal(instances))

		c := computeFor(tk["creator"], "direct", tenant)
		imageID := listImages(ctx, c)["cirros"]
		c.Microversion = "2.37"
		start := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		made, refused := 0, map[string]int{}
		for i := range burst {
			wg.Go(func() {
				_, err := servers.Create(ctx, c, servers.CreateOpts{Name: fmt.Sprintf("q-%d", i), FlavorRef: "m1.tiny",
					ImageRef: imageID, Networks: "none"}, nil).Extract()
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					made++
					return
				}
				var unexpected gophercloud.ErrUnexpectedResponseCode
				Expect(errors.As(err, &unexpected)).To(BeTrue(), "%v", err)
				refused[fmt.Sprintf("%d %s", unexpected.Actual, unexpected.Body)]++
			})
		}
		wg.Wait()
		GinkgoWriter.Printf("%d REST boots against a quota of %d in %v\n", burst, instances, time.Since(start))
		Expect(made).To(Equal(instances))
		Expect(refused).To(Equal(map[string]int{
			fmt.Sprintf(`403 {"forbidden": {"code": 403, "message": "%s"}}`, refusal): burst - instances,
		}))
		for _, s := range settled(ctx, tenant, computev1.QuotaUsage{Instances: instances, Cores: instances, RAM: instances * 512}) {
			Expect(s.DeletionTimestamp).To(BeNil())
		}
		abs, err := limits.Get(ctx, c, limits.GetOpts{}).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(abs.Absolute.MaxTotalInstances).To(Equal(instances))
		Expect(abs.Absolute.TotalInstancesUsed).To(Equal(instances))
		Expect(abs.Absolute.TotalCoresUsed).To(Equal(instances))

		By("a tenant's own admin may not raise it; the quota set says so in Nova's words")
		_, err = quotasets.Update(ctx, computeFor(tk["admin"], "direct", tenant), tenant,
			quotasets.UpdateOpts{Instances: gophercloud.IntToPointer(100)}).Extract()
		Expect(err).To(MatchError(ContainSubstring("Policy doesn't allow os_compute_api:os-quota-sets:update to be performed.")))
		err = kubectlAs(tk["admin"]).Patch(ctx, &computev1.Quota{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: computev1.QuotaName}},
			client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"instances":100}}`)))
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		detail, err := quotasets.GetDetail(ctx, c, tenant).Extract()
		Expect(err).NotTo(HaveOccurred())
		Expect(detail.Instances).To(Equal(quotasets.QuotaDetail{Limit: instances, InUse: instances}))

		By("a deleted server frees its quota at once")
		Expect(servers.Delete(ctx, computeFor(tk["admin"], "direct", tenant), serversNamed(ctx, c, "q-")[0].ID).ExtractErr()).To(Succeed())
		_, err = servers.Create(ctx, c, servers.CreateOpts{Name: "q-after", FlavorRef: "m1.tiny", ImageRef: imageID, Networks: "none"}, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		deleteAll(ctx, tenant)
	})

	It(fmt.Sprintf("leaves exactly %d of %d concurrent kubectl creates, the others denied", instances, burst), func(ctx SpecContext) {
		const tenant = "quota-kubectl"
		tk, err := stack.Tenant(ctx, tenant)
		Expect(err).NotTo(HaveOccurred())
		setQuota(ctx, tenant, quotasets.UpdateOpts{Instances: gophercloud.IntToPointer(instances)})

		// As kubectl, but with no client-side rate limit (client-go's default, 5 a second
		// with bursts of 10, would let the creates in a few at a time): all 100 race.
		cfg := &rest.Config{Host: stack.CP.Config.Host, BearerToken: tk["creator"], QPS: -1,
			TLSClientConfig: rest.TLSClientConfig{CAData: stack.CP.Config.CAData}}
		kc, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
		Expect(err).NotTo(HaveOccurred())
		start := time.Now()
		var wg sync.WaitGroup
		var mu sync.Mutex
		made, denied := 0, 0
		var others []error
		for i := range burst {
			wg.Go(func() {
				err := kc.Create(ctx, &computev1.Server{ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: fmt.Sprintf("k-%d", i)},
					Spec: computev1.ServerSpec{FlavorRef: "m1.tiny", ImageRef: "cirros", PowerState: computev1.PowerActive}})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					made++
				case apierrors.IsForbidden(err) && strings.Contains(err.Error(), refusal):
					denied++
				default:
					others = append(others, err)
				}
			})
		}
		wg.Wait()
		GinkgoWriter.Printf("%d kubectl creates against a quota of %d in %v\n", burst, instances, time.Since(start))
		Expect(others).To(BeEmpty())
		Expect(made).To(Equal(instances))
		Expect(denied).To(Equal(burst - instances))
		settled(ctx, tenant, computev1.QuotaUsage{Instances: instances, Cores: instances, RAM: instances * 512})
		deleteAll(ctx, tenant)
	})

	It("refuses a resize past the cores quota through REST and kubectl, and counts a smaller flavor", func(ctx SpecContext) {
		const tenant = "quota-resize"
		tk, err := stack.Tenant(ctx, tenant)
		Expect(err).NotTo(HaveOccurred())
		setQuota(ctx, tenant, quotasets.UpdateOpts{Cores: gophercloud.IntToPointer(1), RAM: gophercloud.IntToPointer(1024)})
		c := computeFor(tk["admin"], "direct", tenant)
		imageID := listImages(ctx, c)["cirros"]
		c.Microversion = "2.37"
		s, err := servers.Create(ctx, c, servers.CreateOpts{Name: "r", FlavorRef: "m1.tiny", ImageRef: imageID, Networks: "none"}, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() string {
			got, err := servers.Get(ctx, c, s.ID).Extract()
			Expect(err).NotTo(HaveOccurred())
			return got.Status
		}).Should(Equal("ACTIVE"))

		err = servers.Resize(ctx, c, s.ID, servers.ResizeOpts{FlavorRef: "m1.medium"}).ExtractErr()
		Expect(err).To(MatchError(ContainSubstring(`{"forbidden": {"code": 403, "message": "Quota exceeded for cores, ram: Requested 1, 3584, but already used 1, 512 of 1, 1024 cores, ram"}}`)))
		var list computev1.ServerList
		Expect(stack.Client.List(ctx, &list, client.InNamespace(tenant))).To(Succeed())
		Expect(list.Items).To(HaveLen(1))
		srv := &list.Items[0]
		Expect(srv.Spec.FlavorRef).To(Equal("m1.tiny"))

		patch := client.RawPatch("application/merge-patch+json", []byte(`{"spec":{"flavorRef":"m1.small"}}`))
		err = kubectlAs(tk["admin"]).Patch(ctx, srv, patch)
		Expect(apierrors.IsForbidden(err)).To(BeTrue(), "%v", err)
		Expect(err.Error()).To(ContainSubstring("Quota exceeded for ram: Requested 1536, but already used 512 of 1024 ram"))
		settled(ctx, tenant, computev1.QuotaUsage{Instances: 1, Cores: 1, RAM: 512})
		deleteAll(ctx, tenant)
	})

	It("lets the cloud operator set the default quotas with the openstack CLI", func(ctx SpecContext) {
		// The CLI's quota show looks the project (or class) name up in the identity service,
		// which the admin_token way has not; the class is read with os-quota-class-sets.
		showClass := func() map[string]any {
			GinkgoHelper()
			code, _, body := raw(ctx, operator(ctx), "direct", http.MethodGet, "/os-quota-class-sets/default", nil, nil)
			Expect(code).To(Equal(http.StatusOK), "%s", body)
			var shown struct {
				QuotaClassSet map[string]any `json:"quota_class_set"`
			}
			Expect(json.Unmarshal(body, &shown)).To(Succeed(), "%s", body)
			return shown.QuotaClassSet
		}
		// The test stacks' class (testenv.OpenQuotas): 2000 instances, cores unlimited.
		Expect(showClass()).To(And(HaveKeyWithValue("instances", BeNumerically("==", 2000)), HaveKeyWithValue("cores", BeNumerically("==", -1))))
		_, err := openstackAs(ctx, operator(ctx), "quota", "set", "--class", "--instances", "1999", "default")
		Expect(err).NotTo(HaveOccurred())
		Expect(showClass()).To(HaveKeyWithValue("instances", BeNumerically("==", 1999)))
		qc := &computev1.QuotaClass{}
		Expect(stack.Client.Get(ctx, client.ObjectKey{Name: computev1.QuotaName}, qc)).To(Succeed())
		Expect(*qc.Spec.Instances).To(BeNumerically("==", 1999))
		var quotaSet map[string]any
		_, _, body := raw(ctx, tokens["observer"], "direct", http.MethodGet, "/os-quota-sets/"+tenantName, nil, nil)
		Expect(json.Unmarshal(body, &quotaSet)).To(Succeed(), "%s", body)
		Expect(quotaSet["quota_set"]).To(HaveKeyWithValue("instances", BeNumerically("==", 1999)))

		_, err = openstack(ctx, "admin", "quota", "set", "--class", "--instances", "5", "default")
		Expect(err).To(MatchError(ContainSubstring("Policy doesn't allow os_compute_api:os-quota-class-sets:update to be performed.")))
		_, err = openstackAs(ctx, operator(ctx), "quota", "set", "--class", "--instances", "2000", "default")
		Expect(err).NotTo(HaveOccurred())
		Expect(showClass()).To(HaveKeyWithValue("instances", BeNumerically("==", 2000)))
	})

	It("shows the limits to the openstack CLI", func(ctx SpecContext) {
		var rows []map[string]any
		cliJSON(ctx, "observer", &rows, "limits", "show", "--absolute")
		got := map[string]any{}
		for _, r := range rows {
			got[r["Name"].(string)] = r["Value"]
		}
		// The test stacks' QuotaClass (testenv.OpenQuotas): 2000 instances, cores and RAM unlimited.
		Expect(got).To(HaveKeyWithValue("maxTotalInstances", BeNumerically("==", 2000)))
		Expect(got).To(HaveKeyWithValue("maxTotalCores", BeNumerically("==", -1)))
		Expect(got).To(HaveKeyWithValue("maxTotalKeypairs", BeNumerically("==", 100)))
		Expect(got).To(HaveKey("totalInstancesUsed"))
		code, _, _ := raw(ctx, tokens["observer"], "aggregated", http.MethodGet, "/os-quota-sets/"+tenantName, nil, nil)
		Expect(code).To(Equal(http.StatusOK))
	})
})
