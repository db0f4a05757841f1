package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	gcopenstack "github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/servers"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
	"github.com/kova-dev/kova/internal/identity"
	"github.com/kova-dev/kova/internal/novaserver"
	"github.com/kova-dev/kova/internal/testenv"
)

// identityUsers are the identity service's users of these specs: name -> password. alice
// is the demo tenant's kova-admin and an observer of tenant other; bob an observer of demo.
var identityUsers = map[string]string{"alice": "alice-Secret-1", "bob": "bob-Secret-2", "carol": "carol-Secret-3"}

// declareIdentityUsers declares the users (User + password Secret in kova-system) and
// grants them roles with RoleBindings to their Kubernetes usernames (kova:<name>).
func declareIdentityUsers(ctx context.Context) {
	GinkgoHelper()
	for name, password := range identityUsers {
		_, err := identity.DeclareUser(ctx, stack.Client, testenv.SystemNamespace, name, password, tenantName)
		Expect(err).NotTo(HaveOccurred())
	}
	for _, g := range []struct{ user, ns, role string }{
		{"alice", tenantName, "kova-admin"}, {"alice", "other", "kova-observer"},
		{"bob", tenantName, "kova-observer"}, {"carol", tenantName, "kova-creator"},
	} {
		Expect(client.IgnoreAlreadyExists(stack.Client.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: g.ns, Name: "identity-" + g.user},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: g.role},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "kova:" + g.user}},
		}))).To(Succeed())
	}
}

// identityHTTP is an HTTPS client that trusts nova-api's certificate.
func identityHTTP() *http.Client {
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: stack.DirectCAs, MinVersion: tls.VersionTLS12}}}
}

// login is an authenticated gophercloud provider: gcopenstack.AuthenticatedClient's steps
// (NewClient, then Authenticate) with an HTTP client that trusts nova-api's CA.
func login(ctx context.Context, base string, opts gophercloud.AuthOptions) (*gophercloud.ProviderClient, error) {
	opts.IdentityEndpoint = base + "/identity/v3"
	provider, err := gcopenstack.NewClient(opts.IdentityEndpoint)
	if err != nil {
		return nil, err
	}
	provider.HTTPClient = *identityHTTP()
	return provider, gcopenstack.Authenticate(ctx, provider, opts)
}

func passwordOpts(user, project string) gophercloud.AuthOptions {
	return gophercloud.AuthOptions{Username: user, Password: identityUsers[user], DomainName: "Default", TenantName: project}
}

// idCall makes a request with a token to the direct endpoint at base and returns the status,
// the headers and the body.
func idCall(ctx context.Context, method, url, token string, headers map[string]string, body string) (int, http.Header, string) {
	GinkgoHelper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := identityHTTP().Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	return resp.StatusCode, resp.Header, string(b)
}

// passwordLogin posts a password login and returns the status, the token and the body.
func passwordLogin(ctx context.Context, base, user, password, project string) (int, string, string) {
	GinkgoHelper()
	body, err := json.Marshal(map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{
			"user": map[string]any{"name": user, "domain": map[string]string{"name": "Default"}, "password": password}}},
		"scope": map[string]any{"project": map[string]any{"name": project, "domain": map[string]string{"id": "default"}}},
	}})
	Expect(err).NotTo(HaveOccurred())
	code, h, b := idCall(ctx, http.MethodPost, base+"/identity/v3/auth/tokens", "", nil, string(body))
	return code, h.Get("X-Subject-Token"), b
}

const keystoneUnauthorized = `{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}`

var _ = Describe("The identity service", Ordered, func() {
	BeforeAll(func(ctx SpecContext) { declareIdentityUsers(ctx) })

	It("logs gophercloud in with a password and runs a server from the catalog", func(ctx SpecContext) {
		provider, err := login(ctx, stack.DirectURL, passwordOpts("alice", tenantName))
		Expect(err).NotTo(HaveOccurred())
		c, err := gcopenstack.NewComputeV2(provider, gophercloud.EndpointOpts{})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Endpoint).To(Equal(stack.DirectURL + "/v2.1/" + tenantName + "/"))

		created, err := servers.Create(ctx, c, servers.CreateOpts{
			Name: "identity-gc", FlavorRef: "m1.tiny", ImageRef: listImages(ctx, c)["cirros"],
			Networks: []servers.Network{{UUID: networkID}},
		}, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		waitFor(ctx, c, created.ID, "ACTIVE")
		Expect(servers.Stop(ctx, c, created.ID).ExtractErr()).To(Succeed())
		waitFor(ctx, c, created.ID, "SHUTOFF")

		By("the server was made by alice's Kubernetes identity, as RBAC and admission saw it")
		srv := &computev1.Server{}
		Eventually(func(g Gomega) {
			var list computev1.ServerList
			g.Expect(stack.Client.List(ctx, &list, client.InNamespace(tenantName))).To(Succeed())
			for i := range list.Items {
				if string(list.Items[i].UID) == created.ID {
					srv = &list.Items[i]
				}
			}
			g.Expect(srv.Annotations).To(HaveKeyWithValue(computev1.AnnotationUserID, "kova:alice"))
		}).Should(Succeed())

		Expect(servers.Delete(ctx, c, created.ID).ExtractErr()).To(Succeed())
		Eventually(func() int {
			_, err := servers.Get(ctx, c, created.ID).Extract()
			return codeOf(err)
		}).Should(Equal(http.StatusNotFound))
	}, SpecTimeout(5*time.Minute))

	It("answers as Keystone: versions, the token with its roles and catalog, projects", func(ctx SpecContext) {
		code, _, body := idCall(ctx, http.MethodGet, stack.DirectURL+"/identity/v3", "", nil, "")
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(MatchJSON(`{"version": {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
			"links": [{"rel": "self", "href": "` + stack.DirectURL + `/identity/v3/"}],
			"media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]}}`))
		code, _, _ = idCall(ctx, http.MethodGet, stack.DirectURL+"/identity", "", nil, "")
		Expect(code).To(Equal(http.StatusMultipleChoices))

		code, token, body := passwordLogin(ctx, stack.DirectURL, "carol", identityUsers["carol"], tenantName)
		Expect(code).To(Equal(http.StatusCreated), body)
		var created struct {
			Token struct {
				Methods   []string `json:"methods"`
				AuditIDs  []string `json:"audit_ids"`
				ExpiresAt string   `json:"expires_at"`
				IssuedAt  string   `json:"issued_at"`
				User      struct {
					ID, Name string
					Domain   map[string]string
				} `json:"user"`
				Project struct{ ID, Name string }   `json:"project"`
				Roles   []struct{ ID, Name string } `json:"roles"`
				Catalog []struct {
					Type      string `json:"type"`
					Endpoints []struct{ Interface, URL string }
				} `json:"catalog"`
			} `json:"token"`
		}
		Expect(json.Unmarshal([]byte(body), &created)).To(Succeed())
		t := created.Token
		Expect(t.Methods).To(Equal([]string{"password"}))
		Expect(t.AuditIDs).To(HaveLen(1))
		Expect(t.User.Name).To(Equal("carol"))
		Expect(t.User.ID).To(MatchRegexp("^[0-9a-f]{32}$"))
		Expect(t.User.Domain).To(Equal(map[string]string{"id": "default", "name": "Default"}))
		Expect(t.Project.ID).To(Equal(tenantName))
		expires, err := time.Parse("2006-01-02T15:04:05.000000Z", t.ExpiresAt)
		Expect(err).NotTo(HaveOccurred())
		issued, err := time.Parse("2006-01-02T15:04:05.000000Z", t.IssuedAt)
		Expect(err).NotTo(HaveOccurred())
		Expect(expires.Sub(issued)).To(Equal(identity.DefaultTokenTTL))
		var roles []string
		for _, r := range t.Roles {
			roles = append(roles, r.Name)
		}
		Expect(roles).To(Equal([]string{"compute:creator", "compute:observer", "member", "reader"}), "a creator is Nova's member, never its admin")
		urls := map[string]string{}
		for _, svc := range t.Catalog {
			for _, ep := range svc.Endpoints {
				urls[svc.Type+"/"+ep.Interface] = ep.URL
			}
		}
		Expect(urls).To(Equal(map[string]string{
			"identity/public": stack.DirectURL + "/identity", "identity/internal": stack.DirectURL + "/identity",
			"compute/public": stack.DirectURL + "/v2.1/demo", "compute/internal": stack.DirectURL + "/v2.1/demo",
			"image/public": stack.DirectURL + "/image", "image/internal": stack.DirectURL + "/image",
			"network/public": stack.DirectURL + "/networking", "network/internal": stack.DirectURL + "/networking",
		}))

		By("validating it (GET and HEAD), as its own user")
		code, h, again := idCall(ctx, http.MethodGet, stack.DirectURL+"/identity/v3/auth/tokens", token, map[string]string{"X-Subject-Token": token}, "")
		Expect(code).To(Equal(http.StatusOK))
		Expect(h.Get("X-Subject-Token")).To(Equal(token))
		Expect(again).To(MatchJSON(body))
		code, _, _ = idCall(ctx, http.MethodHead, stack.DirectURL+"/identity/v3/auth/tokens", token, map[string]string{"X-Subject-Token": token}, "")
		Expect(code).To(Equal(http.StatusOK))
		By("another user may not validate it; a token that is not one is Keystone's 404")
		_, bobToken, _ := passwordLogin(ctx, stack.DirectURL, "bob", identityUsers["bob"], tenantName)
		code, _, _ = idCall(ctx, http.MethodGet, stack.DirectURL+"/identity/v3/auth/tokens", bobToken, map[string]string{"X-Subject-Token": token}, "")
		Expect(code).To(Equal(http.StatusForbidden))
		code, _, body = idCall(ctx, http.MethodGet, stack.DirectURL+"/identity/v3/auth/tokens", token, map[string]string{"X-Subject-Token": token[:len(token)-4] + "AAAA"}, "")
		Expect(code).To(Equal(http.StatusNotFound))
		Expect(body).To(MatchJSON(`{"error": {"code": 404, "title": "Not Found", "message": "Failed to validate token"}}`))

		By("listing the projects where RBAC grants alice a role, and the catalog")
		_, aliceToken, _ := passwordLogin(ctx, stack.DirectURL, "alice", identityUsers["alice"], tenantName)
		var projects struct {
			Projects []struct{ ID, Name string } `json:"projects"`
		}
		code, _, body = idCall(ctx, http.MethodGet, stack.DirectURL+"/identity/v3/auth/projects", aliceToken, nil, "")
		Expect(code).To(Equal(http.StatusOK), body)
		Expect(json.Unmarshal([]byte(body), &projects)).To(Succeed())
		var names []string
		for _, p := range projects.Projects {
			names = append(names, p.Name)
		}
		sort.Strings(names)
		Expect(names).To(Equal([]string{"demo", "other"}))
		alice := &computev1.User{}
		Expect(stack.Client.Get(ctx, client.ObjectKey{Namespace: testenv.SystemNamespace, Name: "alice"}, alice)).To(Succeed())
		aliceID := strings.ReplaceAll(string(alice.UID), "-", "")
		By("a user given by id needs no domain, and the token shows that id")
		code, _, body = idCall(ctx, http.MethodPost, stack.DirectURL+"/identity/v3/auth/tokens?nocatalog", "", nil,
			`{"auth": {"identity": {"methods": ["password"], "password": {"user": {"id": "`+aliceID+`", "password": "`+identityUsers["alice"]+`"}}}, "scope": {"project": {"id": "demo"}}}}`)
		Expect(code).To(Equal(http.StatusCreated), body)
		Expect(body).To(ContainSubstring(`"id":"` + aliceID + `","name":"alice"`))
		Expect(body).NotTo(ContainSubstring(`"catalog"`))
		code, _, again = idCall(ctx, http.MethodGet, stack.DirectURL+"/identity/v3/users/"+aliceID+"/projects", aliceToken, nil, "")
		Expect(code).To(Equal(http.StatusOK))
		Expect(again).To(ContainSubstring(`"name":"other"`))
		code, _, _ = idCall(ctx, http.MethodGet, stack.DirectURL+"/identity/v3/users/"+aliceID+"/projects", bobToken, nil, "")
		Expect(code).To(Equal(http.StatusForbidden))
		code, _, body = idCall(ctx, http.MethodGet, stack.DirectURL+"/identity/v3/auth/catalog", aliceToken, nil, "")
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(ContainSubstring(stack.DirectURL + "/v2.1/demo"))
	})

	It("takes a Kubernetes token with the token method, and rescopes a Kova token", func(ctx SpecContext) {
		provider, err := login(ctx, stack.DirectURL, gophercloud.AuthOptions{TokenID: tokens["admin"], TenantName: tenantName, DomainName: "Default"})
		Expect(err).NotTo(HaveOccurred())
		c, err := gcopenstack.NewComputeV2(provider, gophercloud.EndpointOpts{})
		Expect(err).NotTo(HaveOccurred())
		_, err = servers.List(c, nil).AllPages(ctx)
		Expect(err).NotTo(HaveOccurred())

		By("a token of alice in demo, rescoped to other, is an observer's there")
		_, demoToken, _ := passwordLogin(ctx, stack.DirectURL, "alice", identityUsers["alice"], tenantName)
		code, h, body := idCall(ctx, http.MethodPost, stack.DirectURL+"/identity/v3/auth/tokens", "", nil,
			`{"auth": {"identity": {"methods": ["token"], "token": {"id": "`+demoToken+`"}}, "scope": {"project": {"id": "other"}}}}`)
		Expect(code).To(Equal(http.StatusCreated), body)
		Expect(body).To(ContainSubstring(`"methods":["token","password"]`))
		Expect(body).To(ContainSubstring(`"id":"other","name":"other"`))
		Expect(body).NotTo(ContainSubstring(`"member"`))
		otherToken := h.Get("X-Subject-Token")
		code, _, _ = idCall(ctx, http.MethodGet, stack.DirectURL+"/v2.1/other/servers", otherToken, nil, "")
		Expect(code).To(Equal(http.StatusOK))
		code, _, _ = idCall(ctx, http.MethodPost, stack.DirectURL+"/v2.1/other/servers", otherToken, nil, `{"server": {"name": "x", "flavorRef": "m1.tiny", "imageRef": "cirros"}}`)
		Expect(code).To(Equal(http.StatusForbidden), "an observer's token does not create")
	})

	It("logs a program in with an application credential, scoped to its project", func(ctx SpecContext) {
		Expect(identity.DeclareApplicationCredential(ctx, stack.Client, testenv.SystemNamespace, "alice-ci", "alice", tenantName, "ci-secret", nil)).To(Succeed())
		provider, err := login(ctx, stack.DirectURL, gophercloud.AuthOptions{ApplicationCredentialID: "alice-ci", ApplicationCredentialSecret: "ci-secret"})
		Expect(err).NotTo(HaveOccurred(), "a credential declared a moment ago logs in at once")
		c, err := gcopenstack.NewComputeV2(provider, gophercloud.EndpointOpts{})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Endpoint).To(Equal(stack.DirectURL + "/v2.1/" + tenantName + "/"))
		_, err = servers.List(c, nil).AllPages(ctx)
		Expect(err).NotTo(HaveOccurred())

		By("by name with its user; a wrong secret, another project or an expired credential is a 401")
		_, err = login(ctx, stack.DirectURL, gophercloud.AuthOptions{ApplicationCredentialName: "alice-ci", Username: "alice", DomainName: "Default", ApplicationCredentialSecret: "ci-secret"})
		Expect(err).NotTo(HaveOccurred())
		_, err = login(ctx, stack.DirectURL, gophercloud.AuthOptions{ApplicationCredentialID: "alice-ci", ApplicationCredentialSecret: "wrong"})
		Expect(codeOf(err)).To(Equal(http.StatusUnauthorized))
		code, _, _ := idCall(ctx, http.MethodPost, stack.DirectURL+"/identity/v3/auth/tokens", "", nil,
			`{"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": "alice-ci", "secret": "ci-secret"}}, "scope": {"project": {"id": "other"}}}}`)
		Expect(code).To(Equal(http.StatusUnauthorized))
		past := metav1.NewTime(time.Now().Add(-time.Minute))
		Expect(identity.DeclareApplicationCredential(ctx, stack.Client, testenv.SystemNamespace, "alice-old", "alice", tenantName, "old-secret", &past)).To(Succeed())
		_, err = login(ctx, stack.DirectURL, gophercloud.AuthOptions{ApplicationCredentialID: "alice-old", ApplicationCredentialSecret: "old-secret"})
		Expect(codeOf(err)).To(Equal(http.StatusUnauthorized))
	})

	It("refuses a wrong password and an unknown user alike, in the same time, and throttles guessing", func(ctx SpecContext) {
		// Interleaved, so that the machine's load weighs on both alike; a wrong password is
		// tried on three users, within each one's burst.
		var wrong, unknown []time.Duration
		attempt := func(into *[]time.Duration, user, password string) {
			start := time.Now()
			code, token, body := passwordLogin(ctx, stack.DirectURL, user, password, tenantName)
			*into = append(*into, time.Since(start))
			Expect(code).To(Equal(http.StatusUnauthorized))
			Expect(token).To(BeEmpty())
			Expect(body).To(MatchJSON(keystoneUnauthorized))
		}
		for i := range 6 {
			attempt(&wrong, []string{"alice", "bob", "carol"}[i%3], "not-the-password")
			attempt(&unknown, fmt.Sprintf("nobody-%d", i), "not-the-password")
		}
		median := func(d []time.Duration) time.Duration {
			sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
			return (d[2] + d[3]) / 2
		}
		GinkgoWriter.Printf("median failed login: wrong password %v, unknown user %v\n", median(wrong), median(unknown))
		ratio := float64(median(unknown)) / float64(median(wrong))
		Expect(ratio).To(And(BeNumerically(">", 0.4), BeNumerically("<", 2.5)), "wrong password %v, unknown user %v", median(wrong), median(unknown))

		By("failures in a row for one user are soon throttled, and so is bob's right password then")
		failures := 0
		for code := http.StatusUnauthorized; code == http.StatusUnauthorized && failures < 20; failures++ {
			code, _, _ = passwordLogin(ctx, stack.DirectURL, "bob", "still-wrong", tenantName)
			Expect(code).To(BeElementOf(http.StatusUnauthorized, http.StatusTooManyRequests))
		}
		GinkgoWriter.Printf("throttled after %d more failures\n", failures)
		Expect(failures).To(BeNumerically("<=", 8))
		code, _, body := passwordLogin(ctx, stack.DirectURL, "bob", identityUsers["bob"], tenantName)
		Expect(code).To(Equal(http.StatusTooManyRequests), body)
		Expect(body).To(ContainSubstring(`"title":"Too Many Requests"`))
		By("another user is not held up by bob's")
		code, _, _ = passwordLogin(ctx, stack.DirectURL, "carol", identityUsers["carol"], tenantName)
		Expect(code).To(Equal(http.StatusCreated))
		By("once the bucket refills, bob logs in")
		Eventually(func() int {
			code, _, _ := passwordLogin(ctx, stack.DirectURL, "bob", identityUsers["bob"], tenantName)
			return code
		}).WithTimeout(30 * time.Second).WithPolling(time.Second).Should(Equal(http.StatusCreated))
	})

	It("bounds what a login may send", func(ctx SpecContext) {
		code, _, body := passwordLogin(ctx, stack.DirectURL, strings.Repeat("a", 300), "x", tenantName)
		Expect(code).To(Equal(http.StatusBadRequest), body)
		Expect(body).To(ContainSubstring(`"title":"Bad Request"`))
		code, _, _ = idCall(ctx, http.MethodPost, stack.DirectURL+"/identity/v3/auth/tokens", "", nil, `{"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "`+strings.Repeat("a", 70<<10)+`"}}}}}`)
		Expect(code).To(Equal(http.StatusRequestEntityTooLarge))
		code, _, _ = idCall(ctx, http.MethodPost, stack.DirectURL+"/identity/v3/auth/tokens", "", nil, `{"auth": `)
		Expect(code).To(Equal(http.StatusBadRequest))
	})

	It("answers malformed logins in Keystone's words (as Keystone Zed answers them)", func(ctx SpecContext) {
		const clientError = "The server could not comply with the request since it is either malformed or otherwise incorrect. The client is assumed to be in error."
		url := stack.DirectURL + "/identity/v3/auth/tokens"
		for body, want := range map[string]string{
			`notjson`: `{"error": {"code": 400, "title": "Bad Request", "message": "Expecting to find valid JSON in request body. ` + clientError + `"}}`,
			`{"auth": {"identity": {"methods": ["password"]}}}`: `{"error": {"code": 400, "title": "Bad Request", "message": "Expecting to find password in identity. ` + clientError + `"}}`,
			`{"auth": {"identity": {"methods": ["totp"]}}}`:     `{"error": {"code": 400, "title": "Bad Request", "message": "Expecting to find totp in identity. ` + clientError + `"}}`,
			`{"auth": {"identity": {"methods": ["totp"], "totp": {}}}}`: `{"error": {"code": 401, "title": "Unauthorized", "message": "Attempted to authenticate with an unsupported method.",
				"identity": {"methods": ["password", "token", "application_credential"]}}}`,
			`{"auth": {"identity": {"methods": []}}}`: keystoneUnauthorized,
		} {
			code, _, got := idCall(ctx, http.MethodPost, url, "", nil, body)
			Expect(code).To(BeNumerically(">=", 400), body)
			Expect(got).To(MatchJSON(want), body)
		}
	})

	It("refuses a revoked token at once on every replica, and on every service", func(ctx SpecContext) {
		replica, err := stack.StartReplica(ctx)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(replica.Stop)
		_, token, _ := passwordLogin(ctx, stack.DirectURL, "bob", identityUsers["bob"], tenantName)
		code, _, _ := idCall(ctx, http.MethodGet, replica.DirectURL+"/v2.1/servers", token, nil, "")
		Expect(code).To(Equal(http.StatusOK), "the replicas share the signing key")

		code, _, _ = idCall(ctx, http.MethodDelete, stack.DirectURL+"/identity/v3/auth/tokens", token, map[string]string{"X-Subject-Token": token}, "")
		Expect(code).To(Equal(http.StatusNoContent))
		for _, base := range []string{replica.DirectURL, stack.DirectURL} {
			code, _, body := idCall(ctx, http.MethodGet, base+"/v2.1/servers", token, nil, "")
			Expect(code).To(Equal(http.StatusUnauthorized), base)
			Expect(body).To(MatchJSON(`{"unauthorized": {"code": 401, "message": "The request you have made requires authentication."}}`))
			code, _, _ = idCall(ctx, http.MethodGet, base+"/identity/v3/auth/projects", token, nil, "")
			Expect(code).To(Equal(http.StatusUnauthorized), base)
			code, _, _ = idCall(ctx, http.MethodPost, base+"/identity/v3/auth/tokens", "", nil,
				`{"auth": {"identity": {"methods": ["token"], "token": {"id": "`+token+`"}}}}`)
			Expect(code).To(Equal(http.StatusUnauthorized), "a revoked token makes no new one")
		}
	})

	It("ends the tokens of a user that is disabled, or deleted and made again", func(ctx SpecContext) {
		_, err := identity.DeclareUser(ctx, stack.Client, testenv.SystemNamespace, "dave", "dave-Secret-4", tenantName)
		Expect(err).NotTo(HaveOccurred())
		Expect(client.IgnoreAlreadyExists(stack.Client.Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: tenantName, Name: "identity-dave"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "kova-observer"},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "kova:dave"}},
		}))).To(Succeed())
		list := func(token string) func() int {
			return func() int {
				code, _, _ := idCall(ctx, http.MethodGet, stack.DirectURL+"/v2.1/servers", token, nil, "")
				return code
			}
		}
		_, token, _ := passwordLogin(ctx, stack.DirectURL, "dave", "dave-Secret-4", tenantName)
		Expect(list(token)()).To(Equal(http.StatusOK))

		dave := &computev1.User{}
		Expect(stack.Client.Get(ctx, client.ObjectKey{Namespace: testenv.SystemNamespace, Name: "dave"}, dave)).To(Succeed())
		dave.Spec.Disabled = true
		Expect(stack.Client.Update(ctx, dave)).To(Succeed())
		Eventually(list(token)).Should(Equal(http.StatusUnauthorized))
		code, _, _ := passwordLogin(ctx, stack.DirectURL, "dave", "dave-Secret-4", tenantName)
		Expect(code).To(Equal(http.StatusUnauthorized))

		By("a user deleted and declared again is another user: the old tokens stay refused")
		Expect(stack.Client.Delete(ctx, dave)).To(Succeed())
		_, err = identity.DeclareUser(ctx, stack.Client, testenv.SystemNamespace, "dave", "dave-Secret-4", tenantName)
		Expect(err).NotTo(HaveOccurred())
		code, fresh, _ := passwordLogin(ctx, stack.DirectURL, "dave", "dave-Secret-4", tenantName)
		Expect(code).To(Equal(http.StatusCreated))
		Expect(list(fresh)()).To(Equal(http.StatusOK))
		Expect(list(token)()).To(Equal(http.StatusUnauthorized))
	})

	It("may rotate its signing keys, the one Secret of its namespace the shim may change", func(ctx SpecContext) {
		// The shim's own ServiceAccount, with the manifests' RBAC: rotation updates the
		// signing keys' Secret (dry run here: the keys' logic is internal/identity's test).
		cfg := rest.CopyConfig(stack.CP.Config)
		cfg.Impersonate = rest.ImpersonationConfig{UserName: "system:serviceaccount:" + testenv.SystemNamespace + ":" + testenv.NovaAPIServiceAccount}
		shim, err := client.New(cfg, client.Options{Scheme: testenv.Scheme()})
		Expect(err).NotTo(HaveOccurred())
		_, token, _ := passwordLogin(ctx, stack.DirectURL, "bob", identityUsers["bob"], tenantName)
		Expect(token).NotTo(BeEmpty(), "a login makes the Secret")
		keys := &corev1.Secret{}
		Expect(shim.Get(ctx, client.ObjectKey{Namespace: testenv.SystemNamespace, Name: identity.SigningKeySecret}, keys)).To(Succeed())
		keys.Data["hs256-1"] = []byte(strings.Repeat("k", 32))
		Expect(shim.Update(ctx, keys, client.DryRunAll)).To(Succeed())

		other := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: testenv.SystemNamespace, Name: "kova-rotation-probe"}}
		Expect(stack.Client.Create(ctx, other)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) { Expect(stack.Client.Delete(ctx, other)).To(Succeed()) })
		other.Data = map[string][]byte{"x": []byte("y")}
		Expect(apierrors.IsForbidden(shim.Update(ctx, other, client.DryRunAll))).To(BeTrue(), "the shim may update another Secret")
	})

	It("refuses an expired token on every service, and validates it only with allow_expired", func(ctx SpecContext) {
		shortLived, err := stack.StartReplica(ctx, func(o *novaserver.Options) { o.TokenTTL = 2 * time.Second })
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(shortLived.Stop)
		_, token, _ := passwordLogin(ctx, shortLived.DirectURL, "bob", identityUsers["bob"], tenantName)
		_, longToken, _ := passwordLogin(ctx, stack.DirectURL, "bob", identityUsers["bob"], tenantName)
		Eventually(func() int {
			code, _, _ := idCall(ctx, http.MethodGet, stack.DirectURL+"/v2.1/servers", token, nil, "")
			return code
		}).WithTimeout(30 * time.Second).Should(Equal(http.StatusUnauthorized))
		code, _, _ := idCall(ctx, http.MethodGet, shortLived.DirectURL+"/v2.1/demo/flavors", token, nil, "")
		Expect(code).To(Equal(http.StatusUnauthorized))
		code, _, _ = idCall(ctx, http.MethodGet, stack.DirectURL+"/identity/v3/auth/tokens", longToken, map[string]string{"X-Subject-Token": token}, "")
		Expect(code).To(Equal(http.StatusNotFound))
		code, _, body := idCall(ctx, http.MethodGet, stack.DirectURL+"/identity/v3/auth/tokens?allow_expired=1", longToken, map[string]string{"X-Subject-Token": token}, "")
		Expect(code).To(Equal(http.StatusOK), body)
	})

	It("scopes a token to its project: another project's server is a 404", func(ctx SpecContext) {
		provider, err := login(ctx, stack.DirectURL, passwordOpts("alice", tenantName))
		Expect(err).NotTo(HaveOccurred())
		c, err := gcopenstack.NewComputeV2(provider, gophercloud.EndpointOpts{})
		Expect(err).NotTo(HaveOccurred())
		created, err := servers.Create(ctx, c, servers.CreateOpts{
			Name: "identity-scope", FlavorRef: "m1.tiny", ImageRef: listImages(ctx, c)["cirros"],
			Networks: []servers.Network{{UUID: networkID}},
		}, nil).Extract()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { _ = servers.Delete(ctx, c, created.ID).ExtractErr() })

		_, otherToken, _ := passwordLogin(ctx, stack.DirectURL, "alice", identityUsers["alice"], "other")
		code, _, body := idCall(ctx, http.MethodGet, stack.DirectURL+"/v2.1/servers/"+created.ID, otherToken, nil, "")
		Expect(code).To(Equal(http.StatusNotFound), body)
		code, _, _ = idCall(ctx, http.MethodGet, stack.DirectURL+"/v2.1/other/servers/"+created.ID, otherToken, nil, "")
		Expect(code).To(Equal(http.StatusNotFound))
		code, _, body = idCall(ctx, http.MethodGet, stack.DirectURL+"/v2.1/demo/servers/"+created.ID, otherToken, nil, "")
		Expect(code).To(Equal(http.StatusBadRequest))
		Expect(body).To(MatchJSON(`{"badRequest": {"code": 400, "message": "Malformed request URL: URL's project_id 'demo' doesn't match Context's project_id 'other'"}}`))

		By("a user without a role in a project gets no token for it")
		code, _, body = passwordLogin(ctx, stack.DirectURL, "bob", identityUsers["bob"], "other")
		Expect(code).To(Equal(http.StatusUnauthorized))
		Expect(body).To(MatchJSON(keystoneUnauthorized))
	})
})

// cloudsYAML writes a clouds.yaml with one cloud, kova, logging user in to project at Kova's
// identity endpoint, as make run writes them, and returns its path.
func cloudsYAML(ctx context.Context, user, project string) string {
	GinkgoHelper()
	override := identity.ImageEndpointOverride(ctx, identityHTTP(), stack.DirectURL, project)
	out, err := yaml.Marshal(map[string]any{"clouds": map[string]any{
		"kova": identity.Cloud(stack.DirectURL+"/identity/v3", user, identityUsers[user], project, stack.DirectCAFile, override),
	}})
	Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(GinkgoT().TempDir(), "clouds.yaml")
	Expect(os.WriteFile(path, out, 0o600)).To(Succeed())
	return path
}

// cloudCLI runs the openstack CLI with nothing but OS_CLOUD and a clouds.yaml.
func cloudCLI(ctx context.Context, clouds string, args ...string) (string, error) {
	return runCLI(ctx, []string{"PATH=" + os.Getenv("PATH"), "HOME=" + filepath.Dir(clouds), "OS_CLIENT_CONFIG_FILE=" + clouds, "OS_CLOUD=kova"}, args...)
}

var _ = Describe("The openstack CLI with a clouds.yaml", func() {
	BeforeEach(func(ctx SpecContext) { declareIdentityUsers(ctx) })

	It("logs in at the identity endpoint and walks a server", func(ctx SpecContext) {
		clouds := cloudsYAML(ctx, "alice", tenantName)
		cli := func(into any, args ...string) {
			GinkgoHelper()
			out, err := cloudCLI(ctx, clouds, append(args, "-f", "json")...)
			Expect(err).NotTo(HaveOccurred())
			Expect(json.Unmarshal([]byte(out), into)).To(Succeed(), out)
		}
		var token map[string]any
		cli(&token, "token", "issue")
		Expect(token).To(HaveKeyWithValue("project_id", tenantName))

		provider, err := login(ctx, stack.DirectURL, passwordOpts("alice", tenantName))
		Expect(err).NotTo(HaveOccurred())
		c, err := gcopenstack.NewComputeV2(provider, gophercloud.EndpointOpts{})
		Expect(err).NotTo(HaveOccurred())
		imageID := listImages(ctx, c)["cirros"]

		var created map[string]any
		cli(&created, "server", "create", "--flavor", "m1.tiny", "--image", imageID, "--nic", "none", "--wait", "identity-cli")
		Expect(created).To(HaveKeyWithValue("status", "ACTIVE"))
		id := created["id"].(string)
		status := func() string {
			var shown map[string]any
			cli(&shown, "server", "show", id)
			return shown["status"].(string)
		}
		_, err = cloudCLI(ctx, clouds, "server", "stop", id)
		Expect(err).NotTo(HaveOccurred())
		Eventually(status).Should(Equal("SHUTOFF"))
		_, err = cloudCLI(ctx, clouds, "server", "delete", "--wait", id)
		Expect(err).NotTo(HaveOccurred())
		_, err = cloudCLI(ctx, clouds, "server", "show", id)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("No server with a name or ID"))
	}, SpecTimeout(5*time.Minute))

	It("says a wrong password is wrong", func(ctx SpecContext) {
		clouds := cloudsYAML(ctx, "carol", tenantName)
		Expect(os.WriteFile(clouds, []byte(strings.Replace(mustRead(clouds), identityUsers["carol"], "wrong", 1)), 0o600)).To(Succeed())
		_, err := cloudCLI(ctx, clouds, "server", "list")
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("The request you have made requires authentication. (HTTP 401)"))
	})
})

func mustRead(path string) string {
	GinkgoHelper()
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}
