package novaserver_test

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authorizationv1 "k8s.io/api/authorization/v1"

	"github.com/kova-dev/kova/internal/testenv"
)

var placeholder = regexp.MustCompile(`\{[^}]+\}`)

var _ = Describe("The kova roles", func() {
	It("allow exactly the calls of the permission matrix, through the shim", func(ctx SpecContext) {
		ns := uniqTenant()
		tokens := tenant(ctx, ns)
		for role, t := range tokens {
			Eventually(func() (int, error) {
				return status(do(tlsClient, http.MethodGet, directURL+"/v2.1/"+ns+"/servers", token(t), nil))
			}).WithContext(ctx).Should(Equal(http.StatusOK), role)
		}

		rows, err := testenv.PermissionMatrix()
		Expect(err).NotTo(HaveOccurred())
		Expect(rows).To(HaveLen(48))
		var wrong []string
		for _, row := range rows {
			path := "/v2.1/" + ns + placeholder.ReplaceAllString(row.Path, "x")
			var body []byte
			if row.Method == http.MethodPost || row.Method == http.MethodPut {
				body = []byte("{}")
			}
			for _, role := range []string{"observer", "creator", "admin"} {
				want := http.StatusForbidden
				if slices.Contains(row.Roles, role) {
					want = http.StatusOK // the stand-in answers whatever reaches it
				}
				r, err := do(tlsClient, row.Method, directURL+path, token(tokens[role]), body)
				Expect(err).NotTo(HaveOccurred())
				if r.code != want {
					wrong = append(wrong, fmt.Sprintf("%s (%s %s) as %s: got %d, want %d: %s", row.Capability, row.Method, row.Path, role, r.code, want, r.body))
				}
			}
		}
		Expect(wrong).To(BeEmpty())
	})

	It("let every role read a server's tags, password and the zones, and only the admin change them", func(ctx SpecContext) {
		ns := uniqTenant()
		tokens := tenant(ctx, ns)
		for role, t := range tokens {
			Eventually(func() (int, error) {
				return status(do(tlsClient, http.MethodGet, directURL+"/v2.1/"+ns+"/servers", token(t), nil))
			}).WithContext(ctx).Should(Equal(http.StatusOK), role)
		}
		var wrong []string
		for _, c := range []struct {
			method, path string
			roles        []string
		}{
			{http.MethodGet, "/servers/x/tags", []string{"observer", "creator", "admin"}},
			{http.MethodGet, "/servers/x/tags/t", []string{"observer", "creator", "admin"}},
			{http.MethodPut, "/servers/x/tags", []string{"admin"}},
			{http.MethodPut, "/servers/x/tags/t", []string{"admin"}},
			{http.MethodDelete, "/servers/x/tags", []string{"admin"}},
			{http.MethodDelete, "/servers/x/tags/t", []string{"admin"}},
			{http.MethodGet, "/servers/x/os-server-password", []string{"observer", "creator", "admin"}},
			{http.MethodDelete, "/servers/x/os-server-password", []string{"admin"}},
			{http.MethodGet, "/os-availability-zone", []string{"observer", "creator", "admin"}},
		} {
			for _, role := range []string{"observer", "creator", "admin"} {
				want := http.StatusForbidden
				if slices.Contains(c.roles, role) {
					want = http.StatusOK // the stand-in answers whatever reaches it
				}
				var body []byte
				if c.method == http.MethodPut {
					body = []byte("{}")
				}
				r, err := do(tlsClient, c.method, directURL+"/v2.1/"+ns+c.path, token(tokens[role]), body)
				Expect(err).NotTo(HaveOccurred())
				if r.code != want {
					wrong = append(wrong, fmt.Sprintf("%s %s as %s: got %d, want %d: %s", c.method, c.path, role, r.code, want, r.body))
				}
			}
		}
		// A blank id (DELETE /images/) deletes a whole collection: no Nova call, Nova's 404.
		for _, role := range []string{"observer", "admin"} {
			r, err := do(tlsClient, http.MethodDelete, directURL+"/v2.1/"+ns+"/images/", token(tokens[role]), nil)
			Expect(err).NotTo(HaveOccurred())
			if r.code != http.StatusNotFound {
				wrong = append(wrong, fmt.Sprintf("DELETE /images/ as %s: got %d, want 404: %s", role, r.code, r.body))
			}
		}
		r, err := do(tlsClient, http.MethodDelete, directURL+"/v2.1/"+ns+"/images/", nil, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.code).To(Equal(http.StatusUnauthorized), "no token is still a 401")
		Expect(wrong).To(BeEmpty())
	})

	It("grant the compute.kova.dev resources consistently with the matrix", func(ctx SpecContext) {
		ns := uniqTenant()
		tenant(ctx, ns)
		allowed := func(role, verb, group, resource string) (bool, error) {
			sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User:   "system:serviceaccount:" + ns + ":" + role,
				Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{
					Namespace: ns, Verb: verb, Group: group, Resource: resource,
				},
			}}
			err := k8s.Create(ctx, sar)
			return sar.Status.Allowed, err
		}
		// Wait until RBAC sees every binding, so that a denial below means something.
		for _, role := range []string{"observer", "creator", "admin"} {
			Eventually(func() (bool, error) { return allowed(role, "get", "compute.kova.dev", "servers") }).
				WithContext(ctx).Should(BeTrue(), role)
		}
		for _, c := range []struct {
			role, verb, group, resource string
			allowed                     bool
		}{
			{"observer", "list", "compute.kova.dev", "servers", true},
			{"observer", "get", "compute.kova.dev", "flavors", true},
			{"observer", "list", "compute.kova.dev", "keypairs", false}, // GET /os-keypairs is creator,admin
			{"observer", "create", "compute.kova.dev", "servers", false},
			{"creator", "create", "compute.kova.dev", "servers", true},
			{"creator", "create", "compute.kova.dev", "keypairs", true},
			{"creator", "list", "compute.kova.dev", "keypairs", true},
			{"creator", "create", "compute.kova.dev", "networks", true},
			{"creator", "update", "compute.kova.dev", "servers", false},       // PUT /servers/{id} is admin
			{"creator", "patch", "compute.kova.dev", "servers", true},         // a network added to spec.networks; the webhook refuses the rest
			{"creator", "create", "compute.kova.dev", "serveractions", false}, // POST /servers/{id}/action is admin
			{"creator", "delete", "compute.kova.dev", "servers", false},
			{"creator", "override-lock", "compute.kova.dev", "servers", false},
			{"creator", "create", "", "secrets", false},
			{"admin", "delete", "compute.kova.dev", "servers", true},
			{"admin", "patch", "compute.kova.dev", "servers", true},
			{"admin", "create", "compute.kova.dev", "serveractions", true},
			// A tenant's admin is Nova's project member: the cloud operator's verb is kova-cloud-admin's.
			{"admin", "override-lock", "compute.kova.dev", "servers", false},
			{"admin", "create", "", "secrets", true},
		} {
			Expect(allowed(c.role, c.verb, c.group, c.resource)).To(Equal(c.allowed), "%s %s %s", c.role, c.verb, c.resource)
		}
	})
})
