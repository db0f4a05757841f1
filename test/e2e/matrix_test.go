package e2e

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/kova-dev/kova/internal/testenv"
)

// call makes one request as a token through one way in and returns the status code.
func call(way, token, method, path string, body []byte) (int, string) {
	GinkgoHelper()
	url := stack.DirectURL + "/v2.1/" + tenantName + path
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: stack.DirectCAs, MinVersion: tls.VersionTLS12}}
	if way == "aggregated" {
		url = stack.AggregatedURL + "/" + tenantName + path
		tr = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: stack.APIServerCAs, MinVersion: tls.VersionTLS12}}
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		if way == "aggregated" {
			req.Header.Set("Authorization", "Bearer "+token)
		} else {
			req.Header.Set("X-Auth-Token", token)
		}
	}
	resp, err := (&http.Client{Transport: tr, Timeout: time.Minute}).Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

var _ = Describe("The permission matrix", Ordered, func() {
	var serverID, imageID string
	BeforeAll(func(ctx SpecContext) {
		c := compute(tokens["admin"], "direct")
		imageID = listImages(ctx, c)["cirros"]
		s, err := servers.Create(ctx, c, servers.CreateOpts{Name: "matrix", FlavorRef: "m1.tiny", ImageRef: imageID,
			Networks: []servers.Network{{UUID: networkID}}}, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		serverID = s.ID
		waitFor(ctx, c, serverID, "ACTIVE")
	})

	rows, err := testenv.PermissionMatrix()
	if err != nil {
		panic(err) // the tree is built from the matrix: nothing to run without it
	}
	It("has its 48 rows", func() { Expect(rows).To(HaveLen(48)) })

	for _, way := range []string{"direct", "aggregated"} {
		for _, row := range rows {
			It(fmt.Sprintf("%s %s (%s) through the %s way in", row.Method, row.Path, row.Capability, way), func() {
				// Reads go to real objects; writes to ids that do not exist, so an allowed
				// write is refused by Nova (400/404/409/501), never carried out, and the
				// only 403 is RBAC's.
				id := "00000000-0000-4000-8000-000000000000"
				image := "00000000-0000-4000-8000-000000000001"
				if row.Method == http.MethodGet {
					id, image = serverID, imageID
				}
				path := row.Path
				if strings.HasPrefix(path, "/images/") {
					path = strings.Replace(path, "{id}", image, 1)
				}
				if strings.HasPrefix(path, "/os-networksv2/") && row.Method == http.MethodGet {
					path = strings.Replace(path, "{id}", networkID, 1)
				}
				if strings.HasPrefix(path, "/flavors/") {
					path = strings.Replace(path, "{id}", "m1.tiny", 1)
				}
				r := strings.NewReplacer("{id}", id, "{key}", "k", "{name}", "nokey", "{networkLabel}", "private",
					"{attachment_id}", "a", "{interface_id}", "i")
				path = r.Replace(path)
				var body []byte
				if row.Method == http.MethodPost || row.Method == http.MethodPut {
					body = []byte(`{}`)
				}
				for _, role := range testenv.RoleNames {
					code, resp := call(way, tokens[role], row.Method, path, body)
					Expect(code).NotTo(Equal(http.StatusUnauthorized), "%s: %s", role, resp)
					if slices.Contains(row.Roles, role) {
						Expect(code).NotTo(Equal(http.StatusForbidden), "%s may %s %s: %s", role, row.Method, path, resp)
					} else {
						Expect(code).To(Equal(http.StatusForbidden), "%s may not %s %s: %s", role, row.Method, path, resp)
					}
				}
			})
		}
	}
})

var _ = Describe("No identity, no entry", func() {
	It("answers 401 without credentials, in Nova's body on the direct endpoint", func() {
		code, body := call("direct", "", http.MethodGet, "/servers", nil)
		Expect(code).To(Equal(http.StatusUnauthorized))
		Expect(body).To(ContainSubstring(`"unauthorized"`))
		code, _ = call("aggregated", "", http.MethodGet, "/servers", nil)
		Expect(code).To(Equal(http.StatusUnauthorized))
	})

	It("ignores X-Remote-User without the front-proxy client certificate", func() {
		for _, url := range []string{stack.DirectURL + "/v2.1/" + tenantName + "/servers"} {
			req, err := http.NewRequest(http.MethodGet, url, nil)
			Expect(err).NotTo(HaveOccurred())
			req.Header.Set("X-Remote-User", "system:admin")
			req.Header.Set("X-Remote-Group", "system:masters")
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: stack.DirectCAs, MinVersion: tls.VersionTLS12}}
			resp, err := (&http.Client{Transport: tr}).Do(req)
			Expect(err).NotTo(HaveOccurred())
			_ = resp.Body.Close()
			Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized))
		}
	})

	It("gives a token of one tenant a 403 on another tenant's paths and a 404 for its servers", func(ctx SpecContext) {
		c := compute(tokens["admin"], "direct")
		s, err := servers.Create(ctx, c, servers.CreateOpts{Name: "private-one", FlavorRef: "m1.tiny",
			ImageRef: listImages(ctx, c)["cirros"], Networks: []servers.Network{{UUID: networkID}}}, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		for _, way := range []string{"direct", "aggregated"} {
			// Tenant other's admin asks for demo's server under its own tenant: not found.
			other := computeFor(otherTokens["admin"], way, "other")
			_, err := servers.Get(ctx, other, s.ID).Extract()
			Expect(codeOf(err)).To(Equal(http.StatusNotFound), way)
			// Under demo's path, RBAC stops it before the handler.
			code, _ := call(way, otherTokens["admin"], http.MethodGet, "/servers/"+s.ID, nil)
			Expect(code).To(Equal(http.StatusForbidden), way)
		}
	})
})
