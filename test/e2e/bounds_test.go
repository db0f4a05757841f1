package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kova-dev/kova/internal/testenv"
)

// raw sends one request with a token through a way in, to a path under the tenant's
// compute root, and returns the status, the headers and the body.
func raw(ctx context.Context, token, way, method, path string, body []byte, header map[string]string) (int, http.Header, []byte) {
	GinkgoHelper()
	return rawFor(ctx, token, way, tenantName, method, path, body, header)
}

func rawFor(ctx context.Context, token, way, tenant, method, path string, body []byte, header map[string]string) (int, http.Header, []byte) {
	GinkgoHelper()
	c := computeFor(token, way, tenant)
	return rawAt(ctx, &c.HTTPClient, token, method, c.Endpoint+strings.TrimPrefix(path, "/"), body, header)
}

// rawAt makes one request to url with a token, a JSON content type unless header says
// otherwise (a "Host" entry sets the request's Host), and returns the answer.
func rawAt(ctx context.Context, hc *http.Client, token, method, url string, body []byte, header map[string]string) (int, http.Header, []byte) {
	GinkgoHelper()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp.StatusCode, resp.Header, b
}

// serversNamed are the tenant's servers whose name starts with prefix.
func serversNamed(ctx context.Context, c *gophercloud.ServiceClient, prefix string) []servers.Server {
	GinkgoHelper()
	pages, err := servers.List(c, servers.ListOpts{Name: "^" + prefix}).AllPages(ctx)
	Expect(err).NotTo(HaveOccurred())
	list, err := servers.ExtractServers(pages)
	Expect(err).NotTo(HaveOccurred())
	return list
}

func deleteServers(ctx context.Context, list []servers.Server) {
	GinkgoHelper()
	admin := compute(tokens["admin"], "direct")
	for _, s := range list {
		Expect(servers.Delete(ctx, admin, s.ID).ExtractErr()).To(Succeed())
	}
}

// bounds checks what the hardening issue found about bounds, through one way in.
func bounds(way string) {
	It("bounds max_count, all or nothing", func(ctx SpecContext) {
		c := compute(tokens["creator"], way)
		imgs := listImages(ctx, c)
		c.Microversion = "2.37"
		prefix := "bound-" + way + "-"
		_, err := servers.Create(ctx, c, servers.CreateOpts{Name: prefix + "many", FlavorRef: "m1.tiny", ImageRef: imgs["cirros"],
			Networks: "none", Max: 2147483647}, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		// Every server of a create is made before its 202: the list only has to catch up.
		var made []servers.Server
		Eventually(func() []servers.Server {
			made = serversNamed(ctx, c, prefix)
			return made
		}).Should(HaveLen(testenv.MaxServersPerRequest), "max_count 2147483647 makes at most the stack's per-request maximum")
		DeferCleanup(deleteServers, made)

		_, err = servers.Create(ctx, c, servers.CreateOpts{Name: prefix + "over", FlavorRef: "m1.tiny", ImageRef: imgs["cirros"],
			Networks: "none", Min: testenv.MaxServersPerRequest + 1}, nil).Extract()
		Expect(codeOf(err)).To(Equal(http.StatusForbidden))
		Expect(bodyOf(err)).To(MatchJSON(fmt.Sprintf(`{"forbidden": {"code": 403, "message": "Quota exceeded for instances: Requested %d, but at most %d can be created in one request"}}`,
			testenv.MaxServersPerRequest+1, testenv.MaxServersPerRequest)))
		Expect(serversNamed(ctx, c, prefix+"over")).To(BeEmpty())
	})

	It("refuses a deeply nested body at once, with Nova's words, and memory stays flat", func(ctx SpecContext) {
		deep := bytes.Repeat([]byte("["), 1<<20-1)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				defer GinkgoRecover()
				code, _, body := raw(ctx, tokens["creator"], way, http.MethodPost, "servers", deep, nil)
				Expect(code).To(Equal(http.StatusBadRequest))
				Expect(body).To(MatchJSON(`{"badRequest": {"code": 400, "message": "Malformed request body"}}`))
			})
		}
		wg.Wait()
		runtime.ReadMemStats(&after)
		// nova-api runs in this process: eight such bodies once cost it 2.5 GB. Reading
		// them costs about twice their size each; the rest of the stack a little more.
		Expect(after.TotalAlloc-before.TotalAlloc).To(BeNumerically("<", 96<<20), "bytes allocated while refusing 8 deep bodies")
	})

	It("answers a retried create with the first one's server, also when retries race", func(ctx SpecContext) {
		c := compute(tokens["creator"], way)
		imgs := listImages(ctx, c)
		name := "idem-" + way
		body, err := servers.CreateOpts{Name: name, FlavorRef: "m1.tiny", ImageRef: imgs["cirros"], Networks: "none"}.ToServerCreateMap()
		Expect(err).NotTo(HaveOccurred())
		b, err := json.Marshal(body)
		Expect(err).NotTo(HaveOccurred())
		key := map[string]string{"Idempotency-Key": "retry-" + way, "X-OpenStack-Nova-API-Version": "2.37"}

		ids := make([]string, 6)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Go(func() {
				defer GinkgoRecover()
				code, hdr, out := raw(ctx, tokens["creator"], way, http.MethodPost, "servers", b, key)
				Expect(code).To(Equal(http.StatusAccepted), "%s", out)
				var got struct {
					Server struct{ ID string } `json:"server"`
				}
				Expect(json.Unmarshal(out, &got)).To(Succeed())
				Expect(hdr.Get("Location")).To(HaveSuffix("/servers/" + got.Server.ID))
				ids[i] = got.Server.ID
			})
		}
		wg.Wait()
		Expect(ids).To(HaveEach(ids[0]))
		var made []servers.Server
		Eventually(func() []servers.Server {
			made = serversNamed(ctx, c, name)
			return made
		}).Should(HaveLen(1))
		DeferCleanup(deleteServers, made)
		waitFor(ctx, c, ids[0], "ACTIVE")

		code, _, out := raw(ctx, tokens["creator"], way, http.MethodPost, "servers", bytes.Replace(b, []byte(name), []byte(name+"-x"), 1), key)
		Expect(code).To(Equal(http.StatusConflict), "%s", out)
		Expect(out).To(ContainSubstring(`"conflictingRequest"`))
	})
}

var _ = Describe("Bounds and retries", func() {
	Context("directly", func() { bounds("direct") })
	Context("through kube-apiserver", func() { bounds("aggregated") })

	It("builds Location and links on the configured endpoint, never on the request's Host", func(ctx SpecContext) {
		c := compute(tokens["creator"], "direct")
		imgs := listImages(ctx, c)
		body := fmt.Sprintf(`{"server": {"name": "hosted", "flavorRef": "m1.tiny", "imageRef": %q, "networks": "none"}}`, imgs["cirros"])
		code, hdr, out := raw(ctx, tokens["creator"], "direct", http.MethodPost, "servers", []byte(body),
			map[string]string{"Host": "evil.example:8774", "X-OpenStack-Nova-API-Version": "2.37"})
		Expect(code).To(Equal(http.StatusAccepted), "%s", out)
		Expect(hdr.Get("Location")).To(HavePrefix(stack.DirectURL + "/v2.1/" + tenantName + "/servers/"))
		Expect(string(out)).NotTo(ContainSubstring("evil.example"))
		DeferCleanup(deleteServers, serversNamed(ctx, c, "hosted"))

		code, _, out = raw(ctx, tokens["creator"], "direct", http.MethodGet, "flavors", nil, map[string]string{"Host": "evil.example:8774"})
		Expect(code).To(Equal(http.StatusOK))
		Expect(string(out)).To(ContainSubstring(stack.DirectURL + "/v2.1/" + tenantName + "/flavors/"))
		Expect(string(out)).NotTo(ContainSubstring("evil.example"))
	})

	It("refuses a forced host on FlexCloud as on /v2.1", func(ctx SpecContext) {
		c := compute(tokens["creator"], "direct")
		imgs := listImages(ctx, c)
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: stack.DirectCAs, MinVersion: tls.VersionTLS12}}}
		body := fmt.Sprintf(`{"server": {"name": "forced", "flavorRef": "m1.tiny", "imageRef": %q, "zone": "nova:sim-host-1"}}`, imgs["cirros"])
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, stack.DirectURL+"/accounts/"+tenantName+"/flexcloud/servers", strings.NewReader(body))
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("X-Auth-Token", tokens["creator"])
		resp, err := hc.Do(req)
		Expect(err).NotTo(HaveOccurred())
		out, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusForbidden), "%s", out)
		Expect(string(out)).To(ContainSubstring("Policy doesn't allow os_compute_api:servers:create:forced_host to be performed."))
		Expect(serversNamed(ctx, c, "forced")).To(BeEmpty())
	})
})
