package novaserver_test

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/types"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	computev1 "github.com/kova-dev/kova/api/v1alpha1"
)

var tenantSeq atomic.Int32

func uniqTenant() string { return fmt.Sprintf("tenant-%d", tenantSeq.Add(1)) }

// userConfig provisions a client-certificate user of kube-apiserver.
func userConfig(name string) *rest.Config {
	GinkgoHelper()
	path := filepath.Join(GinkgoT().TempDir(), name+".kubeconfig")
	Expect(cp.WriteKubeconfig(path, name, nil)).To(Succeed())
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	Expect(err).NotTo(HaveOccurred())
	return cfg
}

func decodeEcho(r response) echo {
	GinkgoHelper()
	var e echo
	Expect(json.Unmarshal(r.body, &e)).To(Succeed(), "body: %s", r.body)
	return e
}

// expectNovaError asserts Nova's error body.
func expectNovaError(r response, code int, key string, message types.GomegaMatcher) {
	GinkgoHelper()
	Expect(r.code).To(Equal(code), "body: %s", r.body)
	k, e, err := novaErrorBody(r.body)
	Expect(err).NotTo(HaveOccurred())
	Expect(k).To(Equal(key))
	Expect(e.Code).To(Equal(code))
	Expect(e.Message).To(message)
}

func token(t string) map[string]string { return map[string]string{"X-Auth-Token": t} }

// isAdmin asks the stand-in handler at url whether it was told the caller is Nova's admin.
func isAdmin(c *http.Client, url string, header map[string]string) func() (bool, error) {
	return func() (bool, error) {
		r, err := do(c, http.MethodGet, url, header, nil)
		if err != nil || r.code != http.StatusOK {
			return false, fmt.Errorf("%v: %d %s", err, r.code, r.body)
		}
		var e echo
		if err := json.Unmarshal(r.body, &e); err != nil {
			return false, err
		}
		return e.Admin, nil
	}
}

var _ = Describe("nova-api", func() {
	var (
		ns     string
		tokens map[string]string
	)
	BeforeEach(func(ctx SpecContext) { ns, tokens = readyTenant(ctx) })

	It("is an Available APIService whose discovery names the Nova resources", func(ctx SpecContext) {
		Eventually(apiServiceAvailable).WithContext(ctx).Should(Succeed())
		dc, err := discovery.NewDiscoveryClientForConfig(cp.Config)
		Expect(err).NotTo(HaveOccurred())
		Eventually(func(g Gomega) {
			list, err := dc.ServerResourcesForGroupVersion("nova.kova.dev/v1")
			g.Expect(err).NotTo(HaveOccurred())
			var names []string
			for _, r := range list.APIResources {
				names = append(names, r.Name)
			}
			g.Expect(names).To(ContainElements("servers", "servers/action", "servers/ips", "servers/metadata",
				"flavors", "images", "images/metadata", "os-keypairs", "limits", "os-networksv2"))
			for _, r := range list.APIResources {
				g.Expect(r.Verbs).NotTo(ContainElement("list"), "namespace deletion would list %s", r.Name)
			}
		}).WithContext(ctx).Should(Succeed())

		By("the CRD group stays the one kubectl picks for servers")
		groups, err := dc.ServerGroups()
		Expect(err).NotTo(HaveOccurred())
		var order []string
		for _, g := range groups.Groups {
			if g.Name == "compute.kova.dev" || g.Name == "nova.kova.dev" {
				order = append(order, g.Name)
			}
		}
		Expect(order).To(Equal([]string{"compute.kova.dev", "nova.kova.dev"}))
	})

	It("lets a deleted tenant finish deleting, and tells Kubernetes clients the Nova paths are not theirs", func(ctx SpecContext) {
		hc, err := rest.HTTPClientFor(cp.Config)
		Expect(err).NotTo(HaveOccurred())
		var r response
		Eventually(func() (int, error) { // kube-apiserver may not proxy the group quite yet
			r, err = do(hc, http.MethodGet, strings.TrimSuffix(cp.Config.Host, "/")+"/apis/nova.kova.dev/v1/namespaces/"+ns+"/servers",
				map[string]string{"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}, nil)
			return r.code, err
		}).WithContext(ctx).Should(Equal(http.StatusMethodNotAllowed), "kubectl get")
		Expect(string(r.body)).To(ContainSubstring(`"kind":"Status"`))

		Expect(k8s.Delete(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})).To(Succeed())
		Eventually(func() error {
			return k8s.Get(ctx, client.ObjectKey{Name: ns}, &corev1.Namespace{})
		}).WithContext(ctx).WithTimeout(2 * time.Minute).Should(Satisfy(apierrors.IsNotFound))
	})

	It("serves a kova-observer through kube-apiserver, and refuses it an action", func(ctx SpecContext) {
		aliceName := "alice-" + ns
		alice := userConfig(aliceName)
		bind(ctx, ns, "kova-observer", rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: aliceName})
		hc, err := rest.HTTPClientFor(alice)
		Expect(err).NotTo(HaveOccurred())
		root := alice.Host + "/apis/nova.kova.dev/v1/namespaces/" + ns

		var r response
		Eventually(func() (int, error) {
			r, err = do(hc, http.MethodGet, root+"/servers/detail?limit=1", nil, nil)
			return r.code, err
		}).WithContext(ctx).Should(Equal(http.StatusOK))
		e := decodeEcho(r)
		Expect(e.Handler).To(Equal("compute"))
		Expect(e.User).To(Equal(aliceName))
		Expect(e.Tenant).To(Equal(ns))
		Expect(e.Root).To(Equal(root))
		Expect(e.Path).To(Equal("/servers/detail"))
		Expect(e.Admin).To(BeFalse())
		Expect(e.RemoteUser).To(BeEmpty(), "identity headers are consumed by authentication")

		r, err = do(hc, http.MethodPost, root+"/servers/x/action", nil, []byte(`{"reboot": {"type": "SOFT"}}`))
		Expect(err).NotTo(HaveOccurred())
		Expect(r.code).To(Equal(http.StatusForbidden), "body: %s", r.body)

		r, err = do(hc, http.MethodGet, alice.Host+"/apis/nova.kova.dev/v1/namespaces/default/servers", nil, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.code).To(Equal(http.StatusForbidden), "no role in another tenant")
	})

	It("serves service-account tokens on the direct listener, with or without the tenant in the path", func(ctx SpecContext) {
		r, err := do(tlsClient, http.MethodGet, directURL+"/v2.1/"+ns+"/servers", token(tokens["observer"]), nil)
		Expect(err).NotTo(HaveOccurred())
		e := decodeEcho(r)
		Expect(e.User).To(Equal("system:serviceaccount:" + ns + ":observer"))
		Expect(e.Tenant).To(Equal(ns))
		Expect(e.Root).To(Equal(directURL + "/v2.1/" + ns))
		Expect(e.Path).To(Equal("/servers"))
		Expect(e.Admin).To(BeFalse())
		Expect(e.AuthToken).To(BeEmpty(), "the token does not reach the handler")
		Expect(e.Authorization).To(BeEmpty())

		By("without a tenant in the path, the token's namespace is the tenant")
		r, err = do(tlsClient, http.MethodGet, directURL+"/v2.1/servers/detail", token(tokens["admin"]), nil)
		Expect(err).NotTo(HaveOccurred())
		e = decodeEcho(r)
		Expect(e.User).To(Equal("system:serviceaccount:" + ns + ":admin"))
		Expect(e.Tenant).To(Equal(ns))
		Expect(e.Root).To(Equal(directURL + "/v2.1"))
		Expect(e.Path).To(Equal("/servers/detail"))
		Expect(e.Admin).To(BeFalse(), "a tenant's kova-admin is Nova's project member, not its admin")

		By("an action is Nova's 403 for an observer, and reaches the handler for an admin")
		r, err = do(tlsClient, http.MethodPost, directURL+"/v2.1/"+ns+"/servers/x/action", token(tokens["observer"]), []byte(`{"reboot": {}}`))
		Expect(err).NotTo(HaveOccurred())
		expectNovaError(r, http.StatusForbidden, "forbidden", Equal("Policy doesn't allow servers/action:create to be performed."))
		r, err = do(tlsClient, http.MethodPost, directURL+"/v2.1/"+ns+"/servers/x/action", token(tokens["admin"]), []byte(`{"reboot": {}}`))
		Expect(err).NotTo(HaveOccurred())
		Expect(decodeEcho(r).Path).To(Equal("/servers/x/action"))
	})

	It("tells the cloud operator (a ClusterRoleBinding) from a tenant's admin, both ways in", func(ctx SpecContext) {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "operator"}}
		Expect(k8s.Create(ctx, sa)).To(Succeed())
		operator := rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: sa.Name}
		bind(ctx, ns, "kova-admin", operator)
		bind(ctx, ns, "kova-cloud-admin", operator)
		tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}
		Expect(k8s.SubResource("token").Create(ctx, sa, tr)).To(Succeed())
		// Directly with X-Auth-Token, and through kube-apiserver with the token as a bearer.
		direct := func(tok string) func() (bool, error) {
			return isAdmin(tlsClient, directURL+"/v2.1/"+ns+"/servers/detail", token(tok))
		}
		aggregated := func(tok string) func() (bool, error) {
			cfg := rest.AnonymousClientConfig(cp.Config)
			cfg.BearerToken = tok
			hc, err := rest.HTTPClientFor(cfg)
			Expect(err).NotTo(HaveOccurred())
			return isAdmin(hc, strings.TrimSuffix(cp.Config.Host, "/")+"/apis/nova.kova.dev/v1/namespaces/"+ns+"/servers/detail", nil)
		}

		By("kova-cloud-admin bound in the tenant gives nothing: only a cluster-wide grant counts")
		Eventually(direct(tr.Status.Token)).WithContext(ctx).Should(BeFalse())
		Consistently(direct(tr.Status.Token)).WithContext(ctx).WithTimeout(2 * time.Second).Should(BeFalse())
		Eventually(aggregated(tr.Status.Token)).WithContext(ctx).Should(BeFalse())
		Expect(direct(tokens["admin"])()).To(BeFalse(), "the tenant's kova-admin, directly")
		Eventually(aggregated(tokens["admin"])).WithContext(ctx).Should(BeFalse(), "the tenant's kova-admin, through kube-apiserver")

		By("bound with a ClusterRoleBinding it makes the operator, through either way in")
		crb := &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "kova-cloud-admin-"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "kova-cloud-admin"},
			Subjects:   []rbacv1.Subject{operator},
		}
		Expect(k8s.Create(ctx, crb)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) { Expect(k8s.Delete(ctx, crb)).To(Succeed()) })
		Eventually(direct(tr.Status.Token)).WithContext(ctx).Should(BeTrue())
		Eventually(aggregated(tr.Status.Token)).WithContext(ctx).Should(BeTrue())
	})

	It("answers a request without credentials with Nova's 401, whatever identity headers it carries", func() {
		for _, header := range []map[string]string{
			nil,
			{"X-Remote-User": "admin", "X-Remote-Group": "system:masters"},
			{"X-Auth-Token": "not-a-token"},
		} {
			r, err := do(tlsClient, http.MethodGet, directURL+"/v2.1/"+ns+"/servers", header, nil)
			Expect(err).NotTo(HaveOccurred())
			expectNovaError(r, http.StatusUnauthorized, "unauthorized", Equal("The request you have made requires authentication."))
		}
		r, err := do(tlsClient, http.MethodGet, directURL+"/v2.1/servers", nil, nil)
		Expect(err).NotTo(HaveOccurred())
		expectNovaError(r, http.StatusUnauthorized, "unauthorized", Equal("The request you have made requires authentication."))
	})

	It("trusts identity headers on the secure port only from the front-proxy certificate", func(ctx SpecContext) {
		headers := map[string]string{"X-Remote-User": "admin", "X-Remote-Group": "system:masters"}
		path := secureURL + "/apis/nova.kova.dev/v1/namespaces/" + ns + "/servers"
		r, err := do(tlsClient, http.MethodGet, path, headers, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.code).To(Equal(http.StatusUnauthorized), "body: %s", r.body)

		By("a kube-apiserver client certificate authenticates its own user, not the headers'")
		bobName := "bob-" + ns
		bob := userConfig(bobName)
		bind(ctx, ns, "kova-observer", rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: bobName})
		cert, err := tls.X509KeyPair(bob.CertData, bob.KeyData)
		Expect(err).NotTo(HaveOccurred())
		transport := tlsClient.Transport.(*http.Transport).Clone()
		transport.TLSClientConfig.Certificates = []tls.Certificate{cert}
		withCert := &http.Client{Transport: transport}
		Eventually(func() (int, error) {
			r, err = do(withCert, http.MethodGet, path, headers, nil)
			return r.code, err
		}).WithContext(ctx).Should(Equal(http.StatusOK))
		Expect(decodeEcho(r).User).To(Equal(bobName))
	})

	It("forbids a tenant's token on another tenant's paths (RBAC, before the handler)", func(ctx SpecContext) {
		other := uniqTenant()
		tenant(ctx, other)
		for _, path := range []string{"/v2.1/" + other + "/servers", "/v2.1/" + other + "/servers/x", "/accounts/" + other + "/flexcloud/servers"} {
			r, err := do(tlsClient, http.MethodGet, directURL+path, token(tokens["admin"]), nil)
			Expect(err).NotTo(HaveOccurred())
			expectNovaError(r, http.StatusForbidden, "forbidden", HavePrefix("Policy doesn't allow servers"))
		}
	})

	It("serves the image API at /image: versions without a token, the API for the token's tenant, RBAC's refusals in the image service's words", func() {
		for _, path := range []string{"/image", "/image/", "/image/versions"} {
			r, err := do(tlsClient, http.MethodGet, directURL+path, nil, nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.code).To(Equal(http.StatusMultipleChoices), "%s: %s", path, r.body)
			Expect(string(r.body)).To(ContainSubstring(`"self":"` + directURL + "/image"))
		}
		r, err := do(tlsClient, http.MethodGet, directURL+"/image/v2/images/x/file", token(tokens["observer"]), nil)
		Expect(err).NotTo(HaveOccurred())
		e := decodeEcho(r)
		Expect(e.Handler).To(Equal("glance"))
		Expect(e.Tenant).To(Equal(ns))
		Expect(e.Root).To(Equal(directURL + "/image"))
		Expect(e.Path).To(Equal("/images/x/file"))

		r, err = do(tlsClient, http.MethodPatch, directURL+"/image/v2/images/x", token(tokens["observer"]), []byte(`[]`))
		Expect(err).NotTo(HaveOccurred())
		Expect(r.code).To(Equal(http.StatusForbidden))
		Expect(string(r.body)).To(Equal("glance refuses PATCH /v2/images/x\n"))
		r, err = do(tlsClient, http.MethodGet, directURL+"/image/v2/images", nil, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.code).To(Equal(http.StatusUnauthorized))
		r, err = do(tlsClient, http.MethodGet, directURL+"/image/v2/schemas/image", token(tokens["observer"]), nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.code).To(Equal(http.StatusNotFound))
	})

	It("passes the Nova handler's own errors through", func() {
		r, err := do(tlsClient, http.MethodGet, directURL+"/v2.1/"+ns+handlerForbidden, token(tokens["observer"]), nil)
		Expect(err).NotTo(HaveOccurred())
		expectNovaError(r, http.StatusForbidden, "forbidden", Equal("The handler refused this itself."))
	})

	It("serves FlexCloud paths, version documents, and reads from the cache", func(ctx SpecContext) {
		Expect(k8s.Create(ctx, &computev1.Flavor{
			ObjectMeta: metav1.ObjectMeta{Name: "f-" + ns},
			Spec:       computev1.FlavorSpec{VCPUs: 1, RAM: 512, Disk: 1, IsPublic: true},
		})).To(Succeed())
		Eventually(func(g Gomega) {
			r, err := do(tlsClient, http.MethodGet, directURL+"/accounts/"+ns+"/flexcloud/servers", token(tokens["creator"]), nil)
			g.Expect(err).NotTo(HaveOccurred())
			e := decodeEcho(r)
			g.Expect(e.Handler).To(Equal("flexcloud"))
			g.Expect(e.Tenant).To(Equal(ns))
			g.Expect(e.Root).To(Equal(directURL + "/accounts/" + ns + "/flexcloud"))
			g.Expect(e.Path).To(Equal("/servers"))
			g.Expect(e.Flavors).To(BeNumerically(">=", 1))
		}).WithContext(ctx).Should(Succeed())

		for path, self := range map[string]string{"/": "/", "/v2.1": "/v2.1", "/v2.1/": "/v2.1/", "/v2.1/" + ns: "/v2.1"} {
			r, err := do(tlsClient, http.MethodGet, directURL+path, nil, nil)
			Expect(err).NotTo(HaveOccurred())
			Expect(r.code).To(Equal(http.StatusOK), "%s: %s", path, r.body)
			Expect(string(r.body)).To(ContainSubstring(`"self":"` + directURL + self + `"`))
		}
	})
})
