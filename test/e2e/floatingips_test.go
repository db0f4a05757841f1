package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/testenv"
)

// Floating IPs: Nova's os-floating-ips proxy and the addFloatingIp / removeFloatingIp
// actions through both ways in (gophercloud v2 has no client for them: its service client
// sends the requests), FloatingIP objects with kubectl, and allocations that race.

type novaFloatingIP struct {
	ID         string  `json:"id"`
	IP         string  `json:"ip"`
	Pool       string  `json:"pool"`
	FixedIP    *string `json:"fixed_ip"`
	InstanceID *string `json:"instance_id"`
}

// allocateFIP asks for a floating IP from pool ("" for the default) and returns the answer.
func allocateFIP(ctx SpecContext, token, way, pool string) (int, novaFloatingIP, string) {
	GinkgoHelper()
	return allocateFIPIn(ctx, token, way, tenantName, pool)
}

// allocateFIPIn is allocateFIP in tenant.
func allocateFIPIn(ctx SpecContext, token, way, tenant, pool string) (int, novaFloatingIP, string) {
	GinkgoHelper()
	body := []byte(`{}`)
	if pool != "" {
		body = []byte(`{"pool": "` + pool + `"}`)
	}
	code, _, b := rawFor(ctx, token, way, tenant, http.MethodPost, "/os-floating-ips", body, nil)
	var out struct {
		FloatingIP novaFloatingIP `json:"floating_ip"`
	}
	if code == http.StatusOK {
		Expect(json.Unmarshal(b, &out)).To(Succeed())
	}
	return code, out.FloatingIP, string(b)
}

func listFIPs(ctx SpecContext, token, way string) []novaFloatingIP {
	GinkgoHelper()
	code, _, b := raw(ctx, token, way, http.MethodGet, "/os-floating-ips", nil, nil)
	Expect(code).To(Equal(http.StatusOK), "%s", b)
	var out struct {
		FloatingIPs []novaFloatingIP `json:"floating_ips"`
	}
	Expect(json.Unmarshal(b, &out)).To(Succeed())
	return out.FloatingIPs
}

// floatingAddresses are the server's addresses of type floating, as its detail shows them.
func floatingAddresses(ctx SpecContext, token, way, id string) []string {
	GinkgoHelper()
	code, _, b := raw(ctx, token, way, http.MethodGet, "/servers/"+id, nil, nil)
	Expect(code).To(Equal(http.StatusOK))
	var out struct {
		Server struct {
			Addresses map[string][]map[string]any `json:"addresses"`
		} `json:"server"`
	}
	Expect(json.Unmarshal(b, &out)).To(Succeed())
	var addrs []string
	for _, as := range out.Server.Addresses {
		for _, a := range as {
			if a["OS-EXT-IPS:type"] == "floating" {
				addrs = append(addrs, fmt.Sprint(a["addr"]))
			}
		}
	}
	return addrs
}

// floatingIPObjects are the tenant's FloatingIP objects.
func floatingIPObjects(ctx SpecContext) []computev1.FloatingIP {
	GinkgoHelper()
	var list computev1.FloatingIPList
	Expect(stack.Client.List(ctx, &list, client.InNamespace(tenantName))).To(Succeed())
	return list.Items
}

var _ = Describe("Floating IPs", func() {
	for _, way := range []string{"direct", "aggregated"} {
		It(fmt.Sprintf("are allocated, put on a server, taken off and released, through the %s way in", way), func(ctx SpecContext) {
			admin := compute(tokens["admin"], way)
			s := bootOnPrivate(ctx, admin, "fip-"+way)

			By("a creator allocates from the public network; an observer may not")
			code, _, _ := allocateFIP(ctx, tokens["observer"], way, "")
			Expect(code).To(Equal(http.StatusForbidden))
			code, fip, body := allocateFIP(ctx, tokens["creator"], way, "")
			Expect(code).To(Equal(http.StatusOK), body)
			Expect(netip.MustParsePrefix("172.16.0.0/16").Contains(netip.MustParseAddr(fip.IP))).To(BeTrue(), fip.IP)
			Expect(fip.Pool).To(Equal("public"))
			Expect(fip.InstanceID).To(BeNil())
			Expect(fip.FixedIP).To(BeNil())
			DeferCleanup(func(ctx SpecContext) {
				raw(ctx, tokens["admin"], way, http.MethodDelete, "/os-floating-ips/"+fip.ID, nil, nil)
			})
			Expect(listFIPs(ctx, tokens["observer"], way)).To(ContainElement(fip))
			code, _, body = allocateFIP(ctx, tokens["creator"], way, "nowhere")
			Expect(code).To(Equal(http.StatusNotFound))
			Expect(body).To(ContainSubstring("Floating IP pool not found."))

			By("an admin puts it on the server: the next read shows it as floating")
			add := map[string]any{"addFloatingIp": map[string]any{"address": fip.IP}}
			Expect(codeOf(action(ctx, compute(tokens["creator"], way), s.ID, add))).To(Equal(http.StatusForbidden))
			Expect(action(ctx, admin, s.ID, add)).To(Succeed())
			Expect(floatingAddresses(ctx, tokens["observer"], way, s.ID)).To(Equal([]string{fip.IP}))
			code, _, b := raw(ctx, tokens["observer"], way, http.MethodGet, "/os-floating-ips/"+fip.ID, nil, nil)
			Expect(code).To(Equal(http.StatusOK))
			var shown struct {
				FloatingIP novaFloatingIP `json:"floating_ip"`
			}
			Expect(json.Unmarshal(b, &shown)).To(Succeed())
			Expect(shown.FloatingIP.InstanceID).To(HaveValue(Equal(s.ID)))
			Expect(shown.FloatingIP.FixedIP).NotTo(BeNil())
			err := action(ctx, admin, s.ID, map[string]any{"addFloatingIp": map[string]any{"address": "172.16.255.254"}})
			Expect(codeOf(err)).To(Equal(http.StatusNotFound))
			Expect(bodyOf(err)).To(ContainSubstring("floating IP not found"))
			err = action(ctx, admin, s.ID, map[string]any{"addFloatingIp": map[string]any{"address": fip.IP, "fixed_address": "10.9.9.9"}})
			Expect(codeOf(err)).To(Equal(http.StatusBadRequest))
			Expect(bodyOf(err)).To(ContainSubstring("Specified fixed address not assigned to instance"))

			By("another tenant sees nothing of it")
			code, _, _ = rawFor(ctx, otherTokens["admin"], way, "other", http.MethodGet, "/os-floating-ips/"+fip.ID, nil, nil)
			Expect(code).To(Equal(http.StatusNotFound))

			By("an admin takes it off; taking it off again is Nova's 409")
			remove := map[string]any{"removeFloatingIp": map[string]any{"address": fip.IP}}
			Expect(action(ctx, admin, s.ID, remove)).To(Succeed())
			Expect(floatingAddresses(ctx, tokens["observer"], way, s.ID)).To(BeEmpty())
			err = action(ctx, admin, s.ID, remove)
			Expect(codeOf(err)).To(Equal(http.StatusConflict))
			Expect(bodyOf(err)).To(ContainSubstring("Floating IP " + fip.IP + " is not associated with instance " + s.ID + "."))

			By("kubectl: associating is an admin's, to a server of the tenant")
			var obj *computev1.FloatingIP
			for _, f := range floatingIPObjects(ctx) {
				if string(f.UID) == fip.ID {
					obj = f.DeepCopy()
				}
			}
			Expect(obj).NotTo(BeNil())
			Expect(obj.Status.Address).To(Equal(fip.IP))
			name := serverObjectName(ctx, s.ID)
			patch := client.MergeFrom(obj.DeepCopy())
			obj.Spec.Server = name
			Expect(apierrors.IsForbidden(kubectlAs(tokens["creator"]).Patch(ctx, obj.DeepCopy(), patch))).To(BeTrue())
			obj.Spec.Server = "nothing-" + way
			Expect(apierrors.IsInvalid(kubectlAs(tokens["admin"]).Patch(ctx, obj.DeepCopy(), patch))).To(BeTrue())
			obj.Spec.Server = name
			Expect(kubectlAs(tokens["admin"]).Patch(ctx, obj, patch)).To(Succeed())
			// An association made with kubectl shows once nova-api's cache has it (one made
			// through the shim is named on the server and shows at once, above), as Nova shows
			// one made through Neutron once its network info cache has it.
			Eventually(func() []string { return floatingAddresses(ctx, tokens["observer"], way, s.ID) }).Should(Equal([]string{fip.IP}))

			By("released: gone from the lists, the server and the pool")
			code, _, _ = raw(ctx, tokens["creator"], way, http.MethodDelete, "/os-floating-ips/"+fip.ID, nil, nil)
			Expect(code).To(Equal(http.StatusForbidden))
			code, _, _ = raw(ctx, tokens["admin"], way, http.MethodDelete, "/os-floating-ips/"+fip.ID, nil, nil)
			Expect(code).To(Equal(http.StatusAccepted))
			Expect(listFIPs(ctx, tokens["observer"], way)).NotTo(ContainElement(HaveField("ID", fip.ID)))
			Expect(floatingAddresses(ctx, tokens["observer"], way, s.ID)).To(BeEmpty())
			code, _, _ = raw(ctx, tokens["observer"], way, http.MethodGet, "/os-floating-ips/"+fip.ID, nil, nil)
			Expect(code).To(Equal(http.StatusNotFound))
			Eventually(func() []computev1.FloatingIP { return floatingIPObjects(ctx) }).ShouldNot(
				ContainElement(HaveField("ObjectMeta.UID", BeEquivalentTo(fip.ID))))
			code, _, _ = raw(ctx, tokens["observer"], way, http.MethodGet, "/os-floating-ips",
				nil, map[string]string{"X-OpenStack-Nova-API-Version": "2.36"})
			Expect(code).To(Equal(http.StatusNotFound))
		})
	}

	It("gives 50 concurrent allocations from a pool of 29 distinct addresses, Nova's 404 to the rest, and leaks nothing", func(ctx SpecContext) {
		pool := &computev1.Network{ObjectMeta: metav1.ObjectMeta{Namespace: testenv.PublicNamespace, Name: "fip-race"},
			Spec: computev1.NetworkSpec{Label: "fip-race", CIDR: "198.51.100.0/27", Shared: true, External: true}}
		Expect(stack.Client.Create(ctx, pool)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(stack.Client.Delete(ctx, pool))).To(Succeed()) })

		const asks = 50
		var mu sync.Mutex
		got, refused := map[string]string{}, 0
		var wg sync.WaitGroup
		for i := range asks {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				way := []string{"direct", "aggregated"}[i%2]
				code, fip, body := allocateFIP(ctx, tokens["creator"], way, "fip-race")
				mu.Lock()
				defer mu.Unlock()
				switch code {
				case http.StatusOK:
					Expect(got).NotTo(HaveKey(fip.IP), "an address given twice")
					got[fip.IP] = fip.ID
				case http.StatusNotFound:
					Expect(body).To(ContainSubstring("No more floating IPs in pool fip-race."))
					refused++
				default:
					Fail(fmt.Sprintf("answer %d: %s", code, body))
				}
			}()
		}
		wg.Wait()
		Expect(got).To(HaveLen(29))
		Expect(refused).To(Equal(asks - 29))
		for ip := range got {
			Expect(netip.MustParsePrefix(pool.Spec.CIDR).Contains(netip.MustParseAddr(ip))).To(BeTrue(), ip)
		}
		Eventually(allocated(ctx, pool)).Should(BeEquivalentTo(29))
		Eventually(func() int {
			n := 0
			for _, f := range floatingIPObjects(ctx) {
				if f.Spec.Pool == "fip-race" {
					n++
				}
			}
			return n
		}).Should(Equal(29), "the refused allocations leave no object")

		By("released, every address is free again")
		for _, id := range got {
			code, _, _ := raw(ctx, tokens["admin"], "direct", http.MethodDelete, "/os-floating-ips/"+id, nil, nil)
			Expect(code).To(Equal(http.StatusAccepted))
		}
		Eventually(allocated(ctx, pool)).Should(BeEquivalentTo(0))
		Eventually(func() []computev1.FloatingIP { return floatingIPObjects(ctx) }).ShouldNot(
			ContainElement(HaveField("Spec.Pool", "fip-race")))
	})
})
